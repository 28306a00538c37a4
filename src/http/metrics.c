/* metrics.c — lock-free counters per (route, status) and Prometheus rendering. */
#include "http/metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const int tracked_statuses[] = {200, 201, 204, 400, 401, 403, 404,
                                       405, 409, 413, 422, 500, 503, 0};
enum { N_STATUSES = sizeof(tracked_statuses) / sizeof(tracked_statuses[0]) };

/* Upper bounds in microseconds; the last bucket is +Inf. */
static const int64_t bucket_bounds_us[] = {500,     1000,    2500,    5000,    10000,
                                           25000,   50000,   100000,  250000,  500000,
                                           1000000, 2500000, 5000000, 10000000};
enum { N_BOUNDS = sizeof(bucket_bounds_us) / sizeof(bucket_bounds_us[0]) };
enum { MAX_GAUGES = 24, MAX_LABELLED = 8, MAX_POINTS = 256 };

struct series {
    atomic_uint_fast64_t count;
    atomic_uint_fast64_t sum_us;
    atomic_uint_fast64_t buckets[N_BOUNDS]; /* non-cumulative; +Inf = count */
};

struct metrics {
    const char *const *labels;
    size_t n_routes;
    struct series *series; /* (n_routes + 1) * N_STATUSES */
    struct metrics_gauge gauges[MAX_GAUGES];
    size_t n_gauges;
    struct metrics_labelled labelled[MAX_LABELLED];
    size_t n_labelled;
};

struct metrics *metrics_new(const char *const *labels, size_t n_routes)
{
    struct metrics *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->labels = labels;
    m->n_routes = n_routes;
    m->series = calloc((n_routes + 1) * N_STATUSES, sizeof(*m->series));
    if (!m->series) {
        free(m);
        return NULL;
    }
    return m;
}

void metrics_free(struct metrics *m)
{
    if (!m)
        return;
    free(m->series);
    free(m);
}

int metrics_add_gauge(struct metrics *m, const struct metrics_gauge *g)
{
    if (m->n_gauges >= MAX_GAUGES)
        return -1;
    m->gauges[m->n_gauges++] = *g;
    return 0;
}

static size_t status_slot(int status)
{
    for (size_t i = 0; i + 1 < N_STATUSES; i++)
        if (tracked_statuses[i] == status)
            return i;
    return N_STATUSES - 1;
}

void metrics_record(struct metrics *m, size_t route_index, int status, int64_t latency_us)
{
    if (route_index > m->n_routes)
        route_index = m->n_routes;
    struct series *s = &m->series[route_index * N_STATUSES + status_slot(status)];
    if (latency_us < 0)
        latency_us = 0;
    atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&s->sum_us, (uint_fast64_t)latency_us, memory_order_relaxed);
    for (size_t b = 0; b < N_BOUNDS; b++) {
        if (latency_us <= bucket_bounds_us[b]) {
            atomic_fetch_add_explicit(&s->buckets[b], 1, memory_order_relaxed);
            break;
        }
    }
}

/* A growable text buffer for rendering. */
struct textbuf {
    char *data;
    size_t len, cap;
    int failed;
};

__attribute__((format(printf, 2, 3))) static void tb_printf(struct textbuf *tb, const char *fmt,
                                                            ...)
{
    if (tb->failed)
        return;
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(tb->data + tb->len, tb->cap - tb->len, fmt, ap);
        va_end(ap);
        if (n < 0) {
            tb->failed = 1;
            return;
        }
        if ((size_t)n < tb->cap - tb->len) {
            tb->len += (size_t)n;
            return;
        }
        size_t cap = tb->cap * 2 + (size_t)n;
        char *p = realloc(tb->data, cap);
        if (!p) {
            tb->failed = 1;
            return;
        }
        tb->data = p;
        tb->cap = cap;
    }
}

static const char *status_label(size_t slot, char buf[8])
{
    if (tracked_statuses[slot] == 0)
        return "other";
    snprintf(buf, 8, "%d", tracked_statuses[slot]);
    return buf;
}

char *metrics_render(struct metrics *m, size_t *len)
{
    struct textbuf tb = {.data = malloc(8192), .cap = 8192};
    if (!tb.data)
        return NULL;
    tb.data[0] = '\0';
    char sbuf[8];

    tb_printf(&tb, "# HELP shopd_http_requests_total HTTP requests by route and status.\n"
                   "# TYPE shopd_http_requests_total counter\n");
    for (size_t r = 0; r <= m->n_routes; r++) {
        const char *label = r < m->n_routes ? m->labels[r] : "unmatched";
        for (size_t s = 0; s < N_STATUSES; s++) {
            uint64_t c =
                atomic_load_explicit(&m->series[r * N_STATUSES + s].count, memory_order_relaxed);
            if (c)
                tb_printf(&tb, "shopd_http_requests_total{route=\"%s\",status=\"%s\"} %llu\n",
                          label, status_label(s, sbuf), (unsigned long long)c);
        }
    }

    tb_printf(&tb, "# HELP shopd_http_request_duration_seconds HTTP request latency.\n"
                   "# TYPE shopd_http_request_duration_seconds histogram\n");
    for (size_t r = 0; r <= m->n_routes; r++) {
        const char *label = r < m->n_routes ? m->labels[r] : "unmatched";
        for (size_t s = 0; s < N_STATUSES; s++) {
            struct series *se = &m->series[r * N_STATUSES + s];
            uint64_t c = atomic_load_explicit(&se->count, memory_order_relaxed);
            if (!c)
                continue;
            const char *st = status_label(s, sbuf);
            uint64_t cumulative = 0;
            for (size_t b = 0; b < N_BOUNDS; b++) {
                cumulative += atomic_load_explicit(&se->buckets[b], memory_order_relaxed);
                tb_printf(&tb,
                          "shopd_http_request_duration_seconds_bucket{route=\"%s\",status=\"%s\","
                          "le=\"%g\"} %llu\n",
                          label, st, (double)bucket_bounds_us[b] / 1e6,
                          (unsigned long long)cumulative);
            }
            tb_printf(&tb,
                      "shopd_http_request_duration_seconds_bucket{route=\"%s\",status=\"%s\","
                      "le=\"+Inf\"} %llu\n",
                      label, st, (unsigned long long)c);
            tb_printf(
                &tb, "shopd_http_request_duration_seconds_sum{route=\"%s\",status=\"%s\"} %.6f\n",
                label, st, (double)atomic_load_explicit(&se->sum_us, memory_order_relaxed) / 1e6);
            tb_printf(&tb,
                      "shopd_http_request_duration_seconds_count{route=\"%s\",status=\"%s\"} "
                      "%llu\n",
                      label, st, (unsigned long long)c);
        }
    }

    for (size_t g = 0; g < m->n_gauges; g++) {
        const struct metrics_gauge *ga = &m->gauges[g];
        tb_printf(&tb, "# HELP %s %s\n# TYPE %s gauge\n%s %lld\n", ga->name, ga->help, ga->name,
                  ga->name, (long long)ga->read(ga->ud));
    }

    struct metrics_point *points = m->n_labelled ? malloc(MAX_POINTS * sizeof(*points)) : NULL;
    if (m->n_labelled && !points)
        tb.failed = 1;
    for (size_t g = 0; points && g < m->n_labelled; g++) {
        const struct metrics_labelled *lg = &m->labelled[g];
        size_t n = lg->read(lg->ud, points, MAX_POINTS);
        tb_printf(&tb, "# HELP %s %s\n# TYPE %s gauge\n", lg->name, lg->help, lg->name);
        for (size_t i = 0; i < n && i < MAX_POINTS; i++)
            tb_printf(&tb, "%s{%s} %lld\n", lg->name, points[i].labels, (long long)points[i].value);
    }
    free(points);

    if (tb.failed) {
        free(tb.data);
        return NULL;
    }
    *len = tb.len;
    return tb.data;
}

int metrics_add_labelled(struct metrics *m, const struct metrics_labelled *g)
{
    if (m->n_labelled >= MAX_LABELLED)
        return -1;
    m->labelled[m->n_labelled++] = *g;
    return 0;
}
