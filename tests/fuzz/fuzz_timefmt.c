/*
 * fuzz_timefmt.c — libFuzzer harness for timefmt_parse_rfc3339 and
 * timefmt_rfc3339. The input (up to its first NUL) is parsed as a
 * timestamp; its first 8 bytes are also an int64 epoch to format.
 * Properties: a parsed epoch is within TIMEFMT_EPOCH_MIN..MAX, formats, and
 * the formatted text parses back to the same epoch (and is the input itself
 * when that was already "YYYY-MM-DDTHH:MM:SSZ"); formatting any int64
 * returns true exactly in range, always NUL-terminates, writes 20
 * characters when true and "" when false; every in-range epoch round-trips.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/timefmt.h"
#include "fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Formats epoch and checks the result; returns whether it was in range. */
static bool format_checked(int64_t epoch, char out[TIMEFMT_RFC3339_LEN])
{
    memset(out, 'X', TIMEFMT_RFC3339_LEN);
    bool ok = timefmt_rfc3339(epoch, out);
    bool in_range = epoch >= TIMEFMT_EPOCH_MIN && epoch <= TIMEFMT_EPOCH_MAX;
    FUZZ_CHECK(ok == in_range, "%lld: returned %d", (long long)epoch, ok);
    FUZZ_CHECK(memchr(out, '\0', TIMEFMT_RFC3339_LEN) != NULL, "%lld: no NUL", (long long)epoch);
    FUZZ_CHECK(strlen(out) == (ok ? 20u : 0u), "%lld: \"%s\"", (long long)epoch, out);
    if (ok) {
        int64_t back = 0;
        FUZZ_CHECK(timefmt_parse_rfc3339(out, &back) && back == epoch, "%lld -> \"%s\" -> %lld",
                   (long long)epoch, out, (long long)back);
    }
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    size_t n = strnlen((const char *)data, size);
    char *text = malloc(n + 1);
    memcpy(text, data, n);
    text[n] = '\0';
    int64_t epoch = 0;
    if (timefmt_parse_rfc3339(text, &epoch)) {
        FUZZ_CHECK(epoch >= TIMEFMT_EPOCH_MIN && epoch <= TIMEFMT_EPOCH_MAX, "\"%s\" -> %lld", text,
                   (long long)epoch);
        char out[TIMEFMT_RFC3339_LEN];
        FUZZ_CHECK(format_checked(epoch, out), "\"%s\" -> %lld does not format", text,
                   (long long)epoch);
        if (n == 20 && text[19] == 'Z')
            FUZZ_CHECK(strcmp(out, text) == 0, "\"%s\" formats as \"%s\"", text, out);
    }
    free(text);

    if (size >= 8) {
        uint64_t u;
        memcpy(&u, data, 8);
        char out[TIMEFMT_RFC3339_LEN];
        format_checked((int64_t)u, out);
        /* the same bits folded into the range, so in-range epochs are common */
        uint64_t span = (uint64_t)(TIMEFMT_EPOCH_MAX - TIMEFMT_EPOCH_MIN) + 1;
        FUZZ_CHECK(format_checked(TIMEFMT_EPOCH_MIN + (int64_t)(u % span), out), "in range");
    }
    return 0;
}
