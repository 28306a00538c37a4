/*
 * test_metrics.c — request counters and latency histograms in Prometheus
 * text format (http/metrics.c): counts per (route, status), cumulative
 * buckets ending in +Inf == count, the "unmatched" series, gauges.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/metrics.h"

static const char *const labels[] = {"GET /a", "POST /b"};

/* The rendered text (caller frees). */
static char *render(struct metrics *m)
{
    size_t len = 0;
    char *text = metrics_render(m, &len);
    assert_non_null(text);
    assert_int_equal(strlen(text), len);
    return text;
}

/* True when text has exactly this line. */
static int has_line(const char *text, const char *line)
{
    size_t n = strlen(line);
    for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
        if ((p == text || p[-1] == '\n') && p[n] == '\n')
            return 1;
    return 0;
}

static void assert_line(const char *text, const char *line)
{
    if (!has_line(text, line)) {
        fprintf(stderr, "---- rendered ----\n%s------------------\n", text);
        fail_msg("missing line: %s", line);
    }
}

/* Value of the sample whose name-and-labels part is series, or -1. */
static long long sample(const char *text, const char *series)
{
    char prefix[512];
    snprintf(prefix, sizeof(prefix), "%s ", series);
    size_t n = strlen(prefix);
    for (const char *p = text; (p = strstr(p, prefix)) != NULL; p++)
        if (p == text || p[-1] == '\n')
            return strtoll(p + n, NULL, 10);
    return -1;
}

/* ---- counters ---- */

static void record__counts_per_route_and_status(void **state)
{
    (void)state;
    struct metrics *m = metrics_new(labels, 2);
    assert_non_null(m);
    metrics_record(m, 0, 200, 300);
    metrics_record(m, 0, 200, 2000);
    metrics_record(m, 0, 200, 60000000);
    metrics_record(m, 0, 404, 10);
    metrics_record(m, 1, 409, 100);
    metrics_record(m, 1, 201, 100);
    metrics_record(m, 1, 201, 100);
    char *text = render(m);
    assert_line(text, "# TYPE shopd_http_requests_total counter");
    assert_line(text, "shopd_http_requests_total{route=\"GET /a\",status=\"200\"} 3");
    assert_line(text, "shopd_http_requests_total{route=\"GET /a\",status=\"404\"} 1");
    assert_line(text, "shopd_http_requests_total{route=\"POST /b\",status=\"409\"} 1");
    assert_line(text, "shopd_http_requests_total{route=\"POST /b\",status=\"201\"} 2");
    /* series never recorded are not rendered */
    assert_null(strstr(text, "route=\"POST /b\",status=\"200\""));
    assert_null(strstr(text, "route=\"unmatched\""));
    free(text);
    metrics_free(m);
}

static void record__route_index_at_or_past_the_table__counted_as_unmatched(void **state)
{
    (void)state;
    struct metrics *m = metrics_new(labels, 2);
    metrics_record(m, 2, 404, 10);  /* n_routes: what http_dispatch reports for no match */
    metrics_record(m, 99, 404, 10); /* anything beyond */
    metrics_record(m, 2, 405, 10);
    char *text = render(m);
    assert_line(text, "shopd_http_requests_total{route=\"unmatched\",status=\"404\"} 2");
    assert_line(text, "shopd_http_requests_total{route=\"unmatched\",status=\"405\"} 1");
    assert_line(text,
                "shopd_http_request_duration_seconds_count{route=\"unmatched\",status=\"404\"} 2");
    free(text);
    metrics_free(m);
}

static void record__untracked_status__counted_as_other(void **state)
{
    (void)state;
    struct metrics *m = metrics_new(labels, 2);
    metrics_record(m, 0, 299, 10);
    metrics_record(m, 0, 418, 10);
    char *text = render(m);
    assert_line(text, "shopd_http_requests_total{route=\"GET /a\",status=\"other\"} 2");
    free(text);
    metrics_free(m);
}

static void every_contract_status__its_own_series(void **state)
{
    (void)state;
    const int statuses[] = {200, 201, 400, 401, 403, 404, 405, 409, 413, 422, 500, 503};
    struct metrics *m = metrics_new(labels, 2);
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++)
        metrics_record(m, 1, statuses[i], 10);
    char *text = render(m);
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        char line[128];
        snprintf(line, sizeof(line), "shopd_http_requests_total{route=\"POST /b\",status=\"%d\"} 1",
                 statuses[i]);
        assert_line(text, line);
    }
    assert_null(strstr(text, "status=\"other\""));
    free(text);
    metrics_free(m);
}

/* ---- histograms ---- */

static void histogram__buckets_cumulative_and_inf_equals_count(void **state)
{
    (void)state;
    struct metrics *m = metrics_new(labels, 2);
    metrics_record(m, 0, 200, 300);      /* ≤ 0.5 ms */
    metrics_record(m, 0, 200, 500);      /* exactly on the first bound: counted in it */
    metrics_record(m, 0, 200, 501);      /* just past it: the 1 ms bucket */
    metrics_record(m, 0, 200, 2000);     /* ≤ 2.5 ms */
    metrics_record(m, 0, 200, 60000000); /* beyond every bound: only +Inf */
    char *text = render(m);
    assert_line(text, "# TYPE shopd_http_request_duration_seconds histogram");
    const struct {
        const char *le;
        long long n;
    } expect[] = {
        {"0.0005", 2}, {"0.001", 3}, {"0.0025", 4}, {"0.005", 4}, {"0.01", 4},
        {"0.025", 4},  {"0.05", 4},  {"0.1", 4},    {"0.25", 4},  {"0.5", 4},
        {"1", 4},      {"2.5", 4},   {"5", 4},      {"10", 4},    {"+Inf", 5},
    };
    long long previous = 0;
    for (size_t i = 0; i < sizeof(expect) / sizeof(expect[0]); i++) {
        char series[256];
        snprintf(series, sizeof(series),
                 "shopd_http_request_duration_seconds_bucket{route=\"GET /a\",status=\"200\","
                 "le=\"%s\"}",
                 expect[i].le);
        long long v = sample(text, series);
        if (v != expect[i].n) {
            fprintf(stderr, "%s", text);
            fail_msg("%s = %lld, expected %lld", series, v, expect[i].n);
        }
        assert_true(v >= previous); /* cumulative: never decreasing */
        previous = v;
    }
    long long count =
        sample(text, "shopd_http_request_duration_seconds_count{route=\"GET /a\",status=\"200\"}");
    assert_int_equal(count, 5);
    assert_int_equal(previous, count); /* +Inf == count */
    /* sum in seconds: 0.0003 + 0.0005 + 0.000501 + 0.002 + 60 */
    assert_line(
        text, "shopd_http_request_duration_seconds_sum{route=\"GET /a\",status=\"200\"} 60.003301");
    free(text);
    metrics_free(m);
}

static void histogram__negative_latency__counted_as_zero(void **state)
{
    (void)state;
    struct metrics *m = metrics_new(labels, 2);
    metrics_record(m, 1, 201, -5);
    char *text = render(m);
    assert_line(text, "shopd_http_request_duration_seconds_bucket{route=\"POST /b\",status=\"201\","
                      "le=\"0.0005\"} 1");
    assert_line(
        text, "shopd_http_request_duration_seconds_sum{route=\"POST /b\",status=\"201\"} 0.000000");
    free(text);
    metrics_free(m);
}

static void histogram__one_per_recorded_series_only(void **state)
{
    (void)state;
    struct metrics *m = metrics_new(labels, 2);
    metrics_record(m, 1, 409, 100);
    char *text = render(m);
    /* 14 bounds + +Inf for the one series */
    size_t buckets = 0;
    for (const char *p = text; (p = strstr(p, "_bucket{")) != NULL; p++)
        buckets++;
    assert_int_equal(buckets, 15);
    free(text);
    metrics_free(m);
}

/* ---- gauges ---- */

static int64_t read_ud(void *ud)
{
    return *(const int64_t *)ud;
}

static void gauges__rendered_with_help_type_and_current_value(void **state)
{
    (void)state;
    struct metrics *m = metrics_new(labels, 2);
    int64_t open = 7, backlog = -3;
    const struct metrics_gauge g_open = {"shopd_pg_connections_open", "Open connections.", read_ud,
                                         &open};
    const struct metrics_gauge g_backlog = {"shopd_outbox_backlog", "Events waiting.", read_ud,
                                            &backlog};
    assert_int_equal(metrics_add_gauge(m, &g_open), 0);
    assert_int_equal(metrics_add_gauge(m, &g_backlog), 0);
    char *text = render(m);
    assert_line(text, "# HELP shopd_pg_connections_open Open connections.");
    assert_line(text, "# TYPE shopd_pg_connections_open gauge");
    assert_line(text, "shopd_pg_connections_open 7");
    assert_line(text, "shopd_outbox_backlog -3");
    free(text);
    /* read at every scrape, not when added */
    open = 12;
    text = render(m);
    assert_line(text, "shopd_pg_connections_open 12");
    free(text);
    metrics_free(m);
}

static void gauges__table_full__refused(void **state)
{
    (void)state;
    struct metrics *m = metrics_new(labels, 2);
    int64_t v = 1;
    const struct metrics_gauge g = {"shopd_g", "A gauge.", read_ud, &v};
    int added = 0;
    while (metrics_add_gauge(m, &g) == 0 && added < 1000)
        added++;
    assert_true(added >= 4 && added < 1000); /* a fixed capacity, then -1 */
    assert_int_equal(metrics_add_gauge(m, &g), -1);
    char *text = render(m);
    free(text);
    metrics_free(m);
}

/* Two lag points, as a Kafka consumer reports them. */
static size_t read_two_points(void *ud, struct metrics_point *out, size_t cap)
{
    const int64_t *lag = ud;
    size_t n = 0;
    for (int p = 0; p < 2 && n < cap; p++, n++) {
        snprintf(out[n].labels, sizeof(out[n].labels),
                 "group=\"shopd.ranking\",topic=\"shop.order.events\",partition=\"%d\"", p);
        out[n].value = lag[p];
    }
    return n;
}

static void labelled_gauges__one_series_per_label_set(void **state)
{
    (void)state;
    struct metrics *m = metrics_new(labels, 2);
    int64_t lag[2] = {0, 42};
    const struct metrics_labelled g = {"shopd_kafka_consumer_lag", "Lag.", read_two_points, lag};
    assert_int_equal(metrics_add_labelled(m, &g), 0);
    char *text = render(m);
    assert_line(text, "# TYPE shopd_kafka_consumer_lag gauge");
    assert_line(text,
                "shopd_kafka_consumer_lag{group=\"shopd.ranking\",topic=\"shop.order.events\","
                "partition=\"0\"} 0");
    assert_line(text,
                "shopd_kafka_consumer_lag{group=\"shopd.ranking\",topic=\"shop.order.events\","
                "partition=\"1\"} 42");
    free(text);
    metrics_free(m);
}

/* ---- rendering ---- */

static void render__nothing_recorded__only_headers(void **state)
{
    (void)state;
    struct metrics *m = metrics_new(labels, 2);
    char *text = render(m);
    assert_line(text, "# TYPE shopd_http_requests_total counter");
    assert_null(strstr(text, "route="));
    free(text);
    metrics_free(m);
}

static void render__many_series__buffer_grows(void **state)
{
    (void)state;
    enum { N = 60 };
    static char names[N][32];
    static const char *many[N];
    for (int i = 0; i < N; i++) {
        snprintf(names[i], sizeof(names[i]), "GET /route/%d", i);
        many[i] = names[i];
    }
    struct metrics *m = metrics_new(many, N);
    for (int i = 0; i < N; i++) {
        metrics_record(m, (size_t)i, 200, 10);
        metrics_record(m, (size_t)i, 404, 10);
    }
    char *text = render(m); /* far beyond the first 8 KiB */
    assert_true(strlen(text) > 8192);
    assert_line(text, "shopd_http_requests_total{route=\"GET /route/59\",status=\"404\"} 1");
    assert_line(text, "shopd_http_request_duration_seconds_count{route=\"GET /route/59\","
                      "status=\"404\"} 1");
    free(text);
    metrics_free(m);
}

static void free__null__no_effect(void **state)
{
    (void)state;
    metrics_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(record__counts_per_route_and_status),
        cmocka_unit_test(record__route_index_at_or_past_the_table__counted_as_unmatched),
        cmocka_unit_test(record__untracked_status__counted_as_other),
        cmocka_unit_test(every_contract_status__its_own_series),
        cmocka_unit_test(histogram__buckets_cumulative_and_inf_equals_count),
        cmocka_unit_test(histogram__negative_latency__counted_as_zero),
        cmocka_unit_test(histogram__one_per_recorded_series_only),
        cmocka_unit_test(gauges__rendered_with_help_type_and_current_value),
        cmocka_unit_test(gauges__table_full__refused),
        cmocka_unit_test(labelled_gauges__one_series_per_label_set),
        cmocka_unit_test(render__nothing_recorded__only_headers),
        cmocka_unit_test(render__many_series__buffer_grows),
        cmocka_unit_test(free__null__no_effect),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
