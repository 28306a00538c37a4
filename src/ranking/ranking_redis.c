/*
 * ranking_redis.c — the ranking store in Redis. Per UTC day D, under
 * "<ns>:rank:{D}":
 *   <ns>:rank:{D}        sorted set: product id → units sold that day
 *   <ns>:rank:{D}:ver    hash: product id → version of product_sales_daily applied
 *   <ns>:rank:{D}:built  present while the day counts as complete
 * A Lua script applies a value only when its version is newer than the one
 * applied: notifications can repeat, arrive out of order, or race a
 * rebuild, and the set still converges to PostgreSQL. Keys expire 40 days
 * after they were last written. When to copy and mark is the service's
 * decision (ranking_service.c).
 */
#include "ranking/ranking_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

enum {
    RANK_TTL_S = 40 * 86400,
    RANK_TMP_TTL_MS = 10 * 1000, /* the union's temporary key, should a script ever leave it */
};

/*
 * KEYS: zset, versions, built; ARGV: ttl_s, mark_px (0 = do not mark), then
 * id, qty, ver triples. Returns how many values were newer (applied).
 */
static const char apply_lua[] =
    "local applied = 0\n"
    "for i = 3, #ARGV, 3 do\n"
    "  local v = tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0')\n"
    "  if tonumber(ARGV[i + 2]) > v then\n"
    "    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])\n"
    "    redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])\n"
    "    applied = applied + 1\n"
    "  end\n"
    "end\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
    "redis.call('EXPIRE', KEYS[2], ARGV[1])\n"
    "if ARGV[2] ~= '0' then redis.call('SET', KEYS[3], '1', 'PX', ARGV[2]) end\n"
    "return applied\n";

/*
 * KEYS: tmp, then the window's day sets; ARGV: limit-1, tmp's ttl in ms.
 * Unions the days into tmp, reads the limit-th best score s (at least 1) and
 * returns every (member, score) scoring >= s, then deletes tmp: all in one
 * atomic script, so tmp is never seen by anyone nor left behind (and it
 * carries a TTL from its first moment, should that ever fail).
 */
static const char top_lua[] =
    "redis.call('ZUNIONSTORE', KEYS[1], #KEYS - 1, unpack(KEYS, 2))\n"
    "redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "local kth = redis.call('ZREVRANGE', KEYS[1], ARGV[1], ARGV[1], 'WITHSCORES')\n"
    "local min = 1\n"
    "if #kth == 2 and tonumber(kth[2]) > 1 then min = tonumber(kth[2]) end\n"
    "local res = redis.call('ZRANGEBYSCORE', KEYS[1], min, '+inf', 'WITHSCORES')\n"
    "redis.call('DEL', KEYS[1])\n"
    "return res\n";

struct ranking_redis {
    struct redis_pool *redis;
    char ns[64];
};

struct ranking_redis *ranking_redis_new(struct redis_pool *redis, const char *ns)
{
    struct ranking_redis *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->redis = redis;
    snprintf(r->ns, sizeof(r->ns), "%s", ns);
    return r;
}

void ranking_redis_free(struct ranking_redis *r)
{
    free(r);
}

static void keys_of(const struct ranking_redis *r, const char *day, char zset[128], char ver[128],
                    char built[128])
{
    snprintf(zset, 128, "%s:rank:{%.10s}", r->ns, day);
    snprintf(ver, 128, "%s:rank:{%.10s}:ver", r->ns, day);
    snprintf(built, 128, "%s:rank:{%.10s}:built", r->ns, day);
}

static enum err_code redis_day_complete(void *self, const char *day, bool *complete, struct err *e)
{
    struct ranking_redis *r = self;
    char zset[128], ver[128], built[128];
    keys_of(r, day, zset, ver, built);
    *complete = false;
    redisReply *reply = redis_command(r->redis, e, "EXISTS %s", built);
    if (!reply)
        return e->code;
    bool failed = reply->type != REDIS_REPLY_INTEGER; /* e.g. LOADING after a restart */
    *complete = !failed && reply->integer == 1;
    freeReplyObject(reply);
    return failed
               ? err_set(e, ERR_UNAVAILABLE, "redis did not answer whether %.10s is complete", day)
               : ERR_OK;
}

static enum err_code redis_apply(void *self, const char *day, const struct ranking_sales_row *rows,
                                 size_t n, unsigned mark_ms, long long *applied, struct err *e)
{
    struct ranking_redis *r = self;
    size_t argc = 8 + 3 * n;
    const char **argv = calloc(argc, sizeof(*argv));
    char(*num)[21] = calloc(3 * n + 1, sizeof(*num)); /* the rows in decimal */
    if (!argv || !num) {
        free(argv);
        free(num);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    char zset[128], ver[128], built[128], ttl[16], mark_px[16];
    keys_of(r, day, zset, ver, built);
    snprintf(ttl, sizeof(ttl), "%d", RANK_TTL_S);
    snprintf(mark_px, sizeof(mark_px), "%u", mark_ms);
    argv[0] = "EVAL";
    argv[1] = apply_lua;
    argv[2] = "3";
    argv[3] = zset;
    argv[4] = ver;
    argv[5] = built;
    argv[6] = ttl;
    argv[7] = mark_px;
    for (size_t i = 0; i < n; i++) {
        snprintf(num[3 * i], sizeof(num[0]), "%lld", (long long)rows[i].product_id);
        snprintf(num[3 * i + 1], sizeof(num[0]), "%lld", (long long)rows[i].quantity);
        snprintf(num[3 * i + 2], sizeof(num[0]), "%lld", (long long)rows[i].version);
        argv[8 + 3 * i] = num[3 * i];
        argv[9 + 3 * i] = num[3 * i + 1];
        argv[10 + 3 * i] = num[3 * i + 2];
    }
    redisReply *reply = redis_command_argv(r->redis, e, (int)argc, argv, NULL);
    enum err_code rc = ERR_OK;
    if (!reply) {
        rc = e->code != ERR_OK ? e->code : err_set(e, ERR_UNAVAILABLE, "ranking copy failed");
    } else if (reply->type == REDIS_REPLY_INTEGER) {
        if (applied)
            *applied = reply->integer;
    } else if (reply->type == REDIS_REPLY_ERROR) {
        log_warn("ranking: redis refused an update: %s", reply->str);
        rc = err_set(e, ERR_UNAVAILABLE, "redis refused the update: %.200s", reply->str);
    } else {
        rc = err_set(e, ERR_UNAVAILABLE, "redis answered the update with type %d", reply->type);
    }
    freeReplyObject(reply);
    free(num);
    free(argv);
    return rc;
}

static enum err_code redis_top(void *self, const char (*days)[RANKING_DAY_LEN + 1], int n_days,
                               size_t limit, struct ranking_entry **items, size_t *n, struct err *e)
{
    struct ranking_redis *r = self;
    *items = NULL;
    *n = 0;
    if (n_days < 1 || n_days > RANKING_DAYS_MAX || limit < 1)
        return err_set(e, ERR_INTERNAL, "ranking window of %d days, limit %zu", n_days, limit);
    char zsets[RANKING_DAYS_MAX][128];
    for (int d = 0; d < n_days; d++) {
        char ver[128], built[128];
        keys_of(r, days[d], zsets[d], ver, built);
    }
    /* one name per namespace is enough: the script creates and deletes it atomically */
    char tmp[128], stop[24], tmp_ttl[16], numkeys[16];
    snprintf(tmp, sizeof(tmp), "%s:rank:tmp", r->ns);
    snprintf(stop, sizeof(stop), "%zu", limit - 1);
    snprintf(tmp_ttl, sizeof(tmp_ttl), "%d", RANK_TMP_TTL_MS);
    snprintf(numkeys, sizeof(numkeys), "%d", 1 + n_days);
    const char *argv[4 + RANKING_DAYS_MAX + 2];
    int argc = 0;
    argv[argc++] = "EVAL";
    argv[argc++] = top_lua;
    argv[argc++] = numkeys;
    argv[argc++] = tmp;
    for (int d = 0; d < n_days; d++)
        argv[argc++] = zsets[d];
    argv[argc++] = stop;
    argv[argc++] = tmp_ttl;
    redisReply *reply = redis_command_argv(r->redis, e, argc, argv, NULL);
    if (!reply)
        return e->code != ERR_OK ? e->code : err_set(e, ERR_UNAVAILABLE, "ranking read failed");
    bool ok = reply->type == REDIS_REPLY_ARRAY && reply->elements % 2 == 0;
    if (reply->type == REDIS_REPLY_ERROR)
        log_warn("ranking: redis refused the window's union: %s", reply->str);
    size_t count = ok ? reply->elements / 2 : 0;
    if (ok) {
        *items = calloc(count ? count : 1, sizeof(**items));
        if (!*items) {
            freeReplyObject(reply);
            return err_set(e, ERR_INTERNAL, "out of memory");
        }
    }
    for (size_t i = 0; ok && i < count; i++) {
        const redisReply *id = reply->element[2 * i], *sold = reply->element[2 * i + 1];
        ok = id->type == REDIS_REPLY_STRING && sold->type == REDIS_REPLY_STRING;
        if (ok) {
            (*items)[i].id = atoll(id->str);
            (*items)[i].sold = atoll(sold->str);
        }
    }
    freeReplyObject(reply);
    if (!ok) {
        free(*items);
        *items = NULL;
        return err_set(e, ERR_UNAVAILABLE, "redis answered the window's union unexpectedly");
    }
    *n = count;
    return ERR_OK;
}

static const struct ranking_store_ops ranking_redis_ops = {
    .day_complete = redis_day_complete,
    .apply = redis_apply,
    .top = redis_top,
};

struct ranking_store ranking_redis_store(struct ranking_redis *r)
{
    return (struct ranking_store){.ops = &ranking_redis_ops, .self = r};
}
