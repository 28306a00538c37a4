/*
 * test_multi_instance.c — two shopd processes behind nginx (configured by
 * scripts/nginx-conf, as `make cluster` runs it), sharing one PostgreSQL and
 * Redis: no oversell, no double pay, and with both relays running every event
 * reaches the data platform once. The storms go through nginx (and check that
 * it spread them over both instances); what needs a given instance (a token
 * from one used on the other) goes to it directly. Skipped (exit 77) only
 * when nginx is not installed; scripts/install-deps installs it.
 */
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/test_db.h"
#include "support/test_fixtures.h"
#include "support/test_http.h"
#include "support/test_nginx.h"
#include "support/test_platform.h"
#include "support/test_proc.h"
#include "support/test_server.h"

static struct test_db db;
static struct test_platform platform;
static struct proc shop[2];
static int shop_stopped[2];  /* stopped by a test: teardown need not */
static struct test_nginx lb; /* nginx in front of shop[0] and shop[1] */

struct shopper {
    long long user, product;
    int n;
    atomic_int *paid, *refused, *other;
    const char *refusal; /* the expected clean refusal code */
};

/* Sends one order through nginx, with the shopper's token (valid on either instance). */
static void *shop_once(void *arg)
{
    struct shopper *s = arg;
    char key[64], body[160];
    snprintf(key, sizeof(key), "m-%lld-%d", s->user, s->n);
    test_order_body(body, sizeof(body), s->user, s->product, 1, 0);
    struct test_resp r;
    if (test_post_order(lb.base, s->user, key, body, &r) == 0 && r.status == 201)
        atomic_fetch_add(s->paid, 1);
    else if (r.status == 409 && strcmp(test_resp_code(&r), s->refusal) == 0)
        atomic_fetch_add(s->refused, 1);
    else
        atomic_fetch_add(s->other, 1);
    test_resp_free(&r);
    return NULL;
}

struct tally {
    atomic_int paid, refused, other;
};

/* POST /api/v1/orders answered 201 or 409 by the instance at base (its metrics). */
static long long orders_answered(const char *base)
{
    long long n = 0;
    const char *statuses[] = {"201", "409"};
    for (int i = 0; i < 2; i++) {
        char name[128];
        snprintf(name, sizeof(name),
                 "shopd_http_requests_total{route=\"POST /api/v1/orders\",status=\"%s\"}",
                 statuses[i]);
        long long v = test_metric(base, name);
        n += v > 0 ? v : 0;
    }
    return n;
}

static void run_shoppers(struct shopper *s, int n, struct tally *t)
{
    pthread_t threads[128];
    for (int i = 0; i < n; i++) {
        s[i].paid = &t->paid;
        s[i].refused = &t->refused;
        s[i].other = &t->other;
        pthread_create(&threads[i], NULL, shop_once, &s[i]);
    }
    for (int i = 0; i < n; i++)
        pthread_join(threads[i], NULL);
}

static void oversell_through_two_instances__exactly_the_stock(void **state)
{
    (void)state;
    enum { BUYERS = 100 };
    long long product = test_new_product(lb.base, "flash", 1000, 37);
    struct shopper s[BUYERS];
    for (int i = 0; i < BUYERS; i++)
        s[i] = (struct shopper){.user = test_new_funded_user(lb.base, "multi", 5000),
                                .product = product,
                                .n = i,
                                .refusal = "OUT_OF_STOCK"};
    long long before[2] = {orders_answered(shop[0].base), orders_answered(shop[1].base)};
    struct tally t = {0};
    run_shoppers(s, BUYERS, &t);
    /* nginx spread the storm: every order answered by one instance, and each had some */
    long long by[2] = {orders_answered(shop[0].base) - before[0],
                       orders_answered(shop[1].base) - before[1]};
    assert_int_equal(by[0] + by[1], BUYERS);
    assert_true(by[0] > 0);
    assert_true(by[1] > 0);
    assert_int_equal(atomic_load(&t.paid), 37);
    assert_int_equal(atomic_load(&t.refused), 63);
    assert_int_equal(atomic_load(&t.other), 0);
    assert_int_equal(test_db_scalar(&db, "SELECT stock FROM products WHERE id = %lld", product), 0);
}

static void double_pay_through_two_instances__only_what_the_balance_covers(void **state)
{
    (void)state;
    enum { ORDERS = 50 };
    long long product = test_new_product(lb.base, "pay", 2000, 1000);
    long long user = test_new_funded_user(lb.base, "multi", 10000);
    struct shopper s[ORDERS];
    for (int i = 0; i < ORDERS; i++)
        s[i] = (struct shopper){
            .user = user, .product = product, .n = i, .refusal = "INSUFFICIENT_BALANCE"};
    struct tally t = {0};
    run_shoppers(s, ORDERS, &t);
    assert_int_equal(atomic_load(&t.paid), 5);
    assert_int_equal(atomic_load(&t.refused), 45);
    assert_int_equal(atomic_load(&t.other), 0);
    assert_int_equal(test_db_scalar(&db, "SELECT balance FROM users WHERE id = %lld", user), 0);
}

static void both_relays__every_paid_order_delivered_once(void **state)
{
    (void)state;
    int64_t paid = test_db_scalar(&db, "SELECT count(*) FROM orders WHERE status = '%s'", "PAID");
    assert_true(paid >= 42);
    size_t stored = test_platform_wait_events(&platform, (size_t)paid, 15000);
    assert_int_equal(stored, (size_t)paid);
    test_sleep_ms(300);
    json_t *st = test_platform_state(&platform);
    assert_int_equal(json_array_size(json_object_get(st, "events")), (size_t)paid);
    assert_int_equal(json_integer_value(json_object_get(st, "duplicates")), 0);
    json_decref(st);
    assert_int_equal(test_db_scalar(&db, "%s", "SELECT count(*) FROM outbox_events"), 0);
}

struct coupon_storm {
    long long coupon, first_user;
    atomic_int next, issued, sold_out, other;
};

static void *coupon_worker(void *arg)
{
    struct coupon_storm *s = arg;
    for (;;) {
        int i = atomic_fetch_add(&s->next, 1);
        if (i >= 1000)
            return NULL;
        char url[128], body[64], auth[640];
        snprintf(url, sizeof(url), "%s/api/v1/coupons/%lld/issue", lb.base, s->coupon);
        snprintf(body, sizeof(body), "{\"user_id\":%lld}", s->first_user + i);
        const char *headers[] = {test_user_auth_header(s->first_user + i, auth, sizeof(auth)),
                                 NULL};
        struct test_resp r;
        test_http("POST", url, body, headers, &r);
        if (r.status == 201)
            atomic_fetch_add(&s->issued, 1);
        else if (r.status == 409 && strcmp(test_resp_code(&r), "COUPON_SOLD_OUT") == 0)
            atomic_fetch_add(&s->sold_out, 1);
        else
            atomic_fetch_add(&s->other, 1);
        test_resp_free(&r);
    }
}

static void coupon_race_through_two_instances__exactly_the_quantity(void **state)
{
    (void)state;
    int64_t before = test_db_scalar(&db, "SELECT coalesce(max(id), 0) FROM users WHERE %d = 1", 1);
    /* straight into the table, no password: the storm acts for them with minted tokens */
    PQclear(test_db_query(
        &db, "INSERT INTO users (name) SELECT 'c' || g FROM generate_series(1, 1000) g"));
    struct coupon_storm s = {
        .coupon = test_post_created(
            lb.base, "/api/v1/coupons",
            "{\"name\":\"FCFS\",\"discount_type\":\"FIXED\",\"discount_value\":100,"
            "\"total_quantity\":100,\"expires_at\":\"2099-01-01T00:00:00Z\"}",
            1),
        .first_user = before + 1,
    };
    pthread_t t[40];
    for (int i = 0; i < 40; i++)
        pthread_create(&t[i], NULL, coupon_worker, &s);
    for (int i = 0; i < 40; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&s.issued), 100);
    assert_int_equal(atomic_load(&s.sold_out), 900);
    assert_int_equal(atomic_load(&s.other), 0);
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT count(DISTINCT user_id) FROM user_coupons"
                                    " WHERE coupon_id = %lld",
                                    s.coupon),
                     100);
    assert_int_equal(
        test_db_scalar(&db, "SELECT issued_quantity FROM coupons WHERE id = %lld", s.coupon), 100);
}

/* GET /api/v1/users/{user}/points on base with "Authorization: Bearer token": the status. */
static long points_with_token(const char *base, long long user, const char *token)
{
    char url[160], auth[1100];
    snprintf(url, sizeof(url), "%s/api/v1/users/%lld/points", base, user);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    const char *headers[] = {auth, NULL};
    struct test_resp r;
    assert_int_equal(test_http("GET", url, NULL, headers, &r), 0);
    long status = r.status;
    if (status == 200) {
        assert_int_equal(test_resp_int(&r, "user_id"), user);
        assert_int_equal(test_resp_int(&r, "balance"), 0);
    }
    test_resp_free(&r);
    return status;
}

static void login_on_one_instance__its_token_works_on_every_instance(void **state)
{
    (void)state;
    long long user = test_new_user(shop[0].base, "login");
    char body[160];
    snprintf(body, sizeof(body), "{\"user_id\":%lld,\"password\":\"%s\"}", user, TEST_PASSWORD);
    struct test_resp r;
    test_call(shop[1].base, "POST", "/api/v1/auth/token", body, 0, &r);
    assert_int_equal(r.status, 200);
    const char *token = json_string_value(json_object_get(r.json, "access_token"));
    assert_non_null(token);
    assert_true(strlen(token) > 0);
    assert_string_equal(json_string_value(json_object_get(r.json, "token_type")), "Bearer");
    assert_int_equal(test_resp_int(&r, "expires_in"), 3600);
    assert_int_equal(test_resp_int(&r, "user_id"), user);
    char access[1024];
    snprintf(access, sizeof(access), "%s", token);
    test_resp_free(&r);
    for (int i = 0; i < 2; i++)
        assert_int_equal(points_with_token(shop[i].base, user, access), 200);
    assert_int_equal(points_with_token(lb.base, user, access), 200);

    snprintf(body, sizeof(body), "{\"user_id\":%lld,\"password\":\"%s-wrong\"}", user,
             TEST_PASSWORD);
    for (int i = 0; i < 2; i++) {
        test_call(shop[i].base, "POST", "/api/v1/auth/token", body, 0, &r);
        assert_int_equal(r.status, 401);
        assert_string_equal(test_resp_code(&r), "INVALID_CREDENTIALS");
        assert_null(json_object_get(r.json, "access_token"));
        test_resp_free(&r);
    }
}

/* Stops shop[1] (SIGTERM, waits for its exit): nginx must send everything to shop[0]. */
static void one_instance_stopped__nginx_retries_refused_connections_elsewhere(void **state)
{
    (void)state;
    enum { ORDERS = 20 };
    long long product = test_new_product(lb.base, "failover", 100, 1000);
    long long user = test_new_funded_user(lb.base, "multi", 100 * ORDERS);
    kill(shop[1].pid, SIGTERM);
    assert_int_equal(proc_wait(&shop[1], 15000), 0);
    shop_stopped[1] = 1;
    /* a refused connection is retried on the other instance, even for a POST (nothing was
     * sent): every order is paid once, none answered 502 */
    char body[160], key[64];
    test_order_body(body, sizeof(body), user, product, 1, 0);
    for (int i = 0; i < ORDERS; i++) {
        snprintf(key, sizeof(key), "failover-%lld-%d", user, i);
        struct test_resp r;
        assert_int_equal(test_post_order(lb.base, user, key, body, &r), 0);
        assert_int_equal(r.status, 201);
        test_resp_free(&r);
        char path[64];
        snprintf(path, sizeof(path), "/api/v1/products/%lld", product);
        test_call(lb.base, "GET", path, NULL, 0, &r);
        assert_int_equal(r.status, 200);
        test_resp_free(&r);
    }
    assert_int_equal(test_db_scalar(&db, "SELECT stock FROM products WHERE id = %lld", product),
                     1000 - ORDERS);
    assert_int_equal(test_db_scalar(&db, "SELECT balance FROM users WHERE id = %lld", user), 0);
}

static int setup(void **state)
{
    (void)state;
    test_http_global_init();
    signal(SIGPIPE, SIG_IGN);
    test_db_create(&db, "multi");
    test_platform_start(&platform);
    static char dp[160];
    snprintf(dp, sizeof(dp), "SHOPD_DATAPLATFORM_URL=%s", platform.url);
    /* behind nginx: the login throttle counts the address nginx appends (docs/security.md) */
    const char *extra[] = {dp, "SHOPD_ACCESS_LOG=off", "SHOPD_THREADS=8",
                           "SHOPD_TRUST_FORWARDED_FOR=on", NULL};
    for (int i = 0; i < 2; i++)
        proc_start(&shop[i], db.url, extra);
    for (int i = 0; i < 2; i++)
        proc_wait_ready(&shop[i]);
    int ports[2] = {shop[0].port, shop[1].port};
    test_nginx_start(&lb, ports, 2);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_nginx_stop(&lb);
    for (int i = 0; i < 2; i++) {
        if (!shop_stopped[i]) {
            kill(shop[i].pid, SIGTERM);
            proc_wait(&shop[i], 10000);
        }
        proc_kill(&shop[i]);
    }
    test_platform_stop(&platform);
    test_db_drop(&db);
    return 0;
}

int main(void)
{
    if (!test_nginx_find(&lb)) {
        fprintf(stderr,
                "test_multi_instance: SKIPPED: nginx is not installed (scripts/install-deps "
                "installs it; the instances are tested behind it)\n");
        return 77; /* SKIP_RETURN_CODE in tests/e2e/CMakeLists.txt */
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(login_on_one_instance__its_token_works_on_every_instance),
        cmocka_unit_test(oversell_through_two_instances__exactly_the_stock),
        cmocka_unit_test(double_pay_through_two_instances__only_what_the_balance_covers),
        cmocka_unit_test(both_relays__every_paid_order_delivered_once),
        cmocka_unit_test(coupon_race_through_two_instances__exactly_the_quantity),
        /* last: it stops an instance */
        cmocka_unit_test(one_instance_stopped__nginx_retries_refused_connections_elsewhere),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
