/* place_order.h — the place-order use case: one transaction, all or nothing, idempotent. */
#ifndef SHOPD_ORDER_APP_PLACE_ORDER_H
#define SHOPD_ORDER_APP_PLACE_ORDER_H

#include "core/lock.h"
#include "order/app/ports.h"

/* Everything the use cases call (all borrowed). Plain data; share across threads freely. */
struct order_deps {
    struct tx_port tx;
    struct stock_port stock;
    struct balance_port balance;
    struct coupon_port coupons;
    struct order_repo orders;
    struct idempotency_port idempotency;
    struct event_port events;
    struct order_presenter presenter;
    struct lock_port locks; /* per-user lock around each use case (ops NULL: none) */
    int max_attempts;       /* transaction attempts on serialization failure/deadlock (>= 1) */
};

struct place_order_cmd {
    int64_t user_id;
    const struct order_item *items;
    size_t n_items;
    int64_t coupon_id; /* 0 = none */
    const char *idempotency_key;
};

/* The answer to give: status and body (malloc'd, caller frees with place_order_result_cleanup). */
struct order_result {
    int status;
    char *body;
    bool replayed;
};

/*
 * Places an order. Returns ERR_OK with out filled (201 and the order, or a
 * replayed first outcome with out->replayed), or an error with e filled:
 * validation errors (ERR_INVALID_REQUEST, ERR_IDEMPOTENCY_KEY_REQUIRED) and
 * key conflicts (ERR_REQUEST_IN_PROGRESS, ERR_IDEMPOTENCY_KEY_REUSED) record
 * nothing; business refusals (ERR_USER_NOT_FOUND, ERR_PRODUCT_NOT_FOUND,
 * ERR_OUT_OF_STOCK, ERR_INSUFFICIENT_BALANCE, ERR_COUPON_NOT_USABLE) take
 * nothing and are recorded for replay; ERR_UNAVAILABLE/ERR_INTERNAL roll
 * back everything. Thread-safe if the ports are.
 */
enum err_code place_order(const struct order_deps *d, const struct place_order_cmd *cmd,
                          struct order_result *out, struct err *e);

/* True for the business refusals that are recorded and replayed (404s and 409s of orders). */
bool order_error_is_refusal(enum err_code code);

/*
 * Takes the per-user lock ("user:<id>") when d has a lock port: ERR_OK with
 * *locked telling whether it is held (a lock service that is down is not an
 * error: the database holds the rules), or ERR_UNAVAILABLE when the wait
 * timed out. Release with order_unlock_user after the transaction ended.
 */
enum err_code order_lock_user(const struct order_deps *d, int64_t user_id,
                              char token[LOCK_TOKEN_LEN], bool *locked, struct err *e);
void order_unlock_user(const struct order_deps *d, int64_t user_id, const char *token, bool locked);

/* Frees out->body. */
void order_result_cleanup(struct order_result *out);

#endif
