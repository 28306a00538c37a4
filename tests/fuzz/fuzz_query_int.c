/*
 * fuzz_query_int.c — libFuzzer harness for http_req_query_int against a
 * reference written here (decimal digits only: no sign, no space, not
 * empty; in [min, max]; absent = the default). The first input byte picks
 * the range and whether the parameter is present; the rest, up to its first
 * NUL, is the value. Property: both agree on the result and the value, and
 * an error names the parameter in e.field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "http/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct {
    int64_t min, max;
} ranges[] = {
    {1, 100}, {0, INT64_MAX}, {INT64_MIN, INT64_MAX}, {-5, 5}, {10, 5}, {0, 0}, {7, 7}, {1, 1000},
};
enum { N_RANGES = sizeof(ranges) / sizeof(ranges[0]) };

/* Reference: ERR_OK with *out, or ERR_INVALID_REQUEST. */
static enum err_code ref_query_int(const char *v, int64_t def, int64_t min, int64_t max,
                                   int64_t *out)
{
    if (!v) {
        *out = def;
        return ERR_OK;
    }
    if (!*v)
        return ERR_INVALID_REQUEST;
    unsigned __int128 n = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return ERR_INVALID_REQUEST;
        n = n * 10 + (unsigned)(*p - '0');
        if (n > INT64_MAX)
            return ERR_INVALID_REQUEST;
    }
    if ((int64_t)n < min || (int64_t)n > max)
        return ERR_INVALID_REQUEST;
    *out = (int64_t)n;
    return ERR_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int64_t min = ranges[data[0] % N_RANGES].min, max = ranges[data[0] % N_RANGES].max;
    bool present = (data[0] & 0x80) == 0;
    size_t n = strnlen((const char *)data + 1, size - 1);
    char *value = malloc(n + 1);
    memcpy(value, data + 1, n);
    value[n] = '\0';

    struct http_req req = {0};
    req.query[req.n_query++] = (struct http_kv){"limitx", "1"}; /* a prefix of no interest */
    if (present) {
        req.query[req.n_query++] = (struct http_kv){"limit", value};
        req.query[req.n_query++] = (struct http_kv){"limit", "3"}; /* the first one counts */
    }

    int64_t got = -42, want = -43;
    struct err e = {0};
    enum err_code rc = http_req_query_int(&req, "limit", 20, min, max, &got, &e);
    enum err_code ref = ref_query_int(present ? value : NULL, 20, min, max, &want);
    FUZZ_CHECK(rc == ref, "\"%s\" in [%lld, %lld]: %s, reference %s", value, (long long)min,
               (long long)max, err_code_str(rc), err_code_str(ref));
    if (rc == ERR_OK)
        FUZZ_CHECK(got == want, "\"%s\": %lld, reference %lld", value, (long long)got,
                   (long long)want);
    else
        FUZZ_CHECK(e.code == rc && strcmp(e.field, "limit") == 0, "e.field \"%s\"", e.field);
    free(value);
    return 0;
}
