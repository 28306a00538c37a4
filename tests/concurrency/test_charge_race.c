/*
 * test_charge_race.c — many concurrent charges on one user: the exact
 * balance, the exact ledger, and refusals at the cap that are never
 * half-applied. Also run under ThreadSanitizer (make test's tsan tree).
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

#include "support/test_db.h"
#include "support/test_http.h"
#include "support/test_server.h"

enum { THREADS = 32, CHARGES_PER_THREAD = 50 };

static struct test_db db;
static struct test_server srv;

struct race {
    long long user_id;
    int thread_no;
    atomic_long *accepted_sum;
    atomic_int *accepted, *refused, *other;
};

/* Thread t charges amounts t*1000 + i (all distinct, so sums are checkable). */
static int64_t amount_of(int thread_no, int i)
{
    return (int64_t)thread_no * 1000 + i + 1;
}

static void *charger(void *arg)
{
    struct race *r = arg;
    char path[128], auth[640];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/points/charge", r->user_id);
    /* the charging user's own access token, as a real client would send it */
    const char *headers[] = {test_user_auth_header(r->user_id, auth, sizeof(auth)), NULL};
    for (int i = 0; i < CHARGES_PER_THREAD; i++) {
        char body[64], url[256];
        int64_t amount = amount_of(r->thread_no, i);
        snprintf(body, sizeof(body), "{\"amount\":%lld}", (long long)amount);
        snprintf(url, sizeof(url), "%s%s", srv.base, path);
        struct test_resp resp;
        if (test_http("POST", url, body, headers, &resp) != 0) {
            atomic_fetch_add(r->other, 1);
            test_resp_free(&resp);
            continue;
        }
        if (resp.status == 200) {
            atomic_fetch_add(r->accepted, 1);
            atomic_fetch_add(r->accepted_sum, (long)amount);
        } else if (resp.status == 409 &&
                   strcmp(test_resp_code(&resp), "BALANCE_LIMIT_EXCEEDED") == 0) {
            atomic_fetch_add(r->refused, 1);
        } else {
            fprintf(stderr, "unexpected answer %ld: %s\n", resp.status, resp.body);
            atomic_fetch_add(r->other, 1);
        }
        test_resp_free(&resp);
    }
    return NULL;
}

struct outcome {
    long accepted_sum;
    int accepted, refused, other;
};

static struct outcome storm(long long user_id)
{
    pthread_t threads[THREADS];
    struct race races[THREADS];
    atomic_long sum;
    atomic_int accepted, refused, other;
    atomic_init(&sum, 0);
    atomic_init(&accepted, 0);
    atomic_init(&refused, 0);
    atomic_init(&other, 0);
    for (int t = 0; t < THREADS; t++) {
        races[t] = (struct race){user_id, t, &sum, &accepted, &refused, &other};
        assert_int_equal(pthread_create(&threads[t], NULL, charger, &races[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    return (struct outcome){atomic_load(&sum), atomic_load(&accepted), atomic_load(&refused),
                            atomic_load(&other)};
}

/* Signs a user up (with TEST_PASSWORD) through the API. */
static long long create_user(const char *name)
{
    return test_new_user(srv.base, name);
}

/* The ledger of user_id, ordered by id, replays to its balance step by step. */
static void assert_ledger_replays(long long user_id, int expected_rows)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT amount, balance_after FROM point_ledger WHERE user_id = %lld ORDER BY id",
             user_id);
    PGresult *res = test_db_query(&db, sql);
    assert_int_equal(PQntuples(res), expected_rows);
    int64_t running = 0;
    for (int i = 0; i < PQntuples(res); i++) {
        running += strtoll(PQgetvalue(res, i, 0), NULL, 10);
        assert_int_equal(strtoll(PQgetvalue(res, i, 1), NULL, 10), running);
    }
    PQclear(res);
    assert_int_equal(test_db_scalar(&db, "SELECT balance FROM users WHERE id = %lld", user_id),
                     running);
}

static void concurrent_charges__exact_balance_and_ledger(void **state)
{
    (void)state;
    long long user = create_user("racer");
    struct outcome o = storm(user);
    assert_int_equal(o.other, 0);
    assert_int_equal(o.refused, 0);
    assert_int_equal(o.accepted, THREADS * CHARGES_PER_THREAD);
    int64_t expected = 0;
    for (int t = 0; t < THREADS; t++)
        for (int i = 0; i < CHARGES_PER_THREAD; i++)
            expected += amount_of(t, i);
    assert_int_equal(o.accepted_sum, expected);
    assert_int_equal(test_db_scalar(&db, "SELECT balance FROM users WHERE id = %lld", user),
                     expected);
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT count(*) FROM point_ledger WHERE user_id = %lld"
                                    " AND type = 'CHARGE'",
                                    user),
                     THREADS * CHARGES_PER_THREAD);
    assert_int_equal(
        test_db_scalar(
            &db, "SELECT count(DISTINCT balance_after) FROM point_ledger WHERE user_id = %lld",
            user),
        THREADS * CHARGES_PER_THREAD);
    assert_ledger_replays(user, THREADS * CHARGES_PER_THREAD);
}

static void concurrent_charges_past_the_cap__refused_whole_never_half_applied(void **state)
{
    (void)state;
    long long user = create_user("capped");
    struct outcome o = storm(user);
    /* every request is accounted for: applied or cleanly refused */
    assert_int_equal(o.other, 0);
    assert_int_equal(o.accepted + o.refused, THREADS * CHARGES_PER_THREAD);
    assert_true(o.refused > 0); /* the cap (see setup) is far below the storm's total */
    int64_t balance = test_db_scalar(&db, "SELECT balance FROM users WHERE id = %lld", user);
    assert_int_equal(balance, o.accepted_sum);
    assert_true(balance <= srv.cfg.balance_max);
    assert_ledger_replays(user, o.accepted);
}

/* ---- many users at once: the charges ride together in batches (core/combiner.h) ---- */

enum { MANY_USERS = 12, NEAR_CAP_USERS = 3 };

struct many {
    long long users[MANY_USERS];
    int thread_no;
    atomic_long *sums;    /* [MANY_USERS] accepted amounts */
    atomic_int *accepted; /* [MANY_USERS] */
    atomic_int *refused, *unknown, *other;
};

static void *many_charger(void *arg)
{
    struct many *m = arg;
    unsigned seed = (unsigned)m->thread_no * 2654435761u + 7;
    for (int i = 0; i < CHARGES_PER_THREAD; i++) {
        bool to_unknown = i % 17 == 5;
        int u = (int)(rand_r(&seed) % MANY_USERS);
        long long user = to_unknown ? 999999999LL : m->users[u];
        int64_t amount = amount_of(m->thread_no, i);
        char body[64], url[256], auth[640];
        snprintf(body, sizeof(body), "{\"amount\":%lld}", (long long)amount);
        snprintf(url, sizeof(url), "%s/api/v1/users/%lld/points/charge", srv.base, user);
        /* the admin token: the unknown user has no token of its own */
        snprintf(auth, sizeof(auth), "Authorization: Bearer %s", srv.cfg.admin_token);
        const char *headers[] = {auth, NULL};
        struct test_resp resp;
        if (test_http("POST", url, body, headers, &resp) != 0) {
            atomic_fetch_add(m->other, 1);
        } else if (resp.status == 200 && !to_unknown) {
            atomic_fetch_add(&m->accepted[u], 1);
            atomic_fetch_add(&m->sums[u], (long)amount);
        } else if (resp.status == 409 && !to_unknown &&
                   strcmp(test_resp_code(&resp), "BALANCE_LIMIT_EXCEEDED") == 0) {
            atomic_fetch_add(m->refused, 1);
        } else if (resp.status == 404 && to_unknown &&
                   strcmp(test_resp_code(&resp), "USER_NOT_FOUND") == 0) {
            atomic_fetch_add(m->unknown, 1);
        } else {
            fprintf(stderr, "unexpected answer %ld: %s\n", resp.status, resp.body);
            atomic_fetch_add(m->other, 1);
        }
        test_resp_free(&resp);
    }
    return NULL;
}

/*
 * 32 threads charging 12 users (3 of them just under the cap) and now and
 * then a user who does not exist: every answer is the one that user's
 * charge alone would get, and every user's books are exact. Charges of
 * different users shared transactions (ledger rows with one xmin), so the
 * batches were exercised, not bypassed.
 */
static void many_users_at_once__batched_each_answer_and_book_exact(void **state)
{
    (void)state;
    struct many base = {0};
    int64_t initial[MANY_USERS];
    for (int u = 0; u < MANY_USERS; u++) {
        base.users[u] = create_user("many");
        initial[u] = u < NEAR_CAP_USERS ? srv.cfg.balance_max - 20000 : 0;
        if (initial[u] > 0) /* above the largest single charge: straight into the books */
            test_db_scalar(&db,
                           "WITH u AS (UPDATE users SET balance = %lld WHERE id = %lld"
                           "           RETURNING id, balance)"
                           " INSERT INTO point_ledger (user_id, type, amount, balance_after)"
                           " SELECT id, 'CHARGE', balance, balance FROM u RETURNING 1",
                           (long long)initial[u], base.users[u]);
    }
    atomic_long sums[MANY_USERS];
    atomic_int accepted[MANY_USERS], refused, unknown, other;
    for (int u = 0; u < MANY_USERS; u++) {
        atomic_init(&sums[u], 0);
        atomic_init(&accepted[u], 0);
    }
    atomic_init(&refused, 0);
    atomic_init(&unknown, 0);
    atomic_init(&other, 0);
    pthread_t threads[THREADS];
    struct many args[THREADS];
    for (int t = 0; t < THREADS; t++) {
        args[t] = base;
        args[t].thread_no = t;
        args[t].sums = sums;
        args[t].accepted = accepted;
        args[t].refused = &refused;
        args[t].unknown = &unknown;
        args[t].other = &other;
        assert_int_equal(pthread_create(&threads[t], NULL, many_charger, &args[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);

    assert_int_equal(atomic_load(&other), 0);
    assert_int_equal(atomic_load(&unknown), THREADS * 3); /* i = 5, 22, 39 of each thread */
    assert_true(atomic_load(&refused) > 0);               /* the near-cap users */
    int total_accepted = 0;
    for (int u = 0; u < MANY_USERS; u++) {
        long long user = base.users[u];
        int64_t balance = test_db_scalar(&db, "SELECT balance FROM users WHERE id = %lld", user);
        assert_int_equal(balance, initial[u] + atomic_load(&sums[u]));
        assert_true(balance <= srv.cfg.balance_max);
        assert_ledger_replays(user, atomic_load(&accepted[u]) + (initial[u] > 0 ? 1 : 0));
        total_accepted += atomic_load(&accepted[u]);
    }
    assert_int_equal(total_accepted + atomic_load(&refused) + atomic_load(&unknown),
                     THREADS * CHARGES_PER_THREAD);
    /* some transaction credited several users at once */
    assert_true(test_db_scalar(&db,
                               "SELECT count(*) - count(DISTINCT xmin::text) FROM point_ledger"
                               " WHERE user_id BETWEEN %lld AND %lld AND type = 'CHARGE'",
                               base.users[0], base.users[MANY_USERS - 1]) > 0);
}

static int setup(void **state)
{
    (void)state;
    test_http_global_init();
    test_db_create(&db, "charge_race");
    struct config cfg;
    test_server_config(&cfg, db.url);
    cfg.threads = 8;
    /* the uncapped storm totals 41,640,000: the default cap (100,000,000) holds it */
    test_server_start(&srv, &cfg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_server_stop(&srv);
    test_db_drop(&db);
    return 0;
}

static int restart_with_small_cap(void **state)
{
    (void)state;
    test_server_stop(&srv);
    struct config cfg;
    test_server_config(&cfg, db.url);
    cfg.threads = 8;
    cfg.balance_max = 5000000; /* about an eighth of the storm */
    test_server_start(&srv, &cfg);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(concurrent_charges__exact_balance_and_ledger),
        cmocka_unit_test_setup(concurrent_charges_past_the_cap__refused_whole_never_half_applied,
                               restart_with_small_cap),
        cmocka_unit_test(many_users_at_once__batched_each_answer_and_book_exact),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
