/* cache.h — cache-aside in Redis with TTL jitter and one loader at a time (no stampede). */
#ifndef SHOPD_INFRA_CACHE_H
#define SHOPD_INFRA_CACHE_H

#include <stdbool.h>

#include "core/err.h"
#include "infra/redis.h"

struct cache;

/* Loads the value of a missing key: *out malloc'd text (caller of the cache frees). */
typedef enum err_code (*cache_load_fn)(void *ud, char **out, struct err *e);

/* A cache over redis (borrowed) with keys "<ns>:cache:…" (ns copied). NULL on OOM. */
struct cache *cache_new(struct redis_pool *redis, const char *ns);
void cache_free(struct cache *c);

/*
 * The value of key: from Redis when present (*hit = true); otherwise loaded
 * by load and stored for ttl_ms plus up to 20 % random jitter (so keys made
 * together do not expire together). Only one caller across all instances
 * loads a missing key at a time (a SET NX PX guard of 2 × wait_ms holding a
 * random token, released by compare-and-delete so a loader whose guard
 * expired never deletes the next loader's); the others wait for its value
 * up to wait_ms, then load themselves. With Redis down, load runs directly.
 * *out is malloc'd (caller frees). Thread-safe.
 */
enum err_code cache_get(struct cache *c, const char *key, unsigned ttl_ms, unsigned wait_ms,
                        cache_load_fn load, void *ud, char **out, bool *hit, struct err *e);

/* Bumps the generation of group (e.g. "popular"): every key built with the old
 * generation is ignored from now on. Returns the new generation (0 if Redis failed). */
long long cache_bump(struct cache *c, const char *group);

/* The current generation of group (0 when unknown or Redis failed). */
long long cache_generation(struct cache *c, const char *group);

#endif
