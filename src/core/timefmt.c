/* timefmt.c — RFC 3339 formatting and monotonic time. */
#include "core/timefmt.h"

#include <time.h>

void timefmt_rfc3339(int64_t epoch_seconds, char out[TIMEFMT_RFC3339_LEN])
{
    time_t t = (time_t)epoch_seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(out, TIMEFMT_RFC3339_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

int64_t timefmt_monotonic_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}
