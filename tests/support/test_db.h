/* test_db.h — a private, migrated database per test program on the test PostgreSQL. */
#ifndef SHOPD_TESTS_TEST_DB_H
#define SHOPD_TESTS_TEST_DB_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

struct test_db {
    char name[64]; /* e.g. "t_point_repo_12345" */
    char url[512]; /* conninfo of that database */
    PGconn *conn;  /* a plain connection to it for assertions (owned) */
};

/*
 * Creates database "t_<prefix>_<pid>" on $SHOPD_TEST_DATABASE_URL's server,
 * applies the embedded migrations and opens db->conn. Aborts the test
 * program (exit 1 with a message) when the server is not reachable:
 * integration tests never silently pass without a database.
 */
void test_db_create(struct test_db *db, const char *prefix);

/* Like test_db_create, without applying migrations (for migration tests). */
void test_db_create_bare(struct test_db *db, const char *prefix);

struct CMUnitTest;

/*
 * Runs the n cmocka tests as one group on a private migrated database:
 * test_db_create(db, prefix), the tests, test_db_drop. Returns the number
 * of failed tests.
 */
int test_db_run(const struct CMUnitTest *tests, size_t n, struct test_db *db, const char *prefix);

/* test_db_run over an array of tests (its length taken with sizeof). */
#define TEST_DB_RUN(tests, db, prefix)                                                             \
    test_db_run(tests, sizeof(tests) / sizeof((tests)[0]), db, prefix)

/* Closes db->conn and drops the database (terminating leftover sessions). */
void test_db_drop(struct test_db *db);

/* Runs sql (no parameters) on db->conn; aborts on failure. Returns the result (caller PQclear). */
PGresult *test_db_query(struct test_db *db, const char *sql);

/* Runs sql expected to return one int64 in row 0 column 0; aborts otherwise. */
int64_t test_db_scalar(struct test_db *db, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Runs "scripts/stack <verb>" on the test stack ($SHOPD_TEST_STACK_SCRIPT); returns exit status. */
int test_stack(const char *verb);

/* $SHOPD_TEST_REDIS_URL, aborting when unset. */
const char *test_redis_url(void);

#endif
