/* product_service.c — product use cases. */
#include "product/product_service.h"

#include <stdlib.h>
#include <string.h>

#include "core/text.h"

enum err_code product_service_get(const struct product_service *s, int64_t id, struct product *out,
                                  struct err *e)
{
    if (id <= 0)
        return err_set(e, ERR_PRODUCT_NOT_FOUND, "product %lld does not exist", (long long)id);
    return product_repo_get(&s->repo, id, out, e);
}

enum err_code product_service_list(const struct product_service *s, int64_t after, int64_t limit,
                                   struct product_page *page, struct err *e)
{
    memset(page, 0, sizeof(*page));
    if (limit < 1 || limit > PRODUCT_LIST_MAX)
        return err_set_field(e, ERR_INVALID_REQUEST, "limit", "limit must be from 1 to %d",
                             PRODUCT_LIST_MAX);
    if (after < 0)
        return err_set_field(e, ERR_INVALID_REQUEST, "after", "after must not be negative");
    /* one extra row tells whether another page exists */
    page->items = calloc((size_t)limit + 1, sizeof(*page->items));
    if (!page->items)
        return err_set(e, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    enum err_code rc = product_repo_list(&s->repo, after, (size_t)limit + 1, page->items, &n, e);
    if (rc != ERR_OK) {
        product_page_cleanup(page);
        return rc;
    }
    page->has_more = n > (size_t)limit;
    page->n = page->has_more ? (size_t)limit : n;
    page->next_after = page->has_more ? page->items[page->n - 1].id : 0;
    return ERR_OK;
}

void product_page_cleanup(struct product_page *page)
{
    free(page->items);
    memset(page, 0, sizeof(*page));
}

enum err_code product_service_create(const struct product_service *s, const char *name,
                                     int64_t price, int64_t stock, struct product *out,
                                     struct err *e)
{
    size_t chars = text_utf8_length(name);
    if (chars < 1 || chars > PRODUCT_NAME_MAX_CHARS || text_is_blank(name))
        return err_set_field(e, ERR_INVALID_REQUEST, "name",
                             "name must be 1 to %d characters and not blank",
                             PRODUCT_NAME_MAX_CHARS);
    if (strlen(name) > PRODUCT_NAME_MAX_BYTES)
        return err_set_field(e, ERR_INVALID_REQUEST, "name", "name is too long");
    if (price < 0 || price > PRODUCT_PRICE_MAX)
        return err_set_field(e, ERR_INVALID_REQUEST, "price", "price must be from 0 to %lld",
                             (long long)PRODUCT_PRICE_MAX);
    if (stock < 0 || stock > PRODUCT_STOCK_MAX)
        return err_set_field(e, ERR_INVALID_REQUEST, "stock", "stock must be from 0 to %lld",
                             (long long)PRODUCT_STOCK_MAX);
    memset(out, 0, sizeof(*out));
    memcpy(out->name, name, strlen(name) + 1);
    out->price = price;
    out->stock = stock;
    return product_repo_create(&s->repo, out, e);
}
