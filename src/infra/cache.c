/* cache.c — cache-aside with a per-key load guard. */
#include "infra/cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timefmt.h"
#include "infra/redis_lock.h"

/* Deletes the load guard only if it still holds our token (it may have expired and been
 * taken by another loader, whose guard is not ours to delete). */
static const char release_guard_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

struct cache {
    struct redis_pool *redis;
    char ns[64];
};

struct cache *cache_new(struct redis_pool *redis, const char *ns)
{
    struct cache *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->redis = redis;
    snprintf(c->ns, sizeof(c->ns), "%s", ns);
    return c;
}

void cache_free(struct cache *c)
{
    free(c);
}

/* GET name: 1 with *out set, 0 missing, -1 Redis failed. */
static int fetch(struct cache *c, const char *name, char **out)
{
    struct err e;
    err_clear(&e);
    redisReply *r = redis_command(c->redis, &e, "GET %s", name);
    if (!r || r->type == REDIS_REPLY_ERROR) {
        freeReplyObject(r);
        return -1;
    }
    int found = r->type == REDIS_REPLY_STRING;
    if (found)
        *out = strndup(r->str, r->len);
    freeReplyObject(r);
    return found && !*out ? -1 : found;
}

static void release_guard(struct cache *c, const char *guard, const char *token)
{
    const char *argv[] = {"EVAL", release_guard_lua, "1", guard, token};
    struct err e;
    err_clear(&e);
    freeReplyObject(redis_command_argv(c->redis, &e, 5, argv, NULL));
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

enum err_code cache_get(struct cache *c, const char *key, unsigned ttl_ms, unsigned wait_ms,
                        cache_load_fn load, void *ud, char **out, bool *hit, struct err *e)
{
    char name[256], guard[280];
    snprintf(name, sizeof(name), "%s:cache:%s", c->ns, key);
    snprintf(guard, sizeof(guard), "%s:load", name);
    *out = NULL;
    *hit = false;
    int found = fetch(c, name, out);
    if (found == 1) {
        *hit = true;
        return ERR_OK;
    }
    if (found < 0)
        return load(ud, out, e); /* Redis down: the source answers */

    /* a miss: one loader at a time, across instances; the guard holds our token */
    struct err ignored;
    err_clear(&ignored);
    char token[LOCK_TOKEN_LEN];
    redis_lock_token(token);
    redisReply *r = redis_command(c->redis, &ignored, "SET %s %s NX PX %u", guard, token,
                                  wait_ms ? wait_ms * 2 : 1000);
    bool loader = r && r->type == REDIS_REPLY_STATUS;
    freeReplyObject(r);
    if (!loader) {
        int64_t deadline = timefmt_monotonic_us() + (int64_t)wait_ms * 1000;
        while (timefmt_monotonic_us() < deadline) {
            sleep_ms(2);
            if (fetch(c, name, out) == 1) {
                *hit = true;
                return ERR_OK;
            }
        }
        return load(ud, out, e); /* the loader is slow or died: do not wait forever */
    }
    /* the previous loader may have stored the value and released the guard just now */
    if (fetch(c, name, out) == 1) {
        *hit = true;
        release_guard(c, guard, token);
        return ERR_OK;
    }
    enum err_code rc = load(ud, out, e);
    if (rc == ERR_OK) {
        unsigned jitter = ttl_ms / 5 ? (unsigned)rand() % (ttl_ms / 5 + 1) : 0;
        freeReplyObject(
            redis_command(c->redis, &ignored, "SET %s %s PX %u", name, *out, ttl_ms + jitter));
    }
    release_guard(c, guard, token);
    return rc;
}

long long cache_bump(struct cache *c, const char *group)
{
    char name[160];
    snprintf(name, sizeof(name), "%s:cache:gen:%s", c->ns, group);
    struct err e;
    err_clear(&e);
    redisReply *r = redis_command(c->redis, &e, "INCR %s", name);
    long long gen = r && r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    return gen;
}

long long cache_generation(struct cache *c, const char *group)
{
    char name[160];
    snprintf(name, sizeof(name), "%s:cache:gen:%s", c->ns, group);
    struct err e;
    err_clear(&e);
    redisReply *r = redis_command(c->redis, &e, "GET %s", name);
    long long gen = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
    freeReplyObject(r);
    return gen;
}
