/* cancel_order.c — cancel in one transaction, retried on serialization failure. */
#include "order/app/cancel_order.h"

#include <string.h>

/* Queues everything of o given back, in lock order (products, coupon, user), and the event. */
static enum err_code give_everything_back(const struct order_deps *d, const struct order *o,
                                          struct err *e)
{
    if (stock_port_give_back(&d->stock, o->lines, o->n_lines, o->created_at, e))
        return e->code;
    if (o->coupon_id && coupon_port_release(&d->coupons, o->coupon_id, e))
        return e->code;
    if (balance_port_refund(&d->balance, o->user_id, o->total, o->id, e))
        return e->code;
    return event_port_publish(&d->events, "ORDER_CANCELLED", o, e);
}

static enum err_code cancel_once(const struct order_deps *d, int64_t order_id, struct order *o,
                                 bool *retry, struct err *e)
{
    *retry = false;
    if (tx_port_begin(&d->tx, e) || order_repo_cancel(&d->orders, order_id, o, e) ||
        tx_port_flush(&d->tx, e) || give_everything_back(d, o, e) || tx_port_commit(&d->tx, e)) {
        *retry = tx_port_last_failure_retryable(&d->tx);
        tx_port_rollback(&d->tx);
        return e->code;
    }
    order_notify_committed(d, "ORDER_CANCELLED", o);
    return ERR_OK;
}

enum err_code order_cancel(const struct order_deps *d, int64_t order_id, int64_t acting_user,
                           struct order *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (order_id <= 0)
        return err_set(e, ERR_ORDER_NOT_FOUND, "order %lld does not exist", (long long)order_id);
    /* whose order it is decides the lock: read it first (outside any transaction) */
    enum err_code rc = order_repo_get(&d->orders, order_id, out, e);
    if (rc == ERR_OK && acting_user && out->user_id != acting_user)
        rc = err_set(e, ERR_ORDER_NOT_FOUND, "order %lld does not exist", (long long)order_id);
    if (rc != ERR_OK) {
        order_cleanup(out);
        return rc;
    }
    int64_t user_id = out->user_id;
    char token[LOCK_TOKEN_LEN];
    bool locked = false;
    rc = order_lock_user(d, user_id, token, &locked, e);
    if (rc != ERR_OK) {
        order_cleanup(out);
        return rc;
    }
    int attempts = d->max_attempts > 0 ? d->max_attempts : 1;
    for (int i = 1; i <= attempts; i++) {
        bool retry;
        err_clear(e);
        order_cleanup(out);
        rc = cancel_once(d, order_id, out, &retry, e);
        if (rc == ERR_OK || !retry)
            break;
    }
    order_unlock_user(d, user_id, token, locked);
    if (rc != ERR_OK)
        order_cleanup(out);
    return rc;
}
