/* ranking_cache.c — ranked windows cached through infra/cache under the "popular" generation. */
#include "ranking/ranking_cache.h"

static const char group[] = "popular";

static long long popular_generation(void *self)
{
    return cache_generation(self, group);
}

static enum err_code popular_get(void *self, const char *key, unsigned ttl_ms, unsigned wait_ms,
                                 ranking_cache_load_fn load, void *ud, char **out, bool *hit,
                                 struct err *e)
{
    return cache_get(self, key, ttl_ms, wait_ms, load, ud, out, hit, e);
}

static void popular_bump(void *self)
{
    cache_bump(self, group);
}

static const struct ranking_cache_ops ranking_cache_ops = {
    .generation = popular_generation,
    .get = popular_get,
    .bump = popular_bump,
};

struct ranking_cache ranking_cache_redis(struct cache *cache)
{
    return (struct ranking_cache){.ops = &ranking_cache_ops, .self = cache};
}
