/*
 * test_ranking_sync_pg.c — without Kafka, the request thread only enqueues a
 * sale; the ranking sync worker copies it into Redis. After a 16-thread
 * storm of orders and cancels, and after a Redis outage, the Redis ranking
 * equals PostgreSQL's product_sales_daily product by product once
 * shopd_ranking_sync_pending reads 0. No read of the ranking happens first,
 * so nothing but the worker can have written those scores.
 */
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
#include <time.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "support/test_db.h"
#include "support/test_fixtures.h"
#include "support/test_http.h"
#include "support/test_proc.h"
#include "support/test_proxy.h"
#include "support/test_server.h"

enum {
    STORM_THREADS = 16,
    STORM_ROUNDS = 25,
    STORM_PRODUCTS = 12,
    STORM_USERS = 16,
    DRAIN_DEADLINE_MS = 30000, /* a bound on the wait, not a performance threshold */
};

static struct test_db db;
static struct test_server srv;

/* Polls base's shopd_ranking_sync_pending until 0 (bounded); returns the last value read. */
static long long wait_drained(const char *base)
{
    long long pending = test_metric(base, "shopd_ranking_sync_pending");
    for (int waited = 0; pending != 0 && waited < DRAIN_DEADLINE_MS; waited += 50) {
        test_sleep_ms(50);
        pending = test_metric(base, "shopd_ranking_sync_pending");
    }
    return pending;
}

static redisContext *redis_connect(void)
{
    const char *url = test_redis_url();
    int port = 6379;
    sscanf(strrchr(url, ':') + 1, "%d", &port);
    redisContext *c = redisConnect("127.0.0.1", port);
    assert_non_null(c);
    assert_int_equal(c->err, 0);
    return c;
}

/*
 * Asserts Redis's score of every product in ids equals PostgreSQL's
 * quantity, for every day PostgreSQL has a row of them, and that no day of
 * theirs is marked built (no read rebuilt it: the scores are the worker's).
 * Returns the units PostgreSQL counts in all.
 */
static long long assert_redis_equals_postgres(const char *ns, const long long *ids, size_t n)
{
    char list[512] = "";
    for (size_t i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%lld", i ? "," : "", ids[i]);
    char sql[768];
    snprintf(sql, sizeof(sql),
             "SELECT day::text, product_id, quantity FROM product_sales_daily"
             " WHERE product_id IN (%s) ORDER BY day, product_id",
             list);
    PGresult *rows = test_db_query(&db, sql);
    redisContext *c = redis_connect();
    long long units = 0;
    for (int i = 0; i < PQntuples(rows); i++) {
        const char *day = PQgetvalue(rows, i, 0), *product = PQgetvalue(rows, i, 1);
        long long in_pg = atoll(PQgetvalue(rows, i, 2));
        redisReply *score = redisCommand(c, "ZSCORE %s:rank:{%s} %s", ns, day, product);
        long long in_redis = score && score->type == REDIS_REPLY_STRING ? atoll(score->str) : -1;
        freeReplyObject(score);
        if (in_redis != in_pg)
            fprintf(stderr, "day %s product %s: redis %lld, postgresql %lld\n", day, product,
                    in_redis, in_pg);
        assert_int_equal(in_redis, in_pg);
        redisReply *built = redisCommand(c, "EXISTS %s:rank:{%s}:built", ns, day);
        assert_non_null(built);
        assert_int_equal(built->integer, 0);
        freeReplyObject(built);
        units += in_pg;
    }
    redisFree(c);
    PQclear(rows);
    return units;
}

/* ---- 16 threads of multi-line orders and cancels ---- */

struct storm_ctx {
    long long products[STORM_PRODUCTS];
    long long users[STORM_USERS];
    atomic_int paid, cancelled, failures;
};

static void *storm(void *arg)
{
    struct test_worker *w = arg;
    struct storm_ctx *ctx = w->ctx;
    for (int round = 0; round < STORM_ROUNDS; round++) {
        long long user = ctx->users[w->n % STORM_USERS];
        char body[512];
        test_random_order_body(body, sizeof(body), user, ctx->products, STORM_PRODUCTS, &w->seed);
        char key[48];
        snprintf(key, sizeof(key), "sync-storm-%d-%d", w->n, round);
        struct test_resp r;
        if (test_post_order(srv.base, user, key, body, &r) != 0 || r.status != 201) {
            fprintf(stderr, "storm: unexpected %ld %s\n", r.status, r.body ? r.body : "");
            atomic_fetch_add(&ctx->failures, 1);
            test_resp_free(&r);
            continue;
        }
        long long order_id = test_resp_int(&r, "id");
        test_resp_free(&r);
        atomic_fetch_add(&ctx->paid, 1);
        if (rand_r(&w->seed) % 3 == 0) {
            test_cancel_order(srv.base, user, order_id, &r);
            if (r.status == 200)
                atomic_fetch_add(&ctx->cancelled, 1);
            else
                atomic_fetch_add(&ctx->failures, 1);
            test_resp_free(&r);
        }
    }
    return NULL;
}

static void storm_without_kafka__redis_ranking_equals_postgres_once_drained(void **state)
{
    (void)state;
    static struct storm_ctx ctx; /* static: threads must not outlive it should an assert fail */
    atomic_init(&ctx.paid, 0);
    atomic_init(&ctx.cancelled, 0);
    atomic_init(&ctx.failures, 0);
    for (int i = 0; i < STORM_PRODUCTS; i++)
        ctx.products[i] = test_new_product(srv.base, "sync", 100, 10000);
    for (int i = 0; i < STORM_USERS; i++)
        ctx.users[i] = test_new_funded_user(srv.base, "syncer", 1000000);
    test_run_workers(STORM_THREADS, storm, &ctx, 777u);
    assert_int_equal(atomic_load(&ctx.failures), 0);
    assert_int_equal(atomic_load(&ctx.paid), STORM_THREADS * STORM_ROUNDS);
    assert_true(atomic_load(&ctx.cancelled) > 0);

    assert_int_equal(wait_drained(srv.base), 0); /* -1: the gauge is missing */
    long long units =
        assert_redis_equals_postgres(srv.cfg.redis_namespace, ctx.products, STORM_PRODUCTS);
    /* PostgreSQL counts exactly the paid orders' units, and the comparison was not vacuous */
    char list[512];
    test_id_list(list, sizeof(list), ctx.products, STORM_PRODUCTS);
    assert_int_equal(units, test_db_scalar(&db,
                                           "SELECT coalesce(sum(l.quantity), 0) FROM order_lines l"
                                           " JOIN orders o ON o.id = l.order_id"
                                           " WHERE o.status = 'PAID' AND l.product_id IN (%s)",
                                           list));
    assert_true(units > 0);
}

/* ---- a Redis outage: the worker keeps the sales and copies them once Redis answers ---- */

static void redis_outage__sales_kept_pending_then_copied_once_redis_answers(void **state)
{
    (void)state;
    static struct proxy px; /* static: its thread must not outlive it should an assert fail */
    proxy_start(&px);
    struct config cfg;
    test_server_config(&cfg, db.url);
    cfg.kafka_brokers[0] = '\0';
    proxy_url(&px, cfg.redis_url, sizeof(cfg.redis_url));
    snprintf(cfg.redis_namespace, sizeof(cfg.redis_namespace), "%.40s-outage",
             srv.cfg.redis_namespace);
    cfg.user_lock = false; /* the orders themselves must not need Redis here */
    struct test_server down;
    test_server_start(&down, &cfg);
    long long product = test_new_product(srv.base, "sync", 100, 1000);
    long long user = test_new_funded_user(srv.base, "syncer", 1000000);

    proxy_set_up(&px, false); /* Redis goes away for this server */
    char body[160];
    test_order_body(body, sizeof(body), user, product, 3, 0);
    struct test_resp r;
    assert_int_equal(test_post_order(down.base, user, "sync-outage-1", body, &r), 0);
    assert_int_equal(r.status, 201);
    test_resp_free(&r);
    /* the copy cannot succeed while Redis is away: the sale stays pending through the worker's
       failed attempts and retries (it tries at once, then after 100, 200 ms...), never dropped */
    for (int i = 0; i < 20; i++) {
        assert_true(test_metric(down.base, "shopd_ranking_sync_pending") >= 1);
        test_sleep_ms(25);
    }

    proxy_set_up(&px, true); /* Redis answers again: the worker's retry copies the sale */
    assert_int_equal(wait_drained(down.base), 0);
    long long ids[] = {product};
    assert_int_equal(assert_redis_equals_postgres(cfg.redis_namespace, ids, 1), 3);
    test_server_stop(&down);
    proxy_stop(&px);
}

static void tweak(struct config *cfg)
{
    cfg->threads = 16;
    cfg->kafka_brokers[0] = '\0'; /* the mode under test: no Kafka */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(storm_without_kafka__redis_ranking_equals_postgres_once_drained),
        cmocka_unit_test(redis_outage__sales_kept_pending_then_copied_once_redis_answers),
    };
    return TEST_ENV_RUN(tests, &db, &srv, "ranking_sync", tweak);
}
