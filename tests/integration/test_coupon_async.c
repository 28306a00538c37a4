/*
 * test_coupon_async.c — asynchronous coupon issuance against devkafka,
 * PostgreSQL and Redis: a request is answered 202 + Location and reaches
 * ISSUED; duplicate, sold out and unknown campaigns are answered at once;
 * an unknown request is 404 ISSUE_REQUEST_NOT_FOUND; without Kafka the
 * endpoint answers 503. A storm of 10,000 users for 1,000 coupons (the
 * spec's figure), and sync and async requests mixed on one campaign, issue
 * exactly the quantity to distinct users, decide every accepted request and
 * leave Redis (the gate, each request's record) agreeing with PostgreSQL. A
 * redelivered request (its batch committed, its outcome lost) is reported
 * ISSUED with its own coupon, once. A poison record on the request topic is
 * dead-lettered to <topic>.dlq and the requests behind it are still decided.
 * With every broker down requests get 503 (slot given back) and after
 * recovery every accepted one is decided.
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

#include "core/timefmt.h"
#include "coupon/coupon_async.h"
#include "infra/kafka_consumer.h"
#include "infra/kafka_produce_wait.h"
#include "infra/kafka_producer.h"
#include "infra/redis.h"
#include "support/test_db.h"
#include "support/test_fixtures.h"
#include "support/test_http.h"
#include "support/test_kafka_env.h"
#include "support/test_server.h"
#include "support/test_proc.h"

static struct test_db db;
static struct test_server server;
static const char *brokers;
static struct redis_pool *redis;

static int stop_server(void **state)
{
    (void)state;
    test_server_stop_if_started(&server);
    return 0;
}

/* The test's server with Kafka and the coupon-issuer consumer; 16 worker threads. */
static void start_server(void)
{
    struct config cfg;
    char group_prefix[32];
    snprintf(group_prefix, sizeof(group_prefix), "tca%ld", (long)getpid());
    test_kafka_server_config(&cfg, db.url, group_prefix);
    cfg.kafka_message_timeout_ms = 1500;
    cfg.consumers = CONFIG_CONSUMER_COUPON_ISSUER;
    cfg.threads = 16;
    test_server_start(&server, &cfg);
}

static long long new_coupon(long long total)
{
    char at[TIMEFMT_RFC3339_LEN];
    assert_true(timefmt_rfc3339((int64_t)time(NULL) + 3600, at));
    return test_new_coupon(server.base, "async", "FIXED", 1000, total, at);
}

/* n new users; returns the first id (they are consecutive). */
static long long new_users(int n)
{
    return test_db_scalar(&db,
                          "WITH u AS (INSERT INTO users (name) SELECT 'a' || g"
                          " FROM generate_series(1, %d) g RETURNING id) SELECT min(id) FROM u",
                          n);
}

/*
 * What is wrong with a 202 answer to POST …/issue-requests of user for
 * coupon (a PENDING request naming both, located at its own URL), into
 * why; false when nothing is. Never asserts: worker threads call it.
 */
static bool accepted_malformed(const struct test_resp *r, long long coupon, long long user,
                               char *why, size_t cap)
{
    const char *id = json_string_value(json_object_get(r->json, "request_id"));
    const char *status = json_string_value(json_object_get(r->json, "status"));
    char location[128], want[128];
    snprintf(want, sizeof(want), "/api/v1/coupon-issue-requests/%s", id ? id : "");
    const char *wrong =
        !id                                                            ? "no request_id"
        : !status || strcmp(status, "PENDING") != 0                    ? "status not PENDING"
        : !json_is_null(json_object_get(r->json, "code"))              ? "code not null"
        : !json_is_null(json_object_get(r->json, "user_coupon_id"))    ? "user_coupon_id not null"
        : !json_is_null(json_object_get(r->json, "decided_at"))        ? "decided_at not null"
        : test_resp_int(r, "coupon_id") != coupon                      ? "another coupon_id"
        : test_resp_int(r, "user_id") != user                          ? "another user_id"
        : !test_resp_header(r, "Location", location, sizeof(location)) ? "no Location"
        : strcmp(location, want) != 0 ? "Location not the request's URL"
                                      : NULL;
    if (wrong)
        snprintf(why, cap, "202 for user %lld: %s: %s", user, wrong, r->body ? r->body : "");
    return wrong != NULL;
}

/*
 * POST …/issue-requests; *request_id gets the id of a 202 (else 0). Returns
 * the status. A malformed 202 is described in why (cap bytes; "" when
 * well-formed or not a 202). Never asserts: worker threads call it.
 */
static long request_issue_unchecked(long long coupon, long long user, long long *request_id,
                                    char code[64], char *why, size_t cap)
{
    char path[96], body[64];
    snprintf(path, sizeof(path), "/api/v1/coupons/%lld/issue-requests", coupon);
    snprintf(body, sizeof(body), "{\"user_id\":%lld}", user);
    struct test_resp r;
    test_call_as(server.base, "POST", path, body, user, &r);
    long status = r.status;
    if (request_id)
        *request_id = 0;
    if (code)
        snprintf(code, 64, "%s", test_resp_code(&r));
    why[0] = '\0';
    if (status == 202 && !accepted_malformed(&r, coupon, user, why, cap) && request_id)
        *request_id = strtoll(json_string_value(json_object_get(r.json, "request_id")), NULL, 10);
    test_resp_free(&r);
    return status;
}

/* request_issue_unchecked that fails the test on a malformed 202. Main thread. */
static long request_issue(long long coupon, long long user, long long *request_id, char code[64])
{
    char why[512];
    long status = request_issue_unchecked(coupon, user, request_id, code, why, sizeof(why));
    if (why[0])
        fail_msg("%s", why);
    return status;
}

/* POST …/issue (synchronous); returns the status. */
static long issue_now(long long coupon, long long user)
{
    char path[96], body[64];
    snprintf(path, sizeof(path), "/api/v1/coupons/%lld/issue", coupon);
    snprintf(body, sizeof(body), "{\"user_id\":%lld}", user);
    struct test_resp r;
    test_call_as(server.base, "POST", path, body, user, &r);
    long status = r.status;
    test_resp_free(&r);
    return status;
}

struct outcome {
    char status[16]; /* PENDING, ISSUED, REJECTED */
    char code[40];
    long long user_coupon_id;
};

/* GET the request as user (its owner); returns the HTTP status. */
static long read_request(long long id, long long user, struct outcome *o)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/coupon-issue-requests/%lld", id);
    struct test_resp r;
    test_call_as(server.base, "GET", path, NULL, user, &r);
    long status = r.status;
    memset(o, 0, sizeof(*o));
    if (status == 200) {
        snprintf(o->status, sizeof(o->status), "%s",
                 json_string_value(json_object_get(r.json, "status")));
        const char *code = json_string_value(json_object_get(r.json, "code"));
        snprintf(o->code, sizeof(o->code), "%s", code ? code : "");
        o->user_coupon_id = test_resp_int(&r, "user_coupon_id");
    } else {
        snprintf(o->code, sizeof(o->code), "%s", test_resp_code(&r));
    }
    test_resp_free(&r);
    return status;
}

/* Polls until user's request is decided (up to 30 s); fills o. */
static void await_decision(long long id, long long user, struct outcome *o)
{
    for (int t = 0; t < 3000; t++) {
        assert_int_equal(read_request(id, user, o), 200);
        if (strcmp(o->status, "PENDING") != 0)
            return;
        test_sleep_ms(10);
    }
    fail_msg("request %lld still PENDING after 30 s", id);
}

/* The Redis gate's left count of coupon (-1: no key). */
static long long gate_left(long long coupon)
{
    struct err e;
    err_clear(&e);
    char key[128];
    snprintf(key, sizeof(key), "%s:coupon:{%lld}:left", server.cfg.redis_namespace, coupon);
    redisReply *r = redis_command(redis, &e, "GET %s", key);
    assert_non_null(r);
    long long v = r->type == REDIS_REPLY_STRING ? strtoll(r->str, NULL, 10) : -1;
    freeReplyObject(r);
    return v;
}

static long long remaining(long long coupon)
{
    return test_db_scalar(
        &db, "SELECT total_quantity - issued_quantity FROM coupons WHERE id = %lld", coupon);
}

/* ---- the basics ---- */

static void accepted__202_location__then_issued_and_listed(void **state)
{
    (void)state;
    start_server();
    long long c = new_coupon(10), u = new_users(1), id;
    assert_int_equal(request_issue(c, u, &id, NULL), 202);
    assert_true(id > 0);
    struct outcome o;
    await_decision(id, u, &o);
    assert_string_equal(o.status, "ISSUED");
    assert_true(o.user_coupon_id > 0);
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/coupons", u);
    struct test_resp r;
    test_call_as(server.base, "GET", path, NULL, u, &r);
    assert_int_equal(r.status, 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "id")),
                     o.user_coupon_id);
    test_resp_free(&r);
    assert_int_equal(gate_left(c), 9);
    assert_int_equal(remaining(c), 9);
    stop_server(NULL);
}

static void duplicate_sold_out_unknown__answered_at_once(void **state)
{
    (void)state;
    start_server();
    long long c = new_coupon(1), u = new_users(2), id;
    char code[64];
    assert_int_equal(request_issue(c, u, &id, NULL), 202);
    assert_int_equal(request_issue(c, u, NULL, code), 409); /* the same user again */
    assert_string_equal(code, "COUPON_ALREADY_ISSUED");
    assert_int_equal(request_issue(c, u + 1, NULL, code), 409); /* the only one is taken */
    assert_string_equal(code, "COUPON_SOLD_OUT");
    assert_int_equal(request_issue(999999, u, NULL, code), 404);
    assert_string_equal(code, "COUPON_NOT_FOUND");
    struct outcome o;
    assert_int_equal(read_request(987654321, u, &o), 404);
    assert_string_equal(o.code, "ISSUE_REQUEST_NOT_FOUND");
    await_decision(id, u, &o);
    assert_string_equal(o.status, "ISSUED");
    stop_server(NULL);
}

static void unknown_user__rejected_user_not_found__slot_given_back(void **state)
{
    (void)state;
    start_server();
    long long c = new_coupon(3), id;
    assert_int_equal(request_issue(c, 88888888, &id, NULL), 202); /* the gate knows no users */
    struct outcome o;
    await_decision(id, 88888888, &o);
    assert_string_equal(o.status, "REJECTED");
    assert_string_equal(o.code, "USER_NOT_FOUND");
    assert_int_equal(gate_left(c), 3);
    assert_int_equal(remaining(c), 3);
    stop_server(NULL);
}

static void without_kafka__503_service_unavailable(void **state)
{
    (void)state;
    struct config cfg;
    test_server_config(&cfg, db.url); /* no SHOPD_KAFKA_BROKERS */
    test_server_start(&server, &cfg);
    long long c = new_coupon(3), u = new_users(1);
    char path[96], body[64], retry[16];
    snprintf(path, sizeof(path), "/api/v1/coupons/%lld/issue-requests", c);
    snprintf(body, sizeof(body), "{\"user_id\":%lld}", u);
    struct test_resp r;
    test_call_as(server.base, "POST", path, body, u, &r);
    assert_int_equal(r.status, 503);
    assert_string_equal(test_resp_code(&r), "SERVICE_UNAVAILABLE");
    assert_non_null(test_resp_header(&r, "Retry-After", retry, sizeof(retry)));
    test_resp_free(&r);
    assert_int_equal(gate_left(c), -1); /* refused before the gate: nothing reserved */
    stop_server(NULL);
}

/* ---- storms ---- */

enum { STORM_USERS = 10000, STORM_COUPONS = 1000, STORM_THREADS = 50, MIXED_USERS = 600 };

struct storm {
    long long coupon, first_user;
    int n_users;
    bool mixed; /* odd users use the synchronous POST …/issue */
    pthread_mutex_t mu;
    int next;
    long long *request_ids; /* per user: 0 = not accepted */
    int accepted, sold_out, sync_issued, other;
    struct test_failures malformed; /* 202 answers not as documented */
};

static void *storm_client(void *arg)
{
    struct storm *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        int i = s->next++;
        pthread_mutex_unlock(&s->mu);
        if (i >= s->n_users)
            return NULL;
        long long user = s->first_user + i, id = 0;
        char code[64] = "";
        long status;
        if (s->mixed && i % 2) {
            status = issue_now(s->coupon, user);
            if (status == 409) /* sold out: the only refusal for a distinct user */
                snprintf(code, sizeof(code), "COUPON_SOLD_OUT");
        } else {
            char why[512];
            status = request_issue_unchecked(s->coupon, user, &id, code, why, sizeof(why));
            if (why[0])
                test_failures_add(&s->malformed, "%s", why);
        }
        pthread_mutex_lock(&s->mu);
        s->request_ids[i] = id;
        if (status == 202)
            s->accepted++;
        else if (status == 201)
            s->sync_issued++;
        else if (status == 409 && strcmp(code, "COUPON_SOLD_OUT") == 0)
            s->sold_out++;
        else
            s->other++;
        pthread_mutex_unlock(&s->mu);
    }
}

/* Runs the storm; then waits for every accepted request and checks every invariant. */
static void run_storm(struct storm *s, long long total)
{
    pthread_mutex_init(&s->mu, NULL);
    test_failures_init(&s->malformed);
    s->request_ids = calloc((size_t)s->n_users, sizeof(long long));
    pthread_t t[STORM_THREADS];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < STORM_THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, storm_client, s), 0);
    for (int i = 0; i < STORM_THREADS; i++)
        pthread_join(t[i], NULL);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    test_failures_assert_none(&s->malformed);
    int issued = 0, rejected = 0;
    for (int i = 0; i < s->n_users; i++) {
        if (!s->request_ids[i])
            continue;
        struct outcome o;
        long long user = s->first_user + i;
        await_decision(s->request_ids[i], user, &o);
        if (strcmp(o.status, "ISSUED") == 0) {
            issued++;
            /* Redis's record names the very row PostgreSQL holds for this request */
            assert_int_equal(test_db_scalar(&db,
                                            "SELECT count(*) FROM user_coupons WHERE id = %lld"
                                            " AND coupon_id = %lld AND user_id = %lld"
                                            " AND issue_request_id = %lld",
                                            o.user_coupon_id, s->coupon, user, s->request_ids[i]),
                             1);
        } else {
            rejected++;
            assert_string_equal(o.status, "REJECTED");
            assert_int_equal(test_db_scalar(&db,
                                            "SELECT count(*) FROM user_coupons"
                                            " WHERE coupon_id = %lld AND user_id = %lld",
                                            s->coupon, user),
                             0);
        }
    }
    struct timespec t2;
    clock_gettime(CLOCK_MONOTONIC, &t2);
    double answer_s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double decide_s = (double)(t2.tv_sec - t0.tv_sec) + (double)(t2.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr,
            "storm%s: %d users for %lld coupons: %d accepted (202), %d sync 201, %d sold out "
            "(409), %d other; accepted decided: %d ISSUED, %d REJECTED; answers in %.2f s, all "
            "decided in %.2f s\n",
            s->mixed ? " (mixed)" : "", s->n_users, total, s->accepted, s->sync_issued, s->sold_out,
            s->other, issued, rejected, answer_s, decide_s);
    assert_int_equal(s->other, 0);
    assert_int_equal(s->accepted + s->sync_issued + s->sold_out, s->n_users);
    assert_int_equal(issued + rejected, s->accepted);
    assert_int_equal(issued + s->sync_issued, total);
    assert_int_equal(
        test_db_scalar(&db, "SELECT count(*) FROM user_coupons WHERE coupon_id = %lld", s->coupon),
        total);
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT count(DISTINCT user_id) FROM user_coupons"
                                    " WHERE coupon_id = %lld",
                                    s->coupon),
                     total);
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT count(*) FROM user_coupons WHERE coupon_id = %lld"
                                    " AND issue_request_id IS NOT NULL",
                                    s->coupon),
                     issued);
    assert_int_equal(remaining(s->coupon), 0);
    assert_int_equal(gate_left(s->coupon), remaining(s->coupon));
    free(s->request_ids);
    pthread_mutex_destroy(&s->mu);
}

static void storm_10000_users_1000_coupons__exactly_1000_to_distinct_users(void **state)
{
    (void)state;
    start_server();
    struct storm s = {.coupon = new_coupon(STORM_COUPONS),
                      .first_user = new_users(STORM_USERS),
                      .n_users = STORM_USERS};
    run_storm(&s, STORM_COUPONS);
    assert_int_equal(s.accepted, STORM_COUPONS); /* the gate admits exactly the quantity */
    stop_server(NULL);
}

static void sync_and_async_mixed__same_invariants(void **state)
{
    (void)state;
    start_server();
    struct storm s = {.coupon = new_coupon(100),
                      .first_user = new_users(MIXED_USERS),
                      .n_users = MIXED_USERS,
                      .mixed = true};
    run_storm(&s, 100);
    stop_server(NULL);
}

/* ---- redelivery ---- */

/* Produces value to the request topic keyed by coupon (its partition), with this server's
   namespace header (other deployments sharing the topic skip it), and waits for the ack. */
static void produce_request_record(long long coupon, const char *value)
{
    struct err e;
    err_clear(&e);
    struct kafka_producer_config pc = {.brokers = brokers, .message_timeout_ms = 5000};
    struct kafka_producer *p = kafka_producer_new(&pc, &e);
    assert_non_null(p);
    char key[24];
    snprintf(key, sizeof(key), "%lld", coupon);
    const char *ns = server.cfg.redis_namespace;
    const struct kafka_header h[] = {{COUPON_ISSUE_REQUEST_NS_HEADER, ns, strlen(ns)}};
    const struct kafka_record rec = {.topic = COUPON_ISSUE_REQUESTS_TOPIC,
                                     .key = key,
                                     .key_len = strlen(key),
                                     .value = value,
                                     .len = strlen(value),
                                     .headers = h,
                                     .n_headers = 1};
    if (kafka_produce_wait(p, &rec, 6000, &e) != ERR_OK)
        fail_msg("produce: %s", e.detail);
    kafka_producer_free(p, 1000);
}

/* Produces a copy of request id's queued record, as a redelivery would hand it again. */
static void produce_copy(long long id, long long coupon, long long user)
{
    struct coupon_request r = {
        .id = id, .coupon_id = coupon, .user_id = user, .requested_at = (int64_t)time(NULL)};
    char *value = coupon_async_message(&r);
    assert_non_null(value);
    produce_request_record(coupon, value);
    free(value);
}

static void redelivered_request__stays_issued_once_with_its_own_coupon(void **state)
{
    (void)state;
    start_server();
    long long c = new_coupon(5), u = new_users(3), a, b, d;
    assert_int_equal(request_issue(c, u, &a, NULL), 202);
    struct outcome first, o;
    await_decision(a, u, &first);
    assert_string_equal(first.status, "ISSUED");

    /* 1: a plain duplicate of a decided request is skipped */
    produce_copy(a, c, u);
    /* 2: its batch committed but its outcome was lost (crash before Redis): PENDING again */
    struct err e;
    err_clear(&e);
    char key[128];
    snprintf(key, sizeof(key), "%s:coupon-req:%lld", server.cfg.redis_namespace, a);
    freeReplyObject(redis_command(redis, &e, "HSET %s status PENDING", key));
    produce_copy(a, c, u);
    /* same key, same partition: once a later request is decided, the copies were handled */
    assert_int_equal(request_issue(c, u + 1, &b, NULL), 202);
    await_decision(b, u + 1, &o);
    assert_string_equal(o.status, "ISSUED");
    await_decision(a, u, &o);
    assert_string_equal(o.status, "ISSUED"); /* not COUPON_ALREADY_ISSUED */
    assert_int_equal(o.user_coupon_id, first.user_coupon_id);
    assert_int_equal(
        test_db_scalar(&db, "SELECT count(*) FROM user_coupons WHERE coupon_id = %lld", c), 2);
    assert_int_equal(remaining(c), 3);
    assert_int_equal(gate_left(c), 3);
    /* the first user asking again is still refused at once */
    assert_int_equal(request_issue(c, u, &d, NULL), 409);
    stop_server(NULL);
}

/* ---- poison ---- */

/* The dead letter a reader looks for: its value, and what the runner added to it. */
struct dead_letter {
    pthread_mutex_t mu;
    const char *value; /* the poison record's value (unique to this run) */
    bool found;
    char key[32], ns[64], topic[128], group[128], error[300];
};

static void header_text(const struct kafka_message *m, const char *name, char *out, size_t cap)
{
    out[0] = '\0';
    for (size_t i = 0; i < m->n_headers; i++)
        if (strcmp(m->headers[i].name, name) == 0 && m->headers[i].value)
            snprintf(out, cap, "%.*s", (int)m->headers[i].len, (const char *)m->headers[i].value);
}

static enum kafka_handled collect_dead_letter(void *ctx, const struct kafka_message *m,
                                              struct err *e)
{
    (void)e;
    struct dead_letter *d = ctx;
    if (m->len != strlen(d->value) || memcmp(m->value, d->value, m->len) != 0)
        return KAFKA_DONE;
    pthread_mutex_lock(&d->mu);
    snprintf(d->key, sizeof(d->key), "%.*s", (int)m->key_len, m->key ? (const char *)m->key : "");
    header_text(m, COUPON_ISSUE_REQUEST_NS_HEADER, d->ns, sizeof(d->ns));
    header_text(m, "dlq_topic", d->topic, sizeof(d->topic));
    header_text(m, "dlq_group", d->group, sizeof(d->group));
    header_text(m, "dlq_error", d->error, sizeof(d->error));
    d->found = true;
    pthread_mutex_unlock(&d->mu);
    return KAFKA_DONE;
}

/* Reads <request topic>.dlq from its start (a group of its own) until d's record shows up. */
static void await_dead_letter(struct dead_letter *d)
{
    const char *topic = COUPON_ISSUE_REQUESTS_TOPIC ".dlq";
    char group[64];
    snprintf(group, sizeof(group), "tca-dlq-reader-%ld-%ld", (long)getpid(), (long)time(NULL));
    struct test_kafka_reader reader; /* collect_dead_letter never dead-letters */
    test_kafka_reader_start(&reader, group, topic, collect_dead_letter, d, "tca-dlq-reader.dlq");
    bool found = false;
    for (int t = 0; t < 3000 && !found; t++) { /* up to 60 s */
        pthread_mutex_lock(&d->mu);
        found = d->found;
        pthread_mutex_unlock(&d->mu);
        if (!found)
            test_sleep_ms(20);
    }
    test_kafka_reader_stop(&reader);
    if (!found)
        fail_msg("the poison record never reached %s", topic);
}

static void poison_request__dead_lettered__later_requests_still_issued(void **state)
{
    (void)state;
    start_server();
    long long c = new_coupon(5), u = new_users(2), a, b;
    /* one request first: the issuer's group is joined and its partitions assigned */
    assert_int_equal(request_issue(c, u, &a, NULL), 202);
    struct outcome o;
    await_decision(a, u, &o);
    assert_string_equal(o.status, "ISSUED");
    long long dlq0 = test_metric(server.base, "shopd_kafka_coupon_issuer_dlq");

    /* not an issue request (no user_id, a request id that is no number): it can never succeed.
       Keyed by the coupon, so it sits ahead of the next request in their partition */
    char poison[200];
    snprintf(poison, sizeof(poison),
             "{\"request_id\":\"tca-poison-%ld-%ld\",\"coupon_id\":%lld,"
             "\"requested_at\":\"2026-01-01T00:00:00Z\"}",
             (long)getpid(), (long)time(NULL), c);
    produce_request_record(c, poison);

    /* the partition moves on past it: a request queued behind it is decided */
    assert_int_equal(request_issue(c, u + 1, &b, NULL), 202);
    await_decision(b, u + 1, &o);
    assert_string_equal(o.status, "ISSUED");
    assert_true(o.user_coupon_id > 0);

    /* the poison is in the DLQ, as produced, with where it came from and why */
    static struct dead_letter d;
    memset(&d, 0, sizeof(d));
    pthread_mutex_init(&d.mu, NULL);
    d.value = poison;
    await_dead_letter(&d);
    char key[24], group[128];
    snprintf(key, sizeof(key), "%lld", c);
    snprintf(group, sizeof(group), "%s.coupon-issuer", server.cfg.kafka_group_prefix);
    assert_string_equal(d.key, key);
    assert_string_equal(d.ns, server.cfg.redis_namespace);
    assert_string_equal(d.topic, COUPON_ISSUE_REQUESTS_TOPIC);
    assert_string_equal(d.group, group);
    assert_true(d.error[0] != '\0');
    pthread_mutex_destroy(&d.mu);

    /* the DLQ counter in /metrics grew by it (counted once its DLQ write is acknowledged) */
    long long dlq1 = test_metric(server.base, "shopd_kafka_coupon_issuer_dlq");
    for (int t = 0; t < 1500 && dlq0 >= 0 && dlq1 < dlq0 + 1; t++) {
        test_sleep_ms(20);
        dlq1 = test_metric(server.base, "shopd_kafka_coupon_issuer_dlq");
    }
    assert_true(dlq0 >= 0);
    assert_int_equal(dlq1, dlq0 + 1);

    /* nothing else moved: two coupons issued, the gate agreeing with PostgreSQL */
    assert_int_equal(
        test_db_scalar(&db, "SELECT count(*) FROM user_coupons WHERE coupon_id = %lld", c), 2);
    assert_int_equal(remaining(c), 3);
    assert_int_equal(gate_left(c), 3);
    stop_server(NULL);
}

/* ---- Kafka down ---- */

struct down_storm {
    long long coupon, first_user;
    pthread_mutex_t mu;
    int next, n;
    long long *ids;
    int accepted, unavailable, other;
    struct test_failures malformed; /* 202 answers not as documented */
};

static void *down_client(void *arg)
{
    struct down_storm *s = arg;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        int i = s->next++;
        pthread_mutex_unlock(&s->mu);
        if (i >= s->n)
            return NULL;
        long long id = 0;
        char code[64], why[512];
        long status =
            request_issue_unchecked(s->coupon, s->first_user + i, &id, code, why, sizeof(why));
        if (why[0])
            test_failures_add(&s->malformed, "%s", why);
        pthread_mutex_lock(&s->mu);
        s->ids[i] = id;
        if (status == 202)
            s->accepted++;
        else if (status == 503)
            s->unavailable++;
        else
            s->other++;
        pthread_mutex_unlock(&s->mu);
    }
}

static void brokers_down__503_or_accepted__all_accepted_decided_after_recovery(void **state)
{
    (void)state;
    start_server();
    enum { N = 200, THREADS = 20 };
    struct down_storm s = {.coupon = new_coupon(N), .first_user = new_users(N), .n = N};
    pthread_mutex_init(&s.mu, NULL);
    test_failures_init(&s.malformed);
    s.ids = calloc(N, sizeof(long long));
    /* one request first, so the group is joined before the outage */
    long long warm;
    assert_int_equal(request_issue(s.coupon, s.first_user, &warm, NULL), 202);
    s.next = 1;
    struct outcome o;
    await_decision(warm, s.first_user, &o);
    assert_int_equal(test_stack("kafka down all"), 0);
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        assert_int_equal(pthread_create(&t[i], NULL, down_client, &s), 0);
    test_sleep_ms(3000); /* twice the message timeout: some requests cannot be queued */
    assert_int_equal(test_stack("kafka up all"), 0);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    test_failures_assert_none(&s.malformed);
    int issued = 1, rejected = 0;
    for (int i = 1; i < N; i++) {
        if (!s.ids[i])
            continue;
        await_decision(s.ids[i], s.first_user + i, &o);
        if (strcmp(o.status, "ISSUED") == 0)
            issued++;
        else
            rejected++;
    }
    fprintf(stderr,
            "brokers down: %d requests: %d accepted, %d 503, %d other; decided: %d ISSUED (warm-up "
            "included), %d REJECTED\n",
            N - 1, s.accepted, s.unavailable, s.other, issued, rejected);
    assert_int_equal(s.other, 0);
    assert_true(s.unavailable > 0);
    assert_int_equal(s.accepted + s.unavailable, N - 1);
    assert_int_equal(issued + rejected, s.accepted + 1);
    long long in_pg =
        test_db_scalar(&db, "SELECT count(*) FROM user_coupons WHERE coupon_id = %lld", s.coupon);
    assert_int_equal(in_pg, issued);
    assert_int_equal(remaining(s.coupon), N - issued);
    /* a 503 gave its slot back: the gate agrees with PostgreSQL (never fewer) */
    assert_true(gate_left(s.coupon) >= remaining(s.coupon));
    free(s.ids);
    pthread_mutex_destroy(&s.mu);
    stop_server(NULL);
}

static int setup(void **state)
{
    (void)state;
    brokers = test_kafka_brokers();
    test_http_global_init();
    test_db_create(&db, "coupon_async");
    struct err e;
    err_clear(&e);
    redis = redis_pool_new(test_redis_url(), 2000, &e);
    assert_non_null(redis);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_stack("kafka up all");
    redis_pool_free(redis);
    test_db_drop(&db);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(accepted__202_location__then_issued_and_listed, stop_server),
        cmocka_unit_test_teardown(duplicate_sold_out_unknown__answered_at_once, stop_server),
        cmocka_unit_test_teardown(unknown_user__rejected_user_not_found__slot_given_back,
                                  stop_server),
        cmocka_unit_test_teardown(without_kafka__503_service_unavailable, stop_server),
        cmocka_unit_test_teardown(storm_10000_users_1000_coupons__exactly_1000_to_distinct_users,
                                  stop_server),
        cmocka_unit_test_teardown(sync_and_async_mixed__same_invariants, stop_server),
        cmocka_unit_test_teardown(redelivered_request__stays_issued_once_with_its_own_coupon,
                                  stop_server),
        cmocka_unit_test_teardown(poison_request__dead_lettered__later_requests_still_issued,
                                  stop_server),
        cmocka_unit_test_teardown(
            brokers_down__503_or_accepted__all_accepted_decided_after_recovery, stop_server),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
