/* product.h — the product entity and the repository port of the product module. */
#ifndef SHOPD_PRODUCT_PRODUCT_H
#define SHOPD_PRODUCT_PRODUCT_H

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
 * PostgreSQL adapter implements it, unit tests mock it). Each returns ERR_OK
 * or an error in e; implementations must be thread-safe.
 */
struct product_repo_ops {
    /* Reads product id into *out; ERR_PRODUCT_NOT_FOUND when absent. */
    enum err_code (*get)(void *self, int64_t id, struct product *out, struct err *e);
    /* Reads up to limit products with id > after, ascending, into out[]; *n = count. */
    enum err_code (*list)(void *self, int64_t after, size_t limit, struct product *out, size_t *n,
                          struct err *e);
    /* Inserts a product (out->name/price/stock set) and fills out->id. */
    enum err_code (*create)(void *self, struct product *inout, struct err *e);
};

struct product_repo {
    const struct product_repo_ops *ops;
    void *self;
};

#endif
