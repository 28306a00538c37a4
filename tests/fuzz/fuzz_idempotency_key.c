/*
 * fuzz_idempotency_key.c — libFuzzer differential harness for the
 * Idempotency-Key rule and header lookup. The input up to its first NUL is
 * a candidate key: order_idempotency_key_valid (src/order/domain),
 * text_is_idempotency_key (src/core) and a reference written here from
 * text.h's contract (1..255 characters, each 0x20..0x7e) must agree. The
 * same bytes, split at '\n' into "name:value" lines, form a header set:
 * http_req_header must return the first field whose name equals the
 * looked-up one ignoring ASCII case (reference lookup here), for every name
 * in the set in flipped case and for "Idempotency-Key".
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"
#include "fuzz_check.h"
#include "http/http.h"
#include "order/domain/order.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_FIELDS = 8 };

static bool ref_key_valid(const char *s)
{
    size_t n = strlen(s);
    if (n < 1 || n > 255)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
            return false;
    return true;
}

static char lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

static bool same_name(const char *a, const char *b)
{
    for (; *a && lower(*a) == lower(*b); a++, b++)
        ;
    return lower(*a) == lower(*b);
}

static const char *ref_header(const struct http_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (same_name(req->headers[i].name, name))
            return req->headers[i].value;
    return NULL;
}

static void check_lookup(const struct http_req *req, const char *name)
{
    const char *got = http_req_header(req, name), *want = ref_header(req, name);
    FUZZ_CHECK(got == want, "lookup of \"%s\"", name);
    if (got) /* what a handler does with the value it found */
        FUZZ_CHECK(order_idempotency_key_valid(got) == ref_key_valid(got), "header value");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = strnlen((const char *)data, size);
    char *key = malloc(n + 1);
    memcpy(key, data, n);
    key[n] = '\0';
    bool want = ref_key_valid(key);
    FUZZ_CHECK(order_idempotency_key_valid(key) == want, "order says %d, reference %d", !want,
               want);
    FUZZ_CHECK(text_is_idempotency_key(key) == want, "text says %d, reference %d", !want, want);

    struct http_req req = {0};
    char *names[MAX_FIELDS];
    for (char *line = key, *next; line && req.n_headers < MAX_FIELDS; line = next) {
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        char *colon = strchr(line, ':');
        if (colon)
            *colon = '\0';
        req.headers[req.n_headers++] = (struct http_kv){line, colon ? colon + 1 : ""};
    }
    for (size_t i = 0; i < req.n_headers; i++) {
        names[i] = strdup(req.headers[i].name);
        for (char *p = names[i]; *p; p++)
            if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'))
                *p ^= 0x20; /* flip the case */
        check_lookup(&req, names[i]);
        check_lookup(&req, req.headers[i].name);
    }
    check_lookup(&req, "Idempotency-Key");
    check_lookup(&req, "idempotency-key");
    for (size_t i = 0; i < req.n_headers; i++)
        free(names[i]);
    free(key);
    return 0;
}
