/*
 * test_outbox_pg.c — paid orders reach the (fake, separate-process) data
 * platform after commit; an outage of any length keeps events PENDING (the
 * attempts grow, nothing is given up); a permanent refusal parks an event
 * until an admin requeues it; two relays deliver every event once, and an
 * order's events in the order they happened.
 */
#include <setjmp.h>
#include <stdarg.h>
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
#include "support/test_platform.h"
#include "support/test_server.h"
#include "support/test_proc.h"

static struct test_db db;
static struct test_platform platform;

/* A server relaying to the fake platform; backoff_ms is the first retry delay. */
static void start_server(struct test_server *srv, unsigned backoff_ms)
{
    struct config cfg;
    test_server_config(&cfg, db.url);
    snprintf(cfg.dataplatform_url, sizeof(cfg.dataplatform_url), "%s", platform.url);
    cfg.outbox_poll_ms = 50;
    cfg.outbox_backoff_ms = backoff_ms;
    cfg.dataplatform_timeout_ms = 2000;
    test_server_start(srv, &cfg);
}

/* A funded user and a product, then one order; returns the order's JSON (new reference). */
static json_t *place_one(struct test_server *srv, const char *key)
{
    long long p = test_new_product(srv->base, "ev", 700, 99);
    long long u = test_new_funded_user(srv->base, "ev", 10000);
    char body[160];
    test_order_body(body, sizeof(body), u, p, 3, 0);
    struct test_resp r;
    assert_int_equal(test_post_order(srv->base, u, key, body, &r), 0);
    assert_int_equal(r.status, 201);
    json_t *order = json_incref(r.json);
    test_resp_free(&r);
    return order;
}

/* The stored events whose order id is id. */
static size_t events_for(long long id, json_t **last)
{
    json_t *state = test_platform_state(&platform);
    json_t *events = json_object_get(state, "events");
    size_t n = 0;
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *ev = json_array_get(events, i);
        if (json_integer_value(json_object_get(json_object_get(ev, "order"), "id")) == id) {
            n++;
            if (last) {
                json_decref(*last);
                *last = json_incref(ev);
            }
        }
    }
    json_decref(state);
    return n;
}

static void paid_order__event_delivered_with_the_order(void **state)
{
    (void)state;
    struct test_server srv;
    start_server(&srv, 20);
    json_t *order = place_one(&srv, "ev-1");
    long long id = json_integer_value(json_object_get(order, "id"));
    json_t *event = NULL;
    for (int i = 0; i < 250 && events_for(id, NULL) == 0; i++)
        test_sleep_ms(20);
    assert_int_equal(events_for(id, &event), 1);
    assert_string_equal(json_string_value(json_object_get(event, "type")), "ORDER_PAID");
    assert_int_equal(strlen(json_string_value(json_object_get(event, "event_id"))), 36);
    assert_int_equal(strlen(json_string_value(json_object_get(event, "occurred_at"))), 20);
    assert_true(json_equal(json_object_get(event, "order"), order));
    json_decref(event);
    json_decref(order);
    /* delivered: gone from the outbox, which holds undelivered events only */
    for (int i = 0; i < 250 && test_db_scalar(&db,
                                              "SELECT count(*) FROM outbox_events"
                                              " WHERE aggregate_id = %lld",
                                              id) != 0;
         i++)
        test_sleep_ms(20);
    assert_int_equal(
        test_db_scalar(&db, "SELECT count(*) FROM outbox_events WHERE aggregate_id = %lld", id), 0);
    test_server_stop(&srv);
}

static void platform_down__order_succeeds_event_waits_then_arrives_once(void **state)
{
    (void)state;
    struct test_server srv;
    start_server(&srv, 1); /* delays 1, 2, 4 … ms: many attempts in a few seconds */
    test_platform_fail(&platform, true);
    json_t *order = place_one(&srv, "ev-2"); /* 201 although the platform is down */
    long long id = json_integer_value(json_object_get(order, "id"));
    json_decref(order);
    /* past the 10 attempts after which the old relay gave an event up for good */
    for (int i = 0; i < 750; i++) {
        if (test_db_scalar(&db,
                           "SELECT count(*) FROM outbox_events WHERE aggregate_id = %lld"
                           " AND status = 'PENDING' AND attempts >= 12 AND last_error IS NOT NULL",
                           id) == 1)
            break;
        test_sleep_ms(20);
    }
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT count(*) FROM outbox_events WHERE aggregate_id = %lld"
                                    " AND status = 'PENDING' AND attempts >= 12"
                                    " AND last_error LIKE '%%503%%'",
                                    id),
                     1);
    assert_int_equal(events_for(id, NULL), 0);

    test_platform_fail(&platform, false);
    for (int i = 0; i < 500 && events_for(id, NULL) == 0; i++)
        test_sleep_ms(20);
    assert_int_equal(events_for(id, NULL), 1);
    for (int i = 0; i < 250; i++) {
        if (test_db_scalar(&db, "SELECT count(*) FROM outbox_events WHERE aggregate_id = %lld",
                           id) == 0)
            break;
        test_sleep_ms(20);
    }
    assert_int_equal(
        test_db_scalar(&db, "SELECT count(*) FROM outbox_events WHERE aggregate_id = %lld", id), 0);
    test_server_stop(&srv);
}

static void permanent_refusal__parked_until_requeued(void **state)
{
    (void)state;
    struct test_server srv;
    start_server(&srv, 1);
    test_platform_reject(&platform, true); /* 422: retrying cannot help */
    json_t *order = place_one(&srv, "ev-3");
    long long id = json_integer_value(json_object_get(order, "id"));
    json_decref(order);
    for (int i = 0; i < 500; i++) {
        if (test_db_scalar(&db,
                           "SELECT count(*) FROM outbox_events WHERE aggregate_id = %lld"
                           " AND status = 'FAILED'",
                           id) == 1)
            break;
        test_sleep_ms(20);
    }
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT count(*) FROM outbox_events WHERE aggregate_id = %lld"
                                    " AND status = 'FAILED' AND attempts = 1"
                                    " AND last_error LIKE '%%422%%'",
                                    id),
                     1);
    assert_int_equal(test_metric(srv.base, "shopd_outbox_parked"), 1);
    /* the platform accepts again: a parked event stays parked (nothing retries it) … */
    test_platform_reject(&platform, false);
    test_sleep_ms(300);
    assert_int_equal(events_for(id, NULL), 0);
    /* … until an admin requeues it (admin only) */
    struct test_resp r;
    test_call(srv.base, "POST", "/api/v1/admin/outbox/requeue", NULL, 0, &r);
    assert_int_equal(r.status, 401);
    test_resp_free(&r);
    test_call(srv.base, "POST", "/api/v1/admin/outbox/requeue", NULL, 1, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(test_resp_int(&r, "requeued"), 1);
    test_resp_free(&r);
    for (int i = 0; i < 250 && events_for(id, NULL) == 0; i++)
        test_sleep_ms(20);
    assert_int_equal(events_for(id, NULL), 1);
    assert_int_equal(test_metric(srv.base, "shopd_outbox_parked"), 0);
    test_server_stop(&srv);
}

/* The index of the event of order id with type in the platform's arrival order (-1: none). */
static long arrival(json_t *events, long long id, const char *type)
{
    for (size_t i = 0; i < json_array_size(events); i++) {
        json_t *ev = json_array_get(events, i);
        if (json_integer_value(json_object_get(json_object_get(ev, "order"), "id")) == id &&
            strcmp(json_string_value(json_object_get(ev, "type")), type) == 0)
            return (long)i;
    }
    return -1;
}

/*
 * Paid and cancelled while the platform is down, then delivered by two relays
 * at once: every order's ORDER_PAID arrives before its ORDER_CANCELLED (the
 * old relay could deliver them in either order once both were due).
 */
static void two_relays__each_orders_events_arrive_in_order(void **state)
{
    (void)state;
    struct test_server a, b;
    start_server(&a, 1);
    start_server(&b, 1);
    enum { ORDERS = 20 };
    long long ids[ORDERS];
    test_platform_fail(&platform, true);
    for (int i = 0; i < ORDERS; i++) {
        char key[32], path[96];
        snprintf(key, sizeof(key), "ord-%d", i);
        json_t *order = place_one(i % 2 ? &a : &b, key);
        ids[i] = json_integer_value(json_object_get(order, "id"));
        long long buyer = json_integer_value(json_object_get(order, "user_id"));
        json_decref(order);
        assert_true(buyer > 0);
        snprintf(path, sizeof(path), "/api/v1/orders/%lld/cancel", ids[i]);
        struct test_resp r;
        test_call_as(i % 2 ? b.base : a.base, "POST", path, NULL, buyer, &r);
        assert_int_equal(r.status, 200);
        test_resp_free(&r);
    }
    test_sleep_ms(200); /* both events of every order have failed at least once: both are due */
    test_platform_fail(&platform, false);
    json_t *st = NULL;
    for (int i = 0; i < 500; i++) {
        json_decref(st);
        st = test_platform_state(&platform);
        json_t *events = json_object_get(st, "events");
        int done = 0;
        for (int k = 0; k < ORDERS; k++)
            done += arrival(events, ids[k], "ORDER_CANCELLED") >= 0;
        if (done == ORDERS)
            break;
        test_sleep_ms(20);
    }
    json_t *events = json_object_get(st, "events");
    for (int k = 0; k < ORDERS; k++) {
        long paid = arrival(events, ids[k], "ORDER_PAID");
        long cancelled = arrival(events, ids[k], "ORDER_CANCELLED");
        if (paid < 0 || cancelled < 0 || paid > cancelled)
            fail_msg("order %lld: ORDER_PAID at %ld, ORDER_CANCELLED at %ld", ids[k], paid,
                     cancelled);
    }
    json_decref(st);
    test_server_stop(&a);
    test_server_stop(&b);
}

static int64_t outbox_pending(void)
{
    return test_db_scalar(&db, "SELECT count(*) FROM outbox_events WHERE status = '%s'", "PENDING");
}

static void two_relays__every_event_delivered_none_twice(void **state)
{
    (void)state;
    struct test_server a, b;
    start_server(&a, 20);
    start_server(&b, 20);
    long long p = test_new_product(a.base, "two", 10, 1000);
    long long u = test_new_funded_user(a.base, "two", 100000);
    struct test_resp r;
    json_t *initial = test_platform_state(&platform);
    size_t before = json_array_size(json_object_get(initial, "events"));
    json_decref(initial);
    enum { ORDERS = 60 };
    for (int i = 0; i < ORDERS; i++) {
        struct test_server *s = i % 2 ? &a : &b;
        char body[160], key[32];
        test_order_body(body, sizeof(body), u, p, 1, 0);
        snprintf(key, sizeof(key), "two-%d", i);
        assert_int_equal(test_post_order(s->base, u, key, body, &r), 0);
        assert_int_equal(r.status, 201);
        test_resp_free(&r);
    }
    size_t stored = test_platform_wait_events(&platform, before + ORDERS, 10000);
    assert_int_equal(stored, before + ORDERS);
    test_sleep_ms(300); /* anything sent twice would show up now */
    json_t *st = test_platform_state(&platform);
    assert_int_equal(json_array_size(json_object_get(st, "events")), before + ORDERS);
    /* SKIP LOCKED claims: no event was even sent twice (the platform counts re-sends) */
    assert_int_equal(json_integer_value(json_object_get(st, "duplicates")), 0);
    json_decref(st);
    /* and the database agrees: nothing left to send */
    for (int i = 0; i < 100 && outbox_pending() > 0; i++)
        test_sleep_ms(20);
    assert_int_equal(outbox_pending(), 0);
    test_server_stop(&a);
    test_server_stop(&b);
}

/* migration 0012: the outbox, a queue, is vacuumed after every 1,000 dead rows, without pauses */
static void outbox_table__vacuumed_after_every_1000_dead_rows(void **state)
{
    (void)state;
    assert_int_equal(test_db_scalar(&db, "SELECT count(*) FROM pg_class c, unnest(c.reloptions) o"
                                         " WHERE c.relname = 'outbox_events' AND o IN ("
                                         "'autovacuum_vacuum_scale_factor=0',"
                                         " 'autovacuum_vacuum_threshold=1000',"
                                         " 'autovacuum_vacuum_cost_delay=0')"),
                     3);
}

static int setup(void **state)
{
    (void)state;
    test_http_global_init();
    test_db_create(&db, "outbox");
    test_platform_start(&platform);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_platform_stop(&platform);
    test_db_drop(&db);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paid_order__event_delivered_with_the_order),
        cmocka_unit_test(platform_down__order_succeeds_event_waits_then_arrives_once),
        cmocka_unit_test(permanent_refusal__parked_until_requeued),
        cmocka_unit_test(two_relays__each_orders_events_arrive_in_order),
        cmocka_unit_test(two_relays__every_event_delivered_none_twice),
        cmocka_unit_test(outbox_table__vacuumed_after_every_1000_dead_rows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
