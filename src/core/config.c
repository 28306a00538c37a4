/* config.c — parse and validate SHOPD_* settings. */
#include "core/config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdbool.h>
#include <string.h>

const char *config_lookup_env(const char *name, void *ud)
{
    (void)ud;
    return getenv(name);
}

/* Parses a whole decimal integer in [min, max]. */
static enum err_code parse_int(const char *name, const char *text, int64_t min, int64_t max,
                               int64_t *out, struct err *e)
{
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    bool starts_right = (text[0] >= '0' && text[0] <= '9') || text[0] == '-'; /* no spaces, no + */
    if (!starts_right || *end != '\0' || errno == ERANGE || v < min || v > max)
        return err_set_field(e, ERR_INVALID_REQUEST, name,
                             "%s must be an integer from %lld to %lld, got \"%s\"", name,
                             (long long)min, (long long)max, text);
    *out = v;
    return ERR_OK;
}

static enum err_code parse_bool(const char *name, const char *text, bool *out, struct err *e)
{
    if (!strcmp(text, "1") || !strcmp(text, "on") || !strcmp(text, "true") ||
        !strcmp(text, "yes")) {
        *out = true;
        return ERR_OK;
    }
    if (!strcmp(text, "0") || !strcmp(text, "off") || !strcmp(text, "false") ||
        !strcmp(text, "no")) {
        *out = false;
        return ERR_OK;
    }
    return err_set_field(e, ERR_INVALID_REQUEST, name, "%s must be on or off, got \"%s\"", name,
                         text);
}

static enum err_code copy_text(const char *name, const char *text, char *out, size_t cap,
                               struct err *e)
{
    size_t len = strlen(text);
    if (len == 0 || len >= cap)
        return err_set_field(e, ERR_INVALID_REQUEST, name, "%s must be 1 to %zu characters long",
                             name, cap - 1);
    memcpy(out, text, len + 1);
    return ERR_OK;
}

/* "host:port" with an IPv4 literal host and port 0..65535. */
static enum err_code parse_listen(const char *text, struct config *cfg, struct err *e)
{
    const char *colon = strrchr(text, ':');
    size_t host_len = colon ? (size_t)(colon - text) : 0;
    struct in_addr addr;
    int64_t port = 0;
    if (!colon || host_len == 0 || host_len >= sizeof(cfg->listen_host))
        goto bad;
    memcpy(cfg->listen_host, text, host_len);
    cfg->listen_host[host_len] = '\0';
    if (inet_pton(AF_INET, cfg->listen_host, &addr) != 1)
        goto bad;
    if (parse_int("SHOPD_LISTEN", colon + 1, 0, 65535, &port, e) != ERR_OK)
        goto bad;
    cfg->listen_port = (uint16_t)port;
    return ERR_OK;
bad:
    return err_set_field(e, ERR_INVALID_REQUEST, "SHOPD_LISTEN",
                         "SHOPD_LISTEN must be IPv4-address:port, got \"%s\"", text);
}

static void config_defaults(struct config *cfg)
{
    memset(cfg, 0, sizeof(*cfg));
    strcpy(cfg->listen_host, "127.0.0.1");
    cfg->listen_port = 8080;
    strcpy(cfg->database_url, "postgresql://shopd@127.0.0.1:55432/shopd");
    strcpy(cfg->redis_url, "redis://127.0.0.1:56379/0");
    strcpy(cfg->admin_token, "dev-admin-token");
    cfg->admin_token_is_default = true;
    cfg->threads = 16;
    cfg->charge_max = 1000000;
    cfg->balance_max = 100000000;
    cfg->access_log = true;
    cfg->log_level = LOG_INFO;
    cfg->shutdown_timeout_ms = 10000;
    cfg->db_statement_timeout_ms = 5000;
    cfg->db_connect_timeout_s = 3;
    cfg->redis_timeout_ms = 500;
    cfg->migrate = true;
    cfg->dataplatform_timeout_ms = 2000;
    cfg->dataplatform_batch = 1;
    cfg->outbox_relay = true;
    cfg->outbox_poll_ms = 1000;
    cfg->outbox_backoff_ms = 500;
    cfg->idempotency_ttl_hours = 24;
    cfg->reaper_interval_ms = 600000;
    cfg->coupon_gate = true;
    strcpy(cfg->redis_namespace, "shopd");
    cfg->user_lock = true;
    cfg->lock_wait_ms = 2000;
    cfg->charge_batch_max = 32;
    cfg->charge_batch_inflight = 2;
    cfg->lock_lease_ms = 2000;
    cfg->cache_ttl_ms = 5000;
    cfg->idle_timeout_s = 30;
    cfg->kafka_message_timeout_ms = 30000;
    strcpy(cfg->kafka_group_prefix, "shopd");
    cfg->consumers = CONFIG_CONSUMERS_ALL;
    cfg->max_connections = 4096;
    /* relative to the working directory: the repository's, under make run and the tests */
    strcpy(cfg->docs_dir, "docs");
    strcpy(cfg->swagger_ui_dir, "tools/npm/node_modules/swagger-ui-dist");
    cfg->token_ttl_s = 3600;
    cfg->password_opslimit = 2;         /* OWASP's first Argon2id configuration: 2 passes */
    cfg->password_memlimit_kib = 19456; /* and 19 MiB (docs/security.md: ~40 ms here) */
    cfg->login_user_failures = 5;
    cfg->login_address_failures = 50;
    cfg->login_window_s = 300;
}

/* Reads an unsigned setting in [min, max] into *out when the variable is set. */
static enum err_code load_unsigned(config_lookup_fn lookup, void *ud, const char *name, int64_t min,
                                   int64_t max, unsigned *out, struct err *e)
{
    const char *v = lookup(name, ud);
    int64_t n = 0;
    if (!v)
        return ERR_OK;
    if (parse_int(name, v, min, max, &n, e))
        return e->code;
    *out = (unsigned)n;
    return ERR_OK;
}

/* SHOPD_CONSUMERS: "all", "none" or a comma list of consumer names. */
static enum err_code parse_consumers(const char *v, unsigned *out, struct err *e)
{
    static const struct {
        const char *name;
        unsigned bit;
    } known[] = {{"dataplatform-sink", CONFIG_CONSUMER_DATAPLATFORM_SINK},
                 {"ranking", CONFIG_CONSUMER_RANKING},
                 {"coupon-issuer", CONFIG_CONSUMER_COUPON_ISSUER}};
    if (strcmp(v, "all") == 0 || strcmp(v, "none") == 0) {
        *out = v[0] == 'a' ? CONFIG_CONSUMERS_ALL : 0;
        return ERR_OK;
    }
    unsigned bits = 0;
    for (const char *p = v;;) {
        size_t len = strcspn(p, ",");
        size_t i = 0;
        while (i < sizeof(known) / sizeof(known[0]) &&
               !(strlen(known[i].name) == len && strncmp(known[i].name, p, len) == 0))
            i++;
        if (i == sizeof(known) / sizeof(known[0]))
            return err_set_field(e, ERR_INVALID_REQUEST, "SHOPD_CONSUMERS",
                                 "SHOPD_CONSUMERS must be all, none or a comma list of "
                                 "dataplatform-sink, ranking, coupon-issuer, got \"%s\"",
                                 v);
        bits |= known[i].bit;
        if (!p[len])
            break;
        p += len + 1;
    }
    *out = bits;
    return ERR_OK;
}

/* "key=value,key=value" with non-empty keys (librdkafka judges the rest at start-up). */
static bool properties_valid(const char *v)
{
    for (const char *p = v; *p;) {
        size_t len = strcspn(p, ",");
        const char *eq = memchr(p, '=', len);
        if (!eq || eq == p || memchr(p, ' ', len))
            return false;
        p += len + (p[len] == ',');
    }
    return true;
}

/* The SHOPD_KAFKA_* settings and SHOPD_CONSUMERS. */
static enum err_code load_kafka(struct config *cfg, config_lookup_fn lookup, void *ud,
                                struct err *e)
{
    const char *v;
    if ((v = lookup("SHOPD_KAFKA_BROKERS", ud))) {
        if (strlen(v) >= sizeof(cfg->kafka_brokers) || strpbrk(v, " \t"))
            return err_set_field(e, ERR_INVALID_REQUEST, "SHOPD_KAFKA_BROKERS",
                                 "SHOPD_KAFKA_BROKERS must be host:port[,host:port…] or empty");
        strcpy(cfg->kafka_brokers, v);
    }
    if ((v = lookup("SHOPD_KAFKA_PROPERTIES", ud))) {
        if (strlen(v) >= sizeof(cfg->kafka_properties) || !properties_valid(v))
            return err_set_field(e, ERR_INVALID_REQUEST, "SHOPD_KAFKA_PROPERTIES",
                                 "SHOPD_KAFKA_PROPERTIES must be key=value[,key=value…]");
        strcpy(cfg->kafka_properties, v);
    }
    /* deployments sharing a Kafka cluster must not share consumer groups: by default a
       deployment's groups follow its Redis namespace, which already tells deployments apart */
    snprintf(cfg->kafka_group_prefix, sizeof(cfg->kafka_group_prefix), "%s", cfg->redis_namespace);
    if ((v = lookup("SHOPD_KAFKA_GROUP_PREFIX", ud))) {
        if (copy_text("SHOPD_KAFKA_GROUP_PREFIX", v, cfg->kafka_group_prefix,
                      sizeof(cfg->kafka_group_prefix), e))
            return e->code;
        if (strpbrk(v, " \t,"))
            return err_set_field(e, ERR_INVALID_REQUEST, "SHOPD_KAFKA_GROUP_PREFIX",
                                 "SHOPD_KAFKA_GROUP_PREFIX must not contain spaces or commas");
    }
    if ((v = lookup("SHOPD_CONSUMERS", ud)) && parse_consumers(v, &cfg->consumers, e))
        return e->code;
    return load_unsigned(lookup, ud, "SHOPD_KAFKA_MESSAGE_TIMEOUT_MS", 1000, 900000,
                         &cfg->kafka_message_timeout_ms, e);
}

enum err_code config_load(struct config *cfg, config_lookup_fn lookup, void *ud, struct err *e)
{
    const char *v;
    int64_t n = 0;
    config_defaults(cfg);

    if ((v = lookup("SHOPD_LISTEN", ud)) && parse_listen(v, cfg, e))
        return e->code;
    if ((v = lookup("SHOPD_DATABASE_URL", ud)) &&
        copy_text("SHOPD_DATABASE_URL", v, cfg->database_url, sizeof(cfg->database_url), e))
        return e->code;
    if ((v = lookup("SHOPD_REDIS_URL", ud))) {
        if (copy_text("SHOPD_REDIS_URL", v, cfg->redis_url, sizeof(cfg->redis_url), e))
            return e->code;
        if (strncmp(v, "redis://", 8) != 0)
            return err_set_field(e, ERR_INVALID_REQUEST, "SHOPD_REDIS_URL",
                                 "SHOPD_REDIS_URL must start with redis://, got \"%s\"", v);
    }
    if ((v = lookup("SHOPD_ADMIN_TOKEN", ud))) {
        if (copy_text("SHOPD_ADMIN_TOKEN", v, cfg->admin_token, sizeof(cfg->admin_token), e))
            return e->code;
        cfg->admin_token_is_default = false;
    }
    if ((v = lookup("SHOPD_TOKEN_SECRET", ud)) &&
        copy_text("SHOPD_TOKEN_SECRET", v, cfg->token_secret, sizeof(cfg->token_secret), e))
        return e->code;
    if ((v = lookup("SHOPD_TOKEN_SECRET_PREVIOUS", ud)) && *v &&
        copy_text("SHOPD_TOKEN_SECRET_PREVIOUS", v, cfg->token_secret_previous,
                  sizeof(cfg->token_secret_previous), e))
        return e->code;
    if (load_unsigned(lookup, ud, "SHOPD_TOKEN_TTL_S", 60, 7 * 86400, &cfg->token_ttl_s, e) ||
        load_unsigned(lookup, ud, "SHOPD_PASSWORD_OPSLIMIT", 1, 16, &cfg->password_opslimit, e) ||
        load_unsigned(lookup, ud, "SHOPD_PASSWORD_MEMLIMIT_KIB", 8, 4 * 1024 * 1024,
                      &cfg->password_memlimit_kib, e) ||
        load_unsigned(lookup, ud, "SHOPD_PASSWORD_CONCURRENCY", 0, 256, &cfg->password_concurrency,
                      e) ||
        load_unsigned(lookup, ud, "SHOPD_LOGIN_USER_FAILURES", 1, 1000000,
                      &cfg->login_user_failures, e) ||
        load_unsigned(lookup, ud, "SHOPD_LOGIN_ADDRESS_FAILURES", 1, 1000000,
                      &cfg->login_address_failures, e) ||
        load_unsigned(lookup, ud, "SHOPD_LOGIN_WINDOW_S", 1, 86400, &cfg->login_window_s, e))
        return e->code;
    if ((v = lookup("SHOPD_TRUST_FORWARDED_FOR", ud)) &&
        parse_bool("SHOPD_TRUST_FORWARDED_FOR", v, &cfg->trust_forwarded_for, e))
        return e->code;
    if ((v = lookup("SHOPD_THREADS", ud))) {
        if (parse_int("SHOPD_THREADS", v, 1, 256, &n, e))
            return e->code;
        cfg->threads = (unsigned)n;
    }
    if ((v = lookup("SHOPD_CHARGE_MAX", ud)) &&
        parse_int("SHOPD_CHARGE_MAX", v, 1, INT64_MAX / 4, &cfg->charge_max, e))
        return e->code;
    if ((v = lookup("SHOPD_BALANCE_MAX", ud)) &&
        parse_int("SHOPD_BALANCE_MAX", v, 1, INT64_MAX / 4, &cfg->balance_max, e))
        return e->code;
    if ((v = lookup("SHOPD_ACCESS_LOG", ud)) &&
        parse_bool("SHOPD_ACCESS_LOG", v, &cfg->access_log, e))
        return e->code;
    if ((v = lookup("SHOPD_LOG_LEVEL", ud)) && !log_level_parse(v, &cfg->log_level))
        return err_set_field(e, ERR_INVALID_REQUEST, "SHOPD_LOG_LEVEL",
                             "SHOPD_LOG_LEVEL must be debug, info, warn or error, got \"%s\"", v);
    if (load_unsigned(lookup, ud, "SHOPD_IDLE_TIMEOUT_S", 1, 3600, &cfg->idle_timeout_s, e) ||
        load_unsigned(lookup, ud, "SHOPD_MAX_CONNECTIONS", 1, 1000000, &cfg->max_connections, e))
        return e->code;
    if ((v = lookup("SHOPD_SHUTDOWN_TIMEOUT_MS", ud))) {
        if (parse_int("SHOPD_SHUTDOWN_TIMEOUT_MS", v, 0, 3600000, &n, e))
            return e->code;
        cfg->shutdown_timeout_ms = (unsigned)n;
    }
    if ((v = lookup("SHOPD_DB_STATEMENT_TIMEOUT_MS", ud))) {
        if (parse_int("SHOPD_DB_STATEMENT_TIMEOUT_MS", v, 0, 3600000, &n, e))
            return e->code;
        cfg->db_statement_timeout_ms = (unsigned)n;
    }
    if ((v = lookup("SHOPD_DB_CONNECT_TIMEOUT_S", ud))) {
        if (parse_int("SHOPD_DB_CONNECT_TIMEOUT_S", v, 1, 600, &n, e))
            return e->code;
        cfg->db_connect_timeout_s = (unsigned)n;
    }
    if ((v = lookup("SHOPD_REDIS_TIMEOUT_MS", ud))) {
        if (parse_int("SHOPD_REDIS_TIMEOUT_MS", v, 1, 600000, &n, e))
            return e->code;
        cfg->redis_timeout_ms = (unsigned)n;
    }
    if ((v = lookup("SHOPD_MIGRATE", ud)) && parse_bool("SHOPD_MIGRATE", v, &cfg->migrate, e))
        return e->code;
    if ((v = lookup("SHOPD_DATAPLATFORM_URL", ud))) {
        if (v[0] && strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0)
            return err_set_field(
                e, ERR_INVALID_REQUEST, "SHOPD_DATAPLATFORM_URL",
                "SHOPD_DATAPLATFORM_URL must be an http(s) URL or empty, got \"%s\"", v);
        if (strlen(v) >= sizeof(cfg->dataplatform_url))
            return err_set_field(e, ERR_INVALID_REQUEST, "SHOPD_DATAPLATFORM_URL",
                                 "SHOPD_DATAPLATFORM_URL is too long");
        strcpy(cfg->dataplatform_url, v);
    }
    if (load_unsigned(lookup, ud, "SHOPD_DATAPLATFORM_TIMEOUT_MS", 1, 600000,
                      &cfg->dataplatform_timeout_ms, e) ||
        load_unsigned(lookup, ud, "SHOPD_DATAPLATFORM_BATCH", 1, 1000, &cfg->dataplatform_batch,
                      e) ||
        load_unsigned(lookup, ud, "SHOPD_OUTBOX_POLL_MS", 10, 3600000, &cfg->outbox_poll_ms, e) ||
        load_unsigned(lookup, ud, "SHOPD_OUTBOX_BACKOFF_MS", 1, 3600000, &cfg->outbox_backoff_ms,
                      e) ||
        load_unsigned(lookup, ud, "SHOPD_IDEMPOTENCY_TTL_HOURS", 24, 24 * 366,
                      &cfg->idempotency_ttl_hours, e) ||
        load_unsigned(lookup, ud, "SHOPD_REAPER_INTERVAL_MS", 10, 86400000,
                      &cfg->reaper_interval_ms, e))
        return e->code;
    if ((v = lookup("SHOPD_DOCS_DIR", ud)) &&
        copy_text("SHOPD_DOCS_DIR", v, cfg->docs_dir, sizeof(cfg->docs_dir), e))
        return e->code;
    if ((v = lookup("SHOPD_SWAGGER_UI_DIR", ud)) &&
        copy_text("SHOPD_SWAGGER_UI_DIR", v, cfg->swagger_ui_dir, sizeof(cfg->swagger_ui_dir), e))
        return e->code;
    if ((v = lookup("SHOPD_REDIS_NAMESPACE", ud))) {
        if (copy_text("SHOPD_REDIS_NAMESPACE", v, cfg->redis_namespace,
                      sizeof(cfg->redis_namespace), e))
            return e->code;
        if (strpbrk(v, " {}\r\n\t"))
            return err_set_field(e, ERR_INVALID_REQUEST, "SHOPD_REDIS_NAMESPACE",
                                 "SHOPD_REDIS_NAMESPACE must not contain spaces or braces");
    }
    if ((v = lookup("SHOPD_USER_LOCK", ud)) && parse_bool("SHOPD_USER_LOCK", v, &cfg->user_lock, e))
        return e->code;
    if (load_unsigned(lookup, ud, "SHOPD_LOCK_WAIT_MS", 0, 600000, &cfg->lock_wait_ms, e) ||
        load_unsigned(lookup, ud, "SHOPD_CHARGE_BATCH_MAX", 1, 256, &cfg->charge_batch_max, e) ||
        load_unsigned(lookup, ud, "SHOPD_CHARGE_BATCH_INFLIGHT", 1, 64, &cfg->charge_batch_inflight,
                      e) ||
        load_unsigned(lookup, ud, "SHOPD_LOCK_LEASE_MS", 300, 3600000, &cfg->lock_lease_ms, e) ||
        load_unsigned(lookup, ud, "SHOPD_CACHE_TTL_MS", 0, 86400000, &cfg->cache_ttl_ms, e))
        return e->code;
    if ((v = lookup("SHOPD_COUPON_GATE", ud)) &&
        parse_bool("SHOPD_COUPON_GATE", v, &cfg->coupon_gate, e))
        return e->code;
    if ((v = lookup("SHOPD_OUTBOX_RELAY", ud)) &&
        parse_bool("SHOPD_OUTBOX_RELAY", v, &cfg->outbox_relay, e))
        return e->code;
    if (load_kafka(cfg, lookup, ud, e))
        return e->code;
    /*
     * The lock's keep-alive renews it every lease / 3 for as long as its
     * transaction runs, so the lease no longer has to outlive the statement
     * timeout. A renewal may time out (SHOPD_REDIS_TIMEOUT_MS): the next one,
     * a period later, must still land within the lease, so a period has to
     * be at least one Redis timeout.
     */
    if (cfg->user_lock && cfg->lock_lease_ms < 3ull * cfg->redis_timeout_ms)
        return err_set_field(e, ERR_INVALID_REQUEST, "SHOPD_LOCK_LEASE_MS",
                             "SHOPD_LOCK_LEASE_MS (%u) must be at least 3 x "
                             "SHOPD_REDIS_TIMEOUT_MS (%u): the lock is renewed every lease / 3, "
                             "and a renewal that times out must be retried before the lease ends",
                             cfg->lock_lease_ms, cfg->redis_timeout_ms);
    if (cfg->charge_max > cfg->balance_max)
        return err_set_field(e, ERR_INVALID_REQUEST, "SHOPD_CHARGE_MAX",
                             "SHOPD_CHARGE_MAX (%lld) must not exceed SHOPD_BALANCE_MAX (%lld)",
                             (long long)cfg->charge_max, (long long)cfg->balance_max);
    return ERR_OK;
}
