/* product_service.h — product use cases: validation, paging, creation. */
#ifndef SHOPD_PRODUCT_PRODUCT_SERVICE_H
#define SHOPD_PRODUCT_PRODUCT_SERVICE_H

#include <stdbool.h>

#include "product/product.h"

/* Holds the repository it calls (borrowed). Plain data, safe to share across threads. */
struct product_service {
    struct product_repo repo;
};

/* One page of the catalogue. items is malloc'd (caller frees with product_page_cleanup). */
struct product_page {
    struct product *items;
    size_t n;
    bool has_more;
    int64_t next_after; /* id to pass as `after` for the next page; valid when has_more */
};

/* Reads product id. ERR_PRODUCT_NOT_FOUND when id is unknown (or not positive). */
enum err_code product_service_get(const struct product_service *s, int64_t id, struct product *out,
                                  struct err *e);

/*
 * Lists up to limit (1..PRODUCT_LIST_MAX) products with id > after (>= 0),
 * ascending. ERR_INVALID_REQUEST naming `limit`/`after` when out of range.
 */
enum err_code product_service_list(const struct product_service *s, int64_t after, int64_t limit,
                                   struct product_page *page, struct err *e);

/* Frees page->items. */
void product_page_cleanup(struct product_page *page);

/*
 * Creates a product: name 1..200 characters and not blank, price
 * 0..PRODUCT_PRICE_MAX, stock 0..PRODUCT_STOCK_MAX (else ERR_INVALID_REQUEST
 * naming the field). Fills *out with the stored row.
 */
enum err_code product_service_create(const struct product_service *s, const char *name,
                                     int64_t price, int64_t stock, struct product *out,
                                     struct err *e);

#endif
