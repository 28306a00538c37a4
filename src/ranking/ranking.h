/*
 * ranking.h — popular products: the entities and the ports the ranking
 * service works through (PostgreSQL's daily sales, their copy in Redis, the
 * cache of ranked windows).
 */
#ifndef SHOPD_RANKING_RANKING_H
#define SHOPD_RANKING_RANKING_H

#include <assert.h>
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
    enum err_code (*top)(void *self, int days, size_t limit, struct popular_product *out, size_t *n,
                         struct err *e);
    enum err_code (*day_sales)(void *self, const char *day, const int64_t *product_ids,
                               size_t n_ids, struct ranking_sales_row **rows, size_t *n_rows,
                               struct err *e);
    enum err_code (*products)(void *self, const struct ranking_entry *top, size_t k,
                              struct popular_product *out, size_t *n, struct err *e);
};
struct ranking_repo {
    const struct ranking_repo_ops *ops;
    void *self;
};

/*
 * The limit products with the most units sold by paid orders during today
 * and the previous days-1 UTC days, most first, ties by lower id, into
 * out[] (capacity limit, caller's; *n of them); products with nothing sold
 * are left out. days 1..RANKING_DAYS_MAX, limit 1..RANKING_LIMIT_MAX.
 * Thread-safe.
 */
static inline enum err_code ranking_repo_top(const struct ranking_repo *r, int days, size_t limit,
                                             struct popular_product *out, size_t *n, struct err *e)
{
    assert(days >= 1 && days <= RANKING_DAYS_MAX && limit >= 1 && limit <= RANKING_LIMIT_MAX);
    enum err_code rc = r->ops->top(r->self, days, limit, out, n, e);
    assert(rc != ERR_OK || *n <= limit);
    return rc;
}

/*
 * The sales rows of day ("YYYY-MM-DD") of product_ids[0..n_ids), or of
 * every product when product_ids is NULL. *rows is malloc'd (caller frees;
 * may be NULL when *n_rows is 0). Thread-safe.
 */
static inline enum err_code ranking_repo_day_sales(const struct ranking_repo *r, const char *day,
                                                   const int64_t *product_ids, size_t n_ids,
                                                   struct ranking_sales_row **rows, size_t *n_rows,
                                                   struct err *e)
{
    return r->ops->day_sales(r->self, day, product_ids, n_ids, rows, n_rows, e);
}

/*
 * Name, price and live stock of the ranked products top[0..k), in top's
 * order, into out (room for k); a product that no longer exists is left
 * out. *n is how many were written. Thread-safe.
 */
static inline enum err_code ranking_repo_products(const struct ranking_repo *r,
                                                  const struct ranking_entry *top, size_t k,
                                                  struct popular_product *out, size_t *n,
                                                  struct err *e)
{
    enum err_code rc = r->ops->products(r->self, top, k, out, n, e);
    assert(rc != ERR_OK || *n <= k);
    return rc;
}

/*
 * The ranking's copy (Redis): per UTC day, each product's units with the
 * version of the sales row they came from, and a "complete" marker.
 */
struct ranking_store_ops {
    enum err_code (*day_complete)(void *self, const char *day, bool *complete, struct err *e);
    enum err_code (*apply)(void *self, const char *day, const struct ranking_sales_row *rows,
                           size_t n, unsigned mark_ms, long long *applied, struct err *e);
    enum err_code (*top)(void *self, const char (*days)[RANKING_DAY_LEN + 1], int n_days,
                         size_t limit, struct ranking_entry **items, size_t *n, struct err *e);
};
struct ranking_store {
    const struct ranking_store_ops *ops;
    void *self;
};

/* *complete: day was loaded whole and its marker has not expired. */
static inline enum err_code ranking_store_day_complete(const struct ranking_store *st,
                                                       const char *day, bool *complete,
                                                       struct err *e)
{
    return st->ops->day_complete(st->self, day, complete, e);
}

/*
 * Applies rows to day, each only when its version is newer than the one
 * applied (*applied, may be NULL: how many were); mark_ms > 0 also marks the
 * day complete for that long. One atomic step.
 */
static inline enum err_code ranking_store_apply(const struct ranking_store *st, const char *day,
                                                const struct ranking_sales_row *rows, size_t n,
                                                unsigned mark_ms, long long *applied, struct err *e)
{
    return st->ops->apply(st->self, day, rows, n, mark_ms, applied, e);
}

/*
 * The entries of the days[0..n_days) summed, at least the best limit of them
 * (ties at the limit-th score included), unsorted; *items malloc'd (caller
 * frees; non-NULL on success).
 */
static inline enum err_code ranking_store_top(const struct ranking_store *st,
                                              const char (*days)[RANKING_DAY_LEN + 1], int n_days,
                                              size_t limit, struct ranking_entry **items, size_t *n,
                                              struct err *e)
{
    assert(n_days >= 1 && n_days <= RANKING_DAYS_MAX);
    return st->ops->top(st->self, days, n_days, limit, items, n, e);
}

/* Loads a missing cached value: *out malloc'd text. */
typedef enum err_code (*ranking_cache_load_fn)(void *ud, char **out, struct err *e);

/* The cache of ranked windows (text values under one generation that sales bump). */
struct ranking_cache_ops {
    long long (*generation)(void *self);
    enum err_code (*get)(void *self, const char *key, unsigned ttl_ms, unsigned wait_ms,
                         ranking_cache_load_fn load, void *ud, char **out, bool *hit,
                         struct err *e);
    void (*bump)(void *self);
};
struct ranking_cache {
    const struct ranking_cache_ops *ops;
    void *self;
};

/* The current generation (0 when unknown). */
static inline long long ranking_cache_generation(const struct ranking_cache *c)
{
    return c->ops->generation(c->self);
}

/*
 * key's value (*hit when cached), else load's, stored for ttl_ms; concurrent
 * loaders wait up to wait_ms for the first. *out malloc'd.
 */
static inline enum err_code ranking_cache_get(const struct ranking_cache *c, const char *key,
                                              unsigned ttl_ms, unsigned wait_ms,
                                              ranking_cache_load_fn load, void *ud, char **out,
                                              bool *hit, struct err *e)
{
    return c->ops->get(c->self, key, ttl_ms, wait_ms, load, ud, out, hit, e);
}

/* Every value cached so far is stale from now on. */
static inline void ranking_cache_bump(const struct ranking_cache *c)
{
    c->ops->bump(c->self);
}

#endif
