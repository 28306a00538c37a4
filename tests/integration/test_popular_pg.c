/* test_popular_pg.c — GET /api/v1/products/popular from PostgreSQL's daily sales: windows
 * over UTC days, ties, cancels, limits and live stock; convergence to PostgreSQL after sales
 * made while Redis was unreachable. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "core/arena.h"
#include "ranking/ranking_http.h"
#include "ranking/ranking_redis.h"
#include "ranking/ranking_repo_pg.h"
#include "ranking/ranking_service.h"
#include "support/test_db.h"
#include "support/test_fixtures.h"
#include "support/test_proxy.h"
#include "support/test_http.h"
#include "support/test_proc.h"
#include "support/test_server.h"

static struct test_db db;
static struct test_server srv;
static long long p[8];

static json_t *popular(const char *query, long status)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/products/popular%s", query);
    struct test_resp r;
    test_call(srv.base, "GET", path, NULL, 0, &r);
    assert_int_equal(r.status, status);
    json_t *doc = json_incref(r.json);
    test_resp_free(&r);
    return doc;
}

/* "id:sold,id:sold" of a popular answer, for compact assertions. */
static const char *summary(json_t *doc)
{
    static char out[512];
    out[0] = '\0';
    json_t *items = json_object_get(doc, "items");
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%lld:%lld", i ? "," : "",
                 (long long)json_integer_value(json_object_get(it, "id")) - p[0] + 1,
                 (long long)json_integer_value(json_object_get(it, "sold")));
    }
    json_decref(doc);
    return out;
}

/* Drops this server's ranking keys: rows written behind shopd's back (SQL) reach
 * Redis when a read finds a day missing and rebuilds it from PostgreSQL. */
static void forget_ranking(void)
{
    const char *url = test_redis_url();
    int port = 6379;
    sscanf(strrchr(url, ':') + 1, "%d", &port);
    redisContext *c = redisConnect("127.0.0.1", port);
    const char *patterns[] = {"rank", "cache"}; /* the ranking and its cached windows */
    for (size_t k = 0; k < 2; k++) {
        redisReply *keys = redisCommand(c, "KEYS %s:%s:*", srv.cfg.redis_namespace, patterns[k]);
        for (size_t i = 0; keys && i < keys->elements; i++)
            freeReplyObject(redisCommand(c, "DEL %s", keys->element[i]->str));
        freeReplyObject(keys);
    }
    redisFree(c);
}

/* Sales of product index i, days_ago UTC days before today. */
static void sold_on(int i, int days_ago, int quantity)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "INSERT INTO product_sales_daily (day, product_id, quantity)"
             " VALUES ((now() AT TIME ZONE 'UTC')::date - %d, %lld, %d)",
             days_ago, p[i], quantity);
    PQclear(test_db_query(&db, sql));
}

static long long place(long long user, int i, int quantity, const char *key)
{
    char body[160];
    test_order_body(body, sizeof(body), user, p[i], quantity, 0);
    struct test_resp r;
    assert_int_equal(test_post_order(srv.base, user, key, body, &r), 0);
    assert_int_equal(r.status, 201);
    long long id = test_resp_int(&r, "id");
    test_resp_free(&r);
    return id;
}

/* Waits (bounded) until srv's ranking sync worker copied every sale so far into Redis. */
static void wait_ranking_synced(void)
{
    long long pending = test_metric(srv.base, "shopd_ranking_sync_pending");
    for (int waited = 0; pending != 0 && waited < 30000; waited += 20) {
        test_sleep_ms(20);
        pending = test_metric(srv.base, "shopd_ranking_sync_pending");
    }
    assert_int_equal(pending, 0);
}

static void windows_ties_and_defaults(void **state)
{
    (void)state;
    assert_string_equal(summary(popular("", 200)), "");
    /* product 1 (index 0): old sales only; 2: 3 days ago; 3: yesterday; 4 and 5: ties today */
    sold_on(0, 30, 100);
    sold_on(0, 29, 1);
    sold_on(1, 3, 50);
    sold_on(1, 2, 2);
    sold_on(2, 1, 7);
    sold_on(3, 0, 5);
    sold_on(4, 0, 5);
    forget_ranking();
    assert_string_equal(summary(popular("?days=1", 200)), "4:5,5:5");  /* ties by lower id */
    assert_string_equal(summary(popular("", 200)), "3:7,4:5,5:5,2:2"); /* days=3 by default */
    assert_string_equal(summary(popular("?days=4&limit=2", 200)), "2:52,3:7");
    assert_string_equal(summary(popular("?days=30", 200)), "2:52,3:7,4:5,5:5,1:1");
    json_t *doc = popular("?days=3&limit=1", 200);
    assert_int_equal(json_integer_value(json_object_get(doc, "days")), 3);
    json_t *first = json_array_get(json_object_get(doc, "items"), 0);
    assert_non_null(json_object_get(first, "name"));
    assert_non_null(json_object_get(first, "price"));
    assert_int_equal(json_integer_value(json_object_get(first, "stock")), 1000);
    json_decref(doc);
}

static void orders_count_and_cancels_are_excluded(void **state)
{
    (void)state;
    PQclear(test_db_query(&db, "TRUNCATE product_sales_daily"));
    forget_ranking();
    PQclear(test_db_query(&db, "INSERT INTO users (name, balance) VALUES ('buyer', 0)"));
    long long user = test_db_scalar(&db, "SELECT max(id) FROM users WHERE %d = 1", 1);
    test_charge_points(srv.base, user, 1000000);
    char path[96];
    struct test_resp r;
    place(user, 5, 3, "pop-1");
    place(user, 6, 2, "pop-2");
    long long cancelled = place(user, 6, 4, "pop-3");
    wait_ranking_synced(); /* sales reach Redis through the ranking sync worker (no Kafka) */
    assert_string_equal(summary(popular("?days=1", 200)), "7:6,6:3");
    snprintf(path, sizeof(path), "/api/v1/orders/%lld/cancel", cancelled);
    test_call_as(srv.base, "POST", path, NULL, user, &r);
    assert_int_equal(r.status, 200);
    test_resp_free(&r);
    wait_ranking_synced(); /* a cancel goes through the same queue */
    assert_string_equal(summary(popular("?days=1", 200)), "6:3,7:2");
    /* stock in the answer is live */
    json_t *doc = popular("?days=1&limit=1", 200);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(json_object_get(doc, "items"), 0), "stock")),
                     997);
    json_decref(doc);
}

static void ranking_lost__rebuilt_from_postgres_and_redis_down__answered_by_postgres(void **state)
{
    (void)state;
    const char *before = summary(popular("?days=30&limit=100", 200));
    char expected[512];
    snprintf(expected, sizeof(expected), "%s", before);
    forget_ranking(); /* as after FLUSHALL or a Redis restart */
    assert_string_equal(summary(popular("?days=30&limit=100", 200)), expected);
    /* a second server on the same database whose Redis is unreachable */
    struct test_server down;
    struct config cfg;
    test_server_config(&cfg, db.url);
    snprintf(cfg.redis_url, sizeof(cfg.redis_url), "redis://127.0.0.1:1/0");
    test_server_start(&down, &cfg);
    struct test_resp r;
    test_call(down.base, "GET", "/api/v1/products/popular?days=30&limit=100", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(summary(json_incref(r.json)), expected);
    test_resp_free(&r);
    test_server_stop(&down);
}

static void redelivered_and_reordered_notifications__never_count_twice(void **state)
{
    (void)state;
    /* a listener of our own on the same keys, fed the same notification three times */
    struct err e;
    err_clear(&e);
    struct pg_pool_config pg_cfg = {.conninfo = db.url, .connect_timeout_s = 5};
    struct pg_pool *pg = pg_pool_new(&pg_cfg);
    struct redis_pool *redis = redis_pool_new(test_redis_url(), 1000, &e);
    struct ranking_redis *r = ranking_redis_new(redis, srv.cfg.redis_namespace);
    struct ranking_service svc = {.repo = ranking_repo_pg(pg), .store = ranking_redis_store(r)};
    int64_t ids[] = {p[6]};
    const char *before = summary(popular("?days=1&limit=100", 200));
    char expected[512];
    snprintf(expected, sizeof(expected), "%s", before);
    for (int i = 0; i < 3; i++)
        assert_int_equal(ranking_service_copy_sales(&svc, (int64_t)time(NULL), ids, 1, &e), ERR_OK);
    assert_string_equal(summary(popular("?days=1&limit=100", 200)), expected);
    /* an old value arriving late (lower version) is ignored */
    char sql[160];
    snprintf(sql, sizeof(sql),
             "UPDATE product_sales_daily SET quantity = 999, version = 0 WHERE product_id = %lld",
             p[6]);
    PQclear(test_db_query(&db, sql));
    assert_int_equal(ranking_service_copy_sales(&svc, (int64_t)time(NULL), ids, 1, &e), ERR_OK);
    assert_string_equal(summary(popular("?days=1&limit=100", 200)), expected);
    ranking_redis_free(r);
    redis_pool_free(redis);
    pg_pool_free(pg);
}

/* A ranking instance of our own (an "instance" of shopd as far as Redis is concerned). */
struct instance {
    struct pg_pool *pg;
    struct redis_pool *redis;
    struct ranking_redis *rank;
    struct ranking_service svc;
};

static void instance_start(struct instance *in, const char *redis_url, const char *ns,
                           unsigned refresh_ms)
{
    struct err e;
    err_clear(&e);
    struct pg_pool_config pg_cfg = {.conninfo = db.url, .connect_timeout_s = 5};
    in->pg = pg_pool_new(&pg_cfg);
    in->redis = redis_pool_new(redis_url, 500, &e);
    assert_non_null(in->pg);
    assert_non_null(in->redis);
    in->rank = ranking_redis_new(in->redis, ns);
    assert_non_null(in->rank);
    in->svc = (struct ranking_service){.repo = ranking_repo_pg(in->pg),
                                       .store = ranking_redis_store(in->rank),
                                       .refresh_ms = refresh_ms};
}

static void instance_stop(struct instance *in)
{
    ranking_redis_free(in->rank);
    redis_pool_free(in->redis);
    pg_pool_free(in->pg);
}

/* Units of product index i in the instance's ranking of today (-1: not ranked). */
static long long ranked_sold(struct instance *in, int i)
{
    struct popular_product *out = calloc(RANKING_LIMIT_MAX, sizeof(*out));
    size_t n = 0;
    struct err e;
    err_clear(&e);
    assert_int_equal(ranking_service_popular(&in->svc, 1, RANKING_LIMIT_MAX, out, &n, &e), ERR_OK);
    long long sold = -1;
    for (size_t k = 0; k < n; k++)
        if (out[k].id == p[i])
            sold = out[k].sold;
    free(out);
    return sold;
}

static bool redis_key_exists(const char *key)
{
    const char *url = test_redis_url();
    int port = 6379;
    sscanf(strrchr(url, ':') + 1, "%d", &port);
    redisContext *c = redisConnect("127.0.0.1", port);
    redisReply *r = redisCommand(c, "EXISTS %s", key);
    bool exists = r && r->type == REDIS_REPLY_INTEGER && r->integer == 1;
    freeReplyObject(r);
    redisFree(c);
    return exists;
}

static void today_built_key(const char *ns, char *out, size_t cap)
{
    char day[11];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(day, sizeof(day), "%Y-%m-%d", &tm);
    snprintf(out, cap, "%s:rank:{%s}:built", ns, day);
}

/*
 * A product sold only through an instance whose Redis is unreachable (its
 * after-commit copy fails, and nobody else hears of the sale) reaches the
 * ranking of an instance with a working Redis whose day was already built,
 * without another sale, within the refresh interval (plus its jitter).
 */
static void sold_while_redis_unreachable__other_instances_converge_within_the_refresh(void **state)
{
    (void)state;
    char ns[96], built[160];
    snprintf(ns, sizeof(ns), "%s-converge", srv.cfg.redis_namespace);
    struct instance live;
    instance_start(&live, test_redis_url(), ns, 1000);
    assert_int_equal(ranked_sold(&live, 7), -1); /* builds today: the marker now exists */
    today_built_key(ns, built, sizeof(built));
    assert_true(redis_key_exists(built));

    struct test_server down;
    struct config cfg;
    test_server_config(&cfg, db.url);
    snprintf(cfg.redis_url, sizeof(cfg.redis_url), "redis://127.0.0.1:1/0");
    test_server_start(&down, &cfg);
    PQclear(test_db_query(&db, "INSERT INTO users (name, balance) VALUES ('outage', 1000000)"));
    long long user = test_db_scalar(&db, "SELECT max(id) FROM users WHERE %d = 1", 1);
    char body[160];
    test_order_body(body, sizeof(body), user, p[7], 2, 0);
    struct test_resp r;
    assert_int_equal(test_post_order(down.base, user, "pop-outage-1", body, &r), 0);
    assert_int_equal(r.status, 201);
    test_resp_free(&r);
    test_server_stop(&down);

    /* no further sale: only the expiry of the day's marker can bring the sale in */
    long long sold = -1;
    for (int waited = 0; waited < 5000 && sold != 2; waited += 100) {
        sold = ranked_sold(&live, 7);
        if (sold != 2)
            test_sleep_ms(100);
    }
    assert_int_equal(sold, 2);
    instance_stop(&live);
}

/*
 * A copy that fails while an instance's Redis is down changes nothing and is
 * not remembered: that instance answers from PostgreSQL meanwhile, and the
 * copy its caller retries once Redis answers (the ranking sync worker, the
 * ranking consumer) reaches every instance.
 */
static void failed_copy__retried_copy_reaches_every_instance(void **state)
{
    (void)state;
    static struct proxy px; /* static: its thread must not outlive it should an assert fail */
    proxy_start(&px);
    char ns[96], proxied[64];
    snprintf(ns, sizeof(ns), "%s-dirty", srv.cfg.redis_namespace);
    proxy_url(&px, proxied, sizeof(proxied));
    struct instance a, b;
    instance_start(&a, proxied, ns, 0);
    instance_start(&b, test_redis_url(), ns, 0);
    assert_int_equal(ranked_sold(&a, 1), -1); /* today built, for 60 s */

    proxy_set_up(&px, false); /* a's Redis goes away */
    sold_on(1, 0, 4);         /* a sale committed on a... */
    int64_t ids[] = {p[1]};
    struct err e;
    err_clear(&e);
    assert_int_not_equal(ranking_service_copy_sales(&a.svc, (int64_t)time(NULL), ids, 1, &e),
                         ERR_OK);             /* ...whose copy fails */
    assert_int_equal(ranked_sold(&a, 1), 4);  /* meanwhile a answers from PostgreSQL */
    assert_int_equal(ranked_sold(&b, 1), -1); /* b has not heard of it */

    proxy_set_up(&px, true); /* Redis answers a again: the caller's retry */
    err_clear(&e);
    assert_int_equal(ranking_service_copy_sales(&a.svc, (int64_t)time(NULL), ids, 1, &e), ERR_OK);
    assert_int_equal(ranked_sold(&a, 1), 4);
    assert_int_equal(ranked_sold(&b, 1), 4); /* in Redis for everyone */
    instance_stop(&a);
    instance_stop(&b);
    proxy_stop(&px);
}

/* ---- the handler when jansson fails: ERR_INTERNAL, never a partial or empty 200 ---- */

static long n_allocs, fail_at;
static const char *fake_names[3];

static void *failing_malloc(size_t size)
{
    n_allocs++;
    return fail_at && n_allocs == fail_at ? NULL : malloc(size);
}

static enum err_code fake_top(void *self, int days, size_t limit, struct popular_product *out,
                              size_t *n, struct err *e)
{
    (void)self, (void)days, (void)e;
    for (*n = 0; *n < 3 && *n < limit; (*n)++) {
        out[*n] = (struct popular_product){
            .id = 10 + (int64_t)*n, .price = 100, .stock = 7, .sold = 30 - (int64_t)*n};
        snprintf(out[*n].name, sizeof(out[*n].name), "%s", fake_names[*n]);
    }
    return ERR_OK;
}

/* Runs the handler with the fail-th jansson allocation failing (0: none). */
static enum err_code run_handler(long fail, char **body)
{
    static const struct ranking_repo_ops ops = {.top = fake_top};
    struct ranking_service svc = {.repo = {&ops, NULL}};
    struct arena arena;
    arena_init(&arena);
    struct http_req req = {.ctx = &svc, .arena = &arena};
    struct http_resp resp = {0};
    struct err e;
    err_clear(&e);
    n_allocs = 0;
    fail_at = fail;
    enum err_code rc = ranking_http_popular(&req, &resp, &e);
    fail_at = 0;
    *body = resp.json ? json_dumps(resp.json, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    if (rc == ERR_OK)
        assert_int_equal(resp.status, 200);
    json_decref(resp.json);
    free(resp.raw);
    arena_cleanup(&arena);
    return rc;
}

static void handler__jansson_failures__internal_error_never_a_partial_answer(void **state)
{
    (void)state;
    json_set_alloc_funcs(failing_malloc, free);
    fake_names[0] = "a";
    fake_names[1] = "b";
    fake_names[2] = "c";
    char *want;
    assert_int_equal(run_handler(0, &want), ERR_OK);
    assert_non_null(want);
    long total = n_allocs;
    for (long k = 1; k <= total; k++) {
        char *got;
        enum err_code rc = run_handler(k, &got);
        if (rc == ERR_OK && (!got || strcmp(got, want) != 0))
            fail_msg("allocation %ld of %ld failed and gave 200 with %s", k, total,
                     got ? got : "no body");
        if (rc != ERR_OK)
            assert_int_equal(rc, ERR_INTERNAL);
        free(got);
    }
    /* a name jansson refuses (not UTF-8) is an error too, not a product silently left out */
    fake_names[1] = "\xff";
    char *got;
    assert_int_equal(run_handler(0, &got), ERR_INTERNAL);
    free(got);
    free(want);
    json_set_alloc_funcs(malloc, free);
}

static void bad_parameters__400(void **state)
{
    (void)state;
    const char *bad[] = {"?days=0", "?days=31", "?limit=0", "?limit=101", "?days=x", "?days=-1"};
    for (size_t i = 0; i < 6; i++) {
        json_t *doc = popular(bad[i], 400);
        assert_string_equal(json_string_value(json_object_get(doc, "code")), "INVALID_REQUEST");
        json_decref(doc);
    }
}

static int setup(void **state)
{
    (void)state;
    test_env_start(&db, &srv, "popular", NULL);
    for (int i = 0; i < 8; i++) {
        char sql[128];
        snprintf(sql, sizeof(sql),
                 "INSERT INTO products (name, price, stock) VALUES ('p%d', %d, 1000)", i,
                 100 * (i + 1));
        PQclear(test_db_query(&db, sql));
    }
    p[0] = test_db_scalar(&db, "SELECT min(id) FROM products WHERE %d = 1", 1);
    for (int i = 1; i < 8; i++)
        p[i] = p[0] + i;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_env_stop(&db, &srv);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(windows_ties_and_defaults),
        cmocka_unit_test(orders_count_and_cancels_are_excluded),
        cmocka_unit_test(ranking_lost__rebuilt_from_postgres_and_redis_down__answered_by_postgres),
        cmocka_unit_test(redelivered_and_reordered_notifications__never_count_twice),
        cmocka_unit_test(sold_while_redis_unreachable__other_instances_converge_within_the_refresh),
        cmocka_unit_test(failed_copy__retried_copy_reaches_every_instance),
        cmocka_unit_test(handler__jansson_failures__internal_error_never_a_partial_answer),
        cmocka_unit_test(bad_parameters__400),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
