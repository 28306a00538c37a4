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

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/idempotency.h"
#include "order/domain/order.h"

/* The unit of work (a database transaction). */
struct tx_port_ops {
    /* QUEUED: opens the transaction. */
    enum err_code (*begin)(void *self, struct err *e);
    /*
     * Runs everything queued, in order, and fills the outputs. ERR_OK, or the
     * first failure (a refusal a queued call reports, a serialization
     * failure, ERR_UNAVAILABLE...): then the transaction can only be rolled back.
     */
    enum err_code (*flush)(void *self, struct err *e);
    /* Queues the commit and flushes: everything queued and the commit, or nothing. */
    enum err_code (*commit)(void *self, struct err *e);
    /* Ends the transaction without keeping anything (queued work included); never fails. */
    void (*rollback)(void *self);
    /* True when the last failure was a serialization failure or deadlock (worth a retry). */
    bool (*last_failure_retryable)(void *self);
};
struct tx_port {
    const struct tx_port_ops *ops;
    void *self;
};

/* Products and stock. Lines are always in ascending product id (the lock order). */
struct stock_port_ops {
    /*
     * QUEUED read (locks nothing): fills each line's name and unit_price from
     * the catalogue, and *refusal with the first line, in ascending product
     * id, that cannot be had: ERR_PRODUCT_NOT_FOUND or ERR_OUT_OF_STOCK
     * (e->product_id set, detail saying what is left), or ERR_OK.
     */
    enum err_code (*quote)(void *self, struct order_line *lines, size_t n, struct err *refusal,
                           struct err *e);
    /*
     * QUEUED conditional write: takes each line's quantity from stock, at the
     * unit_price quoted. Stock now short or a price changed since the quote:
     * the flush fails as a serialization failure.
     */
    enum err_code (*take)(void *self, const struct order_line *lines, size_t n, struct err *e);
    /*
     * QUEUED: puts each line's quantity back (cancel), then takes the units
     * out of the sales of sold_at's UTC day. Every stock row before any sales
     * row, as place order does: the same lock order.
     */
    enum err_code (*give_back)(void *self, const struct order_line *lines, size_t n,
                               int64_t sold_at, struct err *e);
};
struct stock_port {
    const struct stock_port_ops *ops;
    void *self;
};

/* The points payment gateway: balance and ledger. */
struct balance_port_ops {
    /* QUEUED read: *exists and *balance of user_id. */
    enum err_code (*read)(void *self, int64_t user_id, bool *exists, int64_t *balance,
                          struct err *e);
    /*
     * QUEUED conditional write: debits amount (>= 0; 0 writes nothing) with a
     * USE ledger row. The balance now short: the flush fails as a
     * serialization failure.
     */
    enum err_code (*pay)(void *self, int64_t user_id, int64_t amount, int64_t order_id,
                         struct err *e);
    /* QUEUED: credits amount back with a REFUND ledger row (cancel). */
    enum err_code (*refund)(void *self, int64_t user_id, int64_t amount, int64_t order_id,
                            struct err *e);
};
struct balance_port {
    const struct balance_port_ops *ops;
    void *self;
};

/* Coupons a user owns. */
struct coupon_port_ops {
    /*
     * QUEUED read: *usable when coupon_id is user_id's, unused and unexpired,
     * and then *out, what it takes off.
     */
    enum err_code (*quote)(void *self, int64_t user_id, int64_t coupon_id, bool *usable,
                           struct coupon_discount *out, struct err *e);
    /* QUEUED conditional write: marks it used. No longer usable: serialization failure. */
    enum err_code (*use)(void *self, int64_t user_id, int64_t coupon_id, struct err *e);
    /* QUEUED: makes a used coupon available again (cancel). */
    enum err_code (*release)(void *self, int64_t coupon_id, struct err *e);
};
struct coupon_port {
    const struct coupon_port_ops *ops;
    void *self;
};

/* Orders. */
struct order_repo_ops {
    /* QUEUED: a new order id and the transaction's time, into o->id and o->created_at. */
    enum err_code (*reserve)(void *self, struct order *o, struct err *e);
    /*
     * QUEUED: inserts o (status PAID, the reserved id and time) with its
     * lines, and adds its quantities to the sales of its UTC day. o must stay
     * valid until the flush.
     */
    enum err_code (*save)(void *self, const struct order *o, struct err *e);
    /*
     * QUEUED: sets a PAID order CANCELLED (conditionally, so only one cancel
     * wins) and reads it into out. The flush reports ERR_ORDER_NOT_FOUND or
     * ERR_ORDER_NOT_CANCELLABLE.
     */
    enum err_code (*cancel)(void *self, int64_t id, struct order *out, struct err *e);
    /* Reads order id with its lines. ERR_ORDER_NOT_FOUND. */
    enum err_code (*get)(void *self, int64_t id, struct order *out, struct err *e);
    /*
     * Reads up to limit orders of user_id, newest first, with their lines, into
     * out[] (each order's lines owned by it: order_cleanup). ERR_USER_NOT_FOUND.
     */
    enum err_code (*list_by_user)(void *self, int64_t user_id, size_t limit, struct order *out,
                                  size_t *n, struct err *e);
};
struct order_repo {
    const struct order_repo_ops *ops;
    void *self;
};

/* Idempotency keys: the first outcome per (user, scope, key). */
struct idempotency_port_ops {
    /*
     * QUEUED: claims the key for this transaction and looks for a recorded
     * outcome; fills *claim (claim->fingerprint set by the caller).
     */
    enum err_code (*claim)(void *self, int64_t user_id, const char *scope, const char *key,
                           struct idempotency_claim *claim, struct err *e);
    /* QUEUED: records this request's outcome, committed with the work. */
    enum err_code (*record)(void *self, int64_t user_id, const char *scope, const char *key,
                            const char *fingerprint, const struct recorded_outcome *outcome,
                            struct err *e);
};
struct idempotency_port {
    const struct idempotency_port_ops *ops;
    void *self;
};

/* Domain events, written to the outbox in the transaction. */
struct event_port_ops {
    /* QUEUED: type "ORDER_PAID" or "ORDER_CANCELLED", about o (read at once). */
    enum err_code (*publish)(void *self, const char *type, const struct order *o, struct err *e);
};
struct event_port {
    const struct event_port_ops *ops;
    void *self;
};

/* Who hears of an order change once its transaction committed. */
struct order_notify_ops {
    /*
     * After commit (never inside the transaction): the event type just
     * committed ("ORDER_PAID" or "ORDER_CANCELLED") about o (read at once),
     * for listeners such as the outbox relay and the ranking. Never fails,
     * never waits on I/O: only hands work to background threads.
     */
    void (*committed)(void *self, const char *type, const struct order *o);
};
struct order_notify_port {
    const struct order_notify_ops *ops;
    void *self;
};

/* How first outcomes are written down for replay (the driving adapter's encoding). */
struct order_presenter_ops {
    /* The recorded form of a placed order; false on OOM. */
    bool (*placed)(void *self, const struct order *o, struct recorded_outcome *out);
    /* The recorded form of a refusal (e->code one of the refusals); false on OOM. */
    bool (*refused)(void *self, const struct err *e, struct recorded_outcome *out);
};
struct order_presenter {
    const struct order_presenter_ops *ops;
    void *self;
};

#endif
