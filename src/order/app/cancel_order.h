/* cancel_order.h — the cancel-order use case. */
#ifndef SHOPD_ORDER_APP_CANCEL_ORDER_H
#define SHOPD_ORDER_APP_CANCEL_ORDER_H

#include "order/app/order_deps.h"

/*
 * Cancels order_id in one transaction (two exchanges: the cancel with the
 * order's read, then everything given back with the commit): status
 * CANCELLED (only one cancel wins), stock back, points back (REFUND row),
 * coupon back, ORDER_CANCELLED event. ERR_OK with *out the cancelled order
 * (lines owned: order_cleanup); ERR_ORDER_NOT_FOUND,
 * ERR_ORDER_NOT_CANCELLABLE (nothing changed). Thread-safe if the ports are.
 * With acting_user > 0, another user's order answers ERR_ORDER_NOT_FOUND
 * (as if it did not exist) and nothing changes.
 */
enum err_code order_cancel(const struct order_deps *d, int64_t order_id, int64_t acting_user,
                           struct order *out, struct err *e);

#endif
