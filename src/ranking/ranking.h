/*
 * ranking.h — popular products: the entities and the ports the ranking
 * service works through (PostgreSQL's daily sales, their copy in Redis, the
 * cache of ranked windows).
 */
#ifndef SHOPD_RANKING_RANKING_H
#define SHOPD_RANKING_RANKING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum {
    RANKING_DAYS_MAX = 30,
    RANKING_LIMIT_MAX = 100,
    RANKING_NAME_MAX_BYTES = 800,
    RANKING_DAY_LEN = 10, /* "YYYY-MM-DD" */
};

/* A product with the units sold in the window; stock read live. */
struct popular_product {
    int64_t id;
    char name[RANKING_NAME_MAX_BYTES + 1];
    int64_t price;
    int64_t stock;
    int64_t sold;
};

/* One ranked product: its id and the units sold in the window. */
struct ranking_entry {
    int64_t id;
    int64_t sold;
};

/* One row of product_sales_daily: a product's units on a day and the row's version. */
struct ranking_sales_row {
    int64_t product_id;
    int64_t quantity;
    int64_t version;
};

/* The source of truth: PostgreSQL's daily sales and the products. */
struct ranking_repo_ops {
    /*
     * The limit products with the most units sold by paid orders during
     * today and the previous days-1 UTC days, most first, ties by lower id;
     * products with nothing sold are left out.
     */
    enum err_code (*top)(void *self, int days, size_t limit, struct popular_product *out, size_t *n,
                         struct err *e);
    /*
     * The sales rows of day ("YYYY-MM-DD") of product_ids[0..n_ids), or of
     * every product when product_ids is NULL. *rows is malloc'd (caller
     * frees; may be NULL when *n_rows is 0).
     */
    enum err_code (*day_sales)(void *self, const char *day, const int64_t *product_ids,
                               size_t n_ids, struct ranking_sales_row **rows, size_t *n_rows,
                               struct err *e);
    /*
     * Name, price and live stock of the ranked products top[0..k), in
     * top's order, into out (room for k); a product that no longer exists
     * is left out. *n is how many were written.
     */
    enum err_code (*products)(void *self, const struct ranking_entry *top, size_t k,
                              struct popular_product *out, size_t *n, struct err *e);
};
struct ranking_repo {
    const struct ranking_repo_ops *ops;
    void *self;
};

/*
 * The ranking's copy (Redis): per UTC day, each product's units with the
 * version of the sales row they came from, and a "complete" marker.
 */
struct ranking_store_ops {
    /* *complete: day was loaded whole and its marker has not expired. */
    enum err_code (*day_complete)(void *self, const char *day, bool *complete, struct err *e);
    /*
     * Applies rows to day, each only when its version is newer than the
     * one applied (*applied, may be NULL: how many were); mark_ms > 0 also
     * marks the day complete for that long. One atomic step.
     */
    enum err_code (*apply)(void *self, const char *day, const struct ranking_sales_row *rows,
                           size_t n, unsigned mark_ms, long long *applied, struct err *e);
    /*
     * The entries of the days[0..n_days) summed, at least the best limit of
     * them (ties at the limit-th score included), unsorted; *items
     * malloc'd (caller frees; non-NULL on success).
     */
    enum err_code (*top)(void *self, const char (*days)[RANKING_DAY_LEN + 1], int n_days,
                         size_t limit, struct ranking_entry **items, size_t *n, struct err *e);
};
struct ranking_store {
    const struct ranking_store_ops *ops;
    void *self;
};

/* Loads a missing cached value: *out malloc'd text. */
typedef enum err_code (*ranking_cache_load_fn)(void *ud, char **out, struct err *e);

/* The cache of ranked windows (text values under one generation that sales bump). */
struct ranking_cache_ops {
    /* The current generation (0 when unknown). */
    long long (*generation)(void *self);
    /*
     * key's value (*hit when cached), else load's, stored for ttl_ms;
     * concurrent loaders wait up to wait_ms for the first. *out malloc'd.
     */
    enum err_code (*get)(void *self, const char *key, unsigned ttl_ms, unsigned wait_ms,
                         ranking_cache_load_fn load, void *ud, char **out, bool *hit,
                         struct err *e);
    /* Every value cached so far is stale from now on. */
    void (*bump)(void *self);
};
struct ranking_cache {
    const struct ranking_cache_ops *ops;
    void *self;
};

#endif
