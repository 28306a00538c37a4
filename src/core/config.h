/* config.h — shopd's settings, read from SHOPD_* environment variables. */
#ifndef SHOPD_CORE_CONFIG_H
#define SHOPD_CORE_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "core/log.h"

enum { CONFIG_TEXT_MAX = 1024 };

/* The Kafka consumers an instance may run (SHOPD_CONSUMERS). */
enum {
    CONFIG_CONSUMER_DATAPLATFORM_SINK = 1 << 0,
    CONFIG_CONSUMER_RANKING = 1 << 1,
    CONFIG_CONSUMER_COUPON_ISSUER = 1 << 2,
    CONFIG_CONSUMERS_ALL =
        CONFIG_CONSUMER_DATAPLATFORM_SINK | CONFIG_CONSUMER_RANKING | CONFIG_CONSUMER_COUPON_ISSUER
};

/* Every setting, with its default filled in by config_load. Plain data. */
struct config {
    char listen_host[64];                   /* SHOPD_LISTEN host part (IPv4 literal) */
    uint16_t listen_port;                   /* SHOPD_LISTEN port part, 0 = any free port */
    char database_url[CONFIG_TEXT_MAX];     /* SHOPD_DATABASE_URL, a libpq conninfo or URI */
    char redis_url[CONFIG_TEXT_MAX];        /* SHOPD_REDIS_URL, redis://host:port/db */
    char admin_token[256];                  /* SHOPD_ADMIN_TOKEN */
    bool admin_token_is_default;            /* true when SHOPD_ADMIN_TOKEN was not set */
    unsigned threads;                       /* SHOPD_THREADS, HTTP worker threads */
    int64_t charge_max;                     /* SHOPD_CHARGE_MAX, largest single charge */
    int64_t balance_max;                    /* SHOPD_BALANCE_MAX, cap on charges (not refunds) */
    bool access_log;                        /* SHOPD_ACCESS_LOG, one line per request */
    enum log_level log_level;               /* SHOPD_LOG_LEVEL */
    unsigned shutdown_timeout_ms;           /* SHOPD_SHUTDOWN_TIMEOUT_MS, drain limit */
    unsigned db_statement_timeout_ms;       /* SHOPD_DB_STATEMENT_TIMEOUT_MS */
    unsigned db_connect_timeout_s;          /* SHOPD_DB_CONNECT_TIMEOUT_S */
    unsigned redis_timeout_ms;              /* SHOPD_REDIS_TIMEOUT_MS */
    bool migrate;                           /* SHOPD_MIGRATE, apply migrations at start */
    char dataplatform_url[CONFIG_TEXT_MAX]; /* SHOPD_DATAPLATFORM_URL, "" = log events */
    unsigned dataplatform_timeout_ms;       /* SHOPD_DATAPLATFORM_TIMEOUT_MS */
    unsigned dataplatform_batch;            /* SHOPD_DATAPLATFORM_BATCH, events per POST */
    bool outbox_relay;                      /* SHOPD_OUTBOX_RELAY, run the relay in this instance */
    unsigned outbox_poll_ms;        /* SHOPD_OUTBOX_POLL_MS, look for leftovers this often */
    unsigned outbox_backoff_ms;     /* SHOPD_OUTBOX_BACKOFF_MS, first retry delay */
    unsigned idempotency_ttl_hours; /* SHOPD_IDEMPOTENCY_TTL_HOURS, >= 24 */
    unsigned reaper_interval_ms;    /* SHOPD_REAPER_INTERVAL_MS, how often expired keys go */
    bool coupon_gate;               /* SHOPD_COUPON_GATE, Redis in front of issuance */
    char redis_namespace[64];       /* SHOPD_REDIS_NAMESPACE, prefix of every Redis key */
    bool user_lock;                 /* SHOPD_USER_LOCK, per-user Redis lock around payments */
    unsigned lock_wait_ms;          /* SHOPD_LOCK_WAIT_MS, then 503 with Retry-After */
    unsigned charge_batch_max;      /* SHOPD_CHARGE_BATCH_MAX, charges per transaction */
    unsigned charge_batch_inflight; /* SHOPD_CHARGE_BATCH_INFLIGHT, batches at once */
    unsigned lock_lease_ms;  /* SHOPD_LOCK_LEASE_MS, renewed while held; a dead holder's expires */
    unsigned cache_ttl_ms;   /* SHOPD_CACHE_TTL_MS, popular rankings (0 = no cache) */
    unsigned idle_timeout_s; /* SHOPD_IDLE_TIMEOUT_S, idle keep-alive and request limit */
    char kafka_brokers[CONFIG_TEXT_MAX];    /* SHOPD_KAFKA_BROKERS, "" = no Kafka */
    char kafka_properties[CONFIG_TEXT_MAX]; /* SHOPD_KAFKA_PROPERTIES, "k=v,k=v" for librdkafka */
    unsigned kafka_message_timeout_ms;      /* SHOPD_KAFKA_MESSAGE_TIMEOUT_MS */
    char kafka_group_prefix[64];            /* SHOPD_KAFKA_GROUP_PREFIX, "<prefix>.<consumer>" */
    unsigned consumers;                     /* SHOPD_CONSUMERS, CONFIG_CONSUMER_* bits */
    unsigned max_connections;               /* SHOPD_MAX_CONNECTIONS, then 503 and close */
    char docs_dir[CONFIG_TEXT_MAX];         /* SHOPD_DOCS_DIR, holds openapi.yaml (GET /docs) */
    char swagger_ui_dir[CONFIG_TEXT_MAX];   /* SHOPD_SWAGGER_UI_DIR, swagger-ui-dist's files */
    /* authentication (docs/security.md) */
    char token_secret[257];          /* SHOPD_TOKEN_SECRET, signs access tokens ("" = random) */
    char token_secret_previous[257]; /* SHOPD_TOKEN_SECRET_PREVIOUS, still verifies ("" = none) */
    unsigned token_ttl_s;            /* SHOPD_TOKEN_TTL_S, access token lifetime */
    unsigned password_opslimit;      /* SHOPD_PASSWORD_OPSLIMIT, Argon2id passes */
    unsigned password_memlimit_kib;  /* SHOPD_PASSWORD_MEMLIMIT_KIB, Argon2id memory */
    unsigned password_concurrency;   /* SHOPD_PASSWORD_CONCURRENCY, hashes at once (0 = cores) */
    unsigned login_user_failures;    /* SHOPD_LOGIN_USER_FAILURES, per user id per window */
    unsigned login_address_failures; /* SHOPD_LOGIN_ADDRESS_FAILURES, per client address */
    unsigned login_window_s;         /* SHOPD_LOGIN_WINDOW_S */
    bool trust_forwarded_for;        /* SHOPD_TRUST_FORWARDED_FOR, client = last X-Forwarded-For */
};

/* Looks up one variable; returns NULL when unset. ud is passed through. */
typedef const char *(*config_lookup_fn)(const char *name, void *ud);

/* A config_lookup_fn over the process environment (getenv). */
const char *config_lookup_env(const char *name, void *ud);

/*
 * Fills cfg from lookup (defaults for unset variables). Returns ERR_OK, or
 * ERR_INVALID_REQUEST with e->field = the variable name and e->detail saying
 * what is wrong with its value. Thread-safe if lookup is.
 */
enum err_code config_load(struct config *cfg, config_lookup_fn lookup, void *ud, struct err *e);

#endif
