/* test_timefmt.c — RFC 3339 parsing and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/timefmt.h"

static void parse__valid_forms(void **state)
{
    (void)state;
    int64_t t;
    assert_true(timefmt_parse_rfc3339("1970-01-01T00:00:00Z", &t));
    assert_int_equal(t, 0);
    assert_true(timefmt_parse_rfc3339("2026-12-31T23:59:59Z", &t));
    assert_int_equal(t, 1798761599);
    assert_true(timefmt_parse_rfc3339("2027-01-01T08:59:59+09:00", &t));
    assert_int_equal(t, 1798761599);
    assert_true(timefmt_parse_rfc3339("2026-12-31T23:59:59.999Z", &t));
    assert_int_equal(t, 1798761599);
    assert_true(timefmt_parse_rfc3339("2024-02-29T12:00:00-01:30", &t));
    char back[TIMEFMT_RFC3339_LEN];
    assert_true(timefmt_rfc3339(t, back));
    assert_string_equal(back, "2024-02-29T13:30:00Z");
}

static void parse__refuses_everything_else(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "2026-12-31",
                         "2026-12-31 23:59:59Z",
                         "2026-12-31T23:59:59",
                         "2026-13-01T00:00:00Z",
                         "2025-02-29T00:00:00Z",
                         "2026-04-31T00:00:00Z",
                         "2026-12-31T24:00:00Z",
                         "2026-12-31T23:60:00Z",
                         "2026-12-31T23:59:59+9:00",
                         "2026-12-31T23:59:59.Z",
                         "2026-12-31T23:59:59Zjunk",
                         "tomorrow"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        int64_t t;
        assert_false(timefmt_parse_rfc3339(bad[i], &t));
    }
}

/* The accepted range: 0001-01-01T00:00:00Z .. 9999-12-31T23:59:59Z, in UTC after the offset. */
static void parse__range_is_years_1_to_9999_in_utc(void **state)
{
    (void)state;
    int64_t t;
    assert_true(timefmt_parse_rfc3339("0001-01-01T00:00:00Z", &t));
    assert_int_equal(t, TIMEFMT_EPOCH_MIN);
    assert_int_equal(t, -62135596800LL);
    assert_true(timefmt_parse_rfc3339("9999-12-31T23:59:59Z", &t));
    assert_int_equal(t, TIMEFMT_EPOCH_MAX);
    assert_int_equal(t, 253402300799LL);
    assert_true(timefmt_parse_rfc3339("9999-12-31T23:59:59.999999Z", &t));
    assert_int_equal(t, TIMEFMT_EPOCH_MAX);
    /* offsets that keep the instant inside the range */
    assert_true(timefmt_parse_rfc3339("9999-12-31T23:59:59+23:59", &t));
    assert_true(timefmt_parse_rfc3339("0001-01-01T00:00:00-00:01", &t));
    assert_int_equal(t, TIMEFMT_EPOCH_MIN + 60);
    assert_true(timefmt_parse_rfc3339("0000-12-31T23:00:00-01:00", &t));
    assert_int_equal(t, TIMEFMT_EPOCH_MIN);

    const char *outside[] = {"9999-12-31T23:59:59-23:59", /* 10000-01-01T23:58:59Z */
                             "9999-12-31T23:59:59-00:01", /* 10000-01-01T00:00:59Z */
                             "0000-01-01T00:00:00Z",      "0000-12-31T23:59:59Z",
                             "0001-01-01T00:00:00+00:01", /* 0000-12-31T23:59:00Z */
                             "0001-01-01T23:58:59+23:59"};
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        t = 42;
        assert_false(timefmt_parse_rfc3339(outside[i], &t));
    }
}

static void format__boundaries_and_ordinary_dates(void **state)
{
    (void)state;
    char out[TIMEFMT_RFC3339_LEN];
    assert_true(timefmt_rfc3339(0, out));
    assert_string_equal(out, "1970-01-01T00:00:00Z");
    assert_true(timefmt_rfc3339(-1, out));
    assert_string_equal(out, "1969-12-31T23:59:59Z");
    assert_true(timefmt_rfc3339(1798761599, out));
    assert_string_equal(out, "2026-12-31T23:59:59Z");
    assert_true(timefmt_rfc3339(951782400, out)); /* a leap day of a century year */
    assert_string_equal(out, "2000-02-29T00:00:00Z");
    assert_true(timefmt_rfc3339(TIMEFMT_EPOCH_MIN, out));
    assert_string_equal(out, "0001-01-01T00:00:00Z");
    assert_true(timefmt_rfc3339(TIMEFMT_EPOCH_MAX, out));
    assert_string_equal(out, "9999-12-31T23:59:59Z");
}

/* Outside the range nothing is formatted: false and an empty, terminated string. */
static void format__outside_the_range_fails_with_an_empty_string(void **state)
{
    (void)state;
    const int64_t outside[] = {TIMEFMT_EPOCH_MAX + 1,
                               TIMEFMT_EPOCH_MIN - 1,
                               253402387139LL,  /* 9999-12-31T23:59:59-23:59 */
                               9224318015999LL, /* 294276-12-31T23:59:59Z, PostgreSQL's last */
                               -210866803200LL, /* 4714-11-24 BC, PostgreSQL's first */
                               INT64_MAX,
                               INT64_MIN,
                               INT64_MAX / 2,
                               INT64_MIN / 2};
    for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
        char out[TIMEFMT_RFC3339_LEN + 8];
        memset(out, 'x', sizeof(out));
        assert_false(timefmt_rfc3339(outside[i], out));
        assert_string_equal(out, "");
        for (size_t j = TIMEFMT_RFC3339_LEN; j < sizeof(out); j++)
            assert_int_equal(out[j], 'x'); /* nothing written past the buffer */
    }
}

/* Every instant parsed back from its own formatting, across the whole range. */
static void format_then_parse__round_trips(void **state)
{
    (void)state;
    const int64_t step = 86400LL * 97 + 3599; /* about every three months, any time of day */
    for (int64_t t = TIMEFMT_EPOCH_MIN; t <= TIMEFMT_EPOCH_MAX; t += step) {
        char out[TIMEFMT_RFC3339_LEN];
        int64_t back;
        assert_true(timefmt_rfc3339(t, out));
        assert_true(timefmt_parse_rfc3339(out, &back));
        assert_int_equal(back, t);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse__valid_forms),
        cmocka_unit_test(parse__refuses_everything_else),
        cmocka_unit_test(parse__range_is_years_1_to_9999_in_utc),
        cmocka_unit_test(format__boundaries_and_ordinary_dates),
        cmocka_unit_test(format__outside_the_range_fails_with_an_empty_string),
        cmocka_unit_test(format_then_parse__round_trips),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
