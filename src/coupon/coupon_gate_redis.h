/* coupon_gate_redis.h — the first-come-first-served gate in Redis (Lua, atomic per campaign). */
#ifndef SHOPD_COUPON_COUPON_GATE_REDIS_H
#define SHOPD_COUPON_COUPON_GATE_REDIS_H

#include "coupon/coupon.h"
#include "infra/redis.h"

struct coupon_gate_redis;

/*
 * A gate over pool (borrowed) whose keys start with "<ns>:" (copied), so
 * several deployments (or test databases) can share one Redis. NULL on OOM.
 * Thread-safe.
 */
struct coupon_gate_redis *coupon_gate_redis_new(struct redis_pool *pool, const char *ns);

/* Frees g (NULL-safe). */
void coupon_gate_redis_free(struct coupon_gate_redis *g);

/* The gate port over g. */
struct coupon_gate coupon_gate_redis(struct coupon_gate_redis *g);

#endif
