/* read_orders.c — one order, or a user's newest orders. */
#include "order/app/read_orders.h"

#include <stdlib.h>
#include <string.h>

enum err_code order_get(const struct order_deps *d, int64_t order_id, int64_t acting_user,
                        struct order *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (order_id <= 0)
        return err_set(e, ERR_ORDER_NOT_FOUND, "order %lld does not exist", (long long)order_id);
    enum err_code rc = order_repo_get(&d->orders, order_id, out, e);
    if (rc == ERR_OK && acting_user && out->user_id != acting_user) /* as if it did not exist */
        rc = err_set(e, ERR_ORDER_NOT_FOUND, "order %lld does not exist", (long long)order_id);
    if (rc != ERR_OK)
        order_cleanup(out);
    return rc;
}

enum err_code order_list_by_user(const struct order_deps *d, int64_t user_id, int64_t limit,
                                 struct order_list *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (limit < 1 || limit > ORDER_LIST_MAX)
        return err_set_field(e, ERR_INVALID_REQUEST, "limit", "limit must be from 1 to %d",
                             ORDER_LIST_MAX);
    if (user_id <= 0)
        return err_set(e, ERR_USER_NOT_FOUND, "user %lld does not exist", (long long)user_id);
    out->items = calloc((size_t)limit, sizeof(*out->items));
    if (!out->items)
        return err_set(e, ERR_INTERNAL, "out of memory");
    out->cap = (size_t)limit;
    enum err_code rc =
        order_repo_list_by_user(&d->orders, user_id, out->cap, out->items, &out->n, e);
    if (rc != ERR_OK)
        order_list_cleanup(out);
    return rc;
}

void order_list_cleanup(struct order_list *list)
{
    for (size_t i = 0; i < list->cap; i++)
        order_cleanup(&list->items[i]);
    free(list->items);
    memset(list, 0, sizeof(*list));
}
