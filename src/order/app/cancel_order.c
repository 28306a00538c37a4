/* cancel_order.c — cancel (one transaction, retried on serialization failure) and reads. */
#include "order/app/cancel_order.h"

#include <stdlib.h>
#include <string.h>

enum { ORDER_LIST_MAX = 100 };

/* Gives everything of o back, in lock order: products, coupon, user. */
static enum err_code give_everything_back(const struct order_deps *d, const struct order *o,
                                          struct err *e)
{
    if (d->stock.ops->give_back(d->stock.self, o->lines, o->n_lines, o->created_at, e))
        return e->code;
    if (o->coupon_id && d->coupons.ops->release(d->coupons.self, o->coupon_id, e))
        return e->code;
    if (d->balance.ops->refund(d->balance.self, o->user_id, o->total, o->id, e))
        return e->code;
    return d->events.ops->publish(d->events.self, "ORDER_CANCELLED", o, e);
}

static enum err_code cancel_once(const struct order_deps *d, int64_t order_id, struct order *o,
                                 struct order_result *out, bool *retry, struct err *e)
{
    *retry = false;
    if (d->tx.ops->begin(d->tx.self, e))
        return e->code;
    if (d->orders.ops->cancel(d->orders.self, order_id, o, e) || give_everything_back(d, o, e) ||
        d->tx.ops->commit(d->tx.self, e)) {
        *retry = d->tx.ops->last_failure_retryable(d->tx.self);
        d->tx.ops->rollback(d->tx.self);
        return e->code;
    }
    d->events.ops->committed(d->events.self, "ORDER_CANCELLED", o);
    char *body = d->presenter.ops->order_body(d->presenter.self, o);
    if (!body)
        return err_set(e, ERR_INTERNAL, "out of memory rendering the order");
    *out = (struct order_result){200, body, false};
    return ERR_OK;
}

enum err_code cancel_order(const struct order_deps *d, int64_t order_id, struct order_result *out,
                           struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (order_id <= 0)
        return err_set(e, ERR_ORDER_NOT_FOUND, "order %lld does not exist", (long long)order_id);
    struct order o;
    memset(&o, 0, sizeof(o));
    /* whose order it is decides the lock: read it first (outside any transaction) */
    enum err_code rc = d->orders.ops->get(d->orders.self, order_id, &o, e);
    if (rc != ERR_OK)
        return rc;
    int64_t user_id = o.user_id;
    char token[LOCK_TOKEN_LEN];
    bool locked = false;
    rc = order_lock_user(d, user_id, token, &locked, e);
    if (rc != ERR_OK) {
        order_cleanup(&o);
        return rc;
    }
    int attempts = d->max_attempts > 0 ? d->max_attempts : 1;
    for (int i = 1; i <= attempts; i++) {
        bool retry;
        err_clear(e);
        order_cleanup(&o);
        rc = cancel_once(d, order_id, &o, out, &retry, e);
        if (rc == ERR_OK || !retry)
            break;
    }
    order_unlock_user(d, user_id, token, locked);
    order_cleanup(&o);
    return rc;
}

enum err_code get_order(const struct order_deps *d, int64_t order_id, struct order_result *out,
                        struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (order_id <= 0)
        return err_set(e, ERR_ORDER_NOT_FOUND, "order %lld does not exist", (long long)order_id);
    struct order o;
    memset(&o, 0, sizeof(o));
    enum err_code rc = d->orders.ops->get(d->orders.self, order_id, &o, e);
    if (rc == ERR_OK) {
        out->body = d->presenter.ops->order_body(d->presenter.self, &o);
        out->status = 200;
        if (!out->body)
            rc = err_set(e, ERR_INTERNAL, "out of memory rendering the order");
    }
    order_cleanup(&o);
    return rc;
}

enum err_code list_user_orders(const struct order_deps *d, int64_t user_id, int64_t limit,
                               struct order_result *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (limit < 1 || limit > ORDER_LIST_MAX)
        return err_set_field(e, ERR_INVALID_REQUEST, "limit", "limit must be from 1 to %d",
                             ORDER_LIST_MAX);
    if (user_id <= 0)
        return err_set(e, ERR_USER_NOT_FOUND, "user %lld does not exist", (long long)user_id);
    struct order *orders = calloc((size_t)limit, sizeof(*orders));
    if (!orders)
        return err_set(e, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    enum err_code rc =
        d->orders.ops->list_by_user(d->orders.self, user_id, (size_t)limit, orders, &n, e);
    if (rc == ERR_OK) {
        out->body = d->presenter.ops->order_list_body(d->presenter.self, orders, n);
        out->status = 200;
        if (!out->body)
            rc = err_set(e, ERR_INTERNAL, "out of memory rendering orders");
    }
    for (size_t i = 0; i < (size_t)limit; i++)
        order_cleanup(&orders[i]);
    free(orders);
    return rc;
}
