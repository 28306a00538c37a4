/* place_order.c — validate; then read everything the order needs in one exchange, decide, and
 * send every write with the outcome's record and the commit in a second; retry when a write
 * finds the state it was decided on has changed. */
#include "order/app/place_order.h"

#include <stdlib.h>
#include <string.h>

/* Bytes enough for the canonical text of ORDER_MAX_LINES items. */
enum { FINGERPRINT_MAX = 64 + ORDER_MAX_LINES * 44 };

static const char *const SCOPE = "order";

/* What the first exchange read. */
struct order_reads {
    struct idempotency_claim claim;
    struct err stock_refusal;
    bool coupon_usable;
    struct coupon_discount coupon;
    bool user_exists;
    int64_t balance;
};

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

void place_order_outcome_cleanup(struct place_order_outcome *out)
{
    order_cleanup(&out->order);
    recorded_outcome_cleanup(&out->recorded);
    memset(out, 0, sizeof(*out));
}

/* Queues the transaction's start and every read; o gets its id and time. */
static enum err_code queue_reads(const struct order_deps *d, const struct place_order_cmd *cmd,
                                 struct order *o, struct order_reads *r, struct err *e)
{
    if (tx_port_begin(&d->tx, e) ||
        idempotency_port_claim(&d->idempotency, cmd->user_id, SCOPE, cmd->idempotency_key,
                               &r->claim, e) ||
        stock_port_quote(&d->stock, o->lines, o->n_lines, &r->stock_refusal, e) ||
        (cmd->coupon_id && coupon_port_quote(&d->coupons, cmd->user_id, cmd->coupon_id,
                                             &r->coupon_usable, &r->coupon, e)) ||
        balance_port_read(&d->balance, cmd->user_id, &r->user_exists, &r->balance, e) ||
        order_repo_reserve(&d->orders, o, e))
        return e->code;
    return ERR_OK;
}

/*
 * Prices o from the reads and says what refuses it, in the order the
 * writes would meet it (products, coupon, user, balance); ERR_OK when
 * nothing does. ERR_INVALID_REQUEST when an amount does not fit.
 */
static enum err_code decide(const struct place_order_cmd *cmd, const struct order_reads *r,
                            struct order *o, struct err *e)
{
    if (r->stock_refusal.code != ERR_OK) {
        *e = r->stock_refusal;
        return e->code;
    }
    if (cmd->coupon_id && !r->coupon_usable)
        return err_set(e, ERR_COUPON_NOT_USABLE,
                       "coupon %lld is not usable: not this user's, already used, or expired",
                       (long long)cmd->coupon_id);
    if (!r->user_exists)
        return err_set(e, ERR_USER_NOT_FOUND, "user %lld does not exist", (long long)cmd->user_id);
    if (order_price(o, cmd->coupon_id ? &r->coupon : NULL, e))
        return e->code;
    if (r->balance < o->total)
        return err_set(e, ERR_INSUFFICIENT_BALANCE, "balance %lld is less than the total %lld",
                       (long long)r->balance, (long long)o->total);
    o->user_id = cmd->user_id;
    o->status = ORDER_PAID;
    o->coupon_id = cmd->coupon_id;
    return ERR_OK;
}

/*
 * Queues the order's effects in lock order (products, coupon, order, user),
 * its record (*placed, which the caller frees), COMMIT.
 */
static enum err_code write_order(const struct order_deps *d, const struct place_order_cmd *cmd,
                                 const char *fingerprint, const struct order *o,
                                 struct recorded_outcome *placed, struct err *e)
{
    if (!order_presenter_placed(&d->presenter, o, placed))
        return err_set(e, ERR_INTERNAL, "out of memory recording an outcome");
    enum err_code rc = ERR_OK;
    if (stock_port_take(&d->stock, o->lines, o->n_lines, e) ||
        (cmd->coupon_id && coupon_port_use(&d->coupons, cmd->user_id, cmd->coupon_id, e)) ||
        order_repo_save(&d->orders, o, e) ||
        balance_port_pay(&d->balance, o->user_id, o->total, o->id, e) ||
        event_port_publish(&d->events, "ORDER_PAID", o, e) ||
        idempotency_port_record(&d->idempotency, cmd->user_id, SCOPE, cmd->idempotency_key,
                                fingerprint, placed, e) ||
        tx_port_commit(&d->tx, e))
        rc = e->code;
    return rc;
}

/* Records the refusal as this key's outcome and commits (nothing else was written). */
static enum err_code record_refusal(const struct order_deps *d, const struct place_order_cmd *cmd,
                                    const char *fingerprint, const struct err *refusal,
                                    struct err *e)
{
    struct recorded_outcome refused = {0};
    if (!order_presenter_refused(&d->presenter, refusal, &refused))
        return err_set(e, ERR_INTERNAL, "out of memory recording an outcome");
    enum err_code rc = ERR_OK;
    if (idempotency_port_record(&d->idempotency, cmd->user_id, SCOPE, cmd->idempotency_key,
                                fingerprint, &refused, e) ||
        tx_port_commit(&d->tx, e))
        rc = e->code;
    recorded_outcome_cleanup(&refused);
    return rc;
}

/*
 * One unit of work. Sets *retry when it failed in a way another attempt may
 * not, *lock_busy when the user's lock (whose answer comes with the reads)
 * is held by another request: nothing was done, the caller waits for it.
 */
static enum err_code attempt(const struct order_deps *d, const struct place_order_cmd *cmd,
                             const char *fingerprint, struct order *o, struct order_user_lock *lock,
                             struct place_order_outcome *out, bool *retry, bool *lock_busy,
                             struct err *e)
{
    *retry = *lock_busy = false;
    struct order_reads r = {.claim = {.fingerprint = fingerprint}};
    bool replay = false;
    enum err_code read = queue_reads(d, cmd, o, &r, e);
    if (read == ERR_OK)
        read = tx_port_flush(&d->tx, e);
    /* the lock's answer, overlapped with the reads (which lock nothing); before any write */
    order_lock_user_finish(d, cmd->user_id, lock, lock_busy);
    if (*lock_busy) {
        tx_port_rollback(&d->tx);
        recorded_outcome_cleanup(&r.claim.stored);
        return ERR_UNAVAILABLE;
    }
    if (read != ERR_OK || idempotency_claim_result(&r.claim, &replay, e))
        goto out_rollback;
    if (replay) {
        tx_port_rollback(&d->tx);
        out->replayed = true;
        out->recorded = r.claim.stored; /* the outcome moves to out */
        return ERR_OK;
    }

    enum err_code rc = decide(cmd, &r, o, e);
    if (rc == ERR_OK) {
        struct recorded_outcome placed = {0};
        if (write_order(d, cmd, fingerprint, o, &placed, e)) {
            recorded_outcome_cleanup(&placed);
            goto out_rollback;
        }
        order_notify_committed(d, "ORDER_PAID", o);
        out->order = *o; /* the lines move to out */
        o->lines = NULL;
        o->n_lines = 0;
        out->recorded = placed;
        return ERR_OK;
    }
    if (order_error_is_refusal(rc)) {
        /* nothing was written: keep the key with this refusal, so a retry gets it too */
        struct err refusal = *e;
        if (record_refusal(d, cmd, fingerprint, &refusal, e))
            goto out_rollback;
        *e = refusal;
        return refusal.code;
    }

out_rollback:
    /* only the store's failures can be worth another attempt (a key conflict never is) */
    *retry = (e->code == ERR_UNAVAILABLE || e->code == ERR_INTERNAL) &&
             tx_port_last_failure_retryable(&d->tx);
    tx_port_rollback(&d->tx);
    recorded_outcome_cleanup(&r.claim.stored);
    return e->code;
}

/* The request's lines (merged, ascending) in a fresh order, and its fingerprint. */
static enum err_code prepare(const struct place_order_cmd *cmd, struct order *o, char *fingerprint,
                             struct err *e)
{
    if (!order_reserve_lines(o, cmd->n_items))
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (order_merge_items(cmd->items, cmd->n_items, o->lines, &o->n_lines, e))
        return e->code;
    if (!order_request_fingerprint(cmd->user_id, cmd->items, cmd->n_items, cmd->coupon_id,
                                   fingerprint, FINGERPRINT_MAX))
        return err_set(e, ERR_INTERNAL, "fingerprint does not fit");
    return ERR_OK;
}

enum err_code order_place(const struct order_deps *d, const struct place_order_cmd *cmd,
                          struct place_order_outcome *out, struct err *e)
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
    if ((rc = prepare(cmd, o, fingerprint, e)) != ERR_OK)
        goto out_free;

    /*
     * The user's lock is held before the first write and released after the
     * transaction ends. Its round trip rides along with the reads: the
     * attempt goes on only once it is held (or the lock service is down), and
     * if another request holds it, the attempt ends its transaction before
     * this one waits for the lock.
     */
    struct order_user_lock lock;
    if ((rc = order_lock_user_start(d, cmd->user_id, &lock, e)) != ERR_OK)
        goto out_free;
    int attempts = d->max_attempts > 0 ? d->max_attempts : 1;
    for (int i = 1; i <= attempts; i++) {
        bool retry, lock_busy;
        err_clear(e);
        rc = attempt(d, cmd, fingerprint, o, &lock, out, &retry, &lock_busy, e);
        if (lock_busy) {
            /* nothing done and no transaction open: wait for the lock, then start over */
            err_clear(e);
            if ((rc = order_lock_user(d, cmd->user_id, lock.token, &lock.held, e)) != ERR_OK)
                break;
            i--;
            continue;
        }
        if (rc == ERR_OK || !retry)
            break;
    }
    order_unlock_user(d, cmd->user_id, lock.token, lock.held);

out_free:
    free(fingerprint);
    if (o)
        order_cleanup(o);
    free(o);
    return rc;
}
