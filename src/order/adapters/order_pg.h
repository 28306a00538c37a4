/* order_pg.h — PostgreSQL adapters of the order ports (one per port). */
#ifndef SHOPD_ORDER_ADAPTERS_ORDER_PG_H
#define SHOPD_ORDER_ADAPTERS_ORDER_PG_H

#include "infra/pg.h"
#include "order/app/ports.h"

/*
 * Each adapter works on the calling thread's connection of pool (borrowed,
 * must outlive the port), so all of them share the transaction pg_tx_port
 * began on that thread. Thread-safe.
 */
struct tx_port pg_tx_port(struct pg_pool *pool);
struct stock_port pg_stock_port(struct pg_pool *pool);
struct balance_port pg_balance_port(struct pg_pool *pool);
struct order_repo pg_order_repo(struct pg_pool *pool);
struct idempotency_port pg_idempotency_port(struct pg_pool *pool);
/* The user's coupons (user_coupons), used and given back in the order's transaction. */
struct coupon_port pg_coupon_port(struct pg_pool *pool);

/* Events queued into outbox_events in the order's transaction (after commit: order_notify.h). */
struct event_port pg_outbox_port(struct pg_pool *pool);

#endif
