/*
 * fuzz_http1_head.c — libFuzzer harness for http1_parse_head. The first
 * input byte picks a split point; the rest is the request head. Properties:
 * parsing the bytes in two pieces (with the *scanned resume hint, as the
 * server does on a growing buffer) ends exactly like parsing them at once
 * (result, head_len, error code, the parsed head); an INCOMPLETE parse
 * leaves the buffer untouched; a DONE head is well formed (strings
 * non-empty and NUL-terminated inside the head, n_fields <= HTTP1_MAX_FIELDS,
 * head_len <= len, minor 0 or 1, chunked never with a Content-Length).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_check.h"
#include "http/http1.h"

struct outcome {
    enum http1_result r;
    size_t head_len;
    enum err_code code;
    struct http1_head h;
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* True when s is a non-empty string NUL-terminated inside [buf, buf + len). */
static bool string_inside(const char *s, const char *buf, size_t len, bool nonempty)
{
    if (s < buf || s >= buf + len)
        return false;
    const char *nul = memchr(s, '\0', (size_t)(buf + len - s));
    return nul && (!nonempty || nul > s);
}

static void check_done(const struct http1_head *h, const char *buf, size_t len, size_t head_len)
{
    FUZZ_CHECK(head_len > 0 && head_len <= len, "head_len %zu of %zu", head_len, len);
    FUZZ_CHECK(string_inside(h->method, buf, head_len, true), "method");
    FUZZ_CHECK(string_inside(h->target, buf, head_len, true), "target");
    FUZZ_CHECK(h->n_fields <= HTTP1_MAX_FIELDS, "n_fields %zu", h->n_fields);
    FUZZ_CHECK(h->minor == 0 || h->minor == 1, "minor %d", h->minor);
    bool has_length = false;
    for (size_t i = 0; i < h->n_fields; i++) {
        FUZZ_CHECK(string_inside(h->fields[i].name, buf, head_len, true), "field %zu name", i);
        FUZZ_CHECK(string_inside(h->fields[i].value, buf, head_len, false), "field %zu value", i);
        has_length = has_length || strcasecmp(h->fields[i].name, "Content-Length") == 0;
    }
    FUZZ_CHECK(!(h->body == HTTP1_BODY_CHUNKED && has_length), "chunked with a Content-Length");
    FUZZ_CHECK(h->body != HTTP1_BODY_LENGTH || has_length, "length body without Content-Length");
}

/* The same head parsed from two buffers: equal up to where its strings point. */
static void check_same_head(const struct outcome *a, const char *abuf, const struct outcome *b,
                            const char *bbuf)
{
    FUZZ_CHECK(a->h.method - abuf == b->h.method - bbuf, "method offset");
    FUZZ_CHECK(a->h.target - abuf == b->h.target - bbuf, "target offset");
    FUZZ_CHECK(a->h.minor == b->h.minor && a->h.n_fields == b->h.n_fields &&
                   a->h.body == b->h.body && a->h.keep_alive == b->h.keep_alive &&
                   a->h.expect_continue == b->h.expect_continue,
               "head summary");
    FUZZ_CHECK(a->h.body != HTTP1_BODY_LENGTH || a->h.content_length == b->h.content_length,
               "content_length");
    for (size_t i = 0; i < a->h.n_fields; i++)
        FUZZ_CHECK(a->h.fields[i].name - abuf == b->h.fields[i].name - bbuf &&
                       a->h.fields[i].value - abuf == b->h.fields[i].value - bbuf,
                   "field %zu", i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const char *bytes = (const char *)data + 1;
    size_t len = size - 1;
    size_t split = (size_t)data[0] * (len + 1) / 256; /* 0..len */

    /* one shot; exact-size heap buffers so ASan sees any read past len */
    char *one = malloc(len ? len : 1);
    memcpy(one, bytes, len);
    struct outcome a = {.code = ERR_OK};
    size_t scanned = 0;
    struct err e = {0};
    a.r = http1_parse_head(one, len, &scanned, &a.h, &a.head_len, &e);
    a.code = a.r == HTTP1_ERROR ? e.code : ERR_OK;
    FUZZ_CHECK(a.r != HTTP1_INCOMPLETE || len < HTTP1_MAX_HEAD, "INCOMPLETE at %zu bytes", len);
    FUZZ_CHECK(a.r != HTTP1_INCOMPLETE || memcmp(one, bytes, len) == 0, "INCOMPLETE wrote");
    FUZZ_CHECK(a.r != HTTP1_ERROR || e.code != ERR_OK, "ERROR without a code");
    if (a.r == HTTP1_DONE)
        check_done(&a.h, one, len, a.head_len);

    /* two pieces: the first split bytes, then all of them with the resume hint */
    char *first = malloc(split ? split : 1);
    memcpy(first, bytes, split);
    struct outcome b = {.code = ERR_OK};
    scanned = 0;
    e = (struct err){0};
    char *bbuf = first;
    b.r = http1_parse_head(first, split, &scanned, &b.h, &b.head_len, &e);
    if (b.r == HTTP1_INCOMPLETE) {
        FUZZ_CHECK(scanned <= split, "scanned %zu past %zu", scanned, split);
        FUZZ_CHECK(memcmp(first, bytes, split) == 0, "INCOMPLETE wrote into the buffer");
        bbuf = malloc(len ? len : 1);
        memcpy(bbuf, bytes, len);
        b.r = http1_parse_head(bbuf, len, &scanned, &b.h, &b.head_len, &e);
    }
    b.code = b.r == HTTP1_ERROR ? e.code : ERR_OK;

    FUZZ_CHECK(a.r == b.r && a.code == b.code, "one shot %d/%s, split at %zu %d/%s", a.r,
               err_code_str(a.code), split, b.r, err_code_str(b.code));
    if (a.r == HTTP1_DONE) {
        FUZZ_CHECK(a.head_len == b.head_len, "head_len %zu vs %zu", a.head_len, b.head_len);
        check_same_head(&a, one, &b, bbuf);
    }
    if (bbuf != first)
        free(bbuf);
    free(first);
    free(one);
    return 0;
}
