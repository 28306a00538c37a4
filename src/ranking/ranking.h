/* ranking.h — popular products: entity and the port of their source. */
#ifndef SHOPD_RANKING_RANKING_H
#define SHOPD_RANKING_RANKING_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum {
    RANKING_DAYS_MAX = 30,
    RANKING_LIMIT_MAX = 100,
    RANKING_NAME_MAX_BYTES = 800,
};

/* A product with the units sold in the window; stock read live. */
struct popular_product {
    int64_t id;
    char name[RANKING_NAME_MAX_BYTES + 1];
    int64_t price;
    int64_t stock;
    int64_t sold;
};

/* Where the ranking comes from (PostgreSQL's daily sales, or Redis in front of them). */
struct ranking_repo_ops {
    enum err_code (*top)(void *self, int days, size_t limit, struct popular_product *out, size_t *n,
                         struct err *e);
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

#endif
