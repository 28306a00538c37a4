/*
 * test_readyz_pg.c — readiness follows PostgreSQL and Redis, and a restart
 * of either costs no request made after it. Stops the shared test servers:
 * runs alone (RUN_SERIAL).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/test_db.h"
#include "support/test_http.h"
#include "support/test_server.h"

enum { SERVER_THREADS = 4 };

static struct test_db db;
static struct test_server srv;

static int setup(void **state)
{
    (void)state;
    test_http_global_init();
    test_db_create(&db, "readyz");
    PQclear(test_db_query(&db, "INSERT INTO products (name, price, stock) VALUES ('p', 1, 1)"));
    struct config cfg;
    test_server_config(&cfg, db.url);
    cfg.threads = SERVER_THREADS;
    test_server_start(&srv, &cfg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_stack("pg-start");
    test_stack("redis-start");
    test_server_stop(&srv);
    test_db_drop(&db);
    return 0;
}

static long get_status(const char *path, char *code, size_t cap)
{
    struct test_resp r;
    test_call(srv.base, "GET", path, NULL, 0, &r);
    long status = r.status;
    if (code)
        snprintf(code, cap, "%s", test_resp_code(&r));
    test_resp_free(&r);
    return status;
}

/* Enough requests that every worker thread has used its connection. */
static void warm_every_thread(void)
{
    for (int i = 0; i < SERVER_THREADS * 8; i++)
        assert_int_equal(get_status("/api/v1/products/1", NULL, 0), 200);
}

static void readyz__follows_postgres_and_reconnects_after_restart(void **state)
{
    (void)state;
    assert_int_equal(get_status("/readyz", NULL, 0), 200);
    warm_every_thread();

    assert_int_equal(test_stack("pg-stop"), 0);
    char code[64];
    assert_int_equal(get_status("/readyz", code, sizeof(code)), 503);
    assert_string_equal(code, "SERVICE_UNAVAILABLE");
    assert_int_equal(get_status("/api/v1/products/1", code, sizeof(code)), 503);
    assert_string_equal(code, "SERVICE_UNAVAILABLE");
    assert_int_equal(get_status("/healthz", NULL, 0), 200); /* alive, just not ready */

    assert_int_equal(test_stack("pg-start"), 0);
    assert_int_equal(get_status("/readyz", NULL, 0), 200);
    /* every thread's old connection died with the server: none may cost a request */
    for (int i = 0; i < SERVER_THREADS * 8; i++)
        assert_int_equal(get_status("/api/v1/products/1", NULL, 0), 200);
}

static void readyz__follows_redis(void **state)
{
    (void)state;
    assert_int_equal(get_status("/readyz", NULL, 0), 200);
    assert_int_equal(test_stack("redis-stop"), 0);
    assert_int_equal(get_status("/readyz", NULL, 0), 503);
    assert_int_equal(get_status("/api/v1/products/1", NULL, 0), 200); /* PostgreSQL-only path */
    assert_int_equal(test_stack("redis-start"), 0);
    for (int i = 0; i < SERVER_THREADS * 4; i++)
        assert_int_equal(get_status("/readyz", NULL, 0), 200);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(readyz__follows_postgres_and_reconnects_after_restart),
        cmocka_unit_test(readyz__follows_redis),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
