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

/* Reads exactly n digits at *p into *out and advances; false if not digits. */
static bool read_digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static bool expect_char(const char **p, char c)
{
    if (**p != c)
        return false;
    (*p)++;
    return true;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

bool timefmt_parse_rfc3339(const char *text, int64_t *epoch_seconds)
{
    const char *p = text;
    int y, mo, d, h, mi, s, oh = 0, om = 0, sign = 0;
    if (!read_digits(&p, 4, &y) || !expect_char(&p, '-') || !read_digits(&p, 2, &mo) ||
        !expect_char(&p, '-') || !read_digits(&p, 2, &d) || !(expect_char(&p, 'T')) ||
        !read_digits(&p, 2, &h) || !expect_char(&p, ':') || !read_digits(&p, 2, &mi) ||
        !expect_char(&p, ':') || !read_digits(&p, 2, &s))
        return false;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        sign = *p == '-' ? -1 : 1;
        p++;
        if (!read_digits(&p, 2, &oh) || !expect_char(&p, ':') || !read_digits(&p, 2, &om))
            return false;
    } else {
        return false;
    }
    if (*p != '\0' || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 ||
        s > 59 || oh > 23 || om > 59)
        return false;
    int64_t t = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
    *epoch_seconds = t - sign * (oh * 3600 + om * 60);
    return true;
}
