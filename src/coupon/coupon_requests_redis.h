/* coupon_requests_redis.h — asynchronous issue requests' records in Redis (status readable at
 * once). */
#ifndef SHOPD_COUPON_COUPON_REQUESTS_REDIS_H
#define SHOPD_COUPON_COUPON_REQUESTS_REDIS_H

#include <stdbool.h>
#include <stdint.h>

#include "coupon/coupon.h"
#include "infra/redis.h"

/*
 * Keys, under the namespace "<ns>":
 *   <ns>:coupon-req:seq       request ids (INCR: 1, 2, 3, …)
 *   <ns>:coupon-req:<id>      one hash per request: coupon_id, user_id, status, code,
 *                             user_coupon_id, requested_at, decided_at (epoch s); TTL ttl_s
 *   <ns>:coupon-req:pending   how many requests are PENDING (for /metrics)
 * A request is recorded here, not in PostgreSQL: a database write per
 * request would cost what the queue saves. PostgreSQL holds the coupons.
 */
struct coupon_requests;

/* A store over pool (borrowed) under ns (copied); ttl_s 0 = 7 days. NULL on OOM. Thread-safe. */
struct coupon_requests *coupon_requests_new(struct redis_pool *pool, const char *ns,
                                            unsigned ttl_s);

/* Frees r (NULL-safe). */
void coupon_requests_free(struct coupon_requests *r);

/*
 * Gives inout a new id and records it PENDING with its coupon_id, user_id
 * and requested_at. ERR_UNAVAILABLE when Redis cannot be reached.
 */
enum err_code coupon_requests_create(struct coupon_requests *r, struct coupon_request *inout,
                                     struct err *e);

/* Reads request id. ERR_ISSUE_REQUEST_NOT_FOUND, ERR_UNAVAILABLE. */
enum err_code coupon_requests_get(struct coupon_requests *r, int64_t id, struct coupon_request *out,
                                  struct err *e);

/*
 * Records req's outcome (status, code, user_coupon_id, decided_at) only if
 * the request is still PENDING, or its record is gone (then it is written
 * again whole, from req). *changed tells whether it was written: a decided
 * request keeps its first outcome. Atomic (one Lua script). ERR_UNAVAILABLE.
 */
enum err_code coupon_requests_decide(struct coupon_requests *r, const struct coupon_request *req,
                                     bool *changed, struct err *e);

/* PENDING requests (the counter; -1 when Redis cannot be reached). ud: the store. Thread-safe. */
int64_t coupon_requests_pending(void *ud);

#endif
