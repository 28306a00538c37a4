/*
 * test_coupon_race.c — first come, first served under fire, against real
 * PostgreSQL and Redis: never over-issued, at most one per user, with the
 * gate healthy, flushed in the middle, or stopped. Stops the shared Redis:
 * runs alone (RUN_SERIAL).
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

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "support/test_db.h"
#include "support/test_fixtures.h"
#include "support/test_http.h"
#include "support/test_server.h"

enum { USERS = 1000, COUPONS = 100, THREADS = 50 };

static struct test_db db;
static struct test_server srv;
static long long first_user;

static long long new_coupon(long long quantity)
{
    return test_new_coupon(srv.base, "FCFS", "FIXED", 1000, quantity, "2099-01-01T00:00:00Z");
}

struct storm {
    long long coupon;
    atomic_int next; /* next user index to send */
    atomic_int issued, sold_out, duplicate, other;
    void (*midway)(void); /* run once when half the requests are sent (may be NULL) */
    atomic_bool midway_done;
    int total;      /* requests to send */
    bool same_user; /* every request for first_user */
};

static void *storm_worker(void *arg)
{
    struct storm *s = arg;
    char url[128];
    snprintf(url, sizeof(url), "%s/api/v1/coupons/%lld/issue", srv.base, s->coupon);
    for (;;) {
        int i = atomic_fetch_add(&s->next, 1);
        if (i >= s->total)
            return NULL;
        if (s->midway && i == s->total / 2 && !atomic_exchange(&s->midway_done, true))
            s->midway();
        long long user = first_user + (s->same_user ? 0 : i);
        char body[64], auth[640];
        snprintf(body, sizeof(body), "{\"user_id\":%lld}", user);
        const char *headers[] = {test_user_auth_header(user, auth, sizeof(auth)), NULL};
        struct test_resp r;
        test_http("POST", url, body, headers, &r);
        const char *code = test_resp_code(&r);
        if (r.status == 201)
            atomic_fetch_add(&s->issued, 1);
        else if (r.status == 409 && strcmp(code, "COUPON_SOLD_OUT") == 0)
            atomic_fetch_add(&s->sold_out, 1);
        else if (r.status == 409 && strcmp(code, "COUPON_ALREADY_ISSUED") == 0)
            atomic_fetch_add(&s->duplicate, 1);
        else {
            fprintf(stderr, "coupon storm: %ld %s\n", r.status, r.body);
            atomic_fetch_add(&s->other, 1);
        }
        test_resp_free(&r);
    }
}

static void run_storm(struct storm *s)
{
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, storm_worker, s);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
}

/* PostgreSQL's count of coupon's issued coupons, checked against its owners. */
static int64_t issued_in_db(long long coupon)
{
    int64_t counted =
        test_db_scalar(&db, "SELECT issued_quantity FROM coupons WHERE id = %lld", coupon);
    int64_t owners = test_db_scalar(
        &db, "SELECT count(DISTINCT user_id) FROM user_coupons WHERE coupon_id = %lld", coupon);
    int64_t rows =
        test_db_scalar(&db, "SELECT count(*) FROM user_coupons WHERE coupon_id = %lld", coupon);
    assert_int_equal(counted, owners);
    assert_int_equal(rows, owners);
    return counted;
}

/* What the Redis gate thinks is left (-1 when it has no state). */
static long long gate_left(long long coupon)
{
    const char *url = test_redis_url();
    int port = 6379;
    sscanf(strrchr(url, ':') + 1, "%d", &port);
    redisContext *c = redisConnect("127.0.0.1", port);
    redisReply *r = redisCommand(c, "GET %s:coupon:{%lld}:left", srv.cfg.redis_namespace, coupon);
    long long left = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
    freeReplyObject(r);
    redisFree(c);
    return left;
}

static void thousand_users_hundred_coupons__exactly_hundred(void **state)
{
    (void)state;
    struct storm s = {.coupon = new_coupon(COUPONS), .total = USERS};
    run_storm(&s);
    assert_int_equal(atomic_load(&s.issued), COUPONS);
    assert_int_equal(atomic_load(&s.sold_out), USERS - COUPONS);
    assert_int_equal(atomic_load(&s.other), 0);
    assert_int_equal(issued_in_db(s.coupon), COUPONS);
    assert_int_equal(gate_left(s.coupon), 0); /* Redis and PostgreSQL agree */
}

static void one_user_fifty_times__exactly_one(void **state)
{
    (void)state;
    struct storm s = {.coupon = new_coupon(COUPONS), .total = 50, .same_user = true};
    run_storm(&s);
    assert_int_equal(atomic_load(&s.issued), 1);
    assert_int_equal(atomic_load(&s.duplicate), 49);
    assert_int_equal(atomic_load(&s.other), 0);
    assert_int_equal(issued_in_db(s.coupon), 1);
}

static void flush_redis(void)
{
    const char *url = test_redis_url();
    int port = 6379;
    sscanf(strrchr(url, ':') + 1, "%d", &port);
    redisContext *c = redisConnect("127.0.0.1", port);
    freeReplyObject(redisCommand(c, "FLUSHALL"));
    redisFree(c);
}

static void redis_flushed_midway__never_over_issued(void **state)
{
    (void)state;
    struct storm s = {.coupon = new_coupon(COUPONS), .total = USERS, .midway = flush_redis};
    run_storm(&s);
    assert_int_equal(atomic_load(&s.issued), COUPONS);
    assert_int_equal(atomic_load(&s.sold_out), USERS - COUPONS);
    assert_int_equal(atomic_load(&s.other), 0);
    assert_int_equal(issued_in_db(s.coupon), COUPONS);
}

static void stop_redis(void)
{
    assert_int_equal(test_stack("redis-stop"), 0);
}

static void redis_stopped_midway__never_over_issued(void **state)
{
    (void)state;
    struct storm s = {.coupon = new_coupon(COUPONS), .total = USERS, .midway = stop_redis};
    run_storm(&s);
    assert_int_equal(test_stack("redis-start"), 0);
    assert_int_equal(atomic_load(&s.issued), COUPONS);
    assert_int_equal(atomic_load(&s.sold_out), USERS - COUPONS);
    assert_int_equal(atomic_load(&s.other), 0);
    assert_int_equal(issued_in_db(s.coupon), COUPONS);
}

struct spend {
    long long user, product, user_coupon;
    int n;
    atomic_int *paid, *refused;
};

static void *spend_coupon(void *arg)
{
    struct spend *s = arg;
    char key[64], body[200];
    snprintf(key, sizeof(key), "coupon-%d", s->n);
    test_order_body(body, sizeof(body), s->user, s->product, 1, s->user_coupon);
    struct test_resp r;
    test_post_order(srv.base, s->user, key, body, &r);
    if (r.status == 201)
        atomic_fetch_add(s->paid, 1);
    else if (r.status == 409 && strcmp(test_resp_code(&r), "COUPON_NOT_USABLE") == 0)
        atomic_fetch_add(s->refused, 1);
    test_resp_free(&r);
    return NULL;
}

static void two_orders_one_coupon__only_one_uses_it(void **state)
{
    (void)state;
    long long coupon = new_coupon(10);
    char body[160];
    struct test_resp r;
    snprintf(body, sizeof(body), "{\"user_id\":%lld}", first_user);
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/coupons/%lld/issue", coupon);
    test_call_as(srv.base, "POST", path, body, first_user, &r);
    assert_int_equal(r.status, 201);
    long long user_coupon = test_resp_int(&r, "id");
    test_resp_free(&r);
    long long product = test_new_product(srv.base, "c", 5000, 100);
    test_charge_points(srv.base, first_user, 100000);

    atomic_int paid, refused;
    atomic_init(&paid, 0);
    atomic_init(&refused, 0);
    struct spend s[2] = {{first_user, product, user_coupon, 0, &paid, &refused},
                         {first_user, product, user_coupon, 1, &paid, &refused}};
    pthread_t t[2];
    for (int i = 0; i < 2; i++)
        pthread_create(&t[i], NULL, spend_coupon, &s[i]);
    for (int i = 0; i < 2; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&paid), 1);
    assert_int_equal(atomic_load(&refused), 1);
    assert_int_equal(
        test_db_scalar(&db, "SELECT count(*) FROM orders WHERE coupon_id = %lld", user_coupon), 1);
}

static int setup(void **state)
{
    (void)state;
    test_http_global_init();
    test_db_create(&db, "coupon_race");
    /* 1000 users straight in the table (no password: they never log in; the tests act for them
       with tokens minted with TEST_TOKEN_SECRET, which the server verifies alike) */
    PQclear(test_db_query(
        &db, "INSERT INTO users (name) SELECT 'u' || g FROM generate_series(1, 1000) g"));
    first_user = test_db_scalar(&db, "SELECT min(id) FROM users WHERE %d = 1", 1);
    struct config cfg;
    test_server_config(&cfg, db.url);
    cfg.threads = 16;
    test_server_start(&srv, &cfg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_stack("redis-start");
    test_server_stop(&srv);
    test_db_drop(&db);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(thousand_users_hundred_coupons__exactly_hundred),
        cmocka_unit_test(one_user_fifty_times__exactly_one),
        cmocka_unit_test(redis_flushed_midway__never_over_issued),
        cmocka_unit_test(redis_stopped_midway__never_over_issued),
        cmocka_unit_test(two_orders_one_coupon__only_one_uses_it),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
