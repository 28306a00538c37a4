/*
 * coupon_gate_redis.c — per campaign, two keys with one hash tag:
 *   <ns>:coupon:{ID}:left    coupons the gate may still hand out (string counter)
 *   <ns>:coupon:{ID}:owners  users the gate knows hold one (set)
 * Each decision is one Lua script, atomic in Redis. The keys expire with the
 * campaign. Missing keys mean "ask PostgreSQL" (and the service rebuilds
 * them), never "sold out", so losing Redis costs speed, not correctness.
 */
#include "coupon/coupon_gate_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

/* 0 reserved, 1 sold out, 2 duplicate, 3 unknown */
static const char reserve_lua[] =
    "if redis.call('SISMEMBER', KEYS[2], ARGV[1]) == 1 then return 2 end\n"
    "local left = redis.call('GET', KEYS[1])\n"
    "if not left then return 3 end\n"
    "if tonumber(left) <= 0 then return 1 end\n"
    "redis.call('DECR', KEYS[1])\n"
    "redis.call('SADD', KEYS[2], ARGV[1])\n"
    "return 0\n";
static const char release_lua[] =
    "if redis.call('SREM', KEYS[2], ARGV[1]) == 1 and redis.call('EXISTS', KEYS[1]) == 1 then\n"
    "  redis.call('INCR', KEYS[1])\n"
    "end\n"
    "return 0\n";
/* the owner stays in the set (reserve added them): only the count goes back */
static const char release_slot_lua[] =
    "if redis.call('EXISTS', KEYS[1]) == 1 then redis.call('INCR', KEYS[1]) end\n"
    "return 0\n";
static const char sold_out_lua[] = "redis.call('SET', KEYS[1], 0, 'XX', 'KEEPTTL')\n"
                                   "return 0\n";
/* ARGV: remaining, expires_at (epoch s), then owner ids */
static const char load_lua[] = "if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end\n"
                               "redis.call('SET', KEYS[1], ARGV[1])\n"
                               "for i = 3, #ARGV do redis.call('SADD', KEYS[2], ARGV[i]) end\n"
                               "redis.call('EXPIREAT', KEYS[1], ARGV[2])\n"
                               "redis.call('EXPIREAT', KEYS[2], ARGV[2])\n"
                               "return 1\n";

struct coupon_gate_redis {
    struct redis_pool *pool;
    char ns[64];
};

struct coupon_gate_redis *coupon_gate_redis_new(struct redis_pool *pool, const char *ns)
{
    struct coupon_gate_redis *g = calloc(1, sizeof(*g));
    if (g) {
        g->pool = pool;
        snprintf(g->ns, sizeof(g->ns), "%s", ns);
    }
    return g;
}

void coupon_gate_redis_free(struct coupon_gate_redis *g)
{
    free(g);
}

static void keys_of(const struct coupon_gate_redis *g, int64_t coupon_id, char left[128],
                    char owners[128])
{
    snprintf(left, 128, "%s:coupon:{%lld}:left", g->ns, (long long)coupon_id);
    snprintf(owners, 128, "%s:coupon:{%lld}:owners", g->ns, (long long)coupon_id);
}

/*
 * Runs script with the campaign's two keys and args. EVAL (Redis caches the
 * compiled script by its digest; one round trip either way). Returns the
 * reply, or NULL when Redis is unreachable.
 */
static redisReply *run(struct coupon_gate_redis *g, const char *script, int64_t coupon_id,
                       int n_args, const char **args)
{
    char left[128], owners[128];
    keys_of(g, coupon_id, left, owners);
    enum { FIXED = 5 };
    const char **argv = malloc(sizeof(*argv) * (size_t)(FIXED + n_args));
    if (!argv)
        return NULL;
    argv[0] = "EVAL";
    argv[1] = script;
    argv[2] = "2";
    argv[3] = left;
    argv[4] = owners;
    for (int i = 0; i < n_args; i++)
        argv[FIXED + i] = args[i];
    struct err e;
    err_clear(&e);
    redisReply *r = redis_command_argv(g->pool, &e, FIXED + n_args, argv, NULL);
    free(argv);
    if (r && r->type == REDIS_REPLY_ERROR) {
        log_warn("coupon gate: redis refused a script: %s", r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

static enum coupon_gate_answer gate_reserve(void *self, int64_t coupon_id, int64_t user_id)
{
    char user[21];
    snprintf(user, sizeof(user), "%lld", (long long)user_id);
    const char *args[] = {user};
    redisReply *r = run(self, reserve_lua, coupon_id, 1, args);
    if (!r)
        return COUPON_GATE_DOWN;
    long long code = r->type == REDIS_REPLY_INTEGER ? r->integer : 3;
    freeReplyObject(r);
    switch (code) {
    case 0:
        return COUPON_GATE_RESERVED;
    case 1:
        return COUPON_GATE_SOLD_OUT;
    case 2:
        return COUPON_GATE_DUPLICATE;
    default:
        return COUPON_GATE_UNKNOWN;
    }
}

static void gate_release(void *self, int64_t coupon_id, int64_t user_id)
{
    char user[21];
    snprintf(user, sizeof(user), "%lld", (long long)user_id);
    const char *args[] = {user};
    freeReplyObject(run(self, release_lua, coupon_id, 1, args));
}

static void gate_release_slot(void *self, int64_t coupon_id)
{
    freeReplyObject(run(self, release_slot_lua, coupon_id, 0, NULL));
}

static void gate_mark_sold_out(void *self, int64_t coupon_id)
{
    freeReplyObject(run(self, sold_out_lua, coupon_id, 0, NULL));
}

static void gate_load(void *self, int64_t coupon_id, const struct coupon_snapshot *s)
{
    size_t n = 2 + s->n_users;
    const char **args = calloc(n, sizeof(*args));
    char *text = calloc(n, 21);
    if (!args || !text)
        goto out_free;
    for (size_t i = 0; i < n; i++) {
        int64_t v = i == 0 ? s->remaining : i == 1 ? s->expires_at : s->user_ids[i - 2];
        snprintf(text + i * 21, 21, "%lld", (long long)v);
        args[i] = text + i * 21;
    }
    freeReplyObject(run(self, load_lua, coupon_id, (int)n, args));
out_free:
    free(args);
    free(text);
}

static const struct coupon_gate_ops redis_gate_ops = {
    .reserve = gate_reserve,
    .release = gate_release,
    .release_slot = gate_release_slot,
    .mark_sold_out = gate_mark_sold_out,
    .load = gate_load,
};

struct coupon_gate coupon_gate_redis(struct coupon_gate_redis *g)
{
    return (struct coupon_gate){.ops = &redis_gate_ops, .self = g};
}
