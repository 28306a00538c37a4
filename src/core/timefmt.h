/* timefmt.h — RFC 3339 UTC timestamps and monotonic clocks. */
#ifndef SHOPD_CORE_TIMEFMT_H
#define SHOPD_CORE_TIMEFMT_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

enum { TIMEFMT_RFC3339_LEN = 21 }; /* "2026-11-23T21:30:45Z" + NUL */

/*
 * The instants shopd reads and writes: 0001-01-01T00:00:00Z through
 * 9999-12-31T23:59:59Z, the four-digit years of RFC 3339, in UTC.
 */
#define TIMEFMT_EPOCH_MIN (-62135596800LL) /* 0001-01-01T00:00:00Z */
#define TIMEFMT_EPOCH_MAX 253402300799LL   /* 9999-12-31T23:59:59Z */

/*
 * Writes epoch seconds as "YYYY-MM-DDTHH:MM:SSZ" into out and returns true.
 * Outside TIMEFMT_EPOCH_MIN..TIMEFMT_EPOCH_MAX it writes "" and returns false
 * (the caller must not show a timestamp then). Any int64 is safe. Thread-safe.
 */
__attribute__((warn_unused_result)) bool timefmt_rfc3339(int64_t epoch_seconds,
                                                         char out[TIMEFMT_RFC3339_LEN]);

/*
 * Parses an RFC 3339 timestamp ("2026-12-31T23:59:59Z", optional fraction,
 * "Z" or "±HH:MM" offset) into epoch seconds (fractions dropped). Returns
 * false for anything else, including impossible dates and instants outside
 * TIMEFMT_EPOCH_MIN..TIMEFMT_EPOCH_MAX once the offset is applied
 * ("9999-12-31T23:59:59-23:59" is in year 10000 UTC: refused). Thread-safe.
 */
bool timefmt_parse_rfc3339(const char *text, int64_t *epoch_seconds);

/*
 * CLOCK_MONOTONIC now plus ms, for pthread_cond_timedwait on a condition
 * variable whose clock is CLOCK_MONOTONIC. Thread-safe.
 */
struct timespec timefmt_deadline_ms(unsigned ms);

/* Monotonic time in microseconds (for latency measurement). Thread-safe. */
int64_t timefmt_monotonic_us(void);

#endif
