/* metrics.h — request counters and latency histograms in Prometheus text format. */
#ifndef SHOPD_HTTP_METRICS_H
#define SHOPD_HTTP_METRICS_H

#include <stddef.h>
#include <stdint.h>

struct metrics;

/* A gauge read at scrape time (e.g. open database connections). */
struct metrics_gauge {
    const char *name; /* e.g. "shopd_pg_connections_open" (static storage) */
    const char *help;
    int64_t (*read)(void *ud); /* must be thread-safe */
    void *ud;
};

/*
 * Creates counters for n_routes routes plus one "unmatched" series. labels[i]
 * is route i's label ("GET /api/v1/products/{id}"), borrowed for the
 * metrics' lifetime. Returns NULL on OOM. Free with metrics_free.
 */
struct metrics *metrics_new(const char *const *labels, size_t n_routes);

/* Frees m (NULL-safe). */
void metrics_free(struct metrics *m);

/* One value of a labelled gauge: labels in Prometheus form, e.g. group="g",partition="3". */
struct metrics_point {
    char labels[256];
    int64_t value;
};

/* A gauge with one series per label set, read at scrape time (e.g. lag per partition). */
struct metrics_labelled {
    const char *name; /* static storage */
    const char *help;
    /* writes up to cap points into out; returns how many; must be thread-safe */
    size_t (*read)(void *ud, struct metrics_point *out, size_t cap);
    void *ud;
};

/* Adds a labelled gauge (copied). Call before serving; not thread-safe. Returns -1 if full. */
int metrics_add_labelled(struct metrics *m, const struct metrics_labelled *g);

/* Adds a gauge (copied). Call before serving; not thread-safe. Returns -1 if full. */
int metrics_add_gauge(struct metrics *m, const struct metrics_gauge *g);

/*
 * Counts one request on route_index (n_routes or more = unmatched) with its
 * status and latency. Thread-safe, lock-free.
 */
void metrics_record(struct metrics *m, size_t route_index, int status, int64_t latency_us);

/*
 * Renders all series as Prometheus text. Returns a malloc'd NUL-terminated
 * buffer (caller frees) and its length in *len, or NULL on OOM. Thread-safe.
 */
char *metrics_render(struct metrics *m, size_t *len);

#endif
