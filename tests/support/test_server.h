/* test_server.h — the real app and HTTP server in-process, on a free port. */
#ifndef SHOPD_TESTS_TEST_SERVER_H
#define SHOPD_TESTS_TEST_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

struct app;
struct http_server;

struct test_server {
    struct config cfg;
    struct app *app;
    struct http_server *http;
    char base[64]; /* "http://127.0.0.1:PORT" */
};

/* Admin token every test server uses. */
#define TEST_ADMIN_TOKEN "test-admin-token"
/* Access-token key of every test server (and of shopd processes the tests start). */
#define TEST_TOKEN_SECRET "test-token-secret-0123456789abcdef-0123456789"
/* The password test_new_user signs users up with. */
#define TEST_PASSWORD "test-password-1"

/*
 * Fills cfg with test defaults: database_url (may be NULL: an unreachable
 * address, for tests that need no database; migrations are then off),
 * $SHOPD_TEST_REDIS_URL or an unreachable Redis when unset, port 0,
 * TEST_ADMIN_TOKEN, TEST_TOKEN_SECRET, the cheapest Argon2id parameters
 * (tests sign up many users; docs/security.md has the real ones), 4
 * threads, no access log. Adjust cfg before starting.
 */
void test_server_config(struct config *cfg, const char *database_url);

/* Builds the app from cfg and serves it on 127.0.0.1:0; aborts on failure. */
void test_server_start(struct test_server *s, const struct config *cfg);

/* Stops the server (draining) and frees the app. */
void test_server_stop(struct test_server *s);

/*
 * test_server_stop when s runs (started and not stopped since; a zeroed s
 * does not), else nothing: for teardowns of tests that may fail before or
 * after their server started. Main thread.
 */
void test_server_stop_if_started(struct test_server *s);

struct test_db;

/*
 * The usual test fixture: test_http_global_init, a migrated private database
 * named after prefix, and a server on it whose config tweak (may be NULL)
 * adjusted. Aborts on failure.
 */
void test_env_start(struct test_db *db, struct test_server *srv, const char *prefix,
                    void (*tweak)(struct config *cfg));

/* Stops the server and drops the database. */
void test_env_stop(struct test_db *db, struct test_server *srv);

struct CMUnitTest;

/*
 * Runs the n cmocka tests as one group inside the usual fixture:
 * test_env_start(db, srv, prefix, tweak), the tests, test_env_stop. Returns
 * what cmocka's group run returns (the number of failed tests). For a main
 * that needs nothing else around its tests.
 */
int test_env_run(const struct CMUnitTest *tests, size_t n, struct test_db *db,
                 struct test_server *srv, const char *prefix, void (*tweak)(struct config *cfg));

/* test_env_run over an array of tests (its length taken with sizeof). */
#define TEST_ENV_RUN(tests, db, srv, prefix, tweak)                                                \
    test_env_run(tests, sizeof(tests) / sizeof((tests)[0]), db, srv, prefix, tweak)

/*
 * Runs the n cmocka tests as one group named name around a server with no
 * database: test_http_global_init, test_server_config(cfg, NULL) and
 * test_server_start(srv) before, test_server_stop(srv) after. Returns what
 * cmocka's group run returns (the number of failed tests). Main thread.
 */
int test_server_run_without_db(const struct CMUnitTest *tests, size_t n, struct test_server *srv,
                               const char *name);

/* test_server_run_without_db over an array of tests (its length taken with sizeof). */
#define TEST_SERVER_RUN_WITHOUT_DB(tests, srv, name)                                               \
    test_server_run_without_db(tests, sizeof(tests) / sizeof((tests)[0]), srv, name)

#endif
