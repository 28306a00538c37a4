/*
 * test_config.c — SHOPD_* settings (core/config.c): the documented defaults,
 * every variable parsed, each range's both ends accepted and both
 * neighbours refused, malformed values refused as ERR_INVALID_REQUEST with
 * e.field = the variable, and the cross-setting rules.
 *
 * The environment is a small table behind a config_lookup_fn; no real
 * environment variable is read (except by the config_lookup_env test).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"

/* ---- the fake environment ---- */

struct env_pair {
    const char *name, *value;
};

/* A config_lookup_fn over a table ended by {NULL, NULL}. */
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

/* Loads one variable (plus an optional companion) and returns the result. */
static enum err_code load_one(struct config *cfg, const char *name, const char *value,
                              struct env_pair companion, struct err *e)
{
    const struct env_pair env[] = {{name, value}, companion, {NULL, NULL}};
    return load(cfg, env, e);
}

static const struct env_pair no_companion = {NULL, NULL};

/* Asserts that value for name is refused naming name, in field and detail. */
static void assert_refused(const char *name, const char *value)
{
    struct config cfg;
    struct err e;
    enum err_code rc = load_one(&cfg, name, value, no_companion, &e);
    if (rc != ERR_INVALID_REQUEST || strcmp(e.field, name) != 0)
        fail_msg("%s=\"%s\": expected INVALID_REQUEST naming %s, got %s field \"%s\" (%s)", name,
                 value, name, err_code_str(rc), e.field, e.detail);
    assert_int_equal(e.code, ERR_INVALID_REQUEST);
    assert_non_null(strstr(e.detail, name));
}

/* ---- every field: its documented default and what a set value is parsed into ---- */

enum field_type { F_TEXT, F_U16, F_UINT, F_INT64, F_BOOL, F_LOG_LEVEL };

/*
 * One field of struct config: its default, and in the every-variable load
 * the value its variable is set to (NULL: not set by this row) and what the
 * field then holds (NULL: not checked). Values compare as text: numbers in
 * decimal, booleans "true"/"false", log levels by name.
 */
struct field_case {
    const char *var;   /* the variable it comes from (reported) */
    const char *field; /* its name in struct config (reported) */
    size_t offset;
    enum field_type type;
    const char *def;
    const char *set, *parsed;
};

#define FIELD(var, f, type, def, set, parsed)                                                      \
    {                                                                                              \
        var, #f, offsetof(struct config, f), type, def, set, parsed                                \
    }

static const struct field_case fields[] = {
    FIELD("SHOPD_LISTEN", listen_host, F_TEXT, "127.0.0.1", "0.0.0.0:0", "0.0.0.0"),
    FIELD("SHOPD_LISTEN", listen_port, F_U16, "8080", NULL, "0"),
    FIELD("SHOPD_DATABASE_URL", database_url, F_TEXT, "postgresql://shopd@127.0.0.1:55432/shopd",
          "host=db dbname=shop", "host=db dbname=shop"),
    FIELD("SHOPD_REDIS_URL", redis_url, F_TEXT, "redis://127.0.0.1:56379/0", "redis://cache:6380/2",
          "redis://cache:6380/2"),
    FIELD("SHOPD_ADMIN_TOKEN", admin_token, F_TEXT, "dev-admin-token", "s3cret", "s3cret"),
    FIELD("SHOPD_ADMIN_TOKEN", admin_token_is_default, F_BOOL, "true", NULL, "false"),
    FIELD("SHOPD_THREADS", threads, F_UINT, "16", "256", "256"),
    FIELD("SHOPD_CHARGE_MAX", charge_max, F_INT64, "1000000", "5000", "5000"),
    FIELD("SHOPD_BALANCE_MAX", balance_max, F_INT64, "100000000", "5000", "5000"),
    FIELD("SHOPD_ACCESS_LOG", access_log, F_BOOL, "true", "off", "false"),
    FIELD("SHOPD_LOG_LEVEL", log_level, F_LOG_LEVEL, "info", "debug", "debug"),
    FIELD("SHOPD_SHUTDOWN_TIMEOUT_MS", shutdown_timeout_ms, F_UINT, "10000", "0", "0"),
    FIELD("SHOPD_DB_STATEMENT_TIMEOUT_MS", db_statement_timeout_ms, F_UINT, "5000", "250", "250"),
    FIELD("SHOPD_DB_CONNECT_TIMEOUT_S", db_connect_timeout_s, F_UINT, "3", "9", "9"),
    FIELD("SHOPD_REDIS_TIMEOUT_MS", redis_timeout_ms, F_UINT, "500", "75", "75"),
    FIELD("SHOPD_MIGRATE", migrate, F_BOOL, "true", "no", "false"),
    FIELD("SHOPD_DATAPLATFORM_URL", dataplatform_url, F_TEXT, "", "http://dp:9000/events",
          "http://dp:9000/events"),
    FIELD("SHOPD_DATAPLATFORM_TIMEOUT_MS", dataplatform_timeout_ms, F_UINT, "2000", "1500", "1500"),
    FIELD("SHOPD_OUTBOX_RELAY", outbox_relay, F_BOOL, "true", "off", "false"),
    FIELD("SHOPD_OUTBOX_POLL_MS", outbox_poll_ms, F_UINT, "1000", "250", "250"),
    FIELD("SHOPD_OUTBOX_BACKOFF_MS", outbox_backoff_ms, F_UINT, "500", "100", "100"),
    FIELD("SHOPD_IDEMPOTENCY_TTL_HOURS", idempotency_ttl_hours, F_UINT, "24", "48", "48"),
    FIELD("SHOPD_REAPER_INTERVAL_MS", reaper_interval_ms, F_UINT, "600000", "1000", "1000"),
    FIELD("SHOPD_COUPON_GATE", coupon_gate, F_BOOL, "true", "false", "false"),
    FIELD("SHOPD_REDIS_NAMESPACE", redis_namespace, F_TEXT, "shopd", "shop-test:7", "shop-test:7"),
    FIELD("SHOPD_USER_LOCK", user_lock, F_BOOL, "true", "0", "false"),
    FIELD("SHOPD_LOCK_WAIT_MS", lock_wait_ms, F_UINT, "2000", "0", "0"),
    FIELD("SHOPD_CHARGE_BATCH_MAX", charge_batch_max, F_UINT, "32", NULL, NULL),
    FIELD("SHOPD_CHARGE_BATCH_INFLIGHT", charge_batch_inflight, F_UINT, "2", NULL, NULL),
    FIELD("SHOPD_LOCK_LEASE_MS", lock_lease_ms, F_UINT, "2000", "301", "301"),
    FIELD("SHOPD_CACHE_TTL_MS", cache_ttl_ms, F_UINT, "5000", "0", "0"),
    FIELD("SHOPD_TOKEN_SECRET", token_secret, F_TEXT, "", NULL, NULL),
    FIELD("SHOPD_TOKEN_SECRET_PREVIOUS", token_secret_previous, F_TEXT, "", NULL, NULL),
    FIELD("SHOPD_TOKEN_TTL_S", token_ttl_s, F_UINT, "3600", NULL, NULL),
    FIELD("SHOPD_PASSWORD_OPSLIMIT", password_opslimit, F_UINT, "2", NULL, NULL),
    FIELD("SHOPD_PASSWORD_MEMLIMIT_KIB", password_memlimit_kib, F_UINT, "19456", NULL, NULL),
    FIELD("SHOPD_PASSWORD_CONCURRENCY", password_concurrency, F_UINT, "0", NULL, NULL),
    FIELD("SHOPD_LOGIN_USER_FAILURES", login_user_failures, F_UINT, "5", NULL, NULL),
    FIELD("SHOPD_LOGIN_ADDRESS_FAILURES", login_address_failures, F_UINT, "50", NULL, NULL),
    FIELD("SHOPD_LOGIN_WINDOW_S", login_window_s, F_UINT, "300", NULL, NULL),
    FIELD("SHOPD_TRUST_FORWARDED_FOR", trust_forwarded_for, F_BOOL, "false", NULL, NULL),
    FIELD("SHOPD_DOCS_DIR", docs_dir, F_TEXT, "docs", "/usr/share/shopd/docs",
          "/usr/share/shopd/docs"),
    FIELD("SHOPD_SWAGGER_UI_DIR", swagger_ui_dir, F_TEXT, "tools/npm/node_modules/swagger-ui-dist",
          "/usr/share/shopd/swagger-ui", "/usr/share/shopd/swagger-ui"),
};

enum { N_FIELDS = sizeof(fields) / sizeof(fields[0]) };

/* The value of field f of cfg as text (see struct field_case) into buf. */
static const char *field_text(const struct config *cfg, const struct field_case *f, char *buf,
                              size_t cap)
{
    const char *p = (const char *)cfg + f->offset;
    switch (f->type) {
    case F_TEXT:
        snprintf(buf, cap, "%s", p);
        break;
    case F_U16: {
        uint16_t u;
        memcpy(&u, p, sizeof(u));
        snprintf(buf, cap, "%u", (unsigned)u);
        break;
    }
    case F_UINT: {
        unsigned u;
        memcpy(&u, p, sizeof(u));
        snprintf(buf, cap, "%u", u);
        break;
    }
    case F_INT64: {
        int64_t v;
        memcpy(&v, p, sizeof(v));
        snprintf(buf, cap, "%lld", (long long)v);
        break;
    }
    case F_BOOL: {
        bool b;
        memcpy(&b, p, sizeof(b));
        snprintf(buf, cap, "%s", b ? "true" : "false");
        break;
    }
    case F_LOG_LEVEL: {
        enum log_level l;
        memcpy(&l, p, sizeof(l));
        static const char *const names[] = {"debug", "info", "warn", "error"};
        snprintf(buf, cap, "%s", (unsigned)l < 4 ? names[l] : "?");
        break;
    }
    }
    return buf;
}

/*
 * Compares every field having an expectation (want(f) non-NULL) with cfg,
 * reports each difference naming the field and its variable, and fails the
 * test when there was any.
 */
static void assert_fields(const struct config *cfg, const char *(*want)(const struct field_case *),
                          const char *what)
{
    int wrong = 0;
    for (size_t i = 0; i < N_FIELDS; i++) {
        const char *w = want(&fields[i]);
        char got[CONFIG_TEXT_MAX];
        if (!w || strcmp(field_text(cfg, &fields[i], got, sizeof(got)), w) == 0)
            continue;
        print_error("%s: %s (%s) is \"%s\", not \"%s\"\n", what, fields[i].field, fields[i].var,
                    got, w);
        wrong++;
    }
    if (wrong)
        fail_msg("%s: %d field(s) wrong", what, wrong);
}

static const char *default_of(const struct field_case *f)
{
    return f->def;
}

static const char *parsed_of(const struct field_case *f)
{
    return f->parsed;
}

static void load__nothing_set__every_documented_default(void **state)
{
    (void)state;
    struct config cfg;
    struct err e;
    const struct env_pair none[] = {{NULL, NULL}};
    assert_int_equal(load(&cfg, none, &e), ERR_OK);
    assert_int_equal(e.code, ERR_OK);
    assert_fields(&cfg, default_of, "defaults");
}

static void load__every_variable_set__each_parsed_into_its_field(void **state)
{
    (void)state;
    struct config cfg;
    struct err e;
    struct env_pair env[N_FIELDS + 1];
    size_t n = 0;
    for (size_t i = 0; i < N_FIELDS; i++)
        if (fields[i].set)
            env[n++] = (struct env_pair){fields[i].var, fields[i].set};
    env[n] = (struct env_pair){NULL, NULL};
    assert_int_equal(load(&cfg, env, &e), ERR_OK);
    assert_fields(&cfg, parsed_of, "every variable set");
}

/* Records every name config_load asks for. */
struct asked {
    const char *names[64];
    size_t n;
};

static const char *recording_lookup(const char *name, void *ud)
{
    struct asked *a = ud;
    if (a->n < sizeof(a->names) / sizeof(a->names[0]))
        a->names[a->n++] = name;
    return NULL;
}

static void load__asks_for_exactly_the_documented_variables(void **state)
{
    (void)state;
    /* README's settings table */
    static const char *const documented[] = {
        "SHOPD_LISTEN",
        "SHOPD_DATABASE_URL",
        "SHOPD_REDIS_URL",
        "SHOPD_ADMIN_TOKEN",
        "SHOPD_THREADS",
        "SHOPD_CHARGE_MAX",
        "SHOPD_BALANCE_MAX",
        "SHOPD_ACCESS_LOG",
        "SHOPD_LOG_LEVEL",
        "SHOPD_SHUTDOWN_TIMEOUT_MS",
        "SHOPD_DB_STATEMENT_TIMEOUT_MS",
        "SHOPD_DB_CONNECT_TIMEOUT_S",
        "SHOPD_REDIS_TIMEOUT_MS",
        "SHOPD_MIGRATE",
        "SHOPD_DATAPLATFORM_URL",
        "SHOPD_DATAPLATFORM_TIMEOUT_MS",
        "SHOPD_DATAPLATFORM_BATCH",
        "SHOPD_OUTBOX_RELAY",
        "SHOPD_OUTBOX_POLL_MS",
        "SHOPD_OUTBOX_BACKOFF_MS",
        "SHOPD_IDEMPOTENCY_TTL_HOURS",
        "SHOPD_REAPER_INTERVAL_MS",
        "SHOPD_USER_LOCK",
        "SHOPD_LOCK_WAIT_MS",
        "SHOPD_CHARGE_BATCH_MAX",
        "SHOPD_CHARGE_BATCH_INFLIGHT",
        "SHOPD_LOCK_LEASE_MS",
        "SHOPD_COUPON_GATE",
        "SHOPD_REDIS_NAMESPACE",
        "SHOPD_CACHE_TTL_MS",
        "SHOPD_IDLE_TIMEOUT_S",
        "SHOPD_MAX_CONNECTIONS",
        "SHOPD_KAFKA_BROKERS",
        "SHOPD_KAFKA_PROPERTIES",
        "SHOPD_KAFKA_GROUP_PREFIX",
        "SHOPD_CONSUMERS",
        "SHOPD_KAFKA_MESSAGE_TIMEOUT_MS",
        "SHOPD_TOKEN_SECRET",
        "SHOPD_TOKEN_SECRET_PREVIOUS",
        "SHOPD_TOKEN_TTL_S",
        "SHOPD_PASSWORD_OPSLIMIT",
        "SHOPD_PASSWORD_MEMLIMIT_KIB",
        "SHOPD_PASSWORD_CONCURRENCY",
        "SHOPD_LOGIN_USER_FAILURES",
        "SHOPD_LOGIN_ADDRESS_FAILURES",
        "SHOPD_LOGIN_WINDOW_S",
        "SHOPD_TRUST_FORWARDED_FOR",
        "SHOPD_DOCS_DIR",
        "SHOPD_SWAGGER_UI_DIR",
    };
    const size_t n_documented = sizeof(documented) / sizeof(documented[0]);
    struct asked asked = {.n = 0};
    struct config cfg;
    struct err e;
    err_clear(&e);
    assert_int_equal(config_load(&cfg, recording_lookup, &asked, &e), ERR_OK);
    /* each name read is documented (a new setting must be added here and tested) */
    for (size_t i = 0; i < asked.n; i++) {
        size_t j = 0;
        while (j < n_documented && strcmp(asked.names[i], documented[j]) != 0)
            j++;
        if (j == n_documented)
            fail_msg("config_load reads %s, which this test does not know", asked.names[i]);
    }
    /* and each documented name is read */
    for (size_t j = 0; j < n_documented; j++) {
        size_t i = 0;
        while (i < asked.n && strcmp(asked.names[i], documented[j]) != 0)
            i++;
        if (i == asked.n)
            fail_msg("config_load never reads %s", documented[j]);
    }
}

/* ---- integer settings: both ends in, both neighbours out ---- */

enum setting_kind { KIND_UNSIGNED, KIND_INT64 };

struct int_setting {
    const char *name;
    size_t offset;
    enum setting_kind kind;
    int64_t min, max; /* the parser's bounds */
    /* another variable needed for an end to agree with the cross-setting rules */
    struct env_pair with_min, with_max;
    int64_t top; /* highest value that loads, when below max (0: max itself) */
};

static int64_t read_setting(const struct config *cfg, const struct int_setting *s)
{
    const char *p = (const char *)cfg + s->offset;
    if (s->kind == KIND_UNSIGNED) {
        unsigned u;
        memcpy(&u, p, sizeof(u));
        return (int64_t)u;
    }
    int64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

#define U_SETTING(var, field, lo, hi)                                                              \
    {                                                                                              \
        .name = var, .offset = offsetof(struct config, field), .kind = KIND_UNSIGNED, .min = lo,   \
        .max = hi                                                                                  \
    }

static void integer_settings__range_ends_accepted_neighbours_refused(void **state)
{
    (void)state;
    const struct int_setting settings[] = {
        U_SETTING("SHOPD_THREADS", threads, 1, 256),
        {.name = "SHOPD_CHARGE_MAX",
         .offset = offsetof(struct config, charge_max),
         .kind = KIND_INT64,
         .min = 1,
         .max = INT64_MAX / 4,
         .with_max = {"SHOPD_BALANCE_MAX", "2305843009213693951"}},
        {.name = "SHOPD_BALANCE_MAX",
         .offset = offsetof(struct config, balance_max),
         .kind = KIND_INT64,
         .min = 1,
         .max = INT64_MAX / 4,
         .with_min = {"SHOPD_CHARGE_MAX", "1"}},
        U_SETTING("SHOPD_SHUTDOWN_TIMEOUT_MS", shutdown_timeout_ms, 0, 3600000),
        /* 0 (no timeout) too: the lock's keep-alive holds it for as long as a statement runs */
        U_SETTING("SHOPD_DB_STATEMENT_TIMEOUT_MS", db_statement_timeout_ms, 0, 3600000),
        U_SETTING("SHOPD_DB_CONNECT_TIMEOUT_S", db_connect_timeout_s, 1, 600),
        /* the top only without the user lock, whose lease must be 3 Redis timeouts at least */
        {.name = "SHOPD_REDIS_TIMEOUT_MS",
         .offset = offsetof(struct config, redis_timeout_ms),
         .kind = KIND_UNSIGNED,
         .min = 1,
         .max = 600000,
         .with_max = {"SHOPD_USER_LOCK", "off"}},
        U_SETTING("SHOPD_DATAPLATFORM_TIMEOUT_MS", dataplatform_timeout_ms, 1, 600000),
        U_SETTING("SHOPD_DATAPLATFORM_BATCH", dataplatform_batch, 1, 1000),
        U_SETTING("SHOPD_OUTBOX_POLL_MS", outbox_poll_ms, 10, 3600000),
        U_SETTING("SHOPD_OUTBOX_BACKOFF_MS", outbox_backoff_ms, 1, 3600000),
        U_SETTING("SHOPD_IDEMPOTENCY_TTL_HOURS", idempotency_ttl_hours, 24, 24 * 366),
        U_SETTING("SHOPD_REAPER_INTERVAL_MS", reaper_interval_ms, 10, 86400000),
        U_SETTING("SHOPD_LOCK_WAIT_MS", lock_wait_ms, 0, 600000),
        U_SETTING("SHOPD_CHARGE_BATCH_MAX", charge_batch_max, 1, 256),
        U_SETTING("SHOPD_CHARGE_BATCH_INFLIGHT", charge_batch_inflight, 1, 64),
        {.name = "SHOPD_LOCK_LEASE_MS",
         .offset = offsetof(struct config, lock_lease_ms),
         .kind = KIND_UNSIGNED,
         .min = 300,
         .max = 3600000,
         .with_min = {"SHOPD_REDIS_TIMEOUT_MS", "100"}},
        U_SETTING("SHOPD_CACHE_TTL_MS", cache_ttl_ms, 0, 86400000),
        U_SETTING("SHOPD_IDLE_TIMEOUT_S", idle_timeout_s, 1, 3600),
        U_SETTING("SHOPD_TOKEN_TTL_S", token_ttl_s, 60, 7 * 86400),
        U_SETTING("SHOPD_PASSWORD_OPSLIMIT", password_opslimit, 1, 16),
        U_SETTING("SHOPD_PASSWORD_MEMLIMIT_KIB", password_memlimit_kib, 8, 4 * 1024 * 1024),
        U_SETTING("SHOPD_PASSWORD_CONCURRENCY", password_concurrency, 0, 256),
        U_SETTING("SHOPD_LOGIN_USER_FAILURES", login_user_failures, 1, 1000000),
        U_SETTING("SHOPD_LOGIN_ADDRESS_FAILURES", login_address_failures, 1, 1000000),
        U_SETTING("SHOPD_LOGIN_WINDOW_S", login_window_s, 1, 86400),
        U_SETTING("SHOPD_MAX_CONNECTIONS", max_connections, 1, 1000000),
        U_SETTING("SHOPD_KAFKA_MESSAGE_TIMEOUT_MS", kafka_message_timeout_ms, 1000, 900000),
    };
    const char *malformed[] = {
        "", " 5", "5 ", "+5", "5x", "x5", "1.5", "1e3", "0x10", "-", "99999999999999999999"};
    for (size_t i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
        const struct int_setting *s = &settings[i];
        char text[32];
        struct config cfg;
        struct err e;

        snprintf(text, sizeof(text), "%lld", (long long)s->min);
        if (load_one(&cfg, s->name, text, s->with_min, &e) != ERR_OK)
            fail_msg("%s=%s (its minimum) refused: %s", s->name, text, e.detail);
        assert_int_equal(read_setting(&cfg, s), s->min);

        int64_t top = s->top ? s->top : s->max;
        snprintf(text, sizeof(text), "%lld", (long long)top);
        if (load_one(&cfg, s->name, text, s->with_max, &e) != ERR_OK)
            fail_msg("%s=%s (its maximum) refused: %s", s->name, text, e.detail);
        assert_int_equal(read_setting(&cfg, s), top);

        snprintf(text, sizeof(text), "%lld", (long long)s->min - 1);
        assert_refused(s->name, text);
        snprintf(text, sizeof(text), "%lld", (long long)s->max + 1);
        assert_refused(s->name, text);
        /* the same malformed spellings are refused everywhere */
        for (size_t j = 0; j < sizeof(malformed) / sizeof(malformed[0]); j++)
            assert_refused(s->name, malformed[j]);
    }
}

/* ---- SHOPD_LISTEN ---- */

static void listen__ipv4_and_port__split_into_host_and_port(void **state)
{
    (void)state;
    const struct {
        const char *text, *host;
        unsigned port;
    } cases[] = {
        {"0.0.0.0:0", "0.0.0.0", 0},
        {"127.0.0.1:8080", "127.0.0.1", 8080},
        {"10.20.30.40:65535", "10.20.30.40", 65535},
        {"255.255.255.255:1", "255.255.255.255", 1},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config cfg;
        struct err e;
        assert_int_equal(load_one(&cfg, "SHOPD_LISTEN", cases[i].text, no_companion, &e), ERR_OK);
        assert_string_equal(cfg.listen_host, cases[i].host);
        assert_int_equal(cfg.listen_port, cases[i].port);
    }
}

static void listen__not_ipv4_colon_port__refused_naming_shopd_listen(void **state)
{
    (void)state;
    const char *bad[] = {
        "8080",          /* no host */
        ":8080",         /* empty host */
        "127.0.0.1:",    /* empty port */
        "127.0.0.1",     /* no port */
        "1.2.3.4:70000", /* port out of range */
        "1.2.3.4:65536", /* one past the last port */
        "1.2.3.4:-1",    /* negative port */
        "1.2.3.4:+80",   /* sign */
        "1.2.3.4: 80",   /* space */
        "1.2.3.4:80x",   /* trailing garbage */
        "localhost:80",  /* a name, not an IPv4 literal */
        "1.2.3:80",      /* three parts */
        "1.2.3.256:80",  /* octet out of range */
        "[::1]:80",      /* IPv6 */
        "1.2.3.4:80:90", /* two colons */
        "",              /* empty */
        "1111111111111111111111111111111111111111111111111111111111111111111:80", /* long host */
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_refused("SHOPD_LISTEN", bad[i]);
}

/* ---- text settings ---- */

static void text_settings__empty_or_too_long__refused_never_truncated(void **state)
{
    (void)state;
    static char text[CONFIG_TEXT_MAX + 2];
    const struct {
        const char *name;
        size_t cap; /* buffer size: cap - 1 characters fit */
        const char *prefix;
    } cases[] = {
        {"SHOPD_DATABASE_URL", CONFIG_TEXT_MAX, "postgresql://"},
        {"SHOPD_REDIS_URL", CONFIG_TEXT_MAX, "redis://"},
        {"SHOPD_ADMIN_TOKEN", 256, "t"},
        {"SHOPD_REDIS_NAMESPACE", 64, "n"},
        {"SHOPD_TOKEN_SECRET", 257, "s"},
        {"SHOPD_DOCS_DIR", CONFIG_TEXT_MAX, "/"},
        {"SHOPD_SWAGGER_UI_DIR", CONFIG_TEXT_MAX, "/"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct config cfg;
        struct err e;
        assert_refused(cases[i].name, "");
        /* the longest value that fits is kept whole */
        memset(text, 'a', cases[i].cap - 1);
        memcpy(text, cases[i].prefix, strlen(cases[i].prefix));
        text[cases[i].cap - 1] = '\0';
        if (load_one(&cfg, cases[i].name, text, no_companion, &e) != ERR_OK)
            fail_msg("%s of %zu characters refused: %s", cases[i].name, cases[i].cap - 1, e.detail);
        /* one more character is refused, never truncated */
        text[cases[i].cap - 1] = 'a';
        text[cases[i].cap] = '\0';
        assert_refused(cases[i].name, text);
    }
    struct config cfg;
    struct err e;
    memset(text, 'a', CONFIG_TEXT_MAX - 1);
    memcpy(text, "https://", 8);
    text[CONFIG_TEXT_MAX - 1] = '\0';
    assert_int_equal(load_one(&cfg, "SHOPD_DATAPLATFORM_URL", text, no_companion, &e), ERR_OK);
    assert_int_equal(strlen(cfg.dataplatform_url), CONFIG_TEXT_MAX - 1);
    text[CONFIG_TEXT_MAX - 1] = 'a';
    text[CONFIG_TEXT_MAX] = '\0';
    assert_refused("SHOPD_DATAPLATFORM_URL", text);
}

static void redis_url__not_redis_scheme__refused(void **state)
{
    (void)state;
    const char *bad[] = {"http://cache:6379", "cache:6379", "REDIS://cache:6379", "rediss:/x",
                         "unix:///tmp/redis.sock"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_refused("SHOPD_REDIS_URL", bad[i]);
    struct config cfg;
    struct err e;
    assert_int_equal(
        load_one(&cfg, "SHOPD_REDIS_URL", "redis://:pw@10.0.0.1:6379/3", no_companion, &e), ERR_OK);
    assert_string_equal(cfg.redis_url, "redis://:pw@10.0.0.1:6379/3");
}

static void dataplatform_url__http_https_or_empty__else_refused(void **state)
{
    (void)state;
    const char *ok[] = {"", "http://dp", "https://dp.example:8443/v1/events"};
    for (size_t i = 0; i < 3; i++) {
        struct config cfg;
        struct err e;
        assert_int_equal(load_one(&cfg, "SHOPD_DATAPLATFORM_URL", ok[i], no_companion, &e), ERR_OK);
        assert_string_equal(cfg.dataplatform_url, ok[i]);
    }
    const char *bad[] = {"ftp://dp", "dp:9000", "HTTP://dp", " http://dp"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_refused("SHOPD_DATAPLATFORM_URL", bad[i]);
}

static void redis_namespace__spaces_braces_or_line_breaks__refused(void **state)
{
    (void)state;
    const char *bad[] = {"a b", "a{b", "a}b", "{shop}", "a\tb", "a\nb", "a\rb"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_refused("SHOPD_REDIS_NAMESPACE", bad[i]);
}

static void admin_token__set__no_longer_the_default(void **state)
{
    (void)state;
    struct config cfg;
    struct err e;
    /* even a value equal to the built-in default counts as configured */
    assert_int_equal(load_one(&cfg, "SHOPD_ADMIN_TOKEN", "dev-admin-token", no_companion, &e),
                     ERR_OK);
    assert_false(cfg.admin_token_is_default);
}

/* ---- booleans and the log level ---- */

static void booleans__documented_spellings__parsed_in_every_variable(void **state)
{
    (void)state;
    const struct {
        const char *name;
        size_t offset;
    } flags[] = {
        {"SHOPD_ACCESS_LOG", offsetof(struct config, access_log)},
        {"SHOPD_MIGRATE", offsetof(struct config, migrate)},
        {"SHOPD_OUTBOX_RELAY", offsetof(struct config, outbox_relay)},
        {"SHOPD_USER_LOCK", offsetof(struct config, user_lock)},
        {"SHOPD_COUPON_GATE", offsetof(struct config, coupon_gate)},
        {"SHOPD_TRUST_FORWARDED_FOR", offsetof(struct config, trust_forwarded_for)},
    };
    const char *on[] = {"1", "on", "true", "yes"};
    const char *off[] = {"0", "off", "false", "no"};
    const char *bad[] = {"", "maybe", "2", "-1", "ON", "Off", "TRUE", "y", "n", " on", "on "};
    for (size_t f = 0; f < sizeof(flags) / sizeof(flags[0]); f++) {
        for (size_t i = 0; i < 4; i++) {
            struct config cfg;
            struct err e;
            bool v;
            assert_int_equal(load_one(&cfg, flags[f].name, on[i], no_companion, &e), ERR_OK);
            memcpy(&v, (const char *)&cfg + flags[f].offset, sizeof(v));
            assert_true(v);
            assert_int_equal(load_one(&cfg, flags[f].name, off[i], no_companion, &e), ERR_OK);
            memcpy(&v, (const char *)&cfg + flags[f].offset, sizeof(v));
            assert_false(v);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
            assert_refused(flags[f].name, bad[i]);
    }
}

static void log_level__four_names__else_refused(void **state)
{
    (void)state;
    const struct {
        const char *text;
        enum log_level level;
    } ok[] = {{"debug", LOG_DEBUG}, {"info", LOG_INFO}, {"warn", LOG_WARN}, {"error", LOG_ERROR}};
    for (size_t i = 0; i < 4; i++) {
        struct config cfg;
        struct err e;
        assert_int_equal(load_one(&cfg, "SHOPD_LOG_LEVEL", ok[i].text, no_companion, &e), ERR_OK);
        assert_int_equal(cfg.log_level, ok[i].level);
    }
    const char *bad[] = {"", "verbose", "warning", "INFO", "0", "trace"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_refused("SHOPD_LOG_LEVEL", bad[i]);
}

/* ---- cross-setting rules ---- */

static void charge_max__above_balance_max__refused_naming_charge_max(void **state)
{
    (void)state;
    struct config cfg;
    struct err e;
    const struct env_pair above[] = {
        {"SHOPD_CHARGE_MAX", "2000"}, {"SHOPD_BALANCE_MAX", "1999"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, above, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "SHOPD_CHARGE_MAX");
    /* the default charge limit against a lowered cap */
    const struct env_pair low_cap[] = {{"SHOPD_BALANCE_MAX", "999999"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, low_cap, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "SHOPD_CHARGE_MAX");
    /* equal is allowed */
    const struct env_pair equal[] = {
        {"SHOPD_CHARGE_MAX", "2000"}, {"SHOPD_BALANCE_MAX", "2000"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, equal, &e), ERR_OK);
}

/*
 * The keep-alive renews the lock every lease / 3; a renewal that times out
 * (SHOPD_REDIS_TIMEOUT_MS) must leave time for the next one within the
 * lease: lease >= 3 x the Redis timeout, or start-up refuses naming the lease.
 */
static void lock_lease__below_three_redis_timeouts__refused_naming_the_lease(void **state)
{
    (void)state;
    struct config cfg;
    struct err e;
    const struct env_pair just_below[] = {{"SHOPD_LOCK_LEASE_MS", "1499"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, just_below, &e), ERR_INVALID_REQUEST); /* timeout 500 */
    assert_string_equal(e.field, "SHOPD_LOCK_LEASE_MS");
    const struct env_pair slower_redis[] = {{"SHOPD_REDIS_TIMEOUT_MS", "667"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, slower_redis, &e), ERR_INVALID_REQUEST); /* lease 2000 */
    assert_string_equal(e.field, "SHOPD_LOCK_LEASE_MS");
    const struct env_pair exactly[] = {{"SHOPD_LOCK_LEASE_MS", "1500"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, exactly, &e), ERR_OK);
    assert_int_equal(cfg.lock_lease_ms, 1500);
    const struct env_pair lock_off[] = {
        {"SHOPD_LOCK_LEASE_MS", "300"}, {"SHOPD_USER_LOCK", "off"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, lock_off, &e), ERR_OK);
    /* the statement timeout no longer bounds the lease: the keep-alive outlives statements */
    const struct env_pair long_statements[] = {{"SHOPD_DB_STATEMENT_TIMEOUT_MS", "60000"},
                                               {NULL, NULL}};
    assert_int_equal(load(&cfg, long_statements, &e), ERR_OK);
    assert_int_equal(cfg.lock_lease_ms, 2000);
}

/*
 * SHOPD_DB_STATEMENT_TIMEOUT_MS=0 means "no statement timeout" (README,
 * infra/pg.h). The user lock is renewed by its keep-alive for as long as its
 * holder works (docs/distributed-lock.md), so an unlimited statement keeps
 * its lock: the combination is accepted.
 */
static void statement_timeout__zero_with_user_lock__accepted(void **state)
{
    (void)state;
    struct config cfg;
    struct err e;
    const struct env_pair env[] = {{"SHOPD_DB_STATEMENT_TIMEOUT_MS", "0"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, env, &e), ERR_OK);
    assert_int_equal(cfg.db_statement_timeout_ms, 0);
    assert_true(cfg.user_lock);
}

static void statement_timeout__zero_without_user_lock__accepted(void **state)
{
    (void)state;
    struct config cfg;
    struct err e;
    const struct env_pair env[] = {
        {"SHOPD_DB_STATEMENT_TIMEOUT_MS", "0"}, {"SHOPD_USER_LOCK", "off"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, env, &e), ERR_OK);
    assert_int_equal(cfg.db_statement_timeout_ms, 0);
    assert_false(cfg.user_lock);
}

static void bad_value__error_detail_quotes_the_value(void **state)
{
    (void)state;
    struct config cfg;
    struct err e;
    const struct env_pair env[] = {{"SHOPD_THREADS", "lots"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, env, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "SHOPD_THREADS");
    assert_non_null(strstr(e.detail, "\"lots\""));
}

static void config_lookup_env__reads_the_process_environment(void **state)
{
    (void)state;
    const char *name = "SHOPD_UNIT_TEST_LOOKUP_ENV";
    assert_int_equal(unsetenv(name), 0);
    assert_null(config_lookup_env(name, NULL));
    assert_int_equal(setenv(name, "from the environment", 1), 0);
    assert_string_equal(config_lookup_env(name, NULL), "from the environment");
    assert_int_equal(unsetenv(name), 0);
}

static void kafka_settings__parsed_and_checked(void **state)
{
    (void)state;
    struct config cfg;
    struct err e;
    const struct env_pair ok[] = {
        {"SHOPD_KAFKA_BROKERS", "127.0.0.1:9092,127.0.0.1:9093"},
        {"SHOPD_KAFKA_PROPERTIES", "reconnect.backoff.ms=10,session.timeout.ms=3000"},
        {"SHOPD_KAFKA_GROUP_PREFIX", "shop-eu"},
        {"SHOPD_CONSUMERS", "dataplatform-sink"},
        {NULL, NULL},
    };
    assert_int_equal(load(&cfg, ok, &e), ERR_OK);
    assert_string_equal(cfg.kafka_brokers, "127.0.0.1:9092,127.0.0.1:9093");
    assert_string_equal(cfg.kafka_group_prefix, "shop-eu");
    assert_int_equal(cfg.consumers, CONFIG_CONSUMER_DATAPLATFORM_SINK);
    const struct env_pair ranking[] = {{"SHOPD_CONSUMERS", "ranking"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, ranking, &e), ERR_OK);
    assert_int_equal(cfg.consumers, CONFIG_CONSUMER_RANKING);
    const struct env_pair both[] = {{"SHOPD_CONSUMERS", "ranking,dataplatform-sink"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, both, &e), ERR_OK);
    assert_int_equal(cfg.consumers, CONFIG_CONSUMER_RANKING | CONFIG_CONSUMER_DATAPLATFORM_SINK);
    const struct env_pair issuer[] = {{"SHOPD_CONSUMERS", "coupon-issuer"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, issuer, &e), ERR_OK);
    assert_int_equal(cfg.consumers, CONFIG_CONSUMER_COUPON_ISSUER);
    /* without a prefix of their own, groups follow the Redis namespace (one per deployment) */
    const struct env_pair ns[] = {{"SHOPD_REDIS_NAMESPACE", "shop-kr"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, ns, &e), ERR_OK);
    assert_string_equal(cfg.kafka_group_prefix, "shop-kr");
    const struct env_pair none[] = {{"SHOPD_CONSUMERS", "none"}, {NULL, NULL}};
    assert_int_equal(load(&cfg, none, &e), ERR_OK);
    assert_int_equal(cfg.consumers, 0);
    const struct env_pair defaults[] = {{NULL, NULL}};
    assert_int_equal(load(&cfg, defaults, &e), ERR_OK);
    assert_string_equal(cfg.kafka_brokers, "");
    assert_int_equal(cfg.consumers, CONFIG_CONSUMERS_ALL);
    const struct {
        const char *name, *value;
    } bad[] = {
        {"SHOPD_CONSUMERS", "dataplatform-sink,bogus"},
        {"SHOPD_CONSUMERS", ""},
        {"SHOPD_KAFKA_PROPERTIES", "novalue"},
        {"SHOPD_KAFKA_PROPERTIES", "=x"},
        {"SHOPD_KAFKA_BROKERS", "a b"},
        {"SHOPD_KAFKA_GROUP_PREFIX", "a,b"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const struct env_pair env[] = {{bad[i].name, bad[i].value}, {NULL, NULL}};
        err_clear(&e);
        if (load(&cfg, env, &e) != ERR_INVALID_REQUEST || strcmp(e.field, bad[i].name) != 0)
            fail_msg("%s=\"%s\" was not refused naming the variable", bad[i].name, bad[i].value);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kafka_settings__parsed_and_checked),
        cmocka_unit_test(load__nothing_set__every_documented_default),
        cmocka_unit_test(load__every_variable_set__each_parsed_into_its_field),
        cmocka_unit_test(load__asks_for_exactly_the_documented_variables),
        cmocka_unit_test(integer_settings__range_ends_accepted_neighbours_refused),
        cmocka_unit_test(listen__ipv4_and_port__split_into_host_and_port),
        cmocka_unit_test(listen__not_ipv4_colon_port__refused_naming_shopd_listen),
        cmocka_unit_test(text_settings__empty_or_too_long__refused_never_truncated),
        cmocka_unit_test(redis_url__not_redis_scheme__refused),
        cmocka_unit_test(dataplatform_url__http_https_or_empty__else_refused),
        cmocka_unit_test(redis_namespace__spaces_braces_or_line_breaks__refused),
        cmocka_unit_test(admin_token__set__no_longer_the_default),
        cmocka_unit_test(booleans__documented_spellings__parsed_in_every_variable),
        cmocka_unit_test(log_level__four_names__else_refused),
        cmocka_unit_test(charge_max__above_balance_max__refused_naming_charge_max),
        cmocka_unit_test(lock_lease__below_three_redis_timeouts__refused_naming_the_lease),
        cmocka_unit_test(statement_timeout__zero_with_user_lock__accepted),
        cmocka_unit_test(statement_timeout__zero_without_user_lock__accepted),
        cmocka_unit_test(bad_value__error_detail_quotes_the_value),
        cmocka_unit_test(config_lookup_env__reads_the_process_environment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
