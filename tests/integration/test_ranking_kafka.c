/*
 * test_ranking_kafka.c — the Redis ranking kept by the ranking consumer from
 * shop.order.events (devkafka from scripts/stack). Two servers share one
 * database and one Redis namespace: the "taker" takes the orders and runs the
 * relay but no consumer; the "ranker" takes no orders and runs only the
 * ranking consumer. So with Kafka the request path does no ranking work (the
 * day's sorted set stays empty until the ranker runs), the consumer brings
 * Redis to PostgreSQL's product_sales_daily, duplicated and replayed events
 * count once, a malformed event is dead-lettered while later events of
 * its partition are still applied, and while Redis is away the consumer
 * waits (KAFKA_WAIT: nothing dead-lettered, nothing skipped) and applies
 * every event of the outage once Redis is back. Stops and starts the stack's
 * Redis.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <hiredis/hiredis.h>

#include "infra/kafka_producer.h"
#include "support/test_db.h"
#include "support/test_fixtures.h"
#include "support/test_http.h"
#include "support/test_server.h"
#include "support/test_proc.h"

/* librdkafka settings for the mock cluster: fast reconnects and group joins (not product ones) */
#define TEST_KAFKA_PROPS                                                                           \
    "reconnect.backoff.ms=10,reconnect.backoff.max.ms=100,session.timeout.ms=3000,"                \
    "heartbeat.interval.ms=100,auto.commit.interval.ms=100,fetch.wait.max.ms=50,"                  \
    "topic.metadata.refresh.interval.ms=1000"

enum { WAIT_STEPS = 1500, STEP_MS = 20 }; /* bounded waits: 30 s */

static struct test_db db;
static struct test_server taker, ranker;
static bool taker_up, ranker_up;
static const char *brokers;
static struct kafka_producer *producer; /* the test's own, for crafted records */
static char group_prefix[64];

static void start(struct test_server *srv, bool *up, bool ranking)
{
    struct config cfg;
    test_server_config(&cfg, db.url);
    snprintf(cfg.kafka_brokers, sizeof(cfg.kafka_brokers), "%s", brokers);
    snprintf(cfg.kafka_properties, sizeof(cfg.kafka_properties), "%s", TEST_KAFKA_PROPS);
    snprintf(cfg.kafka_group_prefix, sizeof(cfg.kafka_group_prefix), "%s", group_prefix);
    cfg.kafka_message_timeout_ms = 1500;
    cfg.consumers = ranking ? CONFIG_CONSUMER_RANKING : 0;
    cfg.outbox_relay = !ranking; /* only the taker publishes */
    cfg.outbox_poll_ms = 50;
    cfg.outbox_backoff_ms = 1;
    test_server_start(srv, &cfg);
    *up = true;
}

static long long new_product(void)
{
    return test_new_product(taker.base, "rk", 10, 100000);
}

static long long order(long long u, long long p, long long q)
{
    static int seq;
    char body[160], key[64];
    test_order_body(body, sizeof(body), u, p, q, 0);
    snprintf(key, sizeof(key), "rk-%ld-%d", (long)getpid(), seq++);
    struct test_resp r;
    assert_int_equal(test_post_order(taker.base, u, key, body, &r), 0);
    assert_int_equal(r.status, 201);
    long long id = test_resp_int(&r, "id");
    test_resp_free(&r);
    return id;
}

/* The buyer of the last place_orders (who may read and cancel its orders). */
static long long buyer;

/* A funded user who buys quantity q of product p in each of n orders (through the taker). */
static void place_orders(long long p, long long q, int n, long long *ids)
{
    long long u = test_new_funded_user(taker.base, "rk", 1000000);
    buyer = u;
    for (int i = 0; i < n; i++)
        ids[i] = order(u, p, q);
}

/* Cancels order id of the last place_orders, as its buyer. */
static void cancel(long long id)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/orders/%lld/cancel", id);
    struct test_resp r;
    test_call_as(taker.base, "POST", path, NULL, buyer, &r);
    assert_int_equal(r.status, 200);
    test_resp_free(&r);
}

/* PostgreSQL's units of p on its (single) sales day, and that day as text. */
static long long pg_sold(long long p, char day[11])
{
    char sql[160];
    snprintf(sql, sizeof(sql),
             "SELECT day::text, quantity FROM product_sales_daily WHERE product_id = %lld", p);
    PGresult *r = test_db_query(&db, sql);
    assert_int_equal(PQntuples(r), 1);
    snprintf(day, 11, "%s", PQgetvalue(r, 0, 0));
    long long q = atoll(PQgetvalue(r, 0, 1));
    PQclear(r);
    return q;
}

/* Redis's score of p in day's sorted set; -1 when absent. */
static long long redis_sold(long long p, const char *day)
{
    const char *url = test_redis_url();
    int port = 6379;
    sscanf(strrchr(url, ':') + 1, "%d", &port);
    redisContext *c = redisConnect("127.0.0.1", port);
    assert_non_null(c);
    redisReply *r = redisCommand(c, "ZSCORE %s:rank:{%s} %lld", taker.cfg.redis_namespace, day, p);
    long long v = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : -1;
    freeReplyObject(r);
    redisFree(c);
    return v;
}

/* Waits (bounded) until Redis's score of p equals PostgreSQL's units; returns Redis's. */
static long long await_converged(long long p)
{
    char day[11];
    long long want = pg_sold(p, day), got = -1;
    for (int t = 0; t < WAIT_STEPS && (got = redis_sold(p, day)) != want; t++)
        test_sleep_ms(STEP_MS);
    return got;
}

/* Produces value to shop.order.events with key = order (same partition as its events). */
static void produce(long long order, const char *value)
{
    char key[24];
    snprintf(key, sizeof(key), "%lld", order);
    struct kafka_record rec = {.topic = "shop.order.events",
                               .key = key,
                               .key_len = strlen(key),
                               .value = value,
                               .len = strlen(value)};
    struct err e;
    err_clear(&e);
    if (kafka_produce(producer, &rec, NULL, &e) != ERR_OK ||
        kafka_producer_flush(producer, 10000, &e) != ERR_OK)
        fail_msg("produce: %s", e.detail);
}

/*
 * A copy of the ORDER_PAID event of order, rebuilt from the order as the API
 * shows it (delivered outbox rows are deleted): what the ranking reads of an
 * event is the same (malloc'd).
 */
static char *paid_event_of(long long order)
{
    char path[64];
    snprintf(path, sizeof(path), "/api/v1/orders/%lld", order);
    struct test_resp r;
    test_call_as(taker.base, "GET", path, NULL, buyer, &r);
    assert_int_equal(r.status, 200);
    json_t *o = json_loads(r.body, 0, NULL);
    test_resp_free(&r);
    assert_non_null(o);
    char event_id[64];
    snprintf(event_id, sizeof(event_id), "rk-copy-%ld-%lld", (long)getpid(), order);
    json_t *ev = json_pack("{s:s, s:s, s:O, s:o}", "event_id", event_id, "type", "ORDER_PAID",
                           "occurred_at", json_object_get(o, "created_at"), "order", o);
    assert_non_null(ev);
    char *text = json_dumps(ev, JSON_COMPACT);
    json_decref(ev);
    return text;
}

/* Count of outbox rows of orders [from, to] not yet delivered (delivered rows are deleted). */
static long long undelivered(long long from, long long to)
{
    return test_db_scalar(&db,
                          "SELECT count(*) FROM outbox_events WHERE aggregate_id BETWEEN %lld"
                          " AND %lld",
                          from, to);
}

static void with_kafka__request_path_does_no_ranking_work__consumer_applies_the_sales(void **state)
{
    (void)state;
    long long p = new_product(), ids[5];
    place_orders(p, 2, 5, ids);
    cancel(ids[0]);
    /* every event published (the relay ran after each commit)... */
    for (int t = 0; t < WAIT_STEPS && undelivered(ids[0], ids[4]) != 0; t++)
        test_sleep_ms(STEP_MS);
    assert_int_equal(undelivered(ids[0], ids[4]), 0);
    /* ...and yet no ranking in Redis: the request threads did no ranking work */
    char day[11];
    assert_int_equal(pg_sold(p, day), 8);
    test_sleep_ms(300);
    assert_int_equal(redis_sold(p, day), -1);

    /* the ranking consumer (another instance) brings Redis to PostgreSQL */
    start(&ranker, &ranker_up, true);
    assert_int_equal(await_converged(p), 8);
    assert_true(test_metric(ranker.base, "shopd_kafka_ranking_lag") >= 0);
    assert_int_equal(test_metric(taker.base, "shopd_kafka_ranking_lag"), -1); /* not run there */

    /* and the taker's popular endpoint shows it */
    struct test_resp r;
    test_call(taker.base, "GET", "/api/v1/products/popular?days=1&limit=100", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    json_t *doc = json_loads(r.body, 0, NULL);
    json_t *items = json_is_array(doc) ? doc : json_object_get(doc, "items");
    long long sold = -1;
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *it = json_array_get(items, i);
        if (json_integer_value(json_object_get(it, "id")) == p)
            sold = json_integer_value(json_object_get(it, "sold"));
    }
    json_decref(doc);
    test_resp_free(&r);
    assert_int_equal(sold, 8);
}

static void duplicated_and_replayed_events__counted_once(void **state)
{
    (void)state;
    long long p = new_product(), ids[3];
    place_orders(p, 3, 3, ids);
    assert_int_equal(await_converged(p), 9);

    /* the same ORDER_PAID three more times (a relay crash before its outcome, a redelivery) */
    char *paid = paid_event_of(ids[1]);
    for (int i = 0; i < 3; i++)
        produce(ids[1], paid);
    cancel(ids[1]); /* its ORDER_CANCELLED follows the copies in the partition */
    assert_int_equal(await_converged(p), 6);

    /* an old event replayed after the cancel neither counts again nor goes back: a sentinel
       of the same key, behind it in the partition, proves the consumer got past it */
    produce(ids[1], paid);
    free(paid);
    long long s = new_product();
    char sql[200];
    snprintf(sql, sizeof(sql),
             "INSERT INTO product_sales_daily (day, product_id, quantity)"
             " VALUES ((now() AT TIME ZONE 'UTC')::date, %lld, 7)",
             s); /* behind shopd's back: only the sentinel's copy can bring it to Redis */
    PQclear(test_db_query(&db, sql));
    char sentinel[320], created[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
    snprintf(
        sentinel, sizeof(sentinel),
        "{\"event_id\":\"rk-sentinel-%ld-%lld\",\"type\":\"ORDER_PAID\",\"occurred_at\":\"%s\","
        "\"order\":{\"id\":%lld,\"items\":[{\"product_id\":%lld,\"quantity\":7}],"
        "\"created_at\":\"%s\"}}",
        (long)getpid(), s, created, ids[1], s, created);
    produce(ids[1], sentinel);
    assert_int_equal(await_converged(s), 7);
    char day[11];
    assert_int_equal(pg_sold(p, day), 6);
    assert_int_equal(redis_sold(p, day), 6);
}

static void malformed_event__dead_lettered__later_events_still_applied(void **state)
{
    (void)state;
    long long p = new_product(), ids[2];
    place_orders(p, 1, 2, ids);
    assert_int_equal(await_converged(p), 2);
    long long dlq0 = test_metric(ranker.base, "shopd_kafka_ranking_dlq");
    assert_true(dlq0 >= 0);
    /* ahead of the order's cancel in its partition: an event without created_at, and one whose
       product id is not a number. Both carry an event_id: every group of the shared topic reads
       them, and the data platform (test_outbox_kafka's sink) must accept them, not refuse them
       (non-JSON values are covered by tests/unit/test_ranking_event.c) */
    char bad[256];
    snprintf(bad, sizeof(bad),
             "{\"event_id\":\"rk-bad-%ld-%ld-1\",\"type\":\"ORDER_PAID\","
             "\"order\":{\"id\":%lld,\"items\":[{\"product_id\":%lld}]}}",
             (long)getpid(), (long)time(NULL), ids[0], p);
    produce(ids[0], bad);
    snprintf(bad, sizeof(bad),
             "{\"event_id\":\"rk-bad-%ld-%ld-2\",\"type\":\"ORDER_CANCELLED\","
             "\"order\":{\"id\":%lld,\"items\":[{\"product_id\":\"%lld\"}],"
             "\"created_at\":\"2026-01-01T00:00:00Z\"}}",
             (long)getpid(), (long)time(NULL), ids[0], p);
    produce(ids[0], bad);
    cancel(ids[0]);
    assert_int_equal(await_converged(p), 1);
    for (int t = 0;
         t < WAIT_STEPS && test_metric(ranker.base, "shopd_kafka_ranking_dlq") < dlq0 + 2; t++)
        test_sleep_ms(STEP_MS);
    /* >=: on a stack reused by earlier runs, the new group also dead-letters their records */
    assert_true(test_metric(ranker.base, "shopd_kafka_ranking_dlq") >= dlq0 + 2);
    /* and what comes after still flows */
    long long later[1];
    place_orders(p, 4, 1, later);
    assert_int_equal(await_converged(p), 5);
}

/* Waits (bounded) until the outbox rows of orders ids[0..n) are all delivered; false if not. */
static bool await_published(const long long *ids, int n)
{
    char list[512] = "";
    for (int i = 0; i < n; i++)
        snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%lld", i ? "," : "", ids[i]);
    for (int t = 0; t < WAIT_STEPS; t++) {
        if (test_db_scalar(&db, "SELECT count(*) FROM outbox_events WHERE aggregate_id IN (%s)",
                           list) == 0)
            return true;
        test_sleep_ms(STEP_MS);
    }
    return false;
}

static int redis_back(void **state)
{
    (void)state;
    test_stack("redis-start"); /* after a failure mid-outage; a no-op when it runs */
    return 0;
}

static void redis_down__consumer_waits__then_applies_every_event_none_dead_lettered(void **state)
{
    (void)state;
    /* N orders of N distinct products: each product's score depends on its own event only
       (a copy brings the product's PostgreSQL total, so a lost event shows as a missing score) */
    enum { N = 8 };
    long long p[N], ids[N];
    for (int i = 0; i < N; i++)
        p[i] = new_product();
    long long u = test_new_funded_user(taker.base, "rk", 1000000);
    /* the ranker has caught up with everything before (old runs' poison included) */
    for (int t = 0; t < WAIT_STEPS && test_metric(ranker.base, "shopd_kafka_ranking_lag") != 0; t++)
        test_sleep_ms(STEP_MS);
    assert_int_equal(test_metric(ranker.base, "shopd_kafka_ranking_lag"), 0);
    long long dlq0 = test_metric(ranker.base, "shopd_kafka_ranking_dlq");
    assert_true(dlq0 >= 0);

    assert_int_equal(test_stack("redis-stop"), 0);
    /* the order path needs no Redis: orders are taken and their events published */
    for (int i = 0; i < N; i++)
        ids[i] = order(u, p[i], i + 1);
    assert_true(await_published(ids, N));
    /* the ranker has them and holds them (its lag counts them) */
    for (int t = 0; t < WAIT_STEPS && test_metric(ranker.base, "shopd_kafka_ranking_lag") < 1; t++)
        test_sleep_ms(STEP_MS);
    assert_true(test_metric(ranker.base, "shopd_kafka_ranking_lag") >= 1);
    /* an outage outlasting the retry budget (5 attempts, 100+200+400+800 ms of backoff): a
       consumer that took it for a failure of the events would dead-letter them meanwhile */
    for (int t = 0; t < 200; t++) { /* 4 s */
        assert_int_equal(test_metric(ranker.base, "shopd_kafka_ranking_dlq"), dlq0);
        test_sleep_ms(STEP_MS);
    }
    assert_int_equal(test_stack("redis-start"), 0);

    /* Redis came back empty (or as it was): every sale of the outage gets there, once */
    for (int i = 0; i < N; i++)
        assert_int_equal(await_converged(p[i]), i + 1);
    for (int t = 0; t < WAIT_STEPS && test_metric(ranker.base, "shopd_kafka_ranking_lag") != 0; t++)
        test_sleep_ms(STEP_MS);
    assert_int_equal(test_metric(ranker.base, "shopd_kafka_ranking_lag"), 0);
    assert_int_equal(test_metric(ranker.base, "shopd_kafka_ranking_dlq"), dlq0);
    /* and the consumer goes on: a later sale is applied too */
    long long later = order(u, p[0], 10);
    assert_true(await_published(&later, 1));
    assert_int_equal(await_converged(p[0]), 11);
}

static int setup(void **state)
{
    (void)state;
    brokers = getenv("SHOPD_TEST_KAFKA_BROKERS");
    if (!brokers || !*brokers) {
        fprintf(stderr, "test_ranking_kafka: SHOPD_TEST_KAFKA_BROKERS is not set (devkafka)\n");
        exit(1); /* never a silent pass without Kafka */
    }
    snprintf(group_prefix, sizeof(group_prefix), "rk-%ld-%ld", (long)getpid(), (long)time(NULL));
    test_http_global_init();
    test_db_create(&db, "ranking_kafka");
    static const char *const extra[] = {"linger.ms=1", NULL};
    struct err e;
    err_clear(&e);
    producer =
        kafka_producer_new(&(struct kafka_producer_config){.brokers = brokers, .extra = extra}, &e);
    if (!producer)
        fail_msg("producer: %s", e.detail);
    start(&taker, &taker_up, false);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    if (ranker_up)
        test_server_stop(&ranker);
    if (taker_up)
        test_server_stop(&taker);
    kafka_producer_free(producer, 1000);
    test_db_drop(&db);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(with_kafka__request_path_does_no_ranking_work__consumer_applies_the_sales),
        cmocka_unit_test(duplicated_and_replayed_events__counted_once),
        cmocka_unit_test(malformed_event__dead_lettered__later_events_still_applied),
        cmocka_unit_test_teardown(
            redis_down__consumer_waits__then_applies_every_event_none_dead_lettered, redis_back),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
