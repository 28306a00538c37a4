/* ranking_redis.h — the ranking's copy in Redis: one sorted set per UTC day. */
#ifndef SHOPD_RANKING_RANKING_REDIS_H
#define SHOPD_RANKING_RANKING_REDIS_H

#include "infra/redis.h"
#include "ranking/ranking.h"

struct ranking_redis;

/*
 * A ranking store over redis (borrowed, must outlive it) with keys
 * "<ns>:rank:{YYYY-MM-DD}…" (ns copied). NULL on OOM; the caller owns it
 * (ranking_redis_free).
 */
struct ranking_redis *ranking_redis_new(struct redis_pool *redis, const char *ns);

/* Frees r (NULL-safe); after every user stopped. */
void ranking_redis_free(struct ranking_redis *r);

/*
 * The ranking_store port over r (ranking/ranking.h). Every failure is
 * ERR_UNAVAILABLE (Redis did not answer, or refused: LOADING, a script
 * error) or ERR_INTERNAL (out of memory), with e set. Thread-safe.
 */
struct ranking_store ranking_redis_store(struct ranking_redis *r);

#endif
