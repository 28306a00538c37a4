/*
 * ranking_service.c — the ranking's policy over its ports. Reads: the cache
 * of ranked windows, else the Redis copy (every day of the window not marked
 * complete is first copied whole from PostgreSQL and marked, for the refresh
 * interval plus jitter, so every day read is re-copied at least that often
 * whatever was lost), else PostgreSQL alone. Writes: a sale's rows copied
 * with their versions (the store applies only newer ones), then the cache's
 * generation bumped. docs/ranking.md, "Failures and convergence".
 */
#include "ranking/ranking_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "ranking/ranking_text.h"

static int64_t now_of(const struct ranking_service *s)
{
    return s->now ? s->now() : (int64_t)time(NULL);
}

/* "YYYY-MM-DD" of epoch's UTC day. */
static void day_of(int64_t epoch, char out[RANKING_DAY_LEN + 1])
{
    time_t t = (time_t)epoch;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || strftime(out, RANKING_DAY_LEN + 1, "%Y-%m-%d", &tm) == 0)
        snprintf(out, RANKING_DAY_LEN + 1, "invalid"); /* never unterminated */
}

/* Life of a new "complete" marker: the refresh interval plus up to 20 % jitter (markers set
 * together do not expire together). */
static unsigned marker_ms(const struct ranking_service *s)
{
    unsigned refresh = s->refresh_ms ? s->refresh_ms : RANKING_REFRESH_MS;
    unsigned spread = refresh / 5;
    unsigned seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)&spread;
    return refresh + (spread ? (unsigned)rand_r(&seed) % (spread + 1) : 0);
}

static void bump_cache(const struct ranking_service *s)
{
    if (s->cache.ops)
        ranking_cache_bump(&s->cache);
}

/* Copies day's rows (all of them when ids is NULL) from the repo into the store; mark_ms > 0
 * marks the day complete. */
static enum err_code copy_day(const struct ranking_service *s, const char *day, const int64_t *ids,
                              size_t n, unsigned mark_ms, long long *applied, struct err *e)
{
    struct ranking_sales_row *rows = NULL;
    size_t n_rows = 0;
    enum err_code rc = ranking_repo_day_sales(&s->repo, day, ids, n, &rows, &n_rows, e);
    if (rc == ERR_OK)
        rc = ranking_store_apply(&s->store, day, rows, n_rows, mark_ms, applied, e);
    free(rows);
    return rc;
}

enum err_code ranking_service_copy_sales(const struct ranking_service *s, int64_t sold_at,
                                         const int64_t *product_ids, size_t n, struct err *e)
{
    char day[RANKING_DAY_LEN + 1];
    day_of(sold_at, day);
    enum err_code rc = copy_day(s, day, product_ids, product_ids ? n : 0, 0, NULL, e);
    if (rc != ERR_OK)
        return rc;
    bump_cache(s); /* cached rankings are stale from now on */
    return ERR_OK;
}

enum err_code ranking_service_copy_sales_fn(void *s, int64_t sold_at, const int64_t *product_ids,
                                            size_t n, struct err *e)
{
    return ranking_service_copy_sales(s, sold_at, product_ids, n, e);
}

/* Makes sure every day of the window is complete in the store; false when that failed. */
static bool days_ready(const struct ranking_service *s, int days, char (*day)[RANKING_DAY_LEN + 1])
{
    int64_t now = now_of(s);
    for (int d = 0; d < days; d++) {
        day_of(now - (int64_t)d * 86400, day[d]);
        struct err e;
        err_clear(&e);
        bool complete = false;
        if (ranking_store_day_complete(&s->store, day[d], &complete, &e) != ERR_OK)
            return false;
        long long applied = 0;
        if (!complete && copy_day(s, day[d], NULL, 0, marker_ms(s), &applied, &e) != ERR_OK)
            return false;
        if (applied > 0)
            bump_cache(s); /* the rebuild found what the copy had missed */
    }
    return true;
}

static int by_sold_then_id(const void *a, const void *b)
{
    const struct ranking_entry *x = a, *y = b;
    if (x->sold != y->sold)
        return x->sold < y->sold ? 1 : -1;
    return (x->id > y->id) - (x->id < y->id);
}

/* The window's ranked (id, sold) pairs from the store, best first, at most limit, all
 * sold > 0; *items malloc'd (caller frees, also on failure). False when the store failed. */
static bool ranked(const struct ranking_service *s, int days, size_t limit,
                   struct ranking_entry **items, size_t *k)
{
    char day[RANKING_DAYS_MAX][RANKING_DAY_LEN + 1];
    if (!days_ready(s, days, day))
        return false;
    size_t n_items = 0;
    struct err e;
    err_clear(&e);
    if (ranking_store_top(&s->store, (const char(*)[RANKING_DAY_LEN + 1]) day, days, limit, items,
                          &n_items, &e) != ERR_OK)
        return false;
    qsort(*items, n_items, sizeof(**items), by_sold_then_id);
    *k = 0;
    while (*k < n_items && *k < limit && (*items)[*k].sold > 0)
        (*k)++;
    return true;
}

struct window {
    const struct ranking_service *s;
    int days;
    size_t limit;
};

/* Cache loader: the ranking in ranking_text's form. */
static enum err_code load_ranking_text(void *ud, char **out, struct err *e)
{
    struct window *w = ud;
    struct ranking_entry *items = NULL;
    size_t k = 0;
    if (!ranked(w->s, w->days, w->limit, &items, &k)) {
        free(items);
        return err_set(e, ERR_UNAVAILABLE, "ranking unavailable in redis");
    }
    *out = ranking_text_encode(items, k, NULL);
    free(items);
    return *out ? ERR_OK : err_set(e, ERR_INTERNAL, "out of memory");
}

/* The window's ranked pairs through the cache (loaded from the store on a miss). */
static bool cached(const struct ranking_service *s, int days, size_t limit,
                   struct ranking_entry **items, size_t *k)
{
    char key[96], *text = NULL;
    bool hit;
    snprintf(key, sizeof(key), "popular:%lld:%d:%zu", ranking_cache_generation(&s->cache), days,
             limit);
    struct window w = {s, days, limit};
    struct err e;
    err_clear(&e);
    bool ok = ranking_cache_get(&s->cache, key, s->cache_ttl_ms, RANKING_CACHE_WAIT_MS,
                                load_ranking_text, &w, &text, &hit, &e) == ERR_OK &&
              ranking_text_parse(text, strlen(text), limit, items, k, &e) == ERR_OK;
    if (!ok && text)
        log_warn("ranking: cached ranking %s unusable: %s", key, e.detail);
    free(text);
    return ok;
}

enum err_code ranking_service_popular(const struct ranking_service *s, int64_t days, int64_t limit,
                                      struct popular_product *out, size_t *n, struct err *e)
{
    *n = 0;
    if (days < 1 || days > RANKING_DAYS_MAX)
        return err_set_field(e, ERR_INVALID_REQUEST, "days", "days must be from 1 to %d",
                             RANKING_DAYS_MAX);
    if (limit < 1 || limit > RANKING_LIMIT_MAX)
        return err_set_field(e, ERR_INVALID_REQUEST, "limit", "limit must be from 1 to %d",
                             RANKING_LIMIT_MAX);
    if (!s->store.ops)
        return ranking_repo_top(&s->repo, (int)days, (size_t)limit, out, n, e);
    struct ranking_entry *items = NULL;
    size_t k = 0;
    bool ok = s->cache.ops ? cached(s, (int)days, (size_t)limit, &items, &k)
                           : ranked(s, (int)days, (size_t)limit, &items, &k);
    if (!ok) {
        free(items);
        /* Redis is down or lost its mind: PostgreSQL has the same answer, only slower */
        return ranking_repo_top(&s->repo, (int)days, (size_t)limit, out, n, e);
    }
    enum err_code rc = k ? ranking_repo_products(&s->repo, items, k, out, n, e) : ERR_OK;
    free(items);
    return rc;
}
