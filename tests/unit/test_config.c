/* test_config.c — SHOPD_* parsing: defaults, every variable, refusals naming the variable. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"

struct env_pair {
    const char *name, *value;
};

/* A lookup over a NULL-terminated table of pairs. */
static const char *table_lookup(const char *name, void *ud)
{
    for (const struct env_pair *p = ud; p->name; p++)
        if (strcmp(p->name, name) == 0)
            return p->value;
    return NULL;
}

static enum err_code load(struct config *cfg, const struct env_pair *env, struct err *e)
{
    err_clear(e);
    return config_load(cfg, table_lookup, (void *)env, e);
}

static void defaults__documented_values(void **state)
{
    (void)state;
    struct config cfg;
    struct err e;
    const struct env_pair none[] = {{NULL, NULL}};
    assert_int_equal(load(&cfg, none, &e), ERR_OK);
    assert_string_equal(cfg.listen_host, "127.0.0.1");
    assert_int_equal(cfg.listen_port, 8080);
    assert_string_equal(cfg.database_url, "postgresql://shopd@127.0.0.1:55432/shopd");
    assert_string_equal(cfg.redis_url, "redis://127.0.0.1:56379/0");
    assert_string_equal(cfg.admin_token, "dev-admin-token");
    assert_true(cfg.admin_token_is_default);
    assert_int_equal(cfg.threads, 16);
    assert_int_equal(cfg.charge_max, 1000000);
    assert_int_equal(cfg.balance_max, 100000000);
    assert_true(cfg.access_log);
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_int_equal(cfg.shutdown_timeout_ms, 10000);
    assert_int_equal(cfg.db_statement_timeout_ms, 5000);
    assert_int_equal(cfg.db_connect_timeout_s, 3);
    assert_int_equal(cfg.redis_timeout_ms, 500);
    assert_true(cfg.migrate);
}

static void every_variable__parsed(void **state)
{
    (void)state;
    struct config cfg;
    struct err e;
    const struct env_pair env[] = {
        {"SHOPD_LISTEN", "0.0.0.0:0"},
        {"SHOPD_DATABASE_URL", "host=db dbname=shop"},
        {"SHOPD_REDIS_URL", "redis://cache:6380/2"},
        {"SHOPD_ADMIN_TOKEN", "s3cret"},
        {"SHOPD_THREADS", "256"},
        {"SHOPD_CHARGE_MAX", "5000"},
        {"SHOPD_BALANCE_MAX", "5000"},
        {"SHOPD_ACCESS_LOG", "off"},
        {"SHOPD_LOG_LEVEL", "debug"},
        {"SHOPD_SHUTDOWN_TIMEOUT_MS", "0"},
        {"SHOPD_DB_STATEMENT_TIMEOUT_MS", "250"},
        {"SHOPD_DB_CONNECT_TIMEOUT_S", "9"},
        {"SHOPD_REDIS_TIMEOUT_MS", "75"},
        {"SHOPD_MIGRATE", "no"},
        {"SHOPD_DATAPLATFORM_URL", "http://dp:9000/events"},
        {"SHOPD_DATAPLATFORM_TIMEOUT_MS", "1500"},
        {"SHOPD_OUTBOX_RELAY", "off"},
        {"SHOPD_OUTBOX_POLL_MS", "250"},
        {"SHOPD_OUTBOX_MAX_ATTEMPTS", "4"},
        {"SHOPD_OUTBOX_BACKOFF_MS", "100"},
        {"SHOPD_IDEMPOTENCY_TTL_HOURS", "48"},
        {"SHOPD_REAPER_INTERVAL_MS", "1000"},
        {NULL, NULL},
    };
    assert_int_equal(load(&cfg, env, &e), ERR_OK);
    assert_string_equal(cfg.listen_host, "0.0.0.0");
    assert_int_equal(cfg.listen_port, 0);
    assert_string_equal(cfg.database_url, "host=db dbname=shop");
    assert_string_equal(cfg.redis_url, "redis://cache:6380/2");
    assert_string_equal(cfg.admin_token, "s3cret");
    assert_false(cfg.admin_token_is_default);
    assert_int_equal(cfg.threads, 256);
    assert_int_equal(cfg.charge_max, 5000);
    assert_int_equal(cfg.balance_max, 5000);
    assert_false(cfg.access_log);
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_int_equal(cfg.shutdown_timeout_ms, 0);
    assert_int_equal(cfg.db_statement_timeout_ms, 250);
    assert_int_equal(cfg.db_connect_timeout_s, 9);
    assert_int_equal(cfg.redis_timeout_ms, 75);
    assert_false(cfg.migrate);
    assert_string_equal(cfg.dataplatform_url, "http://dp:9000/events");
    assert_int_equal(cfg.dataplatform_timeout_ms, 1500);
    assert_false(cfg.outbox_relay);
    assert_int_equal(cfg.outbox_poll_ms, 250);
    assert_int_equal(cfg.outbox_max_attempts, 4);
    assert_int_equal(cfg.outbox_backoff_ms, 100);
    assert_int_equal(cfg.idempotency_ttl_hours, 48);
    assert_int_equal(cfg.reaper_interval_ms, 1000);
}

static void bad_values__invalid_naming_the_variable(void **state)
{
    (void)state;
    const struct env_pair cases[] = {
        {"SHOPD_LISTEN", "8080"},
        {"SHOPD_LISTEN", "127.0.0.1:"},
        {"SHOPD_LISTEN", ":8080"},
        {"SHOPD_LISTEN", "1.2.3.4:70000"},
        {"SHOPD_LISTEN", "localhost:80"},
        {"SHOPD_LISTEN", "1.2.3.4:80x"},
        {"SHOPD_DATABASE_URL", ""},
        {"SHOPD_REDIS_URL", "http://cache:6379"},
        {"SHOPD_REDIS_URL", ""},
        {"SHOPD_ADMIN_TOKEN", ""},
        {"SHOPD_THREADS", "0"},
        {"SHOPD_THREADS", "257"},
        {"SHOPD_THREADS", "eight"},
        {"SHOPD_THREADS", " 8"},
        {"SHOPD_THREADS", "8 "},
        {"SHOPD_THREADS", ""},
        {"SHOPD_CHARGE_MAX", "0"},
        {"SHOPD_CHARGE_MAX", "99999999999999999999"},
        {"SHOPD_BALANCE_MAX", "-5"},
        {"SHOPD_ACCESS_LOG", "maybe"},
        {"SHOPD_LOG_LEVEL", "verbose"},
        {"SHOPD_SHUTDOWN_TIMEOUT_MS", "-1"},
        {"SHOPD_DB_STATEMENT_TIMEOUT_MS", "1.5"},
        {"SHOPD_DB_CONNECT_TIMEOUT_S", "0"},
        {"SHOPD_REDIS_TIMEOUT_MS", "0"},
        {"SHOPD_MIGRATE", "2"},
        {"SHOPD_DATAPLATFORM_URL", "ftp://x"},
        {"SHOPD_OUTBOX_MAX_ATTEMPTS", "0"},
        {"SHOPD_OUTBOX_RELAY", "sometimes"},
        {"SHOPD_IDEMPOTENCY_TTL_HOURS", "23"},
        {"SHOPD_REAPER_INTERVAL_MS", "abc"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct env_pair env[] = {cases[i], {NULL, NULL}};
        struct config cfg;
        struct err e;
        assert_int_equal(load(&cfg, env, &e), ERR_INVALID_REQUEST);
        assert_string_equal(e.field, cases[i].name);
        assert_non_null(strstr(e.detail, cases[i].name));
    }
}

static void charge_max_above_balance_max__refused(void **state)
{
    (void)state;
    const struct env_pair env[] = {
        {"SHOPD_CHARGE_MAX", "2000"}, {"SHOPD_BALANCE_MAX", "1999"}, {NULL, NULL}};
    struct config cfg;
    struct err e;
    assert_int_equal(load(&cfg, env, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "SHOPD_CHARGE_MAX");
}

static void booleans__all_spellings(void **state)
{
    (void)state;
    const char *on[] = {"1", "on", "true", "yes"};
    const char *off[] = {"0", "off", "false", "no"};
    for (size_t i = 0; i < 4; i++) {
        struct config cfg;
        struct err e;
        const struct env_pair a[] = {{"SHOPD_ACCESS_LOG", on[i]}, {NULL, NULL}};
        assert_int_equal(load(&cfg, a, &e), ERR_OK);
        assert_true(cfg.access_log);
        const struct env_pair b[] = {{"SHOPD_ACCESS_LOG", off[i]}, {NULL, NULL}};
        assert_int_equal(load(&cfg, b, &e), ERR_OK);
        assert_false(cfg.access_log);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults__documented_values),
        cmocka_unit_test(every_variable__parsed),
        cmocka_unit_test(bad_values__invalid_naming_the_variable),
        cmocka_unit_test(charge_max_above_balance_max__refused),
        cmocka_unit_test(booleans__all_spellings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
