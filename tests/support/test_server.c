/* test_server.c — in-process shopd for HTTP tests. */
#include "support/test_server.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "composition/app.h"
#include "http/server.h"
#include "support/test_db.h"
#include "support/test_http.h"

static const char *lookup_nothing(const char *name, void *ud)
{
    (void)name;
    (void)ud;
    return NULL;
}

void test_server_config(struct config *cfg, const char *database_url)
{
    struct err e;
    err_clear(&e);
    config_load(cfg, lookup_nothing, NULL, &e);
    cfg->listen_port = 0;
    cfg->threads = 4;
    cfg->access_log = false;
    cfg->log_level = LOG_WARN;
    cfg->shutdown_timeout_ms = 5000;
    cfg->db_connect_timeout_s = 2;
    snprintf(cfg->admin_token, sizeof(cfg->admin_token), "%s", TEST_ADMIN_TOKEN);
    cfg->admin_token_is_default = false;
    snprintf(cfg->token_secret, sizeof(cfg->token_secret), "%s", TEST_TOKEN_SECRET);
    cfg->password_opslimit = 1;
    cfg->password_memlimit_kib = 8;
    /* each test program has its own Redis key space (they share one Redis) */
    snprintf(cfg->redis_namespace, sizeof(cfg->redis_namespace), "test%ld", (long)getpid());
    if (database_url) {
        snprintf(cfg->database_url, sizeof(cfg->database_url), "%s", database_url);
    } else {
        /* port 1 on loopback refuses at once: "database down" without waiting */
        snprintf(cfg->database_url, sizeof(cfg->database_url),
                 "host=127.0.0.1 port=1 dbname=none user=none");
        cfg->migrate = false;
    }
    const char *redis = getenv("SHOPD_TEST_REDIS_URL");
    snprintf(cfg->redis_url, sizeof(cfg->redis_url), "%s",
             redis && *redis ? redis : "redis://127.0.0.1:1/0");
}

void test_server_start(struct test_server *s, const struct config *cfg)
{
    struct err e;
    err_clear(&e);
    memset(s, 0, sizeof(*s));
    s->cfg = *cfg;
    log_set_level(cfg->log_level);
    s->app = app_new(&s->cfg, &e);
    if (!s->app) {
        fprintf(stderr, "test_server: app_new failed: %s\n", e.detail);
        exit(1);
    }
    struct http_server_config http_cfg;
    app_http_config(s->app, &http_cfg);
    s->http = http_server_start(&http_cfg, app_router(s->app), app_metrics(s->app), &e);
    if (!s->http) {
        fprintf(stderr, "test_server: start failed: %s\n", e.detail);
        exit(1);
    }
    snprintf(s->base, sizeof(s->base), "http://127.0.0.1:%u", (unsigned)http_server_port(s->http));
}

void test_server_stop(struct test_server *s)
{
    http_server_stop(s->http, s->cfg.shutdown_timeout_ms);
    app_free(s->app);
    s->http = NULL;
    s->app = NULL;
}

void test_server_stop_if_started(struct test_server *s)
{
    if (s->http)
        test_server_stop(s);
}

void test_env_start(struct test_db *db, struct test_server *srv, const char *prefix,
                    void (*tweak)(struct config *cfg))
{
    test_http_global_init();
    test_db_create(db, prefix);
    struct config cfg;
    test_server_config(&cfg, db->url);
    if (tweak)
        tweak(&cfg);
    test_server_start(srv, &cfg);
}

void test_env_stop(struct test_db *db, struct test_server *srv)
{
    test_server_stop(srv);
    test_db_drop(db);
}

int test_env_run(const struct CMUnitTest *tests, size_t n, struct test_db *db,
                 struct test_server *srv, const char *prefix, void (*tweak)(struct config *cfg))
{
    test_env_start(db, srv, prefix, tweak);
    int failed = _cmocka_run_group_tests(prefix, tests, n, NULL, NULL);
    test_env_stop(db, srv);
    return failed;
}

int test_server_run_without_db(const struct CMUnitTest *tests, size_t n, struct test_server *srv,
                               const char *name)
{
    test_http_global_init();
    struct config cfg;
    test_server_config(&cfg, NULL);
    test_server_start(srv, &cfg);
    int failed = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
    test_server_stop(srv);
    return failed;
}
