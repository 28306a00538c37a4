/* order_notify.h — after commit: wakes the outbox relay and hands the sales to the ranking. */
#ifndef SHOPD_ORDER_ADAPTERS_ORDER_NOTIFY_H
#define SHOPD_ORDER_ADAPTERS_ORDER_NOTIFY_H

#include <stddef.h>
#include <stdint.h>

#include "order/app/ports.h"

/*
 * The listeners of committed order changes, each optional (NULL: not
 * told); both must return at once (no I/O), as order_notify_ops says.
 * wake: the outbox has a new row (outbox_relay_wake in shopd). on_sale:
 * the sales of product_ids[0..n) (borrowed until it returns) on sold_at's
 * UTC day changed (ranking_sync_on_sale in shopd, without Kafka).
 */
struct order_notify {
    void (*wake)(void *ud);
    void *wake_ud;
    void (*on_sale)(void *ud, int64_t sold_at, const int64_t *product_ids, size_t n);
    void *on_sale_ud;
};

/* The order_notify_port over n (borrowed, must outlive the port). Thread-safe if the listeners are.
 */
struct order_notify_port order_notify_port(struct order_notify *n);

#endif
