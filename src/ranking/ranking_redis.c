/*
 * ranking_redis.c — per UTC day D, under "<ns>:rank:{D}":
 *   <ns>:rank:{D}        sorted set: product id → units sold that day
 *   <ns>:rank:{D}:ver    hash: product id → version of product_sales_daily applied
 *   <ns>:rank:{D}:built  present once the whole day was loaded from PostgreSQL
 * Every write copies values (not increments) from PostgreSQL with their row
 * version, and a Lua script applies a value only when its version is newer
 * than the one applied: notifications can repeat, arrive out of order, or
 * race a rebuild, and the set still converges to PostgreSQL. Keys expire 40
 * days after their day; a day without "built" is rebuilt on read.
 * Convergence after failures (docs/ranking.md, "Failures and convergence"):
 *   - "built" expires after the refresh interval (60 s + up to 20 %), so
 *     every day read is re-copied from PostgreSQL at least that often,
 *     whatever was lost and wherever (another instance's failed copy, a
 *     Redis restart from an older snapshot, a flush);
 *   - an instance whose after-commit copy failed remembers the day and
 *     deletes its "built" marker as soon as Redis answers again, so every
 *     instance rebuilds it at its next read, sooner than the refresh.
 */
#include "ranking/ranking_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "ranking/ranking_text.h"

enum {
    RANK_TTL_S = 40 * 86400,
    RANK_REFRESH_MS = 60 * 1000, /* default life of a "built" marker */
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

static const struct pg_stmt stmt_day_rows = {
    "ranking_day_rows",
    "SELECT product_id, quantity, version FROM product_sales_daily"
    " WHERE day = $1::date AND ($2::bigint[] IS NULL OR product_id = ANY($2::bigint[]))",
    2};
static const struct pg_stmt stmt_products = {
    "ranking_products", "SELECT id, name, price, stock FROM products WHERE id = ANY($1::bigint[])",
    1};

struct ranking_redis {
    struct redis_pool *redis;
    struct pg_pool *pg;
    struct ranking_repo fallback;
    char ns[64];
    struct cache *cache; /* NULL: no cache */
    unsigned cache_ttl_ms;
    unsigned refresh_ms; /* life of a day's "built" marker */
    /* days whose after-commit copy failed: their markers go once Redis answers */
};

void ranking_redis_set_refresh(struct ranking_redis *r, unsigned refresh_ms)
{
    r->refresh_ms = refresh_ms ? refresh_ms : RANK_REFRESH_MS;
}

void ranking_redis_set_cache(struct ranking_redis *r, struct cache *cache, unsigned ttl_ms)
{
    r->cache = cache;
    r->cache_ttl_ms = ttl_ms;
}

struct ranking_redis *ranking_redis_new(struct redis_pool *redis, struct pg_pool *pg,
                                        struct ranking_repo fallback, const char *ns)
{
    struct ranking_redis *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->redis = redis;
    r->pg = pg;
    r->fallback = fallback;
    snprintf(r->ns, sizeof(r->ns), "%s", ns);
    r->refresh_ms = RANK_REFRESH_MS;
    return r;
}

void ranking_redis_free(struct ranking_redis *r)
{
    free(r);
}

static void day_of(int64_t epoch, char out[11])
{
    time_t t = (time_t)epoch;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, 11, "%Y-%m-%d", &tm) == 0)
        snprintf(out, 11, "invalid"); /* never unterminated; now-based epochs don't get here */
}

static void keys_of(const struct ranking_redis *r, const char *day, char zset[128], char ver[128],
                    char built[128])
{
    snprintf(zset, 128, "%s:rank:{%.10s}", r->ns, day);
    snprintf(ver, 128, "%s:rank:{%.10s}:ver", r->ns, day);
    snprintf(built, 128, "%s:rank:{%.10s}:built", r->ns, day);
}

/* Life of a new "built" marker: the refresh interval plus up to 20 % jitter (markers set
 * together do not expire together). */
static unsigned marker_ms(const struct ranking_redis *r)
{
    unsigned spread = r->refresh_ms / 5;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&spread;
    return r->refresh_ms + (spread ? (unsigned)rand_r(&seed) % (spread + 1) : 0);
}

/*
 * Copies day's rows (all of them when ids is NULL) from PostgreSQL into Redis;
 * mark = the day is now complete. *applied (may be NULL) = how many values
 * were newer than Redis's. Returns false when either side failed, with e set
 * (ERR_UNAVAILABLE: a side did not answer or refused for now).
 */
static bool copy_day(struct ranking_redis *r, const char *day, const char *ids, bool mark,
                     long long *applied, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(r->pg, e);
    if (!c)
        return false;
    const char *params[] = {day, ids};
    PGresult *res = pg_exec(c, &stmt_day_rows, params, e);
    if (!res)
        return false;
    int rows = PQntuples(res);
    size_t argc = 8 + 3 * (size_t)rows;
    const char **argv = calloc(argc, sizeof(*argv));
    char zset[128], ver[128], built[128], ttl[16], mark_px[16];
    keys_of(r, day, zset, ver, built);
    snprintf(ttl, sizeof(ttl), "%d", RANK_TTL_S);
    snprintf(mark_px, sizeof(mark_px), "%u", mark ? marker_ms(r) : 0u);
    bool ok = false;
    if (argv) {
        argv[0] = "EVAL";
        argv[1] = apply_lua;
        argv[2] = "3";
        argv[3] = zset;
        argv[4] = ver;
        argv[5] = built;
        argv[6] = ttl;
        argv[7] = mark_px;
        for (int i = 0; i < rows; i++) {
            argv[8 + 3 * i] = PQgetvalue(res, i, 0);
            argv[9 + 3 * i] = PQgetvalue(res, i, 1);
            argv[10 + 3 * i] = PQgetvalue(res, i, 2);
        }
        redisReply *reply = redis_command_argv(r->redis, e, (int)argc, argv, NULL);
        ok = reply && reply->type == REDIS_REPLY_INTEGER;
        if (ok && applied)
            *applied = reply->integer;
        if (reply && reply->type == REDIS_REPLY_ERROR) {
            log_warn("ranking: redis refused an update: %s", reply->str);
            err_set(e, ERR_UNAVAILABLE, "redis refused the update: %.200s", reply->str);
        } else if (reply && !ok) {
            err_set(e, ERR_UNAVAILABLE, "redis answered the update with type %d", reply->type);
        }
        freeReplyObject(reply);
    } else {
        err_set(e, ERR_INTERNAL, "out of memory");
    }
    free(argv);
    PQclear(res);
    return ok;
}

enum err_code ranking_redis_copy_sales(struct ranking_redis *r, int64_t sold_at,
                                       const int64_t *product_ids, size_t n, struct err *e)
{
    char day[11];
    day_of(sold_at, day);
    char *ids = product_ids ? pg_i64_array(product_ids, n) : NULL; /* NULL: the whole day */
    if (product_ids && !ids)
        return err_set(e, ERR_INTERNAL, "out of memory");
    bool ok = copy_day(r, day, ids, false, NULL, e);
    free(ids);
    if (!ok)
        return e->code != ERR_OK ? e->code : err_set(e, ERR_UNAVAILABLE, "ranking copy failed");
    if (r->cache)
        cache_bump(r->cache, "popular"); /* cached rankings are stale from now on */
    return ERR_OK;
}

enum err_code ranking_redis_copy_sales_fn(void *r, int64_t sold_at, const int64_t *product_ids,
                                          size_t n, struct err *e)
{
    return ranking_redis_copy_sales(r, sold_at, product_ids, n, e);
}

static int by_sold_then_id(const void *a, const void *b)
{
    const struct ranking_entry *x = a, *y = b;
    if (x->sold != y->sold)
        return x->sold < y->sold ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Makes sure every day of the window is complete in Redis. */
static bool days_ready(struct ranking_redis *r, int days, char zsets[][128])
{
    time_t now = time(NULL);
    for (int d = 0; d < days; d++) {
        char day[11], ver[128], built[128];
        day_of((int64_t)now - (int64_t)d * 86400, day);
        keys_of(r, day, zsets[d], ver, built);
        struct err e;
        err_clear(&e);
        redisReply *reply = redis_command(r->redis, &e, "EXISTS %s", built);
        if (!reply)
            return false;
        bool failed = reply->type != REDIS_REPLY_INTEGER; /* e.g. LOADING after a restart */
        bool complete = !failed && reply->integer == 1;
        freeReplyObject(reply);
        if (failed)
            return false;
        long long applied = 0;
        if (!complete && !copy_day(r, day, NULL, true, &applied, &e))
            return false;
        if (applied > 0 && r->cache)
            cache_bump(r->cache, "popular"); /* the rebuild found what Redis had missed */
    }
    return true;
}

/* The window's top from Redis into *items (malloc'd). False when Redis failed. */
static bool read_top(struct ranking_redis *r, int days, size_t limit, struct ranking_entry **items,
                     size_t *n_items)
{
    char zsets[RANKING_DAYS_MAX][128];
    if (!days_ready(r, days, zsets))
        return false;
    /* one name per namespace is enough: the script creates and deletes it atomically */
    char tmp[128], stop[24], tmp_ttl[16];
    snprintf(tmp, sizeof(tmp), "%s:rank:tmp", r->ns);
    snprintf(stop, sizeof(stop), "%zu", limit - 1);
    snprintf(tmp_ttl, sizeof(tmp_ttl), "%d", RANK_TMP_TTL_MS);
    char numkeys[16];
    snprintf(numkeys, sizeof(numkeys), "%d", 1 + days);
    const char *argv[4 + RANKING_DAYS_MAX + 2];
    int argc = 0;
    argv[argc++] = "EVAL";
    argv[argc++] = top_lua;
    argv[argc++] = numkeys;
    argv[argc++] = tmp;
    for (int d = 0; d < days; d++)
        argv[argc++] = zsets[d];
    argv[argc++] = stop;
    argv[argc++] = tmp_ttl;
    struct err e;
    err_clear(&e);
    redisReply *reply = redis_command_argv(r->redis, &e, argc, argv, NULL);
    bool ok = reply && reply->type == REDIS_REPLY_ARRAY && reply->elements % 2 == 0;
    if (reply && reply->type == REDIS_REPLY_ERROR)
        log_warn("ranking: redis refused the window's union: %s", reply->str);
    if (ok) {
        *n_items = reply->elements / 2;
        *items = calloc(*n_items ? *n_items : 1, sizeof(**items));
        ok = *items != NULL;
        for (size_t i = 0; ok && i < *n_items; i++) {
            const redisReply *id = reply->element[2 * i], *sold = reply->element[2 * i + 1];
            ok = id->type == REDIS_REPLY_STRING && sold->type == REDIS_REPLY_STRING;
            if (ok) {
                (*items)[i].id = atoll(id->str);
                (*items)[i].sold = atoll(sold->str);
            }
        }
    }
    freeReplyObject(reply);
    return ok;
}

/* Names, prices and live stock of the ranked products (one PostgreSQL query). */
static enum err_code fill_products(struct ranking_redis *r, const struct ranking_entry *top,
                                   size_t k, struct popular_product *out, size_t *n, struct err *e)
{
    *n = 0;
    if (k == 0)
        return ERR_OK;
    struct pg_conn *c = pg_pool_conn(r->pg, e);
    if (!c)
        return e->code;
    char *ids = malloc(k * 21 + 3);
    if (!ids)
        return err_set(e, ERR_INTERNAL, "out of memory");
    size_t used = 0;
    ids[used++] = '{';
    for (size_t i = 0; i < k; i++)
        used += (size_t)sprintf(ids + used, "%s%lld", i ? "," : "", (long long)top[i].id);
    ids[used++] = '}';
    ids[used] = '\0';
    const char *params[] = {ids};
    PGresult *res = pg_exec(c, &stmt_products, params, e);
    free(ids);
    if (!res)
        return e->code;
    for (size_t i = 0; i < k; i++) {
        for (int row = 0; row < PQntuples(res); row++) {
            if (pg_get_i64(res, row, 0) != top[i].id)
                continue;
            struct popular_product *p = &out[(*n)++];
            p->id = top[i].id;
            snprintf(p->name, sizeof(p->name), "%s", PQgetvalue(res, row, 1));
            p->price = pg_get_i64(res, row, 2);
            p->stock = pg_get_i64(res, row, 3);
            p->sold = top[i].sold;
            break;
        }
    }
    PQclear(res);
    return ERR_OK;
}

/* The window's ranked (id, sold) pairs, best first, at most limit, all sold > 0. */
static bool ranked(struct ranking_redis *r, int days, size_t limit, struct ranking_entry **items,
                   size_t *k)
{
    size_t n_items = 0;
    if (!read_top(r, days, limit, items, &n_items))
        return false;
    qsort(*items, n_items, sizeof(**items), by_sold_then_id);
    *k = 0;
    while (*k < n_items && *k < limit && (*items)[*k].sold > 0)
        (*k)++;
    return true;
}

struct window {
    struct ranking_redis *r;
    int days;
    size_t limit;
};

/* Cache loader: the ranking in ranking_text's form. */
static enum err_code load_ranking_text(void *ud, char **out, struct err *e)
{
    struct window *w = ud;
    struct ranking_entry *items = NULL;
    size_t k = 0;
    if (!ranked(w->r, w->days, w->limit, &items, &k)) {
        free(items);
        return err_set(e, ERR_UNAVAILABLE, "ranking unavailable in redis");
    }
    *out = ranking_text_encode(items, k, NULL);
    free(items);
    return *out ? ERR_OK : err_set(e, ERR_INTERNAL, "out of memory");
}

static enum err_code redis_top(void *self, int days, size_t limit, struct popular_product *out,
                               size_t *n, struct err *e)
{
    struct ranking_redis *r = self;
    struct ranking_entry *items = NULL;
    size_t k = 0;
    bool ok;
    if (r->cache) {
        char key[96], *text = NULL;
        bool hit;
        snprintf(key, sizeof(key), "popular:%lld:%d:%zu", cache_generation(r->cache, "popular"),
                 days, limit);
        struct window w = {r, days, limit};
        struct err cache_err;
        err_clear(&cache_err);
        ok = cache_get(r->cache, key, r->cache_ttl_ms, 200, load_ranking_text, &w, &text, &hit,
                       &cache_err) == ERR_OK &&
             ranking_text_parse(text, strlen(text), limit, &items, &k, &cache_err) == ERR_OK;
        if (!ok && text)
            log_warn("ranking: cached ranking %s unusable: %s", key, cache_err.detail);
        free(text);
    } else {
        ok = ranked(r, days, limit, &items, &k);
    }
    if (!ok) {
        free(items);
        /* Redis is down or lost its mind: PostgreSQL has the same answer, only slower */
        return ranking_repo_top(&r->fallback, days, limit, out, n, e);
    }
    enum err_code rc = fill_products(r, items, k, out, n, e);
    free(items);
    return rc;
}

static const struct ranking_repo_ops ranking_redis_ops = {.top = redis_top};

struct ranking_repo ranking_redis_repo(struct ranking_redis *r)
{
    return (struct ranking_repo){.ops = &ranking_redis_ops, .self = r};
}
