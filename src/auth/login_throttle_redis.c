/* login_throttle_redis.c — fixed-window failure counters in Redis (see the header). */
#include "auth/login_throttle_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

struct login_throttle_redis {
    struct redis_pool *pool;
    char ns[64];
    unsigned user_failures, address_failures, window_s;
};

/*
 * KEYS: user key, address key; ARGV: user limit, address limit. Returns the
 * milliseconds until the first key at or over its limit expires, or 0.
 */
static const char check_lua[] = "local wait = 0\n"
                                "for i = 1, 2 do\n"
                                "  local n = tonumber(redis.call('GET', KEYS[i]) or '0')\n"
                                "  if n >= tonumber(ARGV[i]) then\n"
                                "    local ttl = redis.call('PTTL', KEYS[i])\n"
                                "    if ttl > wait then wait = ttl end\n"
                                "  end\n"
                                "end\n"
                                "return wait\n";

/* KEYS: user key, address key; ARGV: window in ms. One more failure on each. */
static const char failed_lua[] = "for i = 1, 2 do\n"
                                 "  if redis.call('INCR', KEYS[i]) == 1 then\n"
                                 "    redis.call('PEXPIRE', KEYS[i], ARGV[1])\n"
                                 "  end\n"
                                 "end\n"
                                 "return 0\n";

struct login_throttle_redis *login_throttle_redis_new(struct redis_pool *pool,
                                                      const struct login_throttle_config *cfg)
{
    struct login_throttle_redis *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->pool = pool;
    snprintf(t->ns, sizeof(t->ns), "%s", cfg->ns);
    t->user_failures = cfg->user_failures;
    t->address_failures = cfg->address_failures;
    t->window_s = cfg->window_s;
    return t;
}

void login_throttle_redis_free(struct login_throttle_redis *t)
{
    free(t);
}

static void keys_of(const struct login_throttle_redis *t, int64_t user_id, const char *address,
                    char user_key[160], char addr_key[160])
{
    snprintf(user_key, 160, "%s:login:fail:user:%lld", t->ns, (long long)user_id);
    snprintf(addr_key, 160, "%s:login:fail:addr:%.60s", t->ns, address);
}

static redisReply *run(struct login_throttle_redis *t, const char *script, int64_t user_id,
                       const char *address, const char *arg1, const char *arg2, struct err *e)
{
    char user_key[160], addr_key[160];
    keys_of(t, user_id, address, user_key, addr_key);
    const char *argv[] = {"EVAL", script, "2", user_key, addr_key, arg1, arg2};
    int argc = arg2 ? 7 : 6;
    redisReply *r = redis_command_argv(t->pool, e, argc, argv, NULL);
    if (r && r->type == REDIS_REPLY_ERROR) {
        log_warn("login throttle: redis refused a script: %s", r->str);
        freeReplyObject(r);
        err_set(e, ERR_UNAVAILABLE, "login throttle is unavailable");
        return NULL;
    }
    if (!r)
        err_set(e, ERR_UNAVAILABLE, "login is unavailable while Redis cannot be reached");
    return r;
}

static enum err_code throttle_check(void *self, int64_t user_id, const char *address,
                                    int64_t *retry_after_s, struct err *e)
{
    struct login_throttle_redis *t = self;
    char user_limit[16], addr_limit[16];
    snprintf(user_limit, sizeof(user_limit), "%u", t->user_failures);
    snprintf(addr_limit, sizeof(addr_limit), "%u", t->address_failures);
    redisReply *r = run(t, check_lua, user_id, address, user_limit, addr_limit, e);
    if (!r)
        return e->code;
    long long wait_ms = r->type == REDIS_REPLY_INTEGER ? r->integer : 0;
    freeReplyObject(r);
    *retry_after_s = wait_ms > 0 ? (wait_ms + 999) / 1000 : 0;
    return ERR_OK;
}

static enum err_code throttle_failed(void *self, int64_t user_id, const char *address,
                                     struct err *e)
{
    struct login_throttle_redis *t = self;
    char window_ms[24];
    snprintf(window_ms, sizeof(window_ms), "%llu", (unsigned long long)t->window_s * 1000);
    redisReply *r = run(t, failed_lua, user_id, address, window_ms, NULL, e);
    if (!r)
        return e->code;
    freeReplyObject(r);
    return ERR_OK;
}

static void throttle_succeeded(void *self, int64_t user_id)
{
    struct login_throttle_redis *t = self;
    char user_key[160], addr_key[160];
    keys_of(t, user_id, "", user_key, addr_key);
    struct err e;
    err_clear(&e);
    redisReply *r = redis_command(t->pool, &e, "DEL %s", user_key);
    if (r)
        freeReplyObject(r);
}

struct auth_throttle login_throttle_redis_port(struct login_throttle_redis *t)
{
    static const struct auth_throttle_ops ops = {throttle_check, throttle_failed,
                                                 throttle_succeeded};
    return (struct auth_throttle){&ops, t};
}
