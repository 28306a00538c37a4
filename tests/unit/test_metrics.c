/* test_metrics.c — counters, cumulative histogram buckets and gauges in Prometheus text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/metrics.h"

static int64_t read_seven(void *ud)
{
    (void)ud;
    return 7;
}

static void render__counts_buckets_and_gauges(void **state)
{
    (void)state;
    const char *labels[] = {"GET /a", "POST /b"};
    struct metrics *m = metrics_new(labels, 2);
    assert_non_null(m);
    assert_int_equal(metrics_add_gauge(m, &(struct metrics_gauge){"shopd_test_gauge", "A gauge.",
                                                                  read_seven, NULL}),
                     0);
    metrics_record(m, 0, 200, 300);      /* ≤ 0.5 ms */
    metrics_record(m, 0, 200, 2000);     /* ≤ 2.5 ms */
    metrics_record(m, 0, 200, 60000000); /* beyond every bound */
    metrics_record(m, 1, 409, 100);
    metrics_record(m, 99, 404, 10); /* unmatched */
    metrics_record(m, 0, 299, 10);  /* an untracked status */

    size_t len = 0;
    char *text = metrics_render(m, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    assert_non_null(strstr(text, "shopd_http_requests_total{route=\"GET /a\",status=\"200\"} 3\n"));
    assert_non_null(
        strstr(text, "shopd_http_requests_total{route=\"POST /b\",status=\"409\"} 1\n"));
    assert_non_null(
        strstr(text, "shopd_http_requests_total{route=\"unmatched\",status=\"404\"} 1\n"));
    assert_non_null(
        strstr(text, "shopd_http_requests_total{route=\"GET /a\",status=\"other\"} 1\n"));
    assert_non_null(strstr(text, "shopd_http_request_duration_seconds_bucket{route=\"GET "
                                 "/a\",status=\"200\",le=\"0.0005\"} 1\n"));
    assert_non_null(strstr(text, "shopd_http_request_duration_seconds_bucket{route=\"GET "
                                 "/a\",status=\"200\",le=\"0.0025\"} 2\n"));
    assert_non_null(strstr(text, "shopd_http_request_duration_seconds_bucket{route=\"GET "
                                 "/a\",status=\"200\",le=\"10\"} 2\n"));
    assert_non_null(strstr(text, "shopd_http_request_duration_seconds_bucket{route=\"GET "
                                 "/a\",status=\"200\",le=\"+Inf\"} 3\n"));
    assert_non_null(strstr(text, "shopd_http_request_duration_seconds_count{route=\"GET "
                                 "/a\",status=\"200\"} 3\n"));
    assert_non_null(strstr(text, "# TYPE shopd_test_gauge gauge\nshopd_test_gauge 7\n"));
    /* series never recorded are not rendered */
    assert_null(strstr(text, "route=\"POST /b\",status=\"200\""));
    free(text);
    metrics_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(render__counts_buckets_and_gauges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
