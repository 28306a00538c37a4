/*
 * test_outbox_kafka.c — the event path with Kafka (devkafka from scripts/stack):
 * outbox rows reach shop.order.events keyed by order with their headers and
 * in order per order; with every broker down orders still succeed and their
 * events wait in the outbox (attempts growing) until the brokers are back,
 * then reach the data platform through the dataplatform-sink consumer, none
 * lost; a platform outage makes the sink wait (nothing dead-lettered); an
 * event the platform refuses goes to the DLQ and the rest flow on.
 */
#include <pthread.h>
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

#include "infra/kafka_consumer.h"
#include "support/test_db.h"
#include "support/test_fixtures.h"
#include "support/test_http.h"
#include "support/test_kafka_env.h"
#include "support/test_platform.h"
#include "support/test_server.h"
#include "support/test_proc.h"

static struct test_db db;
static struct test_server server; /* the test's; stopped by stop_server even on failure */
static struct test_platform platform;
static const char *brokers;

/* Test teardown: the test's server must not outlive it, even when an assertion failed. */
static int stop_server(void **state)
{
    (void)state;
    test_server_stop_if_started(&server);
    return 0;
}

/* The producer's message timeout of the next start_server: short, an outage is reported quickly. */
static unsigned message_timeout_ms = 1500;
/* Events per POST to the data platform of the next start_server (SHOPD_DATAPLATFORM_BATCH). */
static unsigned dataplatform_batch = 1;

/* Starts the test's server publishing to Kafka; with_sink: it also runs the dataplatform-sink. */
static void start_server(bool with_sink, const char *group_prefix)
{
    struct config cfg;
    test_kafka_server_config(&cfg, db.url, group_prefix);
    snprintf(cfg.dataplatform_url, sizeof(cfg.dataplatform_url), "%s", platform.url);
    cfg.kafka_message_timeout_ms = message_timeout_ms;
    cfg.dataplatform_batch = dataplatform_batch;
    cfg.consumers = with_sink ? CONFIG_CONSUMER_DATAPLATFORM_SINK : 0;
    cfg.outbox_poll_ms = 50;
    cfg.outbox_backoff_ms = 1;
    cfg.dataplatform_timeout_ms = 2000;
    test_server_start(&server, &cfg);
}

/*
 * The product name of the last place_orders: unique to this run, so events
 * of this run are told from other databases' (order ids repeat across test
 * databases; the topic outlives them, and delivered outbox rows are deleted).
 */
static char product_name[64];
/* The buyer of the last place_orders (who may cancel its orders). */
static long long buyer;

/* A funded user who places n one-line orders of a new product; ids[] gets the order ids. */
static void place_orders(struct test_server *srv, const char *tag, int n, long long *ids)
{
    snprintf(product_name, sizeof(product_name), "kf-%ld-%s-%ld", (long)getpid(), tag,
             (long)time(NULL));
    long long p = test_new_product(srv->base, product_name, 10, 100000);
    long long u = test_new_funded_user(srv->base, "kf", 1000000);
    buyer = u;
    for (int i = 0; i < n; i++) {
        char body[160], key[96];
        test_order_body(body, sizeof(body), u, p, 1, 0);
        snprintf(key, sizeof(key), "%s-%d", tag, i);
        struct test_resp r;
        assert_int_equal(test_post_order(srv->base, u, key, body, &r), 0);
        assert_int_equal(r.status, 201);
        ids[i] = test_resp_int(&r, "id");
        test_resp_free(&r);
    }
}

/* Cancels order id as its buyer (that of the last place_orders). */
static void cancel(struct test_server *srv, long long id)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/orders/%lld/cancel", id);
    struct test_resp r;
    test_call_as(srv->base, "POST", path, NULL, buyer, &r);
    assert_int_equal(r.status, 200);
    test_resp_free(&r);
}

/* ---- reading shop.order.events as a test consumer ---- */

enum { SEEN_MAX = 4096 };
struct seen {
    pthread_mutex_t mu;
    size_t n;
    struct {
        long long order;
        char type[24];
        char event_id[40];
        char product[64]; /* the name of the order's first line */
        int32_t partition;
        int64_t offset;
        bool key_ok, headers_ok;
    } items[SEEN_MAX];
};

/* The string value of header name in m, copied into buf ("" when absent). */
static const char *header(const struct kafka_message *m, const char *name, char *buf, size_t cap)
{
    buf[0] = '\0';
    for (size_t i = 0; i < m->n_headers; i++)
        if (strcmp(m->headers[i].name, name) == 0 && m->headers[i].value)
            snprintf(buf, cap, "%.*s", (int)m->headers[i].len, (const char *)m->headers[i].value);
    return buf;
}

static enum kafka_handled collect(void *ctx, const struct kafka_message *m, struct err *e)
{
    (void)e;
    struct seen *s = ctx;
    json_t *ev = json_loadb(m->value, m->len, 0, NULL);
    long long order = json_integer_value(json_object_get(json_object_get(ev, "order"), "id"));
    const char *type = json_string_value(json_object_get(ev, "type"));
    const char *event_id = json_string_value(json_object_get(ev, "event_id"));
    char key[32], h_id[64], h_type[32];
    snprintf(key, sizeof(key), "%lld", order);
    pthread_mutex_lock(&s->mu);
    if (s->n < SEEN_MAX) {
        s->items[s->n].order = order;
        snprintf(s->items[s->n].type, sizeof(s->items[s->n].type), "%s", type ? type : "");
        snprintf(s->items[s->n].event_id, sizeof(s->items[s->n].event_id), "%s",
                 event_id ? event_id : "");
        const char *name = json_string_value(json_object_get(
            json_array_get(json_object_get(json_object_get(ev, "order"), "items"), 0), "name"));
        snprintf(s->items[s->n].product, sizeof(s->items[s->n].product), "%s", name ? name : "");
        s->items[s->n].partition = m->partition;
        s->items[s->n].offset = m->offset;
        s->items[s->n].key_ok =
            m->key && m->key_len == strlen(key) && memcmp(m->key, key, m->key_len) == 0;
        s->items[s->n].headers_ok =
            event_id && type && strcmp(header(m, "event_id", h_id, sizeof(h_id)), event_id) == 0 &&
            strcmp(header(m, "event_type", h_type, sizeof(h_type)), type) == 0;
        s->n++;
    }
    pthread_mutex_unlock(&s->mu);
    json_decref(ev);
    return KAFKA_DONE;
}

/* Index in s of this run's event of type for order (see product_name); -1: none. Caller holds
 * s->mu. */
static long find(const struct seen *s, long long order, const char *type)
{
    for (size_t i = 0; i < s->n; i++)
        if (s->items[i].order == order && strcmp(s->items[i].type, type) == 0 &&
            strcmp(s->items[i].product, product_name) == 0)
            return (long)i;
    return -1;
}

static void events_in_kafka__keyed_by_order_with_headers_in_order(void **state)
{
    (void)state;
    start_server(false, "kf-order");
    enum { N = 30 };
    long long ids[N];
    place_orders(&server, "kf-a", N, ids);
    for (int i = 0; i < N; i += 2)
        cancel(&server, ids[i]);

    static struct seen seen;
    memset(&seen, 0, sizeof(seen));
    pthread_mutex_init(&seen.mu, NULL);
    char group[64];
    snprintf(group, sizeof(group), "test-reader-%ld", (long)getpid());
    struct test_kafka_reader reader; /* collect never dead-letters */
    test_kafka_reader_start(&reader, group, "shop.order.events", collect, &seen,
                            "shop.order.events.dlq");
    int expected = N + N / 2;
    for (int t = 0; t < 1500; t++) {
        pthread_mutex_lock(&seen.mu);
        int found = 0;
        for (int i = 0; i < N; i++)
            found += (find(&seen, ids[i], "ORDER_PAID") >= 0) +
                     (i % 2 == 0 && find(&seen, ids[i], "ORDER_CANCELLED") >= 0);
        pthread_mutex_unlock(&seen.mu);
        if (found == expected)
            break;
        test_sleep_ms(20);
    }
    test_kafka_reader_stop(&reader);
    for (int i = 0; i < N; i++) {
        long paid = find(&seen, ids[i], "ORDER_PAID");
        long cancelled = find(&seen, ids[i], "ORDER_CANCELLED");
        if (paid < 0 || (i % 2 == 0 && cancelled < 0))
            fail_msg("order %lld: events missing from Kafka", ids[i]);
        assert_true(seen.items[paid].key_ok);
        assert_true(seen.items[paid].headers_ok);
        if (cancelled >= 0) { /* same partition (the key), later offset */
            assert_int_equal(seen.items[cancelled].partition, seen.items[paid].partition);
            assert_true(seen.items[cancelled].offset > seen.items[paid].offset);
            assert_true(seen.items[cancelled].headers_ok);
        }
    }
    pthread_mutex_destroy(&seen.mu);
    /* every row deleted as delivered, from its delivery report */
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT count(*) FROM outbox_events"
                                    " WHERE aggregate_id BETWEEN %lld AND %lld",
                                    ids[0], ids[N - 1]),
                     0);
    stop_server(NULL);
}

/* Orders of ids[] (one-line orders of the product called name) whose ORDER_PAID the platform
 * stored. */
static int delivered_of(const char *name_wanted, const long long *ids, int n)
{
    json_t *st = test_platform_state(&platform);
    json_t *events = json_object_get(st, "events");
    int count = 0;
    for (int i = 0; i < n; i++) {
        for (size_t k = 0; k < json_array_size(events); k++) {
            json_t *ev = json_array_get(events, k), *order = json_object_get(ev, "order");
            const char *type = json_string_value(json_object_get(ev, "type"));
            const char *name = json_string_value(
                json_object_get(json_array_get(json_object_get(order, "items"), 0), "name"));
            if (json_integer_value(json_object_get(order, "id")) == ids[i] && type &&
                strcmp(type, "ORDER_PAID") == 0 && name && strcmp(name, name_wanted) == 0) {
                count++;
                break;
            }
        }
    }
    json_decref(st);
    return count;
}

/* Orders of ids[] of the last place_orders whose ORDER_PAID the platform stored. */
static int delivered(const long long *ids, int n)
{
    return delivered_of(product_name, ids, n);
}

static void brokers_down__orders_succeed__events_wait__then_all_reach_the_platform(void **state)
{
    (void)state;
    start_server(true, "kf-down");
    assert_int_equal(test_stack("kafka down all"), 0);
    enum { N = 20 };
    long long ids[N];
    place_orders(&server, "kf-b", N, ids); /* every one 201 with no broker up */
    /* the events wait in the outbox, attempts growing (the old relay gave up after 10) */
    for (int t = 0; t < 1000; t++) {
        if (test_db_scalar(&db,
                           "SELECT count(*) FROM outbox_events WHERE aggregate_id BETWEEN %lld"
                           " AND %lld AND status = 'PENDING' AND attempts >= 3",
                           ids[0], ids[N - 1]) == N)
            break;
        test_sleep_ms(20);
    }
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT count(*) FROM outbox_events WHERE aggregate_id BETWEEN"
                                    " %lld AND %lld AND status = 'PENDING' AND attempts >= 3",
                                    ids[0], ids[N - 1]),
                     N);
    assert_int_equal(delivered(ids, N), 0);
    assert_int_equal(test_stack("kafka up all"), 0);
    for (int t = 0; t < 1500 && delivered(ids, N) < N; t++)
        test_sleep_ms(20);
    assert_int_equal(delivered(ids, N), N); /* none lost (duplicates dropped by the platform) */
    stop_server(NULL);
}

static void platform_down__sink_waits_without_dead_lettering__refusal__dead_lettered(void **state)
{
    (void)state;
    start_server(true, "kf-sink");
    test_platform_fail(&platform, true);
    enum { N = 5 };
    long long ids[N];
    place_orders(&server, "kf-c", N, ids);
    test_sleep_ms(3000); /* far past the consumer's retry budget: an outage is not a poison */
    assert_int_equal(delivered(ids, N), 0);
    assert_int_equal(test_metric(server.base, "shopd_kafka_dataplatform_sink_dlq"), 0);
    test_platform_fail(&platform, false);
    for (int t = 0; t < 1500 && delivered(ids, N) < N; t++)
        test_sleep_ms(20);
    assert_int_equal(delivered(ids, N), N);
    /* the lag of every partition of the sink's group is exposed */
    struct test_resp mr;
    test_call(server.base, "GET", "/metrics", NULL, 0, &mr);
    assert_non_null(strstr(mr.body, "shopd_kafka_consumer_lag{group=\"kf-sink.dataplatform-sink\","
                                    "topic=\"shop.order.events\",partition=\""));
    test_resp_free(&mr);

    /* a refusal of the event itself: dead-lettered, and what follows still flows (first let
       the sink catch up with what earlier tests left in the topic: it would be refused too) */
    for (int t = 0; t < 1500 && test_metric(server.base, "shopd_kafka_dataplatform_sink_lag") != 0;
         t++)
        test_sleep_ms(20);
    test_platform_reject(&platform, true);
    long long refused[1];
    place_orders(&server, "kf-d", 1, refused);
    for (int t = 0; t < 1500 && test_metric(server.base, "shopd_kafka_dataplatform_sink_dlq") < 1;
         t++)
        test_sleep_ms(20);
    assert_true(test_metric(server.base, "shopd_kafka_dataplatform_sink_dlq") >= 1);
    test_platform_reject(&platform, false);
    long long later[1];
    place_orders(&server, "kf-e", 1, later);
    for (int t = 0; t < 1500 && delivered(later, 1) < 1; t++)
        test_sleep_ms(20);
    assert_int_equal(delivered(later, 1), 1);
    assert_int_equal(delivered(refused, 1), 0);
    stop_server(NULL);
}

static int setup(void **state)
{
    (void)state;
    brokers = test_kafka_brokers();
    test_http_global_init();
    test_db_create(&db, "outbox_kafka");
    test_platform_start(&platform);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_stack("kafka up all");
    test_platform_stop(&platform);
    test_db_drop(&db);
    return 0;
}

/*
 * Delivery reports that come after the relay's in-transaction wait (2 s; here
 * the producer keeps retrying for 6 s): the rows are leased, and the late
 * reports delete them behind the fence — long before the lease would let
 * another claim send them again.
 */
static void slow_delivery__rows_leased__late_reports_recorded(void **state)
{
    (void)state;
    message_timeout_ms = 6000;
    start_server(true, "kf-slow");
    message_timeout_ms = 1500;
    assert_int_equal(test_stack("kafka down all"), 0);
    enum { N = 5 };
    long long ids[N];
    place_orders(&server, "kf-d", N, ids);
    /* the first batch leased: one attempt counted, not due again before the producer's timeout
       has passed (the relay waits for its late reports; later orders wait unclaimed meanwhile) */
    long long leased = 0;
    for (int t = 0; t < 500 && leased == 0; t++) {
        leased = test_db_scalar(&db,
                                "SELECT count(*) FROM outbox_events WHERE aggregate_id BETWEEN %lld"
                                " AND %lld AND attempts = 1"
                                " AND next_attempt_at > now() + interval '6 s'",
                                ids[0], ids[N - 1]);
        if (leased == 0)
            test_sleep_ms(20);
    }
    assert_true(leased > 0);
    assert_int_equal(test_stack("kafka up all"), 0); /* within the producer's 6 s */
    /* the late reports delete the leased rows (the lease had ~15 s to go, so no second claim
       was possible before); the rest follow in the next batch */
    for (int t = 0; t < 400; t++) {
        if (test_db_scalar(&db,
                           "SELECT count(*) FROM outbox_events WHERE aggregate_id BETWEEN"
                           " %lld AND %lld",
                           ids[0], ids[N - 1]) == 0)
            break;
        test_sleep_ms(20);
    }
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT count(*) FROM outbox_events WHERE aggregate_id BETWEEN"
                                    " %lld AND %lld",
                                    ids[0], ids[N - 1]),
                     0);
    for (int t = 0; t < 1500 && delivered(ids, N) < N; t++)
        test_sleep_ms(20);
    assert_int_equal(delivered(ids, N), N);
    stop_server(NULL);
}

/*
 * SHOPD_DATAPLATFORM_BATCH: the sink POSTs JSON arrays of events. A record the
 * platform refuses, in the middle of a batch, makes the sink send that batch
 * one by one: only the refused record is dead-lettered, everything else of
 * the batch is delivered.
 */
static void batched_posts__all_delivered__a_refused_record_alone_dead_lettered(void **state)
{
    (void)state;
    /* this run's events and a refused record in the topic before the sink reads it */
    start_server(false, "kf-batch-relay");
    enum { N = 30 };
    long long ids[N];
    place_orders(&server, "kf-f", N / 2, ids);
    char first[sizeof(product_name)];
    snprintf(first, sizeof(first), "%s", product_name);
    /* no event_id: the platform refuses it (400); not a sale: other groups just pass it */
    const char *refused = "{\"type\":\"ORDER_NOTE\",\"note\":\"refused by the platform\"}";
    struct err e;
    err_clear(&e);
    static const char *const extra[] = {"topic.metadata.refresh.interval.ms=1000", NULL};
    struct kafka_producer *producer =
        kafka_producer_new(&(struct kafka_producer_config){.brokers = brokers, .extra = extra}, &e);
    assert_non_null(producer);
    /* one refused record: the batch it lands in is resent one by one, the others are not */
    struct kafka_record rec = {.topic = "shop.order.events",
                               .key = "note",
                               .key_len = 4,
                               .value = refused,
                               .len = strlen(refused)};
    if (kafka_produce(producer, &rec, NULL, &e) != ERR_OK)
        fail_msg("produce: %s", e.detail);
    if (kafka_producer_flush(producer, 10000, &e) != ERR_OK)
        fail_msg("flush: %s", e.detail);
    kafka_producer_free(producer, 1000);
    place_orders(&server, "kf-g", N / 2, ids + N / 2);
    for (int t = 0; t < 500 && test_db_scalar(&db, "%s", "SELECT count(*) FROM outbox_events"); t++)
        test_sleep_ms(20);
    assert_int_equal(test_db_scalar(&db, "%s", "SELECT count(*) FROM outbox_events"), 0);
    stop_server(NULL);

    /* a new group reads the whole topic in batches of up to 50 */
    json_t *st = test_platform_state(&platform);
    long long received0 = json_integer_value(json_object_get(st, "received"));
    long long posts0 = json_integer_value(json_object_get(st, "posts"));
    json_decref(st);
    dataplatform_batch = 50;
    start_server(true, "kf-batch-sink");
    dataplatform_batch = 1;
    for (int t = 0;
         t < 1500 &&
         (delivered_of(first, ids, N / 2) < N / 2 || delivered(ids + N / 2, N / 2) < N / 2 ||
          test_metric(server.base, "shopd_kafka_dataplatform_sink_lag") != 0);
         t++)
        test_sleep_ms(20);
    assert_int_equal(delivered_of(first, ids, N / 2), N / 2);
    assert_int_equal(delivered(ids + N / 2, N / 2), N / 2);
    assert_int_equal(test_metric(server.base, "shopd_kafka_dataplatform_sink_lag"), 0);
    /* the refused record dead-lettered (earlier runs' copies too, each alone) */
    for (int t = 0; t < 500 && test_metric(server.base, "shopd_kafka_dataplatform_sink_dlq") < 1;
         t++)
        test_sleep_ms(20);
    assert_true(test_metric(server.base, "shopd_kafka_dataplatform_sink_dlq") >= 1);
    /* in batches: fewer POSTs than events, even counting the one-by-one resends */
    st = test_platform_state(&platform);
    long long events = json_integer_value(json_object_get(st, "received")) - received0;
    long long posts = json_integer_value(json_object_get(st, "posts")) - posts0;
    json_decref(st);
    fprintf(stderr, "batched sink: %lld events in %lld POSTs\n", events, posts);
    assert_true(events >= N);
    assert_true(posts < events);
    stop_server(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(events_in_kafka__keyed_by_order_with_headers_in_order,
                                  stop_server),
        cmocka_unit_test_teardown(
            brokers_down__orders_succeed__events_wait__then_all_reach_the_platform, stop_server),
        cmocka_unit_test_teardown(
            platform_down__sink_waits_without_dead_lettering__refusal__dead_lettered, stop_server),
        cmocka_unit_test_teardown(slow_delivery__rows_leased__late_reports_recorded, stop_server),
        cmocka_unit_test_teardown(
            batched_posts__all_delivered__a_refused_record_alone_dead_lettered, stop_server),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
