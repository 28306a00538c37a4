/* ranking_cache.h — the ranking_cache port over infra/cache (group "popular"). */
#ifndef SHOPD_RANKING_RANKING_CACHE_H
#define SHOPD_RANKING_RANKING_CACHE_H

#include "infra/cache.h"
#include "ranking/ranking.h"

/*
 * The cache of ranked windows in cache (borrowed, must outlive the port):
 * values under cache's keys, one generation "popular" bumped by every sale.
 * Thread-safe.
 */
struct ranking_cache ranking_cache_redis(struct cache *cache);

#endif
