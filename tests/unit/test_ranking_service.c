/*
 * test_ranking_service.c — the ranking's policy (ranking/ranking_service.c)
 * over mocked ports: PostgreSQL (repo), the Redis copy (store) and the cache
 * of ranked windows. Links shopd_ranking alone.
 *
 * The mocks answer from a scripted world (which days are complete, what
 * fails, what the store ranks, what the cache holds) and append each call
 * with its arguments to a call log, so a test states both the answer and
 * exactly which I/O the service asked for, in order. The clock is fixed at
 * 2026-12-01T12:00:00Z.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ranking/ranking_service.h"

#define NOW 1796126400LL /* 2026-12-01T12:00:00Z */

/* ---- call log ---- */

static char call_log[2048];

static void log_call(const char *fmt, ...)
{
    size_t used = strlen(call_log);
    if (used)
        snprintf(call_log + used, sizeof(call_log) - used, " ");
    used = strlen(call_log);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(call_log + used, sizeof(call_log) - used, fmt, ap);
    va_end(ap);
}

/* ---- the scripted world ---- */

static struct {
    bool complete[RANKING_DAYS_MAX]; /* by days back from today */
    enum err_code complete_rc;       /* day_complete's answer */
    enum err_code day_sales_rc, apply_rc, store_top_rc, products_rc, top_rc, cache_rc;
    long long applied;                 /* what apply reports */
    struct ranking_entry store_top[8]; /* what the store's union returns (unsorted) */
    size_t n_store_top;
    const char *cached;    /* cache holds this text (NULL: miss, the loader runs) */
    char loaded[256];      /* what the loader produced on a miss */
    unsigned last_mark_ms; /* apply's mark_ms, last call */
    long long generation;  /* the cache's */
} w;

static int64_t fixed_now(void)
{
    return NOW;
}

static int days_back(const char *day)
{
    static const char *const known[] = {"2026-12-01", "2026-11-30", "2026-11-29"};
    for (int i = 0; i < 3; i++)
        if (strcmp(day, known[i]) == 0)
            return i;
    fail_msg("unexpected day %s", day);
    return -1;
}

static enum err_code repo_top(void *self, int days, size_t limit, struct popular_product *out,
                              size_t *n, struct err *e)
{
    (void)self;
    log_call("pg.top(%d,%zu)", days, limit);
    *n = 0;
    if (w.top_rc)
        return err_set(e, w.top_rc, "pg top failed");
    out[0] = (struct popular_product){.id = 99, .price = 1, .stock = 2, .sold = 3};
    *n = 1;
    return ERR_OK;
}

static enum err_code repo_day_sales(void *self, const char *day, const int64_t *ids, size_t n_ids,
                                    struct ranking_sales_row **rows, size_t *n_rows, struct err *e)
{
    (void)self;
    if (ids) {
        char list[128] = "";
        for (size_t i = 0; i < n_ids; i++)
            snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%lld", i ? "," : "",
                     (long long)ids[i]);
        log_call("pg.day_sales(%s,[%s])", day, list);
    } else {
        log_call("pg.day_sales(%s,all)", day);
    }
    *rows = NULL;
    *n_rows = 0;
    if (w.day_sales_rc)
        return err_set(e, w.day_sales_rc, "pg day sales failed");
    *rows = calloc(2, sizeof(**rows));
    assert_non_null(*rows);
    (*rows)[0] = (struct ranking_sales_row){.product_id = 7, .quantity = 5, .version = 2};
    (*rows)[1] = (struct ranking_sales_row){.product_id = 8, .quantity = 1, .version = 1};
    *n_rows = 2;
    return ERR_OK;
}

static enum err_code repo_products(void *self, const struct ranking_entry *top, size_t k,
                                   struct popular_product *out, size_t *n, struct err *e)
{
    (void)self;
    char list[256] = "";
    for (size_t i = 0; i < k; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%lld:%lld", i ? "," : "",
                 (long long)top[i].id, (long long)top[i].sold);
    log_call("pg.products(%s)", list);
    *n = 0;
    if (w.products_rc)
        return err_set(e, w.products_rc, "pg products failed");
    for (size_t i = 0; i < k; i++) {
        out[i] =
            (struct popular_product){.id = top[i].id, .price = 10, .stock = 4, .sold = top[i].sold};
        snprintf(out[i].name, sizeof(out[i].name), "p%lld", (long long)top[i].id);
    }
    *n = k;
    return ERR_OK;
}

static enum err_code store_day_complete(void *self, const char *day, bool *complete, struct err *e)
{
    (void)self;
    log_call("redis.complete(%s)", day);
    *complete = false;
    if (w.complete_rc)
        return err_set(e, w.complete_rc, "redis down");
    *complete = w.complete[days_back(day)];
    return ERR_OK;
}

static enum err_code store_apply(void *self, const char *day, const struct ranking_sales_row *rows,
                                 size_t n, unsigned mark_ms, long long *applied, struct err *e)
{
    (void)self, (void)rows;
    log_call("redis.apply(%s,%zu,%s)", day, n, mark_ms ? "mark" : "nomark");
    w.last_mark_ms = mark_ms;
    if (w.apply_rc)
        return err_set(e, w.apply_rc, "redis refused");
    if (applied)
        *applied = w.applied;
    if (mark_ms)
        w.complete[days_back(day)] = true;
    return ERR_OK;
}

static enum err_code store_top(void *self, const char (*days)[RANKING_DAY_LEN + 1], int n_days,
                               size_t limit, struct ranking_entry **items, size_t *n, struct err *e)
{
    (void)self;
    log_call("redis.top(%s..%s,%zu)", days[0], days[n_days - 1], limit);
    *items = NULL;
    *n = 0;
    if (w.store_top_rc)
        return err_set(e, w.store_top_rc, "redis union failed");
    *items = calloc(w.n_store_top ? w.n_store_top : 1, sizeof(**items));
    assert_non_null(*items);
    memcpy(*items, w.store_top, w.n_store_top * sizeof(**items));
    *n = w.n_store_top;
    return ERR_OK;
}

static long long cache_generation(void *self)
{
    (void)self;
    return w.generation;
}

static enum err_code cache_get(void *self, const char *key, unsigned ttl_ms, unsigned wait_ms,
                               ranking_cache_load_fn load, void *ud, char **out, bool *hit,
                               struct err *e)
{
    (void)self;
    log_call("cache.get(%s,%u,%u)", key, ttl_ms, wait_ms);
    *out = NULL;
    if (w.cache_rc)
        return err_set(e, w.cache_rc, "cache failed");
    if (w.cached) {
        *hit = true;
        *out = strdup(w.cached);
        return ERR_OK;
    }
    *hit = false;
    enum err_code rc = load(ud, out, e);
    if (rc == ERR_OK)
        snprintf(w.loaded, sizeof(w.loaded), "%s", *out);
    return rc;
}

static void cache_bump(void *self)
{
    (void)self;
    log_call("cache.bump");
    w.generation++;
}

static const struct ranking_repo_ops repo_ops = {
    .top = repo_top, .day_sales = repo_day_sales, .products = repo_products};
static const struct ranking_store_ops store_ops = {
    .day_complete = store_day_complete, .apply = store_apply, .top = store_top};
static const struct ranking_cache_ops cache_ops = {
    .generation = cache_generation, .get = cache_get, .bump = cache_bump};

/* A service with a store; with_cache adds the cache (ttl 5000 ms). */
static struct ranking_service service(bool with_cache)
{
    struct ranking_service s = {.repo = {&repo_ops, NULL},
                                .store = {&store_ops, NULL},
                                .refresh_ms = 1000,
                                .now = fixed_now};
    if (with_cache) {
        s.cache = (struct ranking_cache){&cache_ops, NULL};
        s.cache_ttl_ms = 5000;
    }
    return s;
}

static int reset(void **state)
{
    (void)state;
    call_log[0] = '\0';
    memset(&w, 0, sizeof(w));
    for (int i = 0; i < RANKING_DAYS_MAX; i++)
        w.complete[i] = true;
    return 0;
}

static struct popular_product out[RANKING_LIMIT_MAX];

static enum err_code popular(const struct ranking_service *s, int64_t days, int64_t limit,
                             size_t *n, struct err *e)
{
    memset(out, 0, sizeof(out));
    err_clear(e);
    return ranking_service_popular(s, days, limit, out, n, e);
}

/* ---- reads: validation ---- */

static void popular__days_or_limit_out_of_range__invalid_request_and_nothing_read(void **state)
{
    (void)state;
    struct ranking_service s = service(true);
    const int64_t bad[][2] = {{0, 5}, {31, 5}, {3, 0}, {3, 101}};
    const char *field[] = {"days", "days", "limit", "limit"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        size_t n = 1;
        struct err e;
        assert_int_equal(popular(&s, bad[i][0], bad[i][1], &n, &e), ERR_INVALID_REQUEST);
        assert_string_equal(e.field, field[i]);
        assert_int_equal(n, 0);
    }
    assert_string_equal(call_log, "");
}

static void popular__no_store__answered_by_postgres_alone(void **state)
{
    (void)state;
    struct ranking_service s = {.repo = {&repo_ops, NULL}};
    size_t n;
    struct err e;
    assert_int_equal(popular(&s, 3, 5, &n, &e), ERR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(out[0].id, 99);
    assert_string_equal(call_log, "pg.top(3,5)");
}

/* ---- reads from the store (no cache) ---- */

static void popular__days_complete__ranked_from_redis_sorted_and_cut_at_limit(void **state)
{
    (void)state;
    struct ranking_service s = service(false);
    /* unsorted, a tie on 5 (ids ascending wins), one beyond the limit, one with nothing sold */
    w.n_store_top = 5;
    w.store_top[0] = (struct ranking_entry){3, 5};
    w.store_top[1] = (struct ranking_entry){9, 0};
    w.store_top[2] = (struct ranking_entry){4, 9};
    w.store_top[3] = (struct ranking_entry){2, 5};
    w.store_top[4] = (struct ranking_entry){6, 1};
    size_t n;
    struct err e;
    assert_int_equal(popular(&s, 2, 3, &n, &e), ERR_OK);
    assert_string_equal(call_log, "redis.complete(2026-12-01) redis.complete(2026-11-30) "
                                  "redis.top(2026-12-01..2026-11-30,3) "
                                  "pg.products(4:9,2:5,3:5)");
    assert_int_equal(n, 3);
    assert_int_equal(out[0].id, 4);
    assert_int_equal(out[0].sold, 9);
    assert_string_equal(out[0].name, "p4");
    assert_int_equal(out[1].id, 2);
    assert_int_equal(out[2].id, 3);
}

static void popular__nothing_sold__empty_answer_without_reading_products(void **state)
{
    (void)state;
    struct ranking_service s = service(false);
    w.n_store_top = 1;
    w.store_top[0] = (struct ranking_entry){5, 0};
    size_t n = 7;
    struct err e;
    assert_int_equal(popular(&s, 1, 5, &n, &e), ERR_OK);
    assert_int_equal(n, 0);
    assert_string_equal(call_log, "redis.complete(2026-12-01) redis.top(2026-12-01..2026-12-01,5)");
}

static void popular__day_not_complete__rebuilt_whole_from_postgres_and_marked(void **state)
{
    (void)state;
    struct ranking_service s = service(false);
    w.complete[1] = false; /* yesterday's marker expired */
    size_t n;
    struct err e;
    assert_int_equal(popular(&s, 3, 5, &n, &e), ERR_OK);
    assert_string_equal(call_log, "redis.complete(2026-12-01) redis.complete(2026-11-30) "
                                  "pg.day_sales(2026-11-30,all) redis.apply(2026-11-30,2,mark) "
                                  "redis.complete(2026-11-29) redis.top(2026-12-01..2026-11-29,5)");
    /* the marker lives the refresh interval plus up to 20 % jitter */
    assert_in_range(w.last_mark_ms, 1000, 1200);
    assert_true(w.complete[1]);
}

static void popular__default_refresh__marker_of_sixty_seconds_plus_jitter(void **state)
{
    (void)state;
    struct ranking_service s = service(false);
    s.refresh_ms = 0;
    w.complete[0] = false;
    size_t n;
    struct err e;
    assert_int_equal(popular(&s, 1, 5, &n, &e), ERR_OK);
    assert_in_range(w.last_mark_ms, RANKING_REFRESH_MS, RANKING_REFRESH_MS / 5 * 6);
}

static void popular__redis_down__answered_by_postgres(void **state)
{
    (void)state;
    struct ranking_service s = service(false);
    w.complete_rc = ERR_UNAVAILABLE;
    size_t n;
    struct err e;
    assert_int_equal(popular(&s, 3, 5, &n, &e), ERR_OK);
    assert_string_equal(call_log, "redis.complete(2026-12-01) pg.top(3,5)");
    assert_int_equal(n, 1);
    assert_int_equal(out[0].id, 99);
}

static void popular__rebuild_fails__answered_by_postgres(void **state)
{
    (void)state;
    struct ranking_service s = service(false);
    w.complete[0] = false;
    w.apply_rc = ERR_UNAVAILABLE; /* Redis refused the copy (LOADING, a script error) */
    size_t n;
    struct err e;
    assert_int_equal(popular(&s, 2, 5, &n, &e), ERR_OK);
    assert_string_equal(call_log, "redis.complete(2026-12-01) pg.day_sales(2026-12-01,all) "
                                  "redis.apply(2026-12-01,2,mark) pg.top(2,5)");

    reset(NULL);
    w.complete[0] = false;
    w.day_sales_rc = ERR_UNAVAILABLE; /* PostgreSQL down: nothing applied, its error returned */
    w.top_rc = ERR_UNAVAILABLE;
    assert_int_equal(popular(&s, 2, 5, &n, &e), ERR_UNAVAILABLE);
    assert_string_equal(call_log,
                        "redis.complete(2026-12-01) pg.day_sales(2026-12-01,all) pg.top(2,5)");
}

static void popular__union_fails__answered_by_postgres(void **state)
{
    (void)state;
    struct ranking_service s = service(false);
    w.store_top_rc = ERR_UNAVAILABLE;
    size_t n;
    struct err e;
    assert_int_equal(popular(&s, 1, 5, &n, &e), ERR_OK);
    assert_string_equal(call_log, "redis.complete(2026-12-01) redis.top(2026-12-01..2026-12-01,5) "
                                  "pg.top(1,5)");
}

static void popular__products_fail__error_returned_not_a_partial_answer(void **state)
{
    (void)state;
    struct ranking_service s = service(false);
    w.n_store_top = 1;
    w.store_top[0] = (struct ranking_entry){5, 2};
    w.products_rc = ERR_UNAVAILABLE;
    size_t n;
    struct err e;
    assert_int_equal(popular(&s, 1, 5, &n, &e), ERR_UNAVAILABLE);
    assert_int_equal(n, 0);
}

/* ---- reads through the cache ---- */

static void popular__cache_hit__neither_redis_ranking_nor_postgres_ranking_read(void **state)
{
    (void)state;
    struct ranking_service s = service(true);
    w.generation = 42;
    w.cached = "4:9,2:5";
    size_t n;
    struct err e;
    assert_int_equal(popular(&s, 7, 10, &n, &e), ERR_OK);
    assert_string_equal(call_log, "cache.get(popular:42:7:10,5000,200) pg.products(4:9,2:5)");
    assert_int_equal(n, 2);
    assert_int_equal(out[1].id, 2);
    assert_int_equal(out[1].sold, 5);
}

static void popular__cache_miss__loaded_from_redis_as_ranked_text(void **state)
{
    (void)state;
    struct ranking_service s = service(true);
    w.n_store_top = 3;
    w.store_top[0] = (struct ranking_entry){3, 5};
    w.store_top[1] = (struct ranking_entry){4, 9};
    w.store_top[2] = (struct ranking_entry){2, 5};
    size_t n;
    struct err e;
    assert_int_equal(popular(&s, 1, 5, &n, &e), ERR_OK);
    assert_string_equal(call_log, "cache.get(popular:0:1:5,5000,200) redis.complete(2026-12-01) "
                                  "redis.top(2026-12-01..2026-12-01,5) pg.products(4:9,2:5,3:5)");
    assert_string_equal(w.loaded, "4:9,2:5,3:5");
    assert_int_equal(n, 3);
}

static void popular__rebuild_found_missing_sales__cache_generation_bumped(void **state)
{
    (void)state;
    struct ranking_service s = service(true);
    w.complete[0] = false;
    w.applied = 2; /* the rebuild brought in values Redis had missed */
    size_t n;
    struct err e;
    assert_int_equal(popular(&s, 1, 5, &n, &e), ERR_OK);
    assert_string_equal(call_log, "cache.get(popular:0:1:5,5000,200) redis.complete(2026-12-01) "
                                  "pg.day_sales(2026-12-01,all) redis.apply(2026-12-01,2,mark) "
                                  "cache.bump redis.top(2026-12-01..2026-12-01,5)");

    reset(NULL);
    w.complete[0] = false; /* a rebuild that found nothing new leaves the cache alone */
    assert_int_equal(popular(&s, 1, 5, &n, &e), ERR_OK);
    assert_null(strstr(call_log, "cache.bump"));
}

static void popular__cached_text_malformed_or_cache_failed__answered_by_postgres(void **state)
{
    (void)state;
    struct ranking_service s = service(true);
    w.cached = "4:9,oops";
    size_t n;
    struct err e;
    assert_int_equal(popular(&s, 1, 5, &n, &e), ERR_OK);
    assert_string_equal(call_log, "cache.get(popular:0:1:5,5000,200) pg.top(1,5)");

    reset(NULL);
    w.complete_rc = ERR_UNAVAILABLE; /* Redis down: the loader fails, so does the cache */
    assert_int_equal(popular(&s, 1, 5, &n, &e), ERR_OK);
    assert_string_equal(call_log,
                        "cache.get(popular:0:1:5,5000,200) redis.complete(2026-12-01) pg.top(1,5)");
    assert_int_equal(out[0].id, 99);
}

/* ---- copying sales ---- */

static void copy_sales__products_of_the_day__copied_unmarked_then_cache_bumped(void **state)
{
    (void)state;
    struct ranking_service s = service(true);
    const int64_t ids[] = {7, 8};
    struct err e;
    err_clear(&e);
    /* 2026-11-30T23:59:59Z: the sale's own UTC day, not today's */
    assert_int_equal(ranking_service_copy_sales(&s, NOW - 12 * 3600 - 1, ids, 2, &e), ERR_OK);
    assert_string_equal(call_log, "pg.day_sales(2026-11-30,[7,8]) "
                                  "redis.apply(2026-11-30,2,nomark) cache.bump");
}

static void copy_sales__null_ids__the_whole_day(void **state)
{
    (void)state;
    struct ranking_service s = service(false);
    struct err e;
    err_clear(&e);
    assert_int_equal(ranking_service_copy_sales_fn(&s, NOW, NULL, 3, &e), ERR_OK);
    assert_string_equal(call_log, "pg.day_sales(2026-12-01,all) redis.apply(2026-12-01,2,nomark)");
}

static void copy_sales__either_side_fails__error_returned_and_cache_untouched(void **state)
{
    (void)state;
    struct ranking_service s = service(true);
    const int64_t ids[] = {7};
    struct err e;
    err_clear(&e);
    w.apply_rc = ERR_UNAVAILABLE;
    assert_int_equal(ranking_service_copy_sales(&s, NOW, ids, 1, &e), ERR_UNAVAILABLE);
    assert_string_equal(call_log, "pg.day_sales(2026-12-01,[7]) redis.apply(2026-12-01,2,nomark)");

    reset(NULL);
    err_clear(&e);
    w.day_sales_rc = ERR_INTERNAL;
    assert_int_equal(ranking_service_copy_sales(&s, NOW, ids, 1, &e), ERR_INTERNAL);
    assert_string_equal(call_log, "pg.day_sales(2026-12-01,[7])");
}

#define T(f) cmocka_unit_test_setup(f, reset)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(popular__days_or_limit_out_of_range__invalid_request_and_nothing_read),
        T(popular__no_store__answered_by_postgres_alone),
        T(popular__days_complete__ranked_from_redis_sorted_and_cut_at_limit),
        T(popular__nothing_sold__empty_answer_without_reading_products),
        T(popular__day_not_complete__rebuilt_whole_from_postgres_and_marked),
        T(popular__default_refresh__marker_of_sixty_seconds_plus_jitter),
        T(popular__redis_down__answered_by_postgres),
        T(popular__rebuild_fails__answered_by_postgres),
        T(popular__union_fails__answered_by_postgres),
        T(popular__products_fail__error_returned_not_a_partial_answer),
        T(popular__cache_hit__neither_redis_ranking_nor_postgres_ranking_read),
        T(popular__cache_miss__loaded_from_redis_as_ranked_text),
        T(popular__rebuild_found_missing_sales__cache_generation_bumped),
        T(popular__cached_text_malformed_or_cache_failed__answered_by_postgres),
        T(copy_sales__products_of_the_day__copied_unmarked_then_cache_bumped),
        T(copy_sales__null_ids__the_whole_day),
        T(copy_sales__either_side_fails__error_returned_and_cache_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
