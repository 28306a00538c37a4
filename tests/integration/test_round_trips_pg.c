/*
 * test_round_trips_pg.c — PostgreSQL round trips per operation, counted on the
 * connection (pg_conn_round_trips), never timed (issue 10: "a charge 1").
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "infra/pg.h"
#include "point/point_repo_pg.h"
#include "support/test_db.h"

static struct test_db db;
static struct pg_pool *pool;

/* Round trips made so far on this thread's connection of the pool. */
static uint64_t trips(void)
{
    struct err e;
    err_clear(&e);
    struct pg_conn *c = pg_pool_conn(pool, &e);
    assert_non_null(c);
    return pg_conn_round_trips(c);
}

static void charge_without_key__one_round_trip(void **state)
{
    (void)state;
    struct point_repo repo = point_repo_pg(pool);
    struct point_user u;
    struct err e;
    err_clear(&e);
    assert_int_equal(repo.ops->create_user(repo.self, "rt", &u, &e), ERR_OK);
    int64_t balance = 0;
    /* the first charge also prepares its statement on this connection */
    assert_int_equal(repo.ops->charge(repo.self, u.id, 100, 1000000, &balance, &e), ERR_OK);
    uint64_t before = trips();
    assert_int_equal(repo.ops->charge(repo.self, u.id, 250, 1000000, &balance, &e), ERR_OK);
    assert_int_equal(trips() - before, 1);
    assert_int_equal(balance, 350);
    /* the counter counts: a refusal past the cap asks once more, to tell why */
    before = trips();
    assert_int_equal(repo.ops->charge(repo.self, u.id, 1000000, 1000000, &balance, &e),
                     ERR_BALANCE_LIMIT_EXCEEDED);
    assert_true(trips() - before >= 2);
}

static int setup(void **state)
{
    (void)state;
    test_db_create(&db, "round_trips");
    pool = pg_pool_new(&(struct pg_pool_config){.conninfo = db.url});
    return pool ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    pg_pool_free(pool);
    test_db_drop(&db);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(charge_without_key__one_round_trip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
