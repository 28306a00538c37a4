/* cancel_order.h — cancel a paid order, and read orders. */
#ifndef SHOPD_ORDER_APP_CANCEL_ORDER_H
#define SHOPD_ORDER_APP_CANCEL_ORDER_H

#include "order/app/place_order.h"

/*
 * Cancels order_id in one transaction: status CANCELLED (only one cancel
 * wins), stock back, points back (REFUND row), coupon back, ORDER_CANCELLED
 * event. ERR_OK with out = 200 and the order; ERR_ORDER_NOT_FOUND,
 * ERR_ORDER_NOT_CANCELLABLE (nothing changed). Thread-safe if the ports are.
 */
enum err_code cancel_order(const struct order_deps *d, int64_t order_id, struct order_result *out,
                           struct err *e);

/* Reads order_id: ERR_OK with out = 200 and the order, or ERR_ORDER_NOT_FOUND. */
enum err_code get_order(const struct order_deps *d, int64_t order_id, struct order_result *out,
                        struct err *e);

/*
 * Reads up to limit (1..100) orders of user_id, newest first; out->body is
 * {"items":[...]} as the presenter writes a list. ERR_USER_NOT_FOUND,
 * ERR_INVALID_REQUEST naming limit.
 */
enum err_code list_user_orders(const struct order_deps *d, int64_t user_id, int64_t limit,
                               struct order_result *out, struct err *e);

#endif
