/*
 * test_order_race.c — orders under concurrency against real PostgreSQL:
 * no oversell, no overspend, and a storm of multi-line orders and cancels that
 * conserves money and stock exactly and never shows a client a deadlock.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
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
#include "support/test_server.h"

static struct test_db db;
static struct test_server srv;

static long place(long long user, const char *key, const char *body, char *code, size_t cap)
{
    struct test_resp r;
    long status = test_post_order(srv.base, user, key, body, &r) == 0 ? r.status : -1;
    if (code)
        snprintf(code, cap, "%s", test_resp_code(&r));
    test_resp_free(&r);
    return status;
}

/* ---- 100 users × 1 unit against stock 37 ---- */

struct buyer {
    long long user, product;
    int n;
    atomic_int *paid, *sold_out, *other;
};

static void *buy_one(void *arg)
{
    struct buyer *b = arg;
    char body[160], key[32], code[64] = "";
    test_order_body(body, sizeof(body), b->user, b->product, 1, 0);
    snprintf(key, sizeof(key), "buy-%d", b->n);
    long status = place(b->user, key, body, code, sizeof(code));
    if (status == 201)
        atomic_fetch_add(b->paid, 1);
    else if (status == 409 && strcmp(code, "OUT_OF_STOCK") == 0)
        atomic_fetch_add(b->sold_out, 1);
    else
        atomic_fetch_add(b->other, 1);
    return NULL;
}

static void hundred_buyers_for_37_units__exactly_37_orders(void **state)
{
    (void)state;
    enum { BUYERS = 100 };
    long long product = test_new_product(srv.base, "race", 1000, 37);
    struct buyer buyers[BUYERS];
    pthread_t threads[BUYERS];
    atomic_int paid, sold_out, other;
    atomic_init(&paid, 0);
    atomic_init(&sold_out, 0);
    atomic_init(&other, 0);
    for (int i = 0; i < BUYERS; i++)
        buyers[i] = (struct buyer){
            test_new_funded_user(srv.base, "racer", 5000), product, i, &paid, &sold_out, &other};
    for (int i = 0; i < BUYERS; i++)
        pthread_create(&threads[i], NULL, buy_one, &buyers[i]);
    for (int i = 0; i < BUYERS; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(atomic_load(&paid), 37);
    assert_int_equal(atomic_load(&sold_out), 63);
    assert_int_equal(atomic_load(&other), 0);
    assert_int_equal(test_db_scalar(&db, "SELECT stock FROM products WHERE id = %lld", product), 0);
    assert_int_equal(
        test_db_scalar(&db, "SELECT count(*) FROM order_lines WHERE product_id = %lld", product),
        37);
}

/* ---- one user, money for 5, 50 orders at once ---- */

struct spender {
    long long user, product;
    int n;
    atomic_int *paid, *broke, *other;
};

static void *spend(void *arg)
{
    struct spender *s = arg;
    char body[160], key[32], code[64] = "";
    test_order_body(body, sizeof(body), s->user, s->product, 1, 0);
    snprintf(key, sizeof(key), "spend-%d", s->n);
    long status = place(s->user, key, body, code, sizeof(code));
    if (status == 201)
        atomic_fetch_add(s->paid, 1);
    else if (status == 409 && strcmp(code, "INSUFFICIENT_BALANCE") == 0)
        atomic_fetch_add(s->broke, 1);
    else
        atomic_fetch_add(s->other, 1);
    return NULL;
}

static void one_user_fifty_orders_money_for_five__exactly_five_paid(void **state)
{
    (void)state;
    enum { ORDERS = 50 };
    long long product = test_new_product(srv.base, "race", 2000, 1000);
    long long user = test_new_funded_user(srv.base, "racer", 10000);
    struct spender s[ORDERS];
    pthread_t threads[ORDERS];
    atomic_int paid, broke, other;
    atomic_init(&paid, 0);
    atomic_init(&broke, 0);
    atomic_init(&other, 0);
    for (int i = 0; i < ORDERS; i++) {
        s[i] = (struct spender){user, product, i, &paid, &broke, &other};
        pthread_create(&threads[i], NULL, spend, &s[i]);
    }
    for (int i = 0; i < ORDERS; i++)
        pthread_join(threads[i], NULL);
    assert_int_equal(atomic_load(&paid), 5);
    assert_int_equal(atomic_load(&broke), 45);
    assert_int_equal(atomic_load(&other), 0);
    assert_int_equal(test_db_scalar(&db, "SELECT balance FROM users WHERE id = %lld", user), 0);
    assert_int_equal(test_db_scalar(&db, "SELECT stock FROM products WHERE id = %lld", product),
                     995);
}

/* ---- a storm of random multi-line orders and cancels ---- */

enum { STORM_THREADS = 16, STORM_ROUNDS = 40, STORM_PRODUCTS = 6, STORM_USERS = 8 };

struct storm_ctx {
    long long products[STORM_PRODUCTS];
    long long users[STORM_USERS];
    atomic_int failures; /* any answer other than 201/200 or a clean refusal */
};

static void *storm(void *arg)
{
    struct test_worker *w = arg;
    struct storm_ctx *ctx = w->ctx;
    for (int round = 0; round < STORM_ROUNDS; round++) {
        long long user = ctx->users[rand_r(&w->seed) % STORM_USERS];
        char body[512];
        test_random_order_body(body, sizeof(body), user, ctx->products, STORM_PRODUCTS, &w->seed);
        char key[48], code[64] = "";
        snprintf(key, sizeof(key), "storm-%d-%d", w->n, round);
        struct test_resp r;
        test_post_order(srv.base, user, key, body, &r);
        snprintf(code, sizeof(code), "%s", test_resp_code(&r));
        long long order_id = r.status == 201 ? test_resp_int(&r, "id") : 0;
        bool clean =
            r.status == 201 || (r.status == 409 && (strcmp(code, "OUT_OF_STOCK") == 0 ||
                                                    strcmp(code, "INSUFFICIENT_BALANCE") == 0));
        if (!clean) {
            fprintf(stderr, "storm: unexpected %ld %s\n", r.status, r.body);
            atomic_fetch_add(&ctx->failures, 1);
        }
        test_resp_free(&r);
        if (order_id && rand_r(&w->seed) % 3 == 0) {
            test_cancel_order(srv.base, user, order_id, &r); /* the owner cancels */
            if (r.status != 200) {
                fprintf(stderr, "storm: cancel %ld %s\n", r.status, r.body);
                atomic_fetch_add(&ctx->failures, 1);
            }
            test_resp_free(&r);
        }
    }
    return NULL;
}

static void storm_of_orders_and_cancels__money_and_stock_conserved(void **state)
{
    (void)state;
    struct storm_ctx ctx;
    atomic_init(&ctx.failures, 0);
    int64_t initial_stock = 0, charged = 0;
    for (int i = 0; i < STORM_PRODUCTS; i++) {
        ctx.products[i] = test_new_product(srv.base, "race", 700 + 300 * i, 60);
        initial_stock += 60;
    }
    for (int i = 0; i < STORM_USERS; i++) {
        ctx.users[i] = test_new_funded_user(srv.base, "racer", 150000);
        charged += 150000;
    }
    test_run_workers(STORM_THREADS, storm, &ctx, 1234u);
    assert_int_equal(atomic_load(&ctx.failures), 0);

    char ids[256], pids[256];
    test_id_list(ids, sizeof(ids), ctx.users, STORM_USERS);
    test_id_list(pids, sizeof(pids), ctx.products, STORM_PRODUCTS);
    /* money: balances + totals of orders still paid = everything charged */
    int64_t balances = test_db_scalar(&db, "SELECT sum(balance) FROM users WHERE id IN (%s)", ids);
    int64_t paid = test_db_scalar(
        &db, "SELECT coalesce(sum(total), 0) FROM orders WHERE status = 'PAID' AND user_id IN (%s)",
        ids);
    assert_int_equal(balances + paid, charged);
    /* stock: what paid orders hold = what left the shelves */
    int64_t left = test_db_scalar(&db, "SELECT sum(stock) FROM products WHERE id IN (%s)", pids);
    int64_t sold = test_db_scalar(&db,
                                  "SELECT coalesce(sum(l.quantity), 0) FROM order_lines l"
                                  " JOIN orders o ON o.id = l.order_id"
                                  " WHERE o.status = 'PAID' AND l.product_id IN (%s)",
                                  pids);
    assert_int_equal(initial_stock - left, sold);
    /* the daily sales behind "popular products" count exactly the units of paid orders */
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT coalesce(sum(quantity), 0) FROM product_sales_daily"
                                    " WHERE product_id IN (%s)",
                                    pids),
                     sold);
    /* the Redis ranking (after-commit queue, versioned copies) agrees with PostgreSQL once the
       ranking sync worker has copied every sale (bounded wait, no timing threshold) */
    long long pending = test_metric(srv.base, "shopd_ranking_sync_pending");
    for (int waited = 0; pending != 0 && waited < 30000; waited += 20) {
        test_sleep_ms(20);
        pending = test_metric(srv.base, "shopd_ranking_sync_pending");
    }
    assert_int_equal(pending, 0);
    const char *url = test_redis_url();
    int port = 6379;
    sscanf(strrchr(url, ':') + 1, "%d", &port);
    redisContext *rc = redisConnect("127.0.0.1", port);
    char today[11];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(today, sizeof(today), "%Y-%m-%d", &tm);
    for (int i = 0; i < STORM_PRODUCTS; i++) {
        redisReply *score = redisCommand(rc, "ZSCORE %s:rank:{%s} %lld", srv.cfg.redis_namespace,
                                         today, ctx.products[i]);
        long long in_redis = score && score->type == REDIS_REPLY_STRING ? atoll(score->str) : 0;
        freeReplyObject(score);
        char sql[192];
        snprintf(
            sql, sizeof(sql),
            "SELECT coalesce(sum(quantity), 0) FROM product_sales_daily WHERE product_id = %lld"
            " AND day = '%s'",
            ctx.products[i], today);
        assert_int_equal(in_redis, test_db_scalar(&db, "%s", sql));
    }
    redisFree(rc);
    /* every ledger adds up to its balance */
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT count(*) FROM users u WHERE id IN (%s) AND balance <>"
                                    " (SELECT sum(amount) FROM point_ledger WHERE user_id = u.id)",
                                    ids),
                     0);
    /* each cancelled order was refunded exactly once, each paid one charged exactly once */
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT count(*) FROM orders o WHERE user_id IN (%s) AND"
                                    " (SELECT coalesce(sum(amount), 0) FROM point_ledger"
                                    "   WHERE order_id = o.id) <>"
                                    " CASE WHEN o.status = 'PAID' THEN -o.total ELSE 0 END",
                                    ids),
                     0);
}

static void tweak(struct config *cfg)
{
    cfg->threads = 16;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(hundred_buyers_for_37_units__exactly_37_orders),
        cmocka_unit_test(one_user_fifty_orders_money_for_five__exactly_five_paid),
        cmocka_unit_test(storm_of_orders_and_cancels__money_and_stock_conserved),
    };
    return TEST_ENV_RUN(tests, &db, &srv, "order_race", tweak);
}
