/* test_db.c — per-program test databases. */
#include "support/test_db.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "infra/pg.h"
#include "infra/pg_migrate.h"

static const char *required_env(const char *name)
{
    const char *v = getenv(name);
    if (!v || !*v) {
        fprintf(stderr, "%s is not set: run the tests with `make test`\n", name);
        exit(1);
    }
    return v;
}

const char *test_redis_url(void)
{
    return required_env("SHOPD_TEST_REDIS_URL");
}

static void exec_admin(const char *sql)
{
    PGconn *admin = PQconnectdb(required_env("SHOPD_TEST_DATABASE_URL"));
    if (PQstatus(admin) != CONNECTION_OK) {
        fprintf(stderr, "test_db: cannot connect: %s", PQerrorMessage(admin));
        exit(1);
    }
    PGresult *r = PQexec(admin, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "test_db: %s failed: %s", sql, PQerrorMessage(admin));
        exit(1);
    }
    PQclear(r);
    PQfinish(admin);
}

static void create_database(struct test_db *db, const char *prefix, bool migrate)
{
    memset(db, 0, sizeof(*db));
    snprintf(db->name, sizeof(db->name), "t_%.40s_%ld", prefix, (long)getpid());
    char sql[256];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db->name);
    exec_admin(sql);
    snprintf(sql, sizeof(sql), "CREATE DATABASE %s", db->name);
    exec_admin(sql);

    /* same server and user, other database: libpq lets a later dbname override */
    PGconn *probe = PQconnectdb(required_env("SHOPD_TEST_DATABASE_URL"));
    snprintf(db->url, sizeof(db->url), "host=%s port=%s user=%s dbname=%s", PQhost(probe),
             PQport(probe), PQuser(probe), db->name);
    PQfinish(probe);

    if (migrate) {
        struct pg_pool_config cfg = {.conninfo = db->url, .connect_timeout_s = 5};
        struct pg_pool *pool = pg_pool_new(&cfg);
        struct err e;
        err_clear(&e);
        struct pg_conn *c = pg_pool_conn(pool, &e);
        if (!c || pg_migrate(c, pg_migrations_embedded, &e) != ERR_OK) {
            fprintf(stderr, "test_db: migrations failed: %s\n", e.detail);
            exit(1);
        }
        pg_pool_free(pool);
    }

    db->conn = PQconnectdb(db->url);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        fprintf(stderr, "test_db: cannot connect to %s: %s", db->name, PQerrorMessage(db->conn));
        exit(1);
    }
}

void test_db_create(struct test_db *db, const char *prefix)
{
    create_database(db, prefix, true);
}

void test_db_create_bare(struct test_db *db, const char *prefix)
{
    create_database(db, prefix, false);
}

void test_db_drop(struct test_db *db)
{
    if (db->conn)
        PQfinish(db->conn);
    db->conn = NULL;
    char sql[256];
    snprintf(sql, sizeof(sql), "DROP DATABASE IF EXISTS %s WITH (FORCE)", db->name);
    exec_admin(sql);
}

PGresult *test_db_query(struct test_db *db, const char *sql)
{
    if (PQstatus(db->conn) != CONNECTION_OK)
        PQreset(db->conn);
    PGresult *r = PQexec(db->conn, sql);
    if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK) {
        fprintf(stderr, "test_db: %s failed: %s", sql, PQerrorMessage(db->conn));
        exit(1);
    }
    return r;
}

int64_t test_db_scalar(struct test_db *db, const char *fmt, ...)
{
    char sql[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(sql, sizeof(sql), fmt, ap);
    va_end(ap);
    PGresult *r = test_db_query(db, sql);
    if (PQntuples(r) != 1 || PQnfields(r) < 1) {
        fprintf(stderr, "test_db: %s returned %d rows\n", sql, PQntuples(r));
        exit(1);
    }
    int64_t v = PQgetisnull(r, 0, 0) ? 0 : strtoll(PQgetvalue(r, 0, 0), NULL, 10);
    PQclear(r);
    return v;
}

int test_stack(const char *verb)
{
    char cmd[1024];
    snprintf(cmd, sizeof(cmd), "STACK_DIR='%s' '%s' %s >/dev/null 2>&1",
             required_env("SHOPD_TEST_STACK_DIR"), required_env("SHOPD_TEST_STACK_SCRIPT"), verb);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

int test_db_run(const struct CMUnitTest *tests, size_t n, struct test_db *db, const char *prefix)
{
    test_db_create(db, prefix);
    int failed = _cmocka_run_group_tests(prefix, tests, n, NULL, NULL);
    test_db_drop(db);
    return failed;
}
