/* product.h — the product entity and the repository port of the product module. */
#ifndef SHOPD_PRODUCT_PRODUCT_H
#define SHOPD_PRODUCT_PRODUCT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum {
    PRODUCT_NAME_MAX_CHARS = 200,
    PRODUCT_NAME_MAX_BYTES = PRODUCT_NAME_MAX_CHARS * 4, /* UTF-8 */
    PRODUCT_LIST_MAX = 100,
};

#define PRODUCT_PRICE_MAX INT64_C(1000000000000) /* 1 trillion won */
#define PRODUCT_STOCK_MAX INT64_C(1000000000)

/* A catalogue entry; stock is the quantity left when it was read. Plain data. */
struct product {
    int64_t id;
    char name[PRODUCT_NAME_MAX_BYTES + 1];
    int64_t price;
    int64_t stock;
};

/*
 * Storage port of the product module (the service depends on this, the
 * PostgreSQL adapter implements it, unit tests mock it). Called through the
 * wrappers below, which state the contracts. Each returns ERR_OK or an
 * error in e; implementations must be thread-safe.
 */
struct product_repo_ops {
    enum err_code (*get)(void *self, int64_t id, struct product *out, struct err *e);
    enum err_code (*list)(void *self, int64_t after, size_t limit, struct product *out, size_t *n,
                          struct err *e);
    enum err_code (*create)(void *self, struct product *inout, struct err *e);
};

struct product_repo {
    const struct product_repo_ops *ops;
    void *self;
};

/* Reads product id into *out; ERR_PRODUCT_NOT_FOUND when absent. */
static inline enum err_code product_repo_get(const struct product_repo *r, int64_t id,
                                             struct product *out, struct err *e)
{
    return r->ops->get(r->self, id, out, e);
}

/*
 * Reads up to limit products with id > after, ascending, into out[]
 * (capacity limit, caller's); *n = count.
 */
static inline enum err_code product_repo_list(const struct product_repo *r, int64_t after,
                                              size_t limit, struct product *out, size_t *n,
                                              struct err *e)
{
    enum err_code rc = r->ops->list(r->self, after, limit, out, n, e);
    assert(rc != ERR_OK || *n <= limit);
    return rc;
}

/* Inserts a product (inout->name/price/stock set, already valid) and fills inout->id. */
static inline enum err_code product_repo_create(const struct product_repo *r, struct product *inout,
                                                struct err *e)
{
    return r->ops->create(r->self, inout, e);
}

#endif
