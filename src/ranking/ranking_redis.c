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
 */
#include "ranking/ranking_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"

enum { RANK_TTL_S = 40 * 86400 };

/* KEYS: zset, versions, built(optional marker); ARGV: ttl, mark(0/1), then id, qty, ver triples */
static const char apply_lua[] =
    "for i = 3, #ARGV, 3 do\n"
    "  local v = tonumber(redis.call('HGET', KEYS[2], ARGV[i]) or '0')\n"
    "  if tonumber(ARGV[i + 2]) > v then\n"
    "    redis.call('HSET', KEYS[2], ARGV[i], ARGV[i + 2])\n"
    "    redis.call('ZADD', KEYS[1], ARGV[i + 1], ARGV[i])\n"
    "  end\n"
    "end\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[1])\n"
    "redis.call('EXPIRE', KEYS[2], ARGV[1])\n"
    "if ARGV[2] == '1' then redis.call('SET', KEYS[3], '1', 'EX', ARGV[1]) end\n"
    "return 0\n";

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
};

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
    gmtime_r(&t, &tm);
    strftime(out, 11, "%Y-%m-%d", &tm);
}

static void keys_of(const struct ranking_redis *r, const char *day, char zset[128], char ver[128],
                    char built[128])
{
    snprintf(zset, 128, "%s:rank:{%s}", r->ns, day);
    snprintf(ver, 128, "%s:rank:{%s}:ver", r->ns, day);
    snprintf(built, 128, "%s:rank:{%s}:built", r->ns, day);
}

/*
 * Copies day's rows (all of them when ids is NULL) from PostgreSQL into Redis;
 * mark = the day is now complete. Returns false when either side failed.
 */
static bool copy_day(struct ranking_redis *r, const char *day, const char *ids, bool mark)
{
    struct err e;
    err_clear(&e);
    struct pg_conn *c = pg_pool_conn(r->pg, &e);
    if (!c)
        return false;
    const char *params[] = {day, ids};
    PGresult *res = pg_exec(c, &stmt_day_rows, params, &e);
    if (!res)
        return false;
    int rows = PQntuples(res);
    size_t argc = 8 + 3 * (size_t)rows;
    const char **argv = calloc(argc, sizeof(*argv));
    char zset[128], ver[128], built[128], ttl[16];
    keys_of(r, day, zset, ver, built);
    snprintf(ttl, sizeof(ttl), "%d", RANK_TTL_S);
    bool ok = false;
    if (argv) {
        argv[0] = "EVAL";
        argv[1] = apply_lua;
        argv[2] = "3";
        argv[3] = zset;
        argv[4] = ver;
        argv[5] = built;
        argv[6] = ttl;
        argv[7] = mark ? "1" : "0";
        for (int i = 0; i < rows; i++) {
            argv[8 + 3 * i] = PQgetvalue(res, i, 0);
            argv[9 + 3 * i] = PQgetvalue(res, i, 1);
            argv[10 + 3 * i] = PQgetvalue(res, i, 2);
        }
        redisReply *reply = redis_command_argv(r->redis, &e, (int)argc, argv, NULL);
        ok = reply && reply->type != REDIS_REPLY_ERROR;
        if (reply && reply->type == REDIS_REPLY_ERROR)
            log_warn("ranking: redis refused an update: %s", reply->str);
        freeReplyObject(reply);
    }
    free(argv);
    PQclear(res);
    return ok;
}

void ranking_redis_on_sale(void *self, int64_t sold_at, const int64_t *product_ids, size_t n)
{
    struct ranking_redis *r = self;
    char day[11];
    day_of(sold_at, day);
    char *ids = malloc(n * 21 + 3);
    if (!ids)
        return;
    size_t used = 0;
    ids[used++] = '{';
    for (size_t i = 0; i < n; i++)
        used += (size_t)sprintf(ids + used, "%s%lld", i ? "," : "", (long long)product_ids[i]);
    ids[used++] = '}';
    ids[used] = '\0';
    if (!copy_day(r, day, ids, false))
        log_debug("ranking: could not copy sales of %s (the next read rebuilds the day)", day);
    free(ids);
    if (r->cache)
        cache_bump(r->cache, "popular"); /* cached rankings are stale from now on */
}

/* A (product, sold) pair read from the union of the window's days. */
struct scored {
    int64_t id;
    int64_t sold;
};

static int by_sold_then_id(const void *a, const void *b)
{
    const struct scored *x = a, *y = b;
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
        bool complete = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
        freeReplyObject(reply);
        if (!complete && !copy_day(r, day, NULL, true))
            return false;
    }
    return true;
}

/* The window's top from Redis into *items (malloc'd). False when Redis failed. */
static bool read_top(struct ranking_redis *r, int days, size_t limit, struct scored **items,
                     size_t *n_items)
{
    char zsets[RANKING_DAYS_MAX][128];
    if (!days_ready(r, days, zsets))
        return false;
    char tmp[128], numkeys[16], stop[24], min[24];
    snprintf(tmp, sizeof(tmp), "%s:rank:tmp:%ld:%lx", r->ns, (long)time(NULL),
             (unsigned long)(uintptr_t)items ^ (unsigned long)rand());
    snprintf(numkeys, sizeof(numkeys), "%d", days);
    const char *argv[3 + RANKING_DAYS_MAX];
    argv[0] = "ZUNIONSTORE";
    argv[1] = tmp;
    argv[2] = numkeys;
    for (int d = 0; d < days; d++)
        argv[3 + d] = zsets[d];
    struct err e;
    err_clear(&e);
    redisReply *reply = redis_command_argv(r->redis, &e, 3 + days, argv, NULL);
    bool ok = reply && reply->type == REDIS_REPLY_INTEGER;
    freeReplyObject(reply);
    if (!ok)
        return false;
    /* the limit-th best score; everything scoring at least that may tie into the top */
    snprintf(stop, sizeof(stop), "%zu", limit - 1);
    reply = redis_command(r->redis, &e, "ZREVRANGE %s %s %s WITHSCORES", tmp, stop, stop);
    ok = reply && reply->type == REDIS_REPLY_ARRAY;
    long long kth = ok && reply->elements == 2 ? atoll(reply->element[1]->str) : 1;
    freeReplyObject(reply);
    if (kth < 1)
        kth = 1; /* nothing sold is not popular */
    snprintf(min, sizeof(min), "%lld", kth);
    reply =
        ok ? redis_command(r->redis, &e, "ZRANGEBYSCORE %s %s +inf WITHSCORES", tmp, min) : NULL;
    ok = reply && reply->type == REDIS_REPLY_ARRAY;
    if (ok) {
        *n_items = reply->elements / 2;
        *items = calloc(*n_items ? *n_items : 1, sizeof(**items));
        ok = *items != NULL;
        for (size_t i = 0; ok && i < *n_items; i++) {
            (*items)[i].id = atoll(reply->element[2 * i]->str);
            (*items)[i].sold = atoll(reply->element[2 * i + 1]->str);
        }
    }
    freeReplyObject(reply);
    freeReplyObject(redis_command(r->redis, &e, "DEL %s", tmp));
    return ok;
}

/* Names, prices and live stock of the ranked products (one PostgreSQL query). */
static enum err_code fill_products(struct ranking_redis *r, const struct scored *top, size_t k,
                                   struct popular_product *out, size_t *n, struct err *e)
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
static bool ranked(struct ranking_redis *r, int days, size_t limit, struct scored **items,
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

/* Cache loader: the ranking as "id:sold,id:sold" text. */
static enum err_code load_ranking_text(void *ud, char **out, struct err *e)
{
    struct window *w = ud;
    struct scored *items = NULL;
    size_t k = 0;
    if (!ranked(w->r, w->days, w->limit, &items, &k)) {
        free(items);
        return err_set(e, ERR_UNAVAILABLE, "ranking unavailable in redis");
    }
    *out = malloc(k * 42 + 2);
    if (*out) {
        size_t used = 0;
        (*out)[0] = '\0';
        for (size_t i = 0; i < k; i++)
            used += (size_t)sprintf(*out + used, "%s%lld:%lld", i ? "," : "",
                                    (long long)items[i].id, (long long)items[i].sold);
        if (k == 0)
            strcpy(*out, "-"); /* an empty ranking is a value too */
    }
    free(items);
    return *out ? ERR_OK : err_set(e, ERR_INTERNAL, "out of memory");
}

/* Parses load_ranking_text's format into items (malloc'd). */
static bool parse_ranking_text(const char *text, struct scored **items, size_t *k)
{
    *k = 0;
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == ',';
    *items = calloc(cap, sizeof(**items));
    if (!*items)
        return false;
    if (strcmp(text, "-") == 0)
        return true;
    const char *p = text;
    while (*p) {
        long long id, sold;
        int used = 0;
        if (sscanf(p, "%lld:%lld%n", &id, &sold, &used) != 2)
            return false;
        (*items)[(*k)++] = (struct scored){id, sold};
        p += used;
        if (*p == ',')
            p++;
    }
    return true;
}

static enum err_code redis_top(void *self, int days, size_t limit, struct popular_product *out,
                               size_t *n, struct err *e)
{
    struct ranking_redis *r = self;
    struct scored *items = NULL;
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
             parse_ranking_text(text, &items, &k);
        free(text);
    } else {
        ok = ranked(r, days, limit, &items, &k);
    }
    if (!ok) {
        free(items);
        /* Redis is down or lost its mind: PostgreSQL has the same answer, only slower */
        return r->fallback.ops->top(r->fallback.self, days, limit, out, n, e);
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
