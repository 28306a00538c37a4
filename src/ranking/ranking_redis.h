/* ranking_redis.h — the ranking in Redis: one sorted set per UTC day, kept from PostgreSQL. */
#ifndef SHOPD_RANKING_RANKING_REDIS_H
#define SHOPD_RANKING_RANKING_REDIS_H

#include <stddef.h>
#include <stdint.h>

#include "infra/cache.h"
#include "infra/pg.h"
#include "infra/redis.h"
#include "ranking/ranking.h"

struct ranking_redis;

/*
 * A ranking over redis (keys "<ns>:rank:{YYYY-MM-DD}…", copied ns) that
 * reads product_sales_daily from pg and answers from PostgreSQL (fallback)
 * when Redis fails. All borrowed pools must outlive it. NULL on OOM.
 */
struct ranking_redis *ranking_redis_new(struct redis_pool *redis, struct pg_pool *pg,
                                        struct ranking_repo fallback, const char *ns);

/*
 * Caches each window's ranking (ids and units, never stock) in cache
 * (borrowed; NULL = no cache) for ttl_ms: every sale bumps the cache's
 * "popular" generation, so a cached ranking never outlives a change.
 */
void ranking_redis_set_cache(struct ranking_redis *r, struct cache *cache, unsigned ttl_ms);

/*
 * How long a day loaded whole from PostgreSQL counts as complete (its
 * "built" marker's life, plus up to 20 % jitter); after that the next read
 * copies the day again, which heals whatever Redis missed (default 60 s;
 * 0 = the default). This bounds how stale the ranking can be after any
 * failure. Call before sharing r between threads.
 */
void ranking_redis_set_refresh(struct ranking_redis *r, unsigned refresh_ms);

/* Frees r (NULL-safe); after every user stopped. */
void ranking_redis_free(struct ranking_redis *r);

/*
 * The ranking_repo port answering from Redis (rebuilding missing or expired
 * days from PostgreSQL; PostgreSQL answers when Redis fails). Thread-safe.
 */
struct ranking_repo ranking_redis_repo(struct ranking_redis *r);

/*
 * The sales of product_ids on sold_at's UTC day changed: copies their
 * current (quantity, version) from PostgreSQL into the day's sorted set,
 * keeping per product only the highest version seen, so redelivered or
 * reordered notifications never count twice or go backwards, and bumps the
 * "popular" cache generation. For callers that retry on failure themselves
 * (the ranking consumer, the ranking sync worker): nothing is remembered
 * when it fails; the day's "built" marker expiry covers anything lost
 * (ranking_redis_set_refresh). product_ids NULL copies every product of the
 * day (n ignored). Returns ERR_OK, or e set: ERR_UNAVAILABLE when PostgreSQL
 * or Redis did not answer or refused for now (timeouts, LOADING, a lost
 * connection), ERR_INTERNAL for anything else (out of memory, a statement
 * PostgreSQL rejects). Thread-safe.
 */
enum err_code ranking_redis_copy_sales(struct ranking_redis *r, int64_t sold_at,
                                       const int64_t *product_ids, size_t n, struct err *e);

/*
 * ranking_redis_copy_sales for a void * r (a struct ranking_redis *): the
 * shape of ranking_sync_copy_fn (ranking/ranking_sync.h). Thread-safe.
 */
enum err_code ranking_redis_copy_sales_fn(void *r, int64_t sold_at, const int64_t *product_ids,
                                          size_t n, struct err *e);

#endif
