/*
 * ports.h — what the order use cases need from the world, as vtables.
 * Adapters (PostgreSQL, HTTP) implement them; unit tests mock them. Nothing
 * here includes a library header.
 *
 * A unit of work. tx.begin opens it. The calls marked QUEUED only send
 * their work: what they fill in (their outputs) is valid once the next
 * tx.flush or tx.commit has returned ERR_OK, which runs everything queued
 * so far in one exchange with the store. A QUEUED call can still fail at
 * once (out of memory, connection gone). The conditional writes (take, use,
 * pay) check that what the unit of work read is still so; when a concurrent
 * writer changed it in between, the flush fails as a serialization failure
 * (last_failure_retryable) and nothing of the unit of work is kept: the use
 * case starts again from a fresh read. The calls not marked QUEUED run at
 * once and need no unit of work.
 */
#ifndef SHOPD_ORDER_APP_PORTS_H
#define SHOPD_ORDER_APP_PORTS_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/idempotency.h"
#include "order/domain/order.h"

/*
 * Each port is a vtable plus self, filled by its adapter. Call it through
 * the static inline wrapper below its struct: the contract (what the call
 * does, returns, who owns what, when it may be called) is stated there,
 * once; the vtable members carry no second copy. The wrappers assert() the
 * invariants the caller owes (lines ascending, amounts, capacities); the
 * PostgreSQL adapters assert that a QUEUED call runs inside a transaction.
 */

/* The unit of work (a database transaction). */
struct tx_port_ops {
    enum err_code (*begin)(void *self, struct err *e);
    enum err_code (*flush)(void *self, struct err *e);
    enum err_code (*commit)(void *self, struct err *e);
    void (*rollback)(void *self);
    bool (*last_failure_retryable)(void *self);
};
struct tx_port {
    const struct tx_port_ops *ops;
    void *self;
};

/* QUEUED: opens the transaction (on the calling thread; the other ports' calls join it). */
static inline enum err_code tx_port_begin(const struct tx_port *tx, struct err *e)
{
    return tx->ops->begin(tx->self, e);
}

/*
 * Runs everything queued, in order, and fills the outputs. ERR_OK, or the
 * first failure (a refusal a queued call reports, a serialization failure,
 * ERR_UNAVAILABLE...): then the transaction can only be rolled back. Only
 * inside a transaction.
 */
static inline enum err_code tx_port_flush(const struct tx_port *tx, struct err *e)
{
    return tx->ops->flush(tx->self, e);
}

/*
 * Queues the commit and flushes: everything queued and the commit, or
 * nothing (then roll back). Only inside a transaction.
 */
static inline enum err_code tx_port_commit(const struct tx_port *tx, struct err *e)
{
    return tx->ops->commit(tx->self, e);
}

/*
 * Ends the transaction without keeping anything (queued work included);
 * never fails, and may follow a failure of any call of the unit of work.
 */
static inline void tx_port_rollback(const struct tx_port *tx)
{
    tx->ops->rollback(tx->self);
}

/*
 * True when the last failure was a serialization failure or deadlock (worth
 * a retry). Before rollback, which forgets it.
 */
static inline bool tx_port_last_failure_retryable(const struct tx_port *tx)
{
    return tx->ops->last_failure_retryable(tx->self);
}

/* Products and stock. Lines are always in ascending product id (the lock order). */
struct stock_port_ops {
    enum err_code (*quote)(void *self, struct order_line *lines, size_t n, struct err *refusal,
                           struct err *e);
    enum err_code (*take)(void *self, const struct order_line *lines, size_t n, struct err *e);
    enum err_code (*give_back)(void *self, const struct order_line *lines, size_t n,
                               int64_t sold_at, struct err *e);
};
struct stock_port {
    const struct stock_port_ops *ops;
    void *self;
};

/*
 * QUEUED read (locks nothing): fills each line's name and unit_price from
 * the catalogue, and *refusal with the first line, in ascending product
 * id, that cannot be had: ERR_PRODUCT_NOT_FOUND or ERR_OUT_OF_STOCK
 * (e->product_id set, detail saying what is left), or ERR_OK. lines
 * (borrowed, 1..ORDER_MAX_LINES, ascending) must stay valid until the flush.
 */
static inline enum err_code stock_port_quote(const struct stock_port *p, struct order_line *lines,
                                             size_t n, struct err *refusal, struct err *e)
{
    assert(n >= 1 && n <= ORDER_MAX_LINES && order_lines_ascending(lines, n));
    return p->ops->quote(p->self, lines, n, refusal, e);
}

/*
 * QUEUED conditional write: takes each line's quantity from stock, at the
 * unit_price quoted, in ascending product id (asserted). Stock now short or a price
 * changed since the quote: the flush fails as a serialization failure.
 */
static inline enum err_code stock_port_take(const struct stock_port *p,
                                            const struct order_line *lines, size_t n, struct err *e)
{
    assert(n >= 1 && n <= ORDER_MAX_LINES && order_lines_ascending(lines, n));
    return p->ops->take(p->self, lines, n, e);
}

/*
 * QUEUED: puts each line's quantity back (cancel), then takes the units
 * out of the sales of sold_at's UTC day. Lines ascending (asserted), every
 * stock row before any sales
 * row, as place order does: the same lock order.
 */
static inline enum err_code stock_port_give_back(const struct stock_port *p,
                                                 const struct order_line *lines, size_t n,
                                                 int64_t sold_at, struct err *e)
{
    assert(n <= ORDER_MAX_LINES && order_lines_ascending(lines, n));
    return p->ops->give_back(p->self, lines, n, sold_at, e);
}

/* The points payment gateway: balance and ledger. */
struct balance_port_ops {
    enum err_code (*read)(void *self, int64_t user_id, bool *exists, int64_t *balance,
                          struct err *e);
    enum err_code (*pay)(void *self, int64_t user_id, int64_t amount, int64_t order_id,
                         struct err *e);
    enum err_code (*refund)(void *self, int64_t user_id, int64_t amount, int64_t order_id,
                            struct err *e);
};
struct balance_port {
    const struct balance_port_ops *ops;
    void *self;
};

/* QUEUED read: *exists and *balance of user_id (filled by the flush). */
static inline enum err_code balance_port_read(const struct balance_port *p, int64_t user_id,
                                              bool *exists, int64_t *balance, struct err *e)
{
    return p->ops->read(p->self, user_id, exists, balance, e);
}

/*
 * QUEUED conditional write: debits amount (>= 0; 0 writes nothing) with a
 * USE ledger row. The balance now short: the flush fails as a
 * serialization failure.
 */
static inline enum err_code balance_port_pay(const struct balance_port *p, int64_t user_id,
                                             int64_t amount, int64_t order_id, struct err *e)
{
    assert(amount >= 0);
    return p->ops->pay(p->self, user_id, amount, order_id, e);
}

/* QUEUED: credits amount (>= 0) back with a REFUND ledger row (cancel). */
static inline enum err_code balance_port_refund(const struct balance_port *p, int64_t user_id,
                                                int64_t amount, int64_t order_id, struct err *e)
{
    assert(amount >= 0);
    return p->ops->refund(p->self, user_id, amount, order_id, e);
}

/* Coupons a user owns. */
struct coupon_port_ops {
    enum err_code (*quote)(void *self, int64_t user_id, int64_t coupon_id, bool *usable,
                           struct coupon_discount *out, struct err *e);
    enum err_code (*use)(void *self, int64_t user_id, int64_t coupon_id, struct err *e);
    enum err_code (*release)(void *self, int64_t coupon_id, struct err *e);
};
struct coupon_port {
    const struct coupon_port_ops *ops;
    void *self;
};

/*
 * QUEUED read: *usable when coupon_id is user_id's, unused and unexpired,
 * and then *out, what it takes off.
 */
static inline enum err_code coupon_port_quote(const struct coupon_port *p, int64_t user_id,
                                              int64_t coupon_id, bool *usable,
                                              struct coupon_discount *out, struct err *e)
{
    return p->ops->quote(p->self, user_id, coupon_id, usable, out, e);
}

/* QUEUED conditional write: marks it used. No longer usable: serialization failure. */
static inline enum err_code coupon_port_use(const struct coupon_port *p, int64_t user_id,
                                            int64_t coupon_id, struct err *e)
{
    return p->ops->use(p->self, user_id, coupon_id, e);
}

/* QUEUED: makes a used coupon available again (cancel). */
static inline enum err_code coupon_port_release(const struct coupon_port *p, int64_t coupon_id,
                                                struct err *e)
{
    return p->ops->release(p->self, coupon_id, e);
}

/* Orders. */
struct order_repo_ops {
    enum err_code (*reserve)(void *self, struct order *o, struct err *e);
    enum err_code (*save)(void *self, const struct order *o, struct err *e);
    enum err_code (*cancel)(void *self, int64_t id, struct order *out, struct err *e);
    enum err_code (*get)(void *self, int64_t id, struct order *out, struct err *e);
    enum err_code (*list_by_user)(void *self, int64_t user_id, size_t limit, struct order *out,
                                  size_t *n, struct err *e);
};
struct order_repo {
    const struct order_repo_ops *ops;
    void *self;
};

/* QUEUED: a new order id and the transaction's time, into o->id and o->created_at. */
static inline enum err_code order_repo_reserve(const struct order_repo *p, struct order *o,
                                               struct err *e)
{
    return p->ops->reserve(p->self, o, e);
}

/*
 * QUEUED: inserts o (status PAID, the reserved id and time) with its
 * lines, and adds its quantities to the sales of its UTC day. o must stay
 * valid until the flush.
 */
static inline enum err_code order_repo_save(const struct order_repo *p, const struct order *o,
                                            struct err *e)
{
    assert(o->status == ORDER_PAID && o->total >= 0 && o->total == o->subtotal - o->discount);
    assert(order_lines_ascending(o->lines, o->n_lines));
    return p->ops->save(p->self, o, e);
}

/*
 * QUEUED: sets a PAID order CANCELLED (conditionally, so only one cancel
 * wins) and reads it into out (its lines owned by out: order_cleanup). The
 * flush reports ERR_ORDER_NOT_FOUND or ERR_ORDER_NOT_CANCELLABLE.
 */
static inline enum err_code order_repo_cancel(const struct order_repo *p, int64_t id,
                                              struct order *out, struct err *e)
{
    return p->ops->cancel(p->self, id, out, e);
}

/*
 * Runs at once, outside any unit of work: reads order id with its lines
 * into out (lines owned by out: order_cleanup). ERR_ORDER_NOT_FOUND.
 */
static inline enum err_code order_repo_get(const struct order_repo *p, int64_t id,
                                           struct order *out, struct err *e)
{
    return p->ops->get(p->self, id, out, e);
}

/*
 * Runs at once, outside any unit of work: reads up to limit orders of
 * user_id, newest first, with their lines, into out[] (*n of them; each
 * order's lines owned by it: order_cleanup). ERR_USER_NOT_FOUND.
 */
static inline enum err_code order_repo_list_by_user(const struct order_repo *p, int64_t user_id,
                                                    size_t limit, struct order *out, size_t *n,
                                                    struct err *e)
{
    enum err_code rc = p->ops->list_by_user(p->self, user_id, limit, out, n, e);
    assert(rc != ERR_OK || *n <= limit);
    return rc;
}

/* Idempotency keys: the first outcome per (user, scope, key). */
struct idempotency_port_ops {
    enum err_code (*claim)(void *self, int64_t user_id, const char *scope, const char *key,
                           struct idempotency_claim *claim, struct err *e);
    enum err_code (*record)(void *self, int64_t user_id, const char *scope, const char *key,
                            const char *fingerprint, const struct recorded_outcome *outcome,
                            struct err *e);
};
struct idempotency_port {
    const struct idempotency_port_ops *ops;
    void *self;
};

/*
 * QUEUED: claims the key for this transaction and looks for a recorded
 * outcome; fills *claim (claim->fingerprint set by the caller; a stored
 * body is then owned by claim->stored).
 */
static inline enum err_code idempotency_port_claim(const struct idempotency_port *p,
                                                   int64_t user_id, const char *scope,
                                                   const char *key, struct idempotency_claim *claim,
                                                   struct err *e)
{
    assert(scope && key && claim->fingerprint);
    return p->ops->claim(p->self, user_id, scope, key, claim, e);
}

/* QUEUED: records this request's outcome (borrowed until the flush), committed with the work. */
static inline enum err_code idempotency_port_record(const struct idempotency_port *p,
                                                    int64_t user_id, const char *scope,
                                                    const char *key, const char *fingerprint,
                                                    const struct recorded_outcome *outcome,
                                                    struct err *e)
{
    assert(scope && key && fingerprint && outcome->body);
    return p->ops->record(p->self, user_id, scope, key, fingerprint, outcome, e);
}

/* Domain events, written to the outbox in the transaction. */
struct event_port_ops {
    enum err_code (*publish)(void *self, const char *type, const struct order *o, struct err *e);
};
struct event_port {
    const struct event_port_ops *ops;
    void *self;
};

/* QUEUED: type "ORDER_PAID" or "ORDER_CANCELLED", about o (read at once). */
static inline enum err_code event_port_publish(const struct event_port *p, const char *type,
                                               const struct order *o, struct err *e)
{
    return p->ops->publish(p->self, type, o, e);
}

/* Who hears of an order change once its transaction committed. */
struct order_notify_ops {
    void (*committed)(void *self, const char *type, const struct order *o);
};
struct order_notify_port {
    const struct order_notify_ops *ops;
    void *self;
};

/*
 * After commit (never inside the transaction): the event type just
 * committed ("ORDER_PAID" or "ORDER_CANCELLED") about o (read at once), for
 * listeners such as the outbox relay and the ranking. Never fails, never
 * waits on I/O: only hands work to background threads.
 */
static inline void order_notify_port_committed(const struct order_notify_port *p, const char *type,
                                               const struct order *o)
{
    p->ops->committed(p->self, type, o);
}

/* How first outcomes are written down for replay (the driving adapter's encoding). */
struct order_presenter_ops {
    bool (*placed)(void *self, const struct order *o, struct recorded_outcome *out);
    bool (*refused)(void *self, const struct err *e, struct recorded_outcome *out);
};
struct order_presenter {
    const struct order_presenter_ops *ops;
    void *self;
};

/* The recorded form of a placed order into *out (body owned by out); false on OOM. */
static inline bool order_presenter_placed(const struct order_presenter *p, const struct order *o,
                                          struct recorded_outcome *out)
{
    return p->ops->placed(p->self, o, out);
}

/*
 * The recorded form of a refusal (e->code one of the refusals) into *out
 * (body owned by out); false on OOM.
 */
static inline bool order_presenter_refused(const struct order_presenter *p, const struct err *e,
                                           struct recorded_outcome *out)
{
    return p->ops->refused(p->self, e, out);
}

#endif
