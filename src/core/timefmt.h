/* timefmt.h — RFC 3339 UTC timestamps and monotonic clocks. */
#ifndef SHOPD_CORE_TIMEFMT_H
#define SHOPD_CORE_TIMEFMT_H

#include <stdbool.h>
#include <stdint.h>

enum { TIMEFMT_RFC3339_LEN = 21 }; /* "2026-11-23T21:30:45Z" + NUL */

/* Writes epoch seconds as "YYYY-MM-DDTHH:MM:SSZ" into out. Thread-safe. */
void timefmt_rfc3339(int64_t epoch_seconds, char out[TIMEFMT_RFC3339_LEN]);

/*
 * Parses an RFC 3339 timestamp ("2026-12-31T23:59:59Z", optional fraction,
 * "Z" or "±HH:MM" offset) into epoch seconds (fractions dropped). Returns
 * false for anything else, including impossible dates. Thread-safe.
 */
bool timefmt_parse_rfc3339(const char *text, int64_t *epoch_seconds);

/* Monotonic time in microseconds (for latency measurement). Thread-safe. */
int64_t timefmt_monotonic_us(void);

#endif
