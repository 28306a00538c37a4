/* test_orders_pg.c — orders against real PostgreSQL over HTTP: money, stock, ledger, outbox,
 * idempotency and cancel. */
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

#include "support/test_db.h"
#include "support/test_fixtures.h"
#include "support/test_http.h"
#include "support/test_server.h"

static struct test_db db;
static struct test_server srv;

static void tweak(struct config *cfg)
{
    cfg->threads = 8;
    cfg->reaper_interval_ms = 50;
    cfg->balance_max = 5000000; /* small cap so a refund can pass it */
    cfg->outbox_relay = false;  /* the events stay in the outbox to be read: a relay deletes them */
}

/* POST /api/v1/orders as user with an Idempotency-Key (NULL = none). */
static void order(long long user, const char *key, const char *body, struct test_resp *r)
{
    assert_int_equal(test_post_order(srv.base, user, key, body, r), 0);
}

/* POST /api/v1/orders as user under key must answer status (and code when not NULL). */
static void order_expecting(long long user, const char *key, const char *body, long status,
                            const char *code)
{
    struct test_resp r;
    order(user, key, body, &r);
    test_resp_expect(&r, status, code);
}

/* quantity units of product ordered by user under key: 201; returns the order's id. */
static long long order_placed(long long user, const char *key, long long product,
                              long long quantity)
{
    char body[160];
    test_order_body(body, sizeof(body), user, product, quantity, 0);
    struct test_resp r;
    order(user, key, body, &r);
    assert_int_equal(r.status, 201);
    long long id = test_resp_int(&r, "id");
    test_resp_free(&r);
    return id;
}

/* POST /api/v1/orders/{id}/cancel as user: 200 and the order answered CANCELLED. */
static void cancel_succeeds(long long user, long long id)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/orders/%lld/cancel", id);
    struct test_resp r;
    test_call_as(srv.base, "POST", path, NULL, user, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "CANCELLED");
    test_resp_free(&r);
}

/* A product "p" at price with stock (returned) and a user "buyer" funded with points (*user). */
static long long new_product_and_buyer(long long price, long long stock, long long points,
                                       long long *user)
{
    long long p = test_new_product(srv.base, "p", price, stock);
    *user = test_new_funded_user(srv.base, "buyer", points);
    return p;
}

/* One int64 from SQL with one %lld argument. */
#define scalar(fmt, a) test_db_scalar(&db, fmt, (long long)(a))

static void assert_ledgers_consistent(void)
{
    assert_int_equal(test_db_scalar(&db, "SELECT count(*) FROM users u WHERE balance <>"
                                         " (SELECT coalesce(sum(amount), 0) FROM point_ledger"
                                         "   WHERE user_id = u.id)"),
                     0);
}

static void charge_then_order__takes_stock_and_points_and_writes_everything(void **state)
{
    (void)state;
    long long kb = test_new_product(srv.base, "p", 39000, 10),
              mouse = test_new_product(srv.base, "p", 15000, 5);
    long long user = test_new_funded_user(srv.base, "buyer", 200000);
    char body[256];
    snprintf(body, sizeof(body),
             "{\"user_id\":%lld,\"items\":[{\"product_id\":%lld,\"quantity\":1},"
             "{\"product_id\":%lld,\"quantity\":2},{\"product_id\":%lld,\"quantity\":1}]}",
             user, mouse, kb, mouse);
    struct test_resp r;
    order(user, "flow-1", body, &r);
    assert_int_equal(r.status, 201);
    long long id = test_resp_int(&r, "id");
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "PAID");
    assert_int_equal(test_resp_int(&r, "subtotal"), 2 * 39000 + 2 * 15000);
    assert_int_equal(test_resp_int(&r, "discount"), 0);
    assert_int_equal(test_resp_int(&r, "total"), 108000);
    assert_true(json_is_null(json_object_get(r.json, "coupon_id")));
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2); /* merged */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "product_id")),
                     kb);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "quantity")), 2);
    json_t *first_body = json_incref(r.json);
    test_resp_free(&r);

    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", user), 92000);
    assert_int_equal(scalar("SELECT stock FROM products WHERE id = %lld", kb), 8);
    assert_int_equal(scalar("SELECT stock FROM products WHERE id = %lld", mouse), 3);
    assert_int_equal(scalar("SELECT amount FROM point_ledger WHERE order_id = %lld", id), -108000);
    assert_int_equal(scalar("SELECT count(*) FROM order_lines WHERE order_id = %lld", id), 2);
    /* the event carries the order */
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT payload::text FROM outbox_events WHERE aggregate_id = %lld"
             " AND type = 'ORDER_PAID'",
             id);
    PGresult *res = test_db_query(&db, sql);
    assert_int_equal(PQntuples(res), 1);
    json_t *payload = json_loads(PQgetvalue(res, 0, 0), 0, NULL);
    assert_true(json_equal(payload, first_body));
    json_decref(payload);
    PQclear(res);

    /* GET and list show the same order */
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/orders/%lld", id);
    test_call_as(srv.base, "GET", path, NULL, user, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_equal(r.json, first_body));
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/users/%lld/orders", user);
    test_call_as(srv.base, "GET", path, NULL, user, &r);
    assert_int_equal(r.status, 200);
    assert_true(json_equal(json_array_get(json_object_get(r.json, "items"), 0), first_body));
    test_resp_free(&r);
    json_decref(first_body);
    assert_ledgers_consistent();
}

static void same_key_same_body__one_order_and_the_first_answer_replayed(void **state)
{
    (void)state;
    long long user, p = new_product_and_buyer(1000, 10, 10000, &user);
    char body[160];
    test_order_body(body, sizeof(body), user, p, 2, 0);
    struct test_resp a, b;
    order(user, "same-1", body, &a);
    /* same content, other spelling: still the same request */
    char spaced[200];
    snprintf(spaced, sizeof(spaced),
             "{ \"items\" : [ {\"quantity\":2, \"product_id\":%lld} ], \"user_id\" : %lld }", p,
             user);
    order(user, "same-1", spaced, &b);
    assert_int_equal(a.status, 201);
    assert_int_equal(b.status, 201);
    assert_string_equal(a.body, b.body);
    char replayed[16];
    assert_non_null(test_resp_header(&b, "Idempotent-Replayed", replayed, sizeof(replayed)));
    assert_string_equal(replayed, "true");
    assert_null(test_resp_header(&a, "Idempotent-Replayed", replayed, sizeof(replayed)));
    test_resp_free(&a);
    test_resp_free(&b);
    assert_int_equal(scalar("SELECT count(*) FROM orders WHERE user_id = %lld", user), 1);
    assert_int_equal(scalar("SELECT stock FROM products WHERE id = %lld", p), 8);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", user), 8000);

    /* same key, another body: 422, nothing taken */
    test_order_body(body, sizeof(body), user, p, 3, 0);
    order_expecting(user, "same-1", body, 422, "IDEMPOTENCY_KEY_REUSED");
    assert_int_equal(scalar("SELECT stock FROM products WHERE id = %lld", p), 8);

    /* keys are per user: another user may use the same key */
    long long other = test_new_funded_user(srv.base, "buyer", 10000);
    order_placed(other, "same-1", p, 1);
}

static void refusal__recorded_and_replayed_even_when_it_would_now_succeed(void **state)
{
    (void)state;
    long long user, p = new_product_and_buyer(1000, 1, 10000, &user);
    char body[160];
    test_order_body(body, sizeof(body), user, p, 2, 0);
    struct test_resp r;
    order(user, "short-1", body, &r);
    assert_int_equal(r.status, 409);
    assert_string_equal(test_resp_code(&r), "OUT_OF_STOCK");
    assert_int_equal(test_resp_int(&r, "product_id"), p);
    test_resp_free(&r);
    char sql[96];
    snprintf(sql, sizeof(sql), "UPDATE products SET stock = 50 WHERE id = %lld", p);
    PQclear(test_db_query(&db, sql));
    order(user, "short-1", body, &r);
    assert_int_equal(r.status, 409);
    char replayed[16];
    assert_non_null(test_resp_header(&r, "Idempotent-Replayed", replayed, sizeof(replayed)));
    test_resp_free(&r);
    /* a malformed request is not recorded: the key stays free */
    snprintf(sql, sizeof(sql), "{\"user_id\":%lld,\"items\":[]}", user);
    order_expecting(user, "short-2", sql, 400, NULL);
    order_expecting(user, "short-2", body, 201, NULL);
    assert_int_equal(scalar("SELECT stock FROM products WHERE id = %lld", p), 48);
}

static void refusals__each_precise_and_nothing_taken(void **state)
{
    (void)state;
    long long user, p = new_product_and_buyer(5000, 3, 4000, &user);
    /* one line of 1 unit of product by who (also the sender); in_item: more members of the
     * line, after: more members of the order */
    const struct {
        const char *key;
        long long who, product;
        const char *in_item, *after;
        long status;
        const char *code;
    } cases[] = {
        {"ref-1", user, p, "", "", 409, "INSUFFICIENT_BALANCE"},
        {"ref-2", user, 999999, "", "", 404, "PRODUCT_NOT_FOUND"},
        {"ref-3", 987654, p, "", "", 404, "USER_NOT_FOUND"},
        {"ref-4", user, p, "", ",\"coupon_id\":5", 409, "COUPON_NOT_USABLE"},
        /* prices come from the catalogue; a client price is an unknown member */
        {"ref-5", user, p, ",\"price\":1", "", 400, "INVALID_REQUEST"},
        {NULL, user, p, ",\"price\":1", "", 400, "IDEMPOTENCY_KEY_REQUIRED"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char body[256];
        snprintf(body, sizeof(body),
                 "{\"user_id\":%lld,\"items\":[{\"product_id\":%lld,\"quantity\":1%s}]%s}",
                 cases[i].who, cases[i].product, cases[i].in_item, cases[i].after);
        struct test_resp r;
        order(cases[i].who, cases[i].key, body, &r);
        if (cases[i].product != p)
            assert_int_equal(test_resp_int(&r, "product_id"), cases[i].product);
        test_resp_expect(&r, cases[i].status, cases[i].code);
    }
    assert_int_equal(scalar("SELECT stock FROM products WHERE id = %lld", p), 3);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", user), 4000);
    assert_int_equal(scalar("SELECT count(*) FROM orders WHERE user_id = %lld", user), 0);
    /* refusals store their outcome but leave no event behind */
    assert_int_equal(scalar("SELECT count(*) FROM idempotency_keys WHERE user_id = %lld", user), 3);
}

struct same_key_race {
    long long user;
    const char *body;
    atomic_int *created, *replayed, *in_progress, *other;
};

static void *same_key_sender(void *arg)
{
    struct same_key_race *race = arg;
    struct test_resp r;
    char h[16];
    if (test_post_order(srv.base, race->user, "race-key", race->body, &r) != 0)
        atomic_fetch_add(race->other, 1); /* the transfer failed */
    else if (r.status == 201 && test_resp_header(&r, "Idempotent-Replayed", h, sizeof(h)))
        atomic_fetch_add(race->replayed, 1);
    else if (r.status == 201)
        atomic_fetch_add(race->created, 1);
    else if (r.status == 409 && strcmp(test_resp_code(&r), "REQUEST_IN_PROGRESS") == 0)
        atomic_fetch_add(race->in_progress, 1);
    else
        atomic_fetch_add(race->other, 1);
    test_resp_free(&r);
    return NULL;
}

static void same_key_from_20_threads__exactly_one_order(void **state)
{
    (void)state;
    long long user, p = new_product_and_buyer(100, 1000, 100000, &user);
    char body[160];
    test_order_body(body, sizeof(body), user, p, 1, 0);
    atomic_int created, replayed, in_progress, other;
    atomic_init(&created, 0);
    atomic_init(&replayed, 0);
    atomic_init(&in_progress, 0);
    atomic_init(&other, 0);
    struct same_key_race race = {user, body, &created, &replayed, &in_progress, &other};
    pthread_t t[20];
    for (int i = 0; i < 20; i++)
        pthread_create(&t[i], NULL, same_key_sender, &race);
    for (int i = 0; i < 20; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&created), 1);
    assert_int_equal(atomic_load(&other), 0);
    assert_int_equal(atomic_load(&replayed) + atomic_load(&in_progress), 19);
    assert_int_equal(scalar("SELECT count(*) FROM orders WHERE user_id = %lld", user), 1);
    assert_int_equal(scalar("SELECT stock FROM products WHERE id = %lld", p), 999);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", user), 99900);
}

static void cancel__gives_stock_points_back_and_only_once(void **state)
{
    (void)state;
    long long user, p = new_product_and_buyer(2500, 10, 50000, &user);
    long long id = order_placed(user, "cancel-1", p, 4);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", user), 40000);

    cancel_succeeds(user, id);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", user), 50000);
    assert_int_equal(scalar("SELECT stock FROM products WHERE id = %lld", p), 10);
    assert_int_equal(
        scalar("SELECT amount FROM point_ledger WHERE order_id = %lld AND type = 'REFUND'", id),
        10000);
    assert_int_equal(scalar("SELECT count(*) FROM outbox_events WHERE aggregate_id = %lld"
                            " AND type = 'ORDER_CANCELLED'",
                            id),
                     1);

    char path[96];
    snprintf(path, sizeof(path), "/api/v1/orders/%lld/cancel", id);
    test_call_expect(srv.base, "POST", path, NULL, user, 409, "ORDER_NOT_CANCELLABLE");
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", user), 50000);
    test_call_expect(srv.base, "POST", "/api/v1/orders/99999999/cancel", NULL, user, 404,
                     "ORDER_NOT_FOUND");
    test_call_expect(srv.base, "GET", "/api/v1/orders/99999999", NULL, user, 404, NULL);
    test_call_expect(srv.base, "GET", "/api/v1/users/99999999/orders", NULL, 99999999, 404,
                     "USER_NOT_FOUND");
    assert_ledgers_consistent();
}

static long charge_points(long long user, long long amount, struct test_resp *r)
{
    char path[96], body[64];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/points/charge", user);
    snprintf(body, sizeof(body), "{\"amount\":%lld}", amount);
    test_call_as(srv.base, "POST", path, body, user, r);
    return r->status;
}

/*
 * SHOPD_BALANCE_MAX limits charges only: a refund always succeeds, even when it
 * takes the balance past the cap, and the next charge is refused.
 */
static void cancel_at_the_cap__refund_passes_it_and_the_next_charge_is_refused(void **state)
{
    (void)state;
    long long user, p = new_product_and_buyer(1000, 5, 0, &user);
    struct test_resp r;
    for (int i = 0; i < 5; i++) {
        assert_int_equal(charge_points(user, 1000000, &r), 200);
        test_resp_free(&r);
    }
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", user), 5000000);
    long long id = order_placed(user, "cap-1", p, 1);
    assert_int_equal(charge_points(user, 1000, &r), 200);
    assert_int_equal(test_resp_int(&r, "balance"), 5000000);
    test_resp_free(&r);

    cancel_succeeds(user, id);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", user), 5001000);
    assert_int_equal(scalar("SELECT sum(amount) FROM point_ledger WHERE user_id = %lld", user),
                     5001000);
    assert_int_equal(scalar("SELECT balance_after FROM point_ledger WHERE user_id = %lld"
                            " ORDER BY id DESC LIMIT 1",
                            user),
                     5001000);

    charge_points(user, 1, &r);
    test_resp_expect(&r, 409, "BALANCE_LIMIT_EXCEEDED");
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/points", user);
    test_call_as(srv.base, "GET", path, NULL, user, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(test_resp_int(&r, "balance"), 5001000);
    test_resp_free(&r);
    assert_ledgers_consistent();
}

/* Order ids beyond 32 bits are ordinary ids: 404, never a database error. */
static void order_ids_beyond_32_bits__404_not_500(void **state)
{
    (void)state;
    const char *ids[] = {"2147483648", "9223372036854775807"};
    long long user = test_new_funded_user(srv.base, "buyer", 0);
    for (size_t i = 0; i < 2; i++) {
        char path[96];
        snprintf(path, sizeof(path), "/api/v1/orders/%s", ids[i]);
        test_call_expect(srv.base, "GET", path, NULL, user, 404, "ORDER_NOT_FOUND");
        snprintf(path, sizeof(path), "/api/v1/orders/%s/cancel", ids[i]);
        test_call_expect(srv.base, "POST", path, NULL, user, 404, NULL);
        snprintf(path, sizeof(path), "/api/v1/users/%s/orders", ids[i]);
        test_call_expect(srv.base, "GET", path, NULL, strtoll(ids[i], NULL, 10), 404,
                         "USER_NOT_FOUND");
    }
}

static void idempotency_keys__kept_24_hours_then_reaped(void **state)
{
    (void)state;
    PQclear(test_db_query(
        &db, "INSERT INTO idempotency_keys (user_id, scope, key, fingerprint, response_status,"
             " response_body, created_at) VALUES"
             " (1, 'order', 'old', 'f', 201, '{}', now() - interval '25 hours'),"
             " (1, 'order', 'young', 'f', 201, '{}', now() - interval '23 hours')"));
    for (int i = 0; i < 250; i++) {
        if (test_db_scalar(&db, "SELECT count(*) FROM idempotency_keys WHERE key = '%s'", "old") ==
            0)
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    assert_int_equal(
        test_db_scalar(&db, "SELECT count(*) FROM idempotency_keys WHERE key = '%s'", "old"), 0);
    assert_int_equal(
        test_db_scalar(&db, "SELECT count(*) FROM idempotency_keys WHERE key = '%s'", "young"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(charge_then_order__takes_stock_and_points_and_writes_everything),
        cmocka_unit_test(same_key_same_body__one_order_and_the_first_answer_replayed),
        cmocka_unit_test(refusal__recorded_and_replayed_even_when_it_would_now_succeed),
        cmocka_unit_test(refusals__each_precise_and_nothing_taken),
        cmocka_unit_test(same_key_from_20_threads__exactly_one_order),
        cmocka_unit_test(cancel__gives_stock_points_back_and_only_once),
        cmocka_unit_test(idempotency_keys__kept_24_hours_then_reaped),
        cmocka_unit_test(cancel_at_the_cap__refund_passes_it_and_the_next_charge_is_refused),
        cmocka_unit_test(order_ids_beyond_32_bits__404_not_500),
    };
    return TEST_ENV_RUN(tests, &db, &srv, "orders", tweak);
}
