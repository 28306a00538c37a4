/* place_order.c — validate, then in one transaction: claim key, take stock, use coupon,
 * save, pay, publish, record the outcome, commit; retry on serialization failure. */
#include "order/app/place_order.h"

#include <stdlib.h>
#include <string.h>

/* Bytes enough for the canonical text of ORDER_MAX_LINES items. */
enum { FINGERPRINT_MAX = 64 + ORDER_MAX_LINES * 44 };

static const char *const SCOPE = "order";

bool order_error_is_refusal(enum err_code code)
{
    switch (code) {
    case ERR_USER_NOT_FOUND:
    case ERR_PRODUCT_NOT_FOUND:
    case ERR_OUT_OF_STOCK:
    case ERR_INSUFFICIENT_BALANCE:
    case ERR_COUPON_NOT_USABLE:
    case ERR_ORDER_NOT_FOUND:
    case ERR_ORDER_NOT_CANCELLABLE:
        return true;
    default:
        return false;
    }
}

enum err_code order_lock_user(const struct order_deps *d, int64_t user_id,
                              char token[LOCK_TOKEN_LEN], bool *locked, struct err *e)
{
    *locked = false;
    if (!d->locks.ops)
        return ERR_OK;
    char key[LOCK_KEY_MAX];
    lock_user_key(user_id, key);
    return d->locks.ops->acquire(d->locks.self, key, token, locked, e);
}

void order_unlock_user(const struct order_deps *d, int64_t user_id, const char *token, bool locked)
{
    if (!locked)
        return;
    char key[LOCK_KEY_MAX];
    lock_user_key(user_id, key);
    d->locks.ops->release(d->locks.self, key, token);
}

void order_result_cleanup(struct order_result *out)
{
    free(out->body);
    memset(out, 0, sizeof(*out));
}

/* The order's effects, in lock order: products (ascending id), coupon, order, user. */
static enum err_code take_everything(const struct order_deps *d, const struct place_order_cmd *cmd,
                                     struct order *o, struct err *e)
{
    if (d->stock.ops->take(d->stock.self, o->lines, o->n_lines, e))
        return e->code;
    struct coupon_discount coupon;
    if (cmd->coupon_id &&
        d->coupons.ops->use(d->coupons.self, cmd->user_id, cmd->coupon_id, &coupon, e))
        return e->code;
    if (order_price(o, cmd->coupon_id ? &coupon : NULL, e))
        return e->code;
    o->user_id = cmd->user_id;
    o->status = ORDER_PAID;
    o->coupon_id = cmd->coupon_id;
    if (d->orders.ops->save(d->orders.self, o, e))
        return e->code;
    if (d->balance.ops->pay(d->balance.self, o->user_id, o->total, o->id, e))
        return e->code;
    return d->events.ops->publish(d->events.self, "ORDER_PAID", o, e);
}

/* Records body as this key's outcome and commits. */
static enum err_code record_and_commit(const struct order_deps *d,
                                       const struct place_order_cmd *cmd, const char *fingerprint,
                                       int status, const char *body, struct err *e)
{
    if (!body)
        return err_set(e, ERR_INTERNAL, "out of memory rendering an outcome");
    if (d->idempotency.ops->record(d->idempotency.self, cmd->user_id, SCOPE, cmd->idempotency_key,
                                   fingerprint, status, body, e))
        return e->code;
    return d->tx.ops->commit(d->tx.self, e);
}

/* One transaction. Sets *retry when it failed in a way another attempt may not. */
static enum err_code attempt(const struct order_deps *d, const struct place_order_cmd *cmd,
                             const char *fingerprint, struct order *o, struct order_result *out,
                             bool *retry, struct err *e)
{
    *retry = false;
    if (d->tx.ops->begin(d->tx.self, e))
        return e->code;

    bool replay = false;
    struct idempotency_outcome stored = {0};
    if (d->idempotency.ops->claim(d->idempotency.self, cmd->user_id, SCOPE, cmd->idempotency_key,
                                  fingerprint, &replay, &stored, e))
        goto out_rollback;
    if (replay) {
        d->tx.ops->rollback(d->tx.self);
        *out = (struct order_result){stored.status, stored.body, true};
        return ERR_OK;
    }
    if (d->tx.ops->savepoint(d->tx.self, e))
        goto out_rollback;

    enum err_code rc = take_everything(d, cmd, o, e);
    if (rc == ERR_OK) {
        char *body = d->presenter.ops->order_body(d->presenter.self, o);
        if (record_and_commit(d, cmd, fingerprint, 201, body, e)) {
            free(body);
            goto out_rollback;
        }
        d->events.ops->committed(d->events.self, "ORDER_PAID", o);
        *out = (struct order_result){201, body, false};
        return ERR_OK;
    }
    if (order_error_is_refusal(rc)) {
        /* undo the effects, keep the key: a retry gets this same refusal */
        struct err refusal = *e;
        char *body = d->presenter.ops->error_body(d->presenter.self, &refusal);
        if (d->tx.ops->rollback_to_savepoint(d->tx.self, e) ||
            record_and_commit(d, cmd, fingerprint, err_http_status(refusal.code), body, e)) {
            free(body);
            goto out_rollback;
        }
        free(body);
        *e = refusal;
        return refusal.code;
    }

out_rollback:
    *retry = d->tx.ops->last_failure_retryable(d->tx.self);
    d->tx.ops->rollback(d->tx.self);
    return e->code;
}

enum err_code place_order(const struct order_deps *d, const struct place_order_cmd *cmd,
                          struct order_result *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (!cmd->idempotency_key || !order_idempotency_key_valid(cmd->idempotency_key))
        return err_set(e, ERR_IDEMPOTENCY_KEY_REQUIRED,
                       "Idempotency-Key header must be 1 to %d printable ASCII characters",
                       ORDER_KEY_MAX);
    if (cmd->user_id <= 0)
        return err_set_field(e, ERR_INVALID_REQUEST, "user_id", "user_id must be a positive id");
    if (cmd->coupon_id < 0)
        return err_set_field(e, ERR_INVALID_REQUEST, "coupon_id",
                             "coupon_id must be a positive id");

    enum err_code rc = ERR_OK;
    struct order *o = calloc(1, sizeof(*o));
    char *fingerprint = malloc(FINGERPRINT_MAX);
    if (!o || !fingerprint) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out_free;
    }
    if (!order_reserve_lines(o, cmd->n_items)) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out_free;
    }
    rc = order_merge_items(cmd->items, cmd->n_items, o->lines, &o->n_lines, e);
    if (rc != ERR_OK)
        goto out_free;
    if (!order_request_fingerprint(cmd->user_id, cmd->items, cmd->n_items, cmd->coupon_id,
                                   fingerprint, FINGERPRINT_MAX)) {
        rc = err_set(e, ERR_INTERNAL, "fingerprint does not fit");
        goto out_free;
    }

    /* the user's lock is taken before the transaction and released after it ends */
    char token[LOCK_TOKEN_LEN];
    bool locked = false;
    if ((rc = order_lock_user(d, cmd->user_id, token, &locked, e)) != ERR_OK)
        goto out_free;
    int attempts = d->max_attempts > 0 ? d->max_attempts : 1;
    for (int i = 1; i <= attempts; i++) {
        bool retry;
        err_clear(e);
        rc = attempt(d, cmd, fingerprint, o, out, &retry, e);
        if (rc == ERR_OK || !retry)
            break;
    }
    order_unlock_user(d, cmd->user_id, token, locked);

out_free:
    free(fingerprint);
    if (o)
        order_cleanup(o);
    free(o);
    return rc;
}
