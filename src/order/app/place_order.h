/* place_order.h — the place-order use case: one transaction, all or nothing, idempotent. */
#ifndef SHOPD_ORDER_APP_PLACE_ORDER_H
#define SHOPD_ORDER_APP_PLACE_ORDER_H

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
    int max_attempts; /* transaction attempts on serialization failure/deadlock (>= 1) */
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

/* Frees out->body. */
void order_result_cleanup(struct order_result *out);

#endif
