/*
 * test_round_trips_pg.c — PostgreSQL round trips per operation, counted on the
 * connection (pg_conn_round_trips), never timed; and the pipelined order's
 * refusals and races against real PostgreSQL: what each answers, and that it
 * leaves nothing behind (issue 10: "a 2-line order in at most 3, a charge 1").
 *
 * The order use case runs here on the PostgreSQL adapters exactly as the
 * composition root wires them (no HTTP, no lock). A race is made real: a
 * wrapper around the unit of work runs a statement on another connection
 * right after the first exchange (the reads), before the writes are sent.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "infra/pg.h"
#include "infra/pg_ledger.h"
#include "order/adapters/order_http.h"
#include "order/adapters/order_pg.h"
#include "order/app/place_order.h"
#include "point/point_repo_pg.h"
#include "point/point_service.h"
#include "support/test_db.h"

static struct test_db db;
static struct pg_pool *pool;
static struct point_repo_pg point_state; /* batching on, as shopd runs it */

/* Round trips made so far on this thread's connection of the pool. */
static uint64_t trips(void)
{
    struct err e;
    err_clear(&e);
    struct pg_conn *c = pg_pool_conn(pool, &e);
    assert_non_null(c);
    return pg_conn_round_trips(c);
}

/* ---- the unit of work, with a statement run elsewhere between the reads and the writes ---- */

struct racing_tx {
    struct tx_port real;
    int flushes;
    const char *race_sql; /* run on db.conn after the first flush of the first attempt; NULL none */
};

static enum err_code race_begin(void *self, struct err *e)
{
    struct racing_tx *t = self;
    return t->real.ops->begin(t->real.self, e);
}

static enum err_code race_flush(void *self, struct err *e)
{
    struct racing_tx *t = self;
    enum err_code rc = t->real.ops->flush(t->real.self, e);
    if (rc == ERR_OK && t->flushes++ == 0 && t->race_sql)
        PQclear(test_db_query(&db, t->race_sql));
    return rc;
}

static enum err_code race_commit(void *self, struct err *e)
{
    struct racing_tx *t = self;
    return t->real.ops->commit(t->real.self, e);
}

static void race_rollback(void *self)
{
    struct racing_tx *t = self;
    t->real.ops->rollback(t->real.self);
}

static bool race_retryable(void *self)
{
    struct racing_tx *t = self;
    return t->real.ops->last_failure_retryable(t->real.self);
}

static const struct tx_port_ops racing_tx_ops = {race_begin, race_flush, race_commit, race_rollback,
                                                 race_retryable};

/* The order use case's dependencies on pool, with tx (NULL: the plain unit of work). */
static struct order_deps deps(struct racing_tx *tx)
{
    return (struct order_deps){
        .tx = tx ? (struct tx_port){&racing_tx_ops, tx} : pg_tx_port(pool),
        .stock = pg_stock_port(pool),
        .balance = pg_balance_port(pool),
        .coupons = pg_coupon_port(pool),
        .orders = pg_order_repo(pool),
        .idempotency = pg_idempotency_port(pool),
        .events = pg_outbox_port(pool),
        .presenter = order_http_presenter(),
        .max_attempts = 3,
    };
}

/* ---- data ---- */

static int64_t new_product(int64_t price, int64_t stock)
{
    return test_db_scalar(&db,
                          "INSERT INTO products (name, price, stock) VALUES ('rt', %lld, %lld)"
                          " RETURNING id",
                          (long long)price, (long long)stock);
}

/* A user with points, charged through the ledger so balance = sum(ledger). */
static int64_t new_user(int64_t points)
{
    int64_t id = test_db_scalar(&db, "INSERT INTO users (name) VALUES ('rt') RETURNING id");
    if (points > 0)
        test_db_scalar(&db,
                       "WITH u AS (UPDATE users SET balance = %lld WHERE id = %lld RETURNING id)"
                       " INSERT INTO point_ledger (user_id, type, amount, balance_after)"
                       " SELECT id, 'CHARGE', %lld, %lld FROM u RETURNING 1",
                       (long long)points, (long long)id, (long long)points, (long long)points);
    return id;
}

/* A FIXED coupon of value owned by user; returns the user's coupon id. */
static int64_t new_coupon(int64_t user, int64_t value)
{
    int64_t campaign = test_db_scalar(
        &db,
        "INSERT INTO coupons (name, discount_type, discount_value, total_quantity, expires_at)"
        " VALUES ('rt', 'FIXED', %lld, 10, now() + interval '1 day') RETURNING id",
        (long long)value);
    return test_db_scalar(&db,
                          "INSERT INTO user_coupons (coupon_id, user_id) VALUES (%lld, %lld)"
                          " RETURNING id",
                          (long long)campaign, (long long)user);
}

#define scalar(fmt, a) test_db_scalar(&db, fmt, (long long)(a))

/* Nothing of an order of user is anywhere: no order, no USE row, no event, balance as given. */
static void assert_nothing_behind(int64_t user, int64_t balance)
{
    assert_int_equal(scalar("SELECT count(*) FROM orders WHERE user_id = %lld", user), 0);
    assert_int_equal(
        scalar("SELECT count(*) FROM point_ledger WHERE user_id = %lld AND type = 'USE'", user), 0);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", user), balance);
    assert_int_equal(test_db_scalar(&db, "SELECT count(*) FROM outbox_events o"
                                         " WHERE NOT EXISTS (SELECT 1 FROM orders WHERE id ="
                                         " o.aggregate_id)"),
                     0);
}

/* The status recorded under (user, "order", key), 0 when none. */
static int64_t recorded_status(int64_t user, const char *key)
{
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT coalesce(max(response_status), 0) FROM idempotency_keys"
             " WHERE user_id = %lld AND scope = 'order' AND key = '%s'",
             (long long)user, key);
    return test_db_scalar(&db, "%s", sql);
}

/* ---- charges ---- */

static void charge_without_key__one_round_trip(void **state)
{
    (void)state;
    struct point_repo repo = point_repo_pg(&point_state);
    struct point_user u;
    struct err e;
    err_clear(&e);
    assert_int_equal(repo.ops->create_user(repo.self, "rt",
                                           "$argon2id$v=19$m=8,t=1,p=1$c2FsdHNhbHQ$aGFzaA", &u, &e),
                     ERR_OK);
    struct point_charge_result r;
    /* the first charge prepares its statement in the same exchange */
    uint64_t before = trips();
    assert_int_equal(repo.ops->charge(repo.self, u.id, 100, 1000000, &r, &e), ERR_OK);
    assert_int_equal(trips() - before, 1);
    before = trips();
    assert_int_equal(repo.ops->charge(repo.self, u.id, 250, 1000000, &r, &e), ERR_OK);
    assert_int_equal(trips() - before, 1);
    assert_true(r.applied);
    assert_int_equal(r.balance, 350);
    /* a refusal past the cap explains itself from the same statement */
    before = trips();
    assert_int_equal(repo.ops->charge(repo.self, u.id, 1000000, 1000000, &r, &e), ERR_OK);
    assert_int_equal(trips() - before, 1);
    assert_false(r.applied);
    assert_true(r.exists);
    assert_int_equal(r.balance, 350);
    /* and an unknown user too */
    before = trips();
    assert_int_equal(repo.ops->charge(repo.self, u.id + 1000, 5, 1000000, &r, &e), ERR_OK);
    assert_int_equal(trips() - before, 1);
    assert_false(r.exists);
}

/*
 * A batch of charges (what the combiner sends under load) is one round trip
 * and one transaction; each charge gets its own outcome: credited, past the
 * cap, unknown user.
 */
static void charges_batch__one_round_trip_each_its_own_outcome(void **state)
{
    (void)state;
    int64_t a = new_user(0), b = new_user(990), unknown = b + 1000;
    struct err e;
    err_clear(&e);
    struct pg_conn *c = pg_pool_conn(pool, &e);
    assert_non_null(c);
    const int64_t ids[] = {b, unknown, a}, amounts[] = {20, 5, 7};
    struct pg_ledger_charge out[3];
    uint64_t before = trips();
    assert_int_equal(pg_queue_begin(c, &e), ERR_OK);
    assert_int_equal(pg_ledger_queue_charges(c, 3, ids, amounts, 1000, out, &e), ERR_OK);
    assert_int_equal(pg_queue_commit(c, &e), ERR_OK);
    assert_int_equal(pg_flush(c, &e), ERR_OK);
    assert_int_equal(trips() - before, 1);
    /* b: 990 + 20 > 1000, refused with the balance it saw */
    assert_false(out[0].applied);
    assert_true(out[0].exists);
    assert_int_equal(out[0].balance, 990);
    assert_false(out[1].applied);
    assert_false(out[1].exists);
    assert_true(out[2].applied);
    assert_int_equal(out[2].balance, 7);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", a), 7);
    assert_int_equal(scalar("SELECT count(*) FROM point_ledger WHERE user_id = %lld", a), 1);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", b), 990);
    assert_int_equal(
        scalar("SELECT count(*) FROM point_ledger WHERE user_id = %lld AND type = 'CHARGE'"
               " AND amount = 20",
               b),
        0);
}

static bool ok_body(int64_t user_id, int64_t balance, struct recorded_outcome *out)
{
    char *s = malloc(64);
    if (s)
        snprintf(s, 64, "{\"user_id\":%lld,\"balance\":%lld}", (long long)user_id,
                 (long long)balance);
    *out = (struct recorded_outcome){200, s};
    return s != NULL;
}

static bool refusal_body(const struct err *e, struct recorded_outcome *out)
{
    *out = (struct recorded_outcome){409, strdup(err_code_str(e->code))};
    return out->body != NULL;
}

/* The keyed flow of the service (point_service_charge_once) over the PostgreSQL repository. */
static void charge_with_key__two_round_trips_and_a_replay_two(void **state)
{
    (void)state;
    const struct point_service svc = {
        .repo = point_repo_pg(&point_state), .charge_max = 1000000, .balance_max = 1000000};
    const struct point_charge_renderer render = {ok_body, refusal_body};
    int64_t user = new_user(0);
    struct point_charge_outcome out;
    struct err e;
    err_clear(&e);
    uint64_t before = trips();
    assert_int_equal(point_service_charge_once(&svc, user, 700, "k-1", &render, &out, &e), ERR_OK);
    assert_int_equal(trips() - before, 2);
    assert_false(out.replayed);
    assert_int_equal(out.status, 200);
    char *first = out.body;
    before = trips();
    assert_int_equal(point_service_charge_once(&svc, user, 700, "k-1", &render, &out, &e), ERR_OK);
    assert_int_equal(trips() - before, 2);
    assert_true(out.replayed);
    assert_string_equal(out.body, first); /* the same bytes */
    free(out.body);
    free(first);
    /* charged once: the replay's charge statement was rolled back */
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", user), 700);
    assert_int_equal(scalar("SELECT count(*) FROM point_ledger WHERE user_id = %lld", user), 1);
    /* another amount under the same key */
    assert_int_equal(point_service_charge_once(&svc, user, 5, "k-1", &render, &out, &e),
                     ERR_IDEMPOTENCY_KEY_REUSED);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", user), 700);
    /* a refusal past the cap is recorded with the charge's transaction, and replayed */
    assert_int_equal(point_service_charge_once(&svc, user, 999999, "k-2", &render, &out, &e),
                     ERR_BALANCE_LIMIT_EXCEEDED);
    assert_int_equal(point_service_charge_once(&svc, user, 999999, "k-2", &render, &out, &e),
                     ERR_OK);
    assert_true(out.replayed);
    assert_int_equal(out.status, 409);
    assert_string_equal(out.body, "BALANCE_LIMIT_EXCEEDED");
    free(out.body);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", user), 700);
}

/*
 * One order test's world: products a (1000 each, 10 in stock) and b, a user
 * with points, and the order use case's dependencies on pool: through a
 * racing_tx (tx, its race_sql set by the test) when racing, else the plain
 * unit of work. out and e hold the last order's outcome and error.
 */
struct shop {
    int64_t a, b, user;
    struct racing_tx tx;
    struct order_deps d;
    struct place_order_outcome out;
    struct err e;
};

/* Fills *s: new products a and b (price_b, stock_b), a new user with points. */
static void shop_open(struct shop *s, int64_t price_b, int64_t stock_b, int64_t points, bool racing)
{
    s->a = new_product(1000, 10);
    s->b = new_product(price_b, stock_b);
    s->user = new_user(points);
    s->tx = (struct racing_tx){pg_tx_port(pool), 0, NULL};
    s->d = deps(racing ? &s->tx : NULL);
}

/*
 * Places {a: qa, b: qb} for s's user with key (coupon 0 = none) into s->out
 * and s->e; it must return want and, when want_trips is not 0, take that many
 * round trips. On ERR_OK the caller cleans s->out up.
 */
static void shop_place(struct shop *s, int64_t qa, int64_t qb, int64_t coupon, const char *key,
                       enum err_code want, uint64_t want_trips)
{
    struct order_item items[] = {{s->a, qa}, {s->b, qb}};
    struct place_order_cmd cmd = {s->user, items, 2, coupon, key};
    err_clear(&s->e);
    uint64_t before = want_trips ? trips() : 0;
    assert_int_equal(order_place(&s->d, &cmd, &s->out, &s->e), want);
    if (want_trips)
        assert_int_equal(trips() - before, want_trips);
}

/* The stock of product id. */
static int64_t stock_of(int64_t id)
{
    return scalar("SELECT stock FROM products WHERE id = %lld", id);
}

/* ---- orders ---- */

static void two_line_order__two_round_trips(void **state)
{
    (void)state;
    struct shop s;
    shop_open(&s, 2500, 10, 100000, false);
    /* the first order on this connection also prepares its statements, in the same exchanges */
    shop_place(&s, 1, 2, 0, "two-1", ERR_OK, 2);
    place_order_outcome_cleanup(&s.out);
    shop_place(&s, 2, 1, 0, "two-2", ERR_OK, 2);
    assert_false(s.out.replayed);
    assert_int_equal(s.out.order.total, 2 * 1000 + 2500);
    assert_int_equal(s.out.order.n_lines, 2);
    assert_string_equal(s.out.order.lines[0].name, "rt");
    int64_t id = s.out.order.id;
    place_order_outcome_cleanup(&s.out);
    /* everything written, in the one transaction */
    assert_int_equal(scalar("SELECT total FROM orders WHERE id = %lld", id), 4500);
    assert_int_equal(scalar("SELECT count(*) FROM order_lines WHERE order_id = %lld", id), 2);
    assert_int_equal(stock_of(s.a), 7);
    assert_int_equal(stock_of(s.b), 7);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", s.user),
                     100000 - 6000 - 4500);
    assert_int_equal(scalar("SELECT -amount FROM point_ledger WHERE order_id = %lld", id), 4500);
    assert_int_equal(scalar("SELECT count(*) FROM outbox_events WHERE aggregate_id = %lld", id), 1);
    assert_int_equal(recorded_status(s.user, "two-2"), 201);
    /* a replay: the reads, then a rollback */
    shop_place(&s, 2, 1, 0, "two-2", ERR_OK, 2);
    assert_true(s.out.replayed);
    assert_int_equal(s.out.recorded.status, 201);
    place_order_outcome_cleanup(&s.out);
    assert_int_equal(stock_of(s.a), 7);
}

static void out_of_stock_at_second_line__recorded_nothing_behind(void **state)
{
    (void)state;
    struct shop s;
    shop_open(&s, 1000, 1, 100000, false);
    shop_place(&s, 1, 2, 0, "oos", ERR_OUT_OF_STOCK, 2);
    assert_int_equal(s.e.product_id, s.b);
    assert_int_equal(stock_of(s.a), 10);
    assert_nothing_behind(s.user, 100000);
    assert_int_equal(recorded_status(s.user, "oos"), 409);
    /* the retry gets the same refusal, even though stock came back */
    test_db_scalar(&db, "UPDATE products SET stock = 5 WHERE id = %lld RETURNING 1",
                   (long long)s.b);
    shop_place(&s, 1, 2, 0, "oos", ERR_OK, 0);
    assert_true(s.out.replayed);
    assert_int_equal(s.out.recorded.status, 409);
    assert_non_null(strstr(s.out.recorded.body, "OUT_OF_STOCK"));
    place_order_outcome_cleanup(&s.out);
    assert_int_equal(stock_of(s.b), 5);
}

static void balance_short_and_coupon_used__recorded_nothing_behind(void **state)
{
    (void)state;
    struct shop s;
    shop_open(&s, 2000, 10, 2500, false);
    shop_place(&s, 1, 1, 0, "short", ERR_INSUFFICIENT_BALANCE, 0);
    assert_nothing_behind(s.user, 2500);
    assert_int_equal(recorded_status(s.user, "short"), 409);
    assert_int_equal(stock_of(s.a), 10);

    /* a coupon pays once: the second order that names it is refused */
    int64_t coupon = new_coupon(s.user, 1000);
    shop_place(&s, 1, 1, coupon, "coupon-1", ERR_OK, 0);
    assert_int_equal(s.out.order.total, 2000);
    place_order_outcome_cleanup(&s.out);
    shop_place(&s, 1, 1, coupon, "coupon-2", ERR_COUPON_NOT_USABLE, 0);
    assert_int_equal(scalar("SELECT count(*) FROM orders WHERE user_id = %lld", s.user), 1);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", s.user), 500);
    assert_int_equal(recorded_status(s.user, "coupon-2"), 409);
}

static void key_in_progress__conflict_nothing_behind(void **state)
{
    (void)state;
    struct shop s;
    shop_open(&s, 1000, 10, 100000, false);
    char sql[256];
    snprintf(sql, sizeof(sql),
             "SELECT pg_advisory_xact_lock(hashtextextended('%lld:order:busy', 0))",
             (long long)s.user);
    PQclear(test_db_query(&db, "BEGIN"));
    PQclear(test_db_query(&db, sql)); /* another transaction works under the key */
    shop_place(&s, 1, 1, 0, "busy", ERR_REQUEST_IN_PROGRESS, 0);
    PQclear(test_db_query(&db, "ROLLBACK"));
    assert_nothing_behind(s.user, 100000);
    assert_int_equal(recorded_status(s.user, "busy"), 0);
    assert_int_equal(stock_of(s.a), 10);
    /* and once it let go, the key works */
    shop_place(&s, 1, 1, 0, "busy", ERR_OK, 0);
    place_order_outcome_cleanup(&s.out);
}

/* ---- races between the reads and the writes ---- */

static void stock_gone_after_the_reads__order_runs_again_and_is_refused(void **state)
{
    (void)state;
    struct shop s;
    shop_open(&s, 1000, 10, 100000, true);
    char race[128];
    snprintf(race, sizeof(race), "UPDATE products SET stock = 1 WHERE id = %lld", (long long)s.b);
    s.tx.race_sql = race;
    /* reads, writes refused (40001), rollback, reads again, the refusal recorded */
    shop_place(&s, 1, 2, 0, "race-stock", ERR_OUT_OF_STOCK, 5);
    assert_int_equal(s.e.product_id, s.b);
    assert_int_equal(stock_of(s.a), 10);
    assert_int_equal(stock_of(s.b), 1);
    assert_nothing_behind(s.user, 100000);
    assert_int_equal(recorded_status(s.user, "race-stock"), 409);
}

static void balance_spent_after_the_reads__refused(void **state)
{
    (void)state;
    struct shop s;
    shop_open(&s, 1000, 10, 3000, true);
    char race[320];
    snprintf(race, sizeof(race),
             "WITH u AS (UPDATE users SET balance = 1000 WHERE id = %lld RETURNING id)"
             " INSERT INTO point_ledger (user_id, type, amount, balance_after)"
             " SELECT id, 'USE', -2000, 1000 FROM u",
             (long long)s.user);
    s.tx.race_sql = race;
    shop_place(&s, 1, 1, 0, "race-balance", ERR_INSUFFICIENT_BALANCE, 0);
    assert_int_equal(scalar("SELECT count(*) FROM orders WHERE user_id = %lld", s.user), 0);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", s.user), 1000);
    assert_int_equal(stock_of(s.a), 10);
    assert_int_equal(recorded_status(s.user, "race-balance"), 409);
}

static void coupon_used_after_the_reads__refused(void **state)
{
    (void)state;
    struct shop s;
    shop_open(&s, 1000, 10, 100000, true);
    int64_t coupon = new_coupon(s.user, 500);
    char race[128];
    snprintf(race, sizeof(race), "UPDATE user_coupons SET used_at = now() WHERE id = %lld",
             (long long)coupon);
    s.tx.race_sql = race;
    shop_place(&s, 1, 1, coupon, "race-coupon", ERR_COUPON_NOT_USABLE, 0);
    assert_nothing_behind(s.user, 100000);
    assert_int_equal(stock_of(s.b), 10);
    assert_int_equal(recorded_status(s.user, "race-coupon"), 409);
}

static void price_changed_after_the_reads__order_at_the_new_price(void **state)
{
    (void)state;
    struct shop s;
    shop_open(&s, 1000, 10, 100000, true);
    char race[128];
    snprintf(race, sizeof(race), "UPDATE products SET price = 1500 WHERE id = %lld",
             (long long)s.a);
    s.tx.race_sql = race;
    shop_place(&s, 1, 1, 0, "race-price", ERR_OK, 0);
    assert_int_equal(s.out.order.total, 2500); /* never priced on the stale catalogue */
    int64_t id = s.out.order.id;
    place_order_outcome_cleanup(&s.out);
    assert_int_equal(scalar("SELECT total FROM orders WHERE id = %lld", id), 2500);
    assert_int_equal(
        scalar("SELECT unit_price FROM order_lines WHERE order_id = %lld ORDER BY product_id"
               " LIMIT 1",
               id),
        1500);
    assert_int_equal(scalar("SELECT balance FROM users WHERE id = %lld", s.user), 100000 - 2500);
}

static int setup(void **state)
{
    (void)state;
    test_db_create(&db, "round_trips");
    pool = pg_pool_new(&(struct pg_pool_config){.conninfo = db.url});
    return pool && point_repo_pg_init(
                       &point_state, pool,
                       (struct point_charge_batching){.max_batch = 32, .max_inflight = 2})
               ? 0
               : -1;
}

static int teardown(void **state)
{
    (void)state;
    point_repo_pg_cleanup(&point_state);
    pg_pool_free(pool);
    test_db_drop(&db);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(charge_without_key__one_round_trip),
        cmocka_unit_test(charge_with_key__two_round_trips_and_a_replay_two),
        cmocka_unit_test(charges_batch__one_round_trip_each_its_own_outcome),
        cmocka_unit_test(two_line_order__two_round_trips),
        cmocka_unit_test(out_of_stock_at_second_line__recorded_nothing_behind),
        cmocka_unit_test(balance_short_and_coupon_used__recorded_nothing_behind),
        cmocka_unit_test(key_in_progress__conflict_nothing_behind),
        cmocka_unit_test(stock_gone_after_the_reads__order_runs_again_and_is_refused),
        cmocka_unit_test(balance_spent_after_the_reads__refused),
        cmocka_unit_test(coupon_used_after_the_reads__refused),
        cmocka_unit_test(price_changed_after_the_reads__order_at_the_new_price),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
