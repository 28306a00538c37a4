/* test_timefmt.c — RFC 3339 parsing and formatting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

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
    timefmt_rfc3339(t, back);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse__valid_forms),
        cmocka_unit_test(parse__refuses_everything_else),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
