/*
 * ports.h — what the order use cases need from the world, as vtables.
 * Adapters (PostgreSQL, HTTP) implement them; unit tests mock them. Every
 * port used within one use-case call acts inside the same transaction, the
 * one tx_port opened. Nothing here includes a library header.
 */
#ifndef SHOPD_ORDER_APP_PORTS_H
#define SHOPD_ORDER_APP_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "order/domain/order.h"

/* Transaction runner. */
struct tx_port_ops {
    enum err_code (*begin)(void *self, struct err *e);
    /* Marks a point that rollback_to_savepoint returns to (business rejections keep the key). */
    enum err_code (*savepoint)(void *self, struct err *e);
    enum err_code (*rollback_to_savepoint)(void *self, struct err *e);
    enum err_code (*commit)(void *self, struct err *e);
    /* Ends the transaction without keeping anything; never fails. */
    void (*rollback)(void *self);
    /* True when the last failure was a serialization failure or deadlock (worth a retry). */
    bool (*last_failure_retryable)(void *self);
};
struct tx_port {
    const struct tx_port_ops *ops;
    void *self;
};

/* Products and stock. */
struct stock_port_ops {
    /*
     * Takes each line's quantity from stock, lines in ascending product id
     * (the lock order), filling name and unit_price from the catalogue.
     * ERR_PRODUCT_NOT_FOUND or ERR_OUT_OF_STOCK with e->product_id.
     */
    enum err_code (*take)(void *self, struct order_line *lines, size_t n, struct err *e);
    /*
     * Puts each line's quantity back (cancel), ascending product id, then
     * takes the units out of the sales of sold_at's UTC day. Every stock row
     * before any sales row, as place order does: the same lock order.
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
    /* Debits amount (>= 0) and writes a USE row. ERR_USER_NOT_FOUND, ERR_INSUFFICIENT_BALANCE. */
    enum err_code (*pay)(void *self, int64_t user_id, int64_t amount, int64_t order_id,
                         struct err *e);
    /* Credits amount back with a REFUND row (cancel). */
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
     * Marks coupon_id used by user_id (conditionally: the user's, unused,
     * unexpired) and says what it takes off. ERR_COUPON_NOT_USABLE otherwise.
     */
    enum err_code (*use)(void *self, int64_t user_id, int64_t coupon_id,
                         struct coupon_discount *out, struct err *e);
    /* Makes a used coupon available again (cancel). */
    enum err_code (*release)(void *self, int64_t coupon_id, struct err *e);
};
struct coupon_port {
    const struct coupon_port_ops *ops;
    void *self;
};

/* Orders. */
struct order_repo_ops {
    /* Inserts o (status PAID) and its lines; fills o->id and o->created_at. ERR_USER_NOT_FOUND. */
    enum err_code (*save)(void *self, struct order *o, struct err *e);
    /* Reads order id with its lines. ERR_ORDER_NOT_FOUND. */
    enum err_code (*get)(void *self, int64_t id, struct order *out, struct err *e);
    /*
     * Reads up to limit orders of user_id, newest first, with their lines, into
     * out[] (each order's lines owned by it: order_cleanup). ERR_USER_NOT_FOUND.
     */
    enum err_code (*list_by_user)(void *self, int64_t user_id, size_t limit, struct order *out,
                                  size_t *n, struct err *e);
    /*
     * Sets a PAID order CANCELLED (conditionally, so only one cancel wins) and
     * reads it. ERR_ORDER_NOT_FOUND, ERR_ORDER_NOT_CANCELLABLE.
     */
    enum err_code (*cancel)(void *self, int64_t id, struct order *out, struct err *e);
};
struct order_repo {
    const struct order_repo_ops *ops;
    void *self;
};

/* A stored first outcome of an idempotent request. */
struct idempotency_outcome {
    int status;
    char *body; /* malloc'd, owned by whoever holds the outcome */
};

/* Idempotency keys: the first outcome per (user, scope, key). */
struct idempotency_port_ops {
    /*
     * Claims the key for this transaction. *replay = true with *stored filled
     * when an outcome was recorded for the same fingerprint.
     * ERR_REQUEST_IN_PROGRESS when another transaction holds the key now;
     * ERR_IDEMPOTENCY_KEY_REUSED when it was used with another fingerprint.
     */
    enum err_code (*claim)(void *self, int64_t user_id, const char *scope, const char *key,
                           const char *fingerprint, bool *replay,
                           struct idempotency_outcome *stored, struct err *e);
    /* Records this request's outcome (in the transaction). */
    enum err_code (*record)(void *self, int64_t user_id, const char *scope, const char *key,
                            const char *fingerprint, int status, const char *body, struct err *e);
};
struct idempotency_port {
    const struct idempotency_port_ops *ops;
    void *self;
};

/* Domain events, written to the outbox in the transaction. */
struct event_port_ops {
    /* type "ORDER_PAID" or "ORDER_CANCELLED", about o. */
    enum err_code (*publish)(void *self, const char *type, const struct order *o, struct err *e);
    /*
     * After commit (never inside the transaction): the application event for
     * listeners such as the relay and the ranking. Never fails, never blocks
     * on I/O for long.
     */
    void (*committed)(void *self, const char *type, const struct order *o);
};
struct event_port {
    const struct event_port_ops *ops;
    void *self;
};

/* How outcomes are written down for replay (the HTTP adapter's encoding). */
struct order_presenter_ops {
    /* The body of a successful answer about o; malloc'd, NULL on OOM. */
    char *(*order_body)(void *self, const struct order *o);
    /* {"items":[...]} for n orders; malloc'd, NULL on OOM. */
    char *(*order_list_body)(void *self, const struct order *orders, size_t n);
    /* The body of a refusal; malloc'd, NULL on OOM. */
    char *(*error_body)(void *self, const struct err *e);
};
struct order_presenter {
    const struct order_presenter_ops *ops;
    void *self;
};

#endif
