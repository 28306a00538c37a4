/* place_order.h — the place-order use case: one transaction, all or nothing, idempotent. */
#ifndef SHOPD_ORDER_APP_PLACE_ORDER_H
#define SHOPD_ORDER_APP_PLACE_ORDER_H

#include "order/app/order_deps.h"

struct place_order_cmd {
    int64_t user_id;
    const struct order_item *items;
    size_t n_items;
    int64_t coupon_id; /* 0 = none */
    const char *idempotency_key;
};

/* What placing an order came to, when order_place returns ERR_OK. */
struct place_order_outcome {
    bool replayed;
    struct order order; /* !replayed: the order placed (lines owned) */
    /*
     * The key's first outcome as the presenter recorded it: this request's
     * (!replayed) or an earlier one's (replayed). Answering with these bytes
     * makes a replay byte-for-byte the first answer.
     */
    struct recorded_outcome recorded;
};

/*
 * Places an order in two exchanges with the store: the reads (key claim,
 * catalogue, coupon, balance, a new order id), then every write, the
 * outcome's record and the commit. Returns ERR_OK with out filled (the
 * order placed, or a replayed first outcome), or an error with e filled:
 * validation errors (ERR_INVALID_REQUEST, ERR_IDEMPOTENCY_KEY_REQUIRED) and
 * key conflicts (ERR_REQUEST_IN_PROGRESS, ERR_IDEMPOTENCY_KEY_REUSED) record
 * nothing; business refusals (order_error_is_refusal: ERR_USER_NOT_FOUND,
 * ERR_PRODUCT_NOT_FOUND, ERR_OUT_OF_STOCK, ERR_INSUFFICIENT_BALANCE,
 * ERR_COUPON_NOT_USABLE) take nothing and are recorded for replay;
 * ERR_UNAVAILABLE/ERR_INTERNAL keep nothing. A write that finds what was
 * read has changed runs the whole order again (up to d->max_attempts).
 * Release out with place_order_outcome_cleanup. Thread-safe if the ports are.
 */
enum err_code order_place(const struct order_deps *d, const struct place_order_cmd *cmd,
                          struct place_order_outcome *out, struct err *e);

/* True for the business refusals that are recorded and replayed (the 404s and 409s of orders). */
bool order_error_is_refusal(enum err_code code);

/* Frees what out holds. */
void place_order_outcome_cleanup(struct place_order_outcome *out);

#endif
