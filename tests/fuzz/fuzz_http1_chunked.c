/*
 * fuzz_http1_chunked.c — libFuzzer harness for http1_chunked_feed. The
 * first input byte seeds the piece sizes; the rest is a chunked body (and
 * whatever follows it). Property: feeding the bytes in random pieces ends
 * exactly like feeding them at once (result, error code, bytes consumed,
 * decoded body), INCOMPLETE consumes a whole piece, and the body never
 * passes max_body (64 KiB, the server's) and stays NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "http/http1.h"

enum { MAX_BODY = 64 * 1024 };

struct outcome {
    enum http1_result r;
    enum err_code code;
    size_t consumed;
    struct http1_buf body;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_body(const struct http1_buf *b)
{
    FUZZ_CHECK(b->len <= MAX_BODY, "body %zu bytes", b->len);
    FUZZ_CHECK(!b->data || b->data[b->len] == '\0', "body not NUL-terminated");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint32_t rng = data[0] * 2654435761u + 1;
    const char *in = (const char *)data + 1;
    size_t n = size - 1;

    struct outcome a = {0};
    struct http1_chunked d = {0};
    struct err e = {0};
    size_t used = 0;
    a.r = http1_chunked_feed(&d, in, n, &used, &a.body, MAX_BODY, &e);
    a.code = a.r == HTTP1_ERROR ? e.code : ERR_OK;
    a.consumed = used;
    FUZZ_CHECK(used <= n, "used %zu of %zu", used, n);
    FUZZ_CHECK(a.r != HTTP1_INCOMPLETE || used == n, "INCOMPLETE used %zu of %zu", used, n);
    FUZZ_CHECK(a.r != HTTP1_ERROR || e.code != ERR_OK, "ERROR without a code");
    check_body(&a.body);

    struct outcome b = {.r = HTTP1_INCOMPLETE};
    d = (struct http1_chunked){0};
    e = (struct err){0};
    size_t off = 0;
    do { /* pieces of 1..16 bytes, or the rest; an empty piece once in a while */
        rng = rng * 1103515245u + 12345u;
        size_t piece = (rng >> 16) % 18;
        if (piece == 17 || piece > n - off)
            piece = n - off;
        char *copy = malloc(piece ? piece : 1); /* exact size: ASan sees reads past it */
        memcpy(copy, in + off, piece);
        used = 0;
        b.r = http1_chunked_feed(&d, copy, piece, &used, &b.body, MAX_BODY, &e);
        free(copy);
        FUZZ_CHECK(used <= piece, "used %zu of a %zu-byte piece", used, piece);
        FUZZ_CHECK(b.r != HTTP1_INCOMPLETE || used == piece, "INCOMPLETE kept bytes");
        off += used;
    } while (b.r == HTTP1_INCOMPLETE && off < n);
    b.code = b.r == HTTP1_ERROR ? e.code : ERR_OK;
    b.consumed = off;
    check_body(&b.body);

    FUZZ_CHECK(a.r == b.r && a.code == b.code, "one shot %d/%s, pieces %d/%s", a.r,
               err_code_str(a.code), b.r, err_code_str(b.code));
    FUZZ_CHECK(a.consumed == b.consumed, "consumed %zu vs %zu", a.consumed, b.consumed);
    FUZZ_CHECK(a.body.len == b.body.len &&
                   (a.body.len == 0 || memcmp(a.body.data, b.body.data, a.body.len) == 0),
               "decoded bodies differ (%zu vs %zu bytes)", a.body.len, b.body.len);
    http1_buf_free(&a.body);
    http1_buf_free(&b.body);
    return 0;
}
