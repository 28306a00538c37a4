/* app.c — wiring of every module; the only place that knows them all. */
#include "composition/app.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "composition/docs_http.h"
#include "composition/ops_http.h"
#include "auth/auth_http.h"
#include "auth/auth_repo_pg.h"
#include "auth/login_throttle_redis.h"
#include "core/log.h"
#include "http/server.h"
#include "infra/pg.h"
#include "infra/pg_migrate.h"
#include "coupon/coupon_gate_redis.h"
#include "coupon/coupon_http.h"
#include "coupon/coupon_repo_pg.h"
#include "coupon/coupon_service.h"
#include "coupon/coupon_async.h"
#include "coupon/coupon_async_http.h"
#include "coupon/coupon_issuer.h"
#include "coupon/coupon_requests_redis.h"
#include "infra/idempotency_reaper.h"
#include "infra/outbox_relay.h"
#include "infra/outbox_sink_http.h"
#include "infra/outbox_sink_kafka.h"
#include "infra/dataplatform_sink.h"
#include "infra/kafka_producer.h"
#include "infra/redis.h"
#include "infra/redis_lock.h"
#include "order/adapters/order_http.h"
#include "order/adapters/order_notify.h"
#include "order/adapters/order_pg.h"
#include "order/app/order_deps.h"
#include "point/point_http.h"
#include "point/point_repo_pg.h"
#include "point/point_service.h"
#include "product/product_http.h"
#include "product/product_repo_pg.h"
#include "product/product_service.h"
#include "ranking/ranking_cache.h"
#include "ranking/ranking_consumer.h"
#include "ranking/ranking_http.h"
#include "ranking/ranking_redis.h"
#include "ranking/ranking_repo_pg.h"
#include "ranking/ranking_service.h"
#include "ranking/ranking_sync.h"

#define APP_TOPIC_ORDER_EVENTS "shop.order.events"

/* APP_N_ROUTES: route_specs' length */
enum { APP_MAX_BODY = 64 * 1024, APP_N_ROUTES = 28, APP_MAX_KAFKA_PROPS = 32 };
/*
 * The outbox relay: after a batch began, the next waits this long (under load
 * batches fill up: one claim and one delete per batch instead of per event),
 * and outcomes are awaited this long inside the claim's transaction.
 */
enum { APP_RELAY_LINGER_MS = 20, APP_RELAY_IN_TX_WAIT_MS = 2000 };
/* a login or sign-up waits this long for a password-hashing slot, then 503 */
enum { APP_PASSWORD_WAIT_MS = 2000 };

struct app {
    struct config cfg;
    struct pg_pool *pg;
    struct redis_pool *redis;
    struct metrics *metrics;
    struct ops_ctx ops;
    struct product_service products;
    struct point_repo_pg points_repo; /* the pool and the charge combiner */
    bool points_repo_ready;
    struct point_service points;
    struct coupon_gate_redis *gate;
    struct redis_lock *user_lock;
    struct lock_port user_locks; /* over user_lock: orders and cancels (ops NULL: off) */
    struct coupon_service coupons;
    struct coupon_requests *coupon_requests; /* asynchronous issue requests (Redis) */
    struct coupon_async coupon_async;    /* POST …/issue-requests, GET coupon-issue-requests */
    struct coupon_issuer *coupon_issuer; /* consumer: NULL unless it runs here */
    struct ranking_service ranking;
    struct ranking_redis *ranking_redis;
    struct ranking_sync *ranking_sync; /* without Kafka: copies sales after commit, off-request */
    struct cache *cache;
    struct order_notify notify; /* after commit: the relay's wake, the ranking sync's sales */
    struct outbox_sink_http *sink_http;
    struct kafka_producer *producer; /* NULL without SHOPD_KAFKA_BROKERS */
    struct outbox_sink_kafka *sink_kafka;
    struct dataplatform_sink *dp_sink;
    struct ranking_consumer *ranking_consumer;
    char group_sink[96], group_ranking[96], group_issuer[96]; /* consumer group ids */
    char kafka_props_text[CONFIG_TEXT_MAX];
    const char *kafka_props[APP_MAX_KAFKA_PROPS + 1]; /* NULL-terminated "k=v" */
    struct outbox_relay *relay;
    struct pg_pool *relay_pg; /* the relay's own: asynchronous commit (see pg_pool_config) */
    struct idempotency_reaper *reaper;
    struct order_deps orders;
    struct token_keys token_keys;
    struct password_hasher hasher;
    bool hasher_ready;
    struct login_throttle_redis *login_throttle;
    struct auth_http_ctx auth;  /* POST /auth/token, PUT /users/{id}/password */
    struct http_auth http_auth; /* what the dispatcher accepts as bearer tokens */
    struct route routes[APP_N_ROUTES];
    const char *route_labels[APP_N_ROUTES];
    char label_text[APP_N_ROUTES][96];
    struct router router;
    struct docs_http docs; /* GET /docs, its assets, GET /openapi.yaml: read at start */
};

/*
 * The route table, declared once. ctx is the offset of the handler's
 * context inside struct app. The app's arrays are sized from this table, so
 * a route added here can never overflow them.
 */
static const struct route_spec {
    enum http_method method;
    const char *pattern;
    http_handler_fn handler;
    size_t ctx;
    enum route_access access; /* who may call it (docs/security.md) */
} route_specs[] = {
    {HTTP_GET, "/healthz", ops_http_healthz, offsetof(struct app, ops), ROUTE_PUBLIC},
    {HTTP_GET, "/readyz", ops_http_readyz, offsetof(struct app, ops), ROUTE_PUBLIC},
    {HTTP_GET, "/metrics", ops_http_metrics, offsetof(struct app, ops), ROUTE_PUBLIC},
    {HTTP_GET, "/api/v1/products", product_http_list, offsetof(struct app, products), ROUTE_PUBLIC},
    {HTTP_POST, "/api/v1/products", product_http_create, offsetof(struct app, products),
     ROUTE_ADMIN},
    {HTTP_GET, "/api/v1/products/popular", ranking_http_popular, offsetof(struct app, ranking),
     ROUTE_PUBLIC},
    {HTTP_GET, "/api/v1/products/{id}", product_http_get, offsetof(struct app, products),
     ROUTE_PUBLIC},
    {HTTP_POST, "/api/v1/users", point_http_create_user, offsetof(struct app, points),
     ROUTE_PUBLIC},
    {HTTP_POST, "/api/v1/auth/token", auth_http_token, offsetof(struct app, auth), ROUTE_PUBLIC},
    {HTTP_PUT, "/api/v1/users/{id}/password", auth_http_set_password, offsetof(struct app, auth),
     ROUTE_USER_PATH},
    {HTTP_GET, "/api/v1/users/{id}/points", point_http_balance, offsetof(struct app, points),
     ROUTE_USER_PATH},
    {HTTP_POST, "/api/v1/users/{id}/points/charge", point_http_charge, offsetof(struct app, points),
     ROUTE_USER_PATH},
    {HTTP_GET, "/api/v1/users/{id}/points/history", point_http_history,
     offsetof(struct app, points), ROUTE_USER_PATH},
    {HTTP_POST, "/api/v1/coupons", coupon_http_create, offsetof(struct app, coupons), ROUTE_ADMIN},
    {HTTP_GET, "/api/v1/coupons/{id}", coupon_http_get, offsetof(struct app, coupons),
     ROUTE_PUBLIC},
    {HTTP_POST, "/api/v1/coupons/{id}/issue", coupon_http_issue, offsetof(struct app, coupons),
     ROUTE_USER_BODY},
    {HTTP_POST, "/api/v1/coupons/{id}/issue-requests", coupon_async_http_request,
     offsetof(struct app, coupon_async), ROUTE_USER_BODY},
    {HTTP_GET, "/api/v1/coupon-issue-requests/{id}", coupon_async_http_get,
     offsetof(struct app, coupon_async), ROUTE_OWNER},
    {HTTP_GET, "/api/v1/users/{id}/coupons", coupon_http_list, offsetof(struct app, coupons),
     ROUTE_USER_PATH},
    {HTTP_POST, "/api/v1/orders", order_http_place, offsetof(struct app, orders), ROUTE_USER_BODY},
    {HTTP_GET, "/api/v1/orders/{id}", order_http_get, offsetof(struct app, orders), ROUTE_OWNER},
    {HTTP_POST, "/api/v1/orders/{id}/cancel", order_http_cancel, offsetof(struct app, orders),
     ROUTE_OWNER},
    {HTTP_GET, "/api/v1/users/{id}/orders", order_http_list_by_user, offsetof(struct app, orders),
     ROUTE_USER_PATH},
    {HTTP_POST, "/api/v1/admin/outbox/requeue", ops_http_outbox_requeue, offsetof(struct app, ops),
     ROUTE_ADMIN},
    {HTTP_GET, "/openapi.yaml", docs_http_openapi, offsetof(struct app, docs), ROUTE_PUBLIC},
    {HTTP_GET, "/docs", docs_http_page, offsetof(struct app, docs), ROUTE_PUBLIC},
    {HTTP_GET, "/docs/swagger-ui.css", docs_http_css, offsetof(struct app, docs), ROUTE_PUBLIC},
    {HTTP_GET, "/docs/swagger-ui-bundle.js", docs_http_js, offsetof(struct app, docs),
     ROUTE_PUBLIC},
};

_Static_assert(sizeof(route_specs) / sizeof(route_specs[0]) == APP_N_ROUTES,
               "APP_N_ROUTES must equal the number of route_specs");

bool app_route_spec(size_t i, const char **method, const char **pattern)
{
    if (i >= APP_N_ROUTES)
        return false;
    *method = http_method_name(route_specs[i].method);
    *pattern = route_specs[i].pattern;
    return true;
}

static void build_routes(struct app *a)
{
    a->router.routes = a->routes;
    a->router.n_routes = APP_N_ROUTES;
    for (size_t i = 0; i < APP_N_ROUTES; i++) {
        const struct route_spec *rs = &route_specs[i];
        a->routes[i] =
            (struct route){rs->method, rs->pattern, rs->handler, (char *)a + rs->ctx, rs->access};
        snprintf(a->label_text[i], sizeof(a->label_text[i]), "%s %s", http_method_name(rs->method),
                 rs->pattern);
        a->route_labels[i] = a->label_text[i];
    }
}

static enum err_code run_migrations(struct app *a, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(a->pg, e);
    if (!c)
        return e->code;
    return pg_migrate(c, pg_migrations_embedded, e);
}

/* Splits SHOPD_KAFKA_PROPERTIES ("k=v,k=v") into a->kafka_props. */
static void split_kafka_props(struct app *a)
{
    snprintf(a->kafka_props_text, sizeof(a->kafka_props_text), "%s", a->cfg.kafka_properties);
    size_t n = 0;
    for (char *p = a->kafka_props_text; *p && n < APP_MAX_KAFKA_PROPS;) {
        a->kafka_props[n++] = p;
        p += strcspn(p, ",");
        if (*p)
            *p++ = '\0';
    }
    a->kafka_props[n] = NULL;
}

/*
 * With SHOPD_KAFKA_BROKERS: the process's one producer, and the consumers
 * this instance runs (SHOPD_CONSUMERS). The relay then publishes to Kafka
 * and the data platform is fed by the dataplatform-sink consumer; the Redis
 * ranking is kept by the ranking consumer (never on the request path).
 */
static enum err_code start_kafka(struct app *a, struct err *e)
{
    split_kafka_props(a);
    struct kafka_producer_config pc = {
        .brokers = a->cfg.kafka_brokers,
        .client_id = "shopd",
        .message_timeout_ms = a->cfg.kafka_message_timeout_ms,
        .extra = a->kafka_props,
    };
    a->producer = kafka_producer_new(&pc, e);
    if (!a->producer)
        return e->code;
    if (a->cfg.consumers & CONFIG_CONSUMER_DATAPLATFORM_SINK) {
        char *group = a->group_sink;
        snprintf(group, sizeof(a->group_sink), "%s.dataplatform-sink", a->cfg.kafka_group_prefix);
        struct dataplatform_sink_config dc = {
            .brokers = a->cfg.kafka_brokers,
            .group_id = group,
            .topic = APP_TOPIC_ORDER_EVENTS,
            .dlq_topic = APP_TOPIC_ORDER_EVENTS ".dlq",
            .extra = a->kafka_props,
            .dlq = a->producer,
            .url = a->cfg.dataplatform_url,
            .timeout_ms = a->cfg.dataplatform_timeout_ms,
            .batch_max = a->cfg.dataplatform_batch,
        };
        a->dp_sink = dataplatform_sink_start(&dc, e);
        if (!a->dp_sink)
            return e->code;
    }
    if (a->cfg.consumers & CONFIG_CONSUMER_RANKING) {
        char *group = a->group_ranking;
        snprintf(group, sizeof(a->group_ranking), "%s.ranking", a->cfg.kafka_group_prefix);
        struct ranking_consumer_config rc = {
            .brokers = a->cfg.kafka_brokers,
            .group_id = group,
            .topic = APP_TOPIC_ORDER_EVENTS,
            .dlq_topic = APP_TOPIC_ORDER_EVENTS ".dlq",
            .extra = a->kafka_props,
            .dlq = a->producer,
            .ranking = &a->ranking,
        };
        a->ranking_consumer = ranking_consumer_start(&rc, e);
        if (!a->ranking_consumer)
            return e->code;
    }
    if (a->cfg.consumers & CONFIG_CONSUMER_COUPON_ISSUER) {
        char *group = a->group_issuer;
        snprintf(group, sizeof(a->group_issuer), "%s.coupon-issuer", a->cfg.kafka_group_prefix);
        struct coupon_issuer_config ic = {
            .brokers = a->cfg.kafka_brokers,
            .group_id = group,
            .dlq_topic = COUPON_ISSUE_REQUESTS_TOPIC ".dlq",
            .extra = a->kafka_props,
            .dlq = a->producer,
            .coupons = &a->coupons,
            .requests = a->coupon_requests,
            .ns = a->cfg.redis_namespace,
        };
        a->coupon_issuer = coupon_issuer_start(&ic, e);
        if (!a->coupon_issuer)
            return e->code;
    }
    return ERR_OK;
}

/* Metrics gauges over the Kafka side (ud: the app). */
static int64_t gauge_producer_queue(void *ud)
{
    struct app *a = ud;
    return kafka_producer_queue_depth(a->producer);
}

static int64_t gauge_producer_errors(void *ud)
{
    struct app *a = ud;
    return (int64_t)kafka_producer_delivery_errors(a->producer);
}

/* Gauge: messages not yet handled over the consumer's (ud) assigned partitions (unknown: 0). */
static int64_t lag_total(void *ud)
{
    struct kafka_consumer *c = ud;
    struct kafka_lag lag[64];
    size_t n = kafka_consumer_lag(c, lag, 64);
    int64_t sum = 0;
    for (size_t i = 0; i < n && i < 64; i++)
        sum += lag[i].lag > 0 ? lag[i].lag : 0;
    return sum;
}

/* Gauge: messages the consumer (ud) dead-lettered since start. */
static int64_t dlq_total(void *ud)
{
    struct kafka_consumer *c = ud;
    struct kafka_consumer_stats st;
    kafka_consumer_stats(c, &st);
    return (int64_t)st.dlq;
}

/* Appends c's partitions (as of its last refresh) to out as lag points labelled by group. */
static size_t lag_points(struct kafka_consumer *c, const char *group, struct metrics_point *out,
                         size_t cap)
{
    struct kafka_lag lag[64];
    size_t n = kafka_consumer_lag(c, lag, 64), k = 0;
    for (size_t i = 0; i < n && i < 64 && k < cap; i++) {
        snprintf(out[k].labels, sizeof(out[k].labels),
                 "group=\"%.95s\",topic=\"%.110s\",partition=\"%d\"", group, lag[i].topic,
                 (int)lag[i].partition);
        out[k++].value = lag[i].lag; /* -1: not known yet (no fetch answered) */
    }
    return k;
}

/* shopd_kafka_consumer_lag: every consumer this instance runs, per assigned partition. */
static size_t read_consumer_lag(void *ud, struct metrics_point *out, size_t cap)
{
    struct app *a = ud;
    size_t n = 0;
    if (a->dp_sink)
        n += lag_points(dataplatform_sink_consumer(a->dp_sink), a->group_sink, out + n, cap - n);
    if (a->ranking_consumer)
        n += lag_points(ranking_consumer_kafka(a->ranking_consumer), a->group_ranking, out + n,
                        cap - n);
    if (a->coupon_issuer)
        n +=
            lag_points(coupon_issuer_consumer(a->coupon_issuer), a->group_issuer, out + n, cap - n);
    return n;
}

static int64_t unix_now(void)
{
    return (int64_t)time(NULL);
}

/* A gauge and whether this instance has what it reads. */
struct gauge_row {
    bool on;
    struct metrics_gauge gauge;
};

/*
 * Registers every gauge of what this instance runs (one table: name, help,
 * reader, what it reads) and the labelled consumer-lag gauge. Returns -1 when
 * the metrics registry is full (then the app does not start).
 */
static int add_gauges(struct app *a)
{
    struct kafka_consumer *dp = a->dp_sink ? dataplatform_sink_consumer(a->dp_sink) : NULL;
    struct kafka_consumer *rank =
        a->ranking_consumer ? ranking_consumer_kafka(a->ranking_consumer) : NULL;
    struct kafka_consumer *issuer =
        a->coupon_issuer ? coupon_issuer_consumer(a->coupon_issuer) : NULL;
    const struct gauge_row rows[] = {
        {true,
         {"shopd_pg_connections_open", "Open PostgreSQL connections (one per worker thread).",
          pg_pool_open_count, a->pg}},
        {true,
         {"shopd_outbox_backlog", "Events written but not yet delivered (PENDING).", outbox_backlog,
          a->pg}},
        {true,
         {"shopd_outbox_parked",
          "Events parked after a permanent failure (FAILED); "
          "POST /api/v1/admin/outbox/requeue retries them.",
          outbox_parked, a->pg}},
        {true,
         {"shopd_outbox_oldest_pending_seconds", "Age of the oldest event not yet delivered.",
          outbox_oldest_pending_s, a->pg}},
        {a->producer != NULL,
         {"shopd_kafka_producer_queue_depth", "Records queued or in flight to Kafka.",
          gauge_producer_queue, a}},
        {a->producer != NULL,
         {"shopd_kafka_producer_delivery_errors", "Kafka delivery reports that failed since start.",
          gauge_producer_errors, a}},
        {dp != NULL,
         {"shopd_kafka_dataplatform_sink_lag",
          "Order events in Kafka not yet delivered to the data platform (this instance's "
          "partitions).",
          lag_total, dp}},
        {dp != NULL,
         {"shopd_kafka_dataplatform_sink_dlq",
          "Order events the data platform refused, dead-lettered to shop.order.events.dlq.",
          dlq_total, dp}},
        {rank != NULL,
         {"shopd_kafka_ranking_lag",
          "Order events in Kafka not yet applied to the Redis ranking (this instance's "
          "partitions).",
          lag_total, rank}},
        {rank != NULL,
         {"shopd_kafka_ranking_dlq",
          "Order events the ranking could not decode, dead-lettered to shop.order.events.dlq.",
          dlq_total, rank}},
        {a->producer != NULL,
         {"shopd_coupon_issue_requests_pending",
          "Accepted coupon issue requests not yet decided (all instances; -1: Redis "
          "unreachable).",
          coupon_requests_pending, a->coupon_requests}},
        {issuer != NULL,
         {"shopd_kafka_coupon_issuer_lag",
          "Coupon issue requests in Kafka not yet decided (this instance's partitions).", lag_total,
          issuer}},
        {issuer != NULL,
         {"shopd_kafka_coupon_issuer_dlq",
          "Coupon issue requests that could not be read, dead-lettered to "
          "shop.coupon.issue.requests.dlq.",
          dlq_total, issuer}},
        {a->ranking_sync != NULL,
         {"shopd_ranking_sync_pending",
          "Sales (products, whole days) committed but not yet copied into the Redis ranking.",
          ranking_sync_pending, a->ranking_sync}},
        {true,
         {"shopd_redis_connections_open", "Open Redis connections.", redis_pool_open_count,
          a->redis}},
    };
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        if (rows[i].on && metrics_add_gauge(a->metrics, &rows[i].gauge) < 0)
            return -1;
    if (a->producer &&
        metrics_add_labelled(
            a->metrics,
            &(struct metrics_labelled){"shopd_kafka_consumer_lag",
                                       "Messages not yet handled, per consumer group and assigned "
                                       "partition (high watermark - next offset).",
                                       read_consumer_lag, a}) < 0)
        return -1;
    return 0;
}

/* Token keys, the password hasher, the login throttle and the dispatcher's view of tokens. */
static enum err_code setup_auth(struct app *a, struct err *e)
{
    if (!token_crypto_init())
        return err_set(e, ERR_INTERNAL, "cannot initialise libsodium");
    char random_secret[65];
    const char *secret = a->cfg.token_secret;
    if (!*secret) {
        token_random_secret(random_secret);
        secret = random_secret;
        log_warn("SHOPD_TOKEN_SECRET is not set: access tokens are signed with a random key of "
                 "this process only (they stop working at restart and on other instances)");
    }
    enum err_code rc = token_keys_init(&a->token_keys, secret, a->cfg.token_secret_previous, e);
    memset(random_secret, 0, sizeof(random_secret));
    if (rc != ERR_OK)
        return rc;
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned concurrency = a->cfg.password_concurrency ? a->cfg.password_concurrency
                                                       : (unsigned)(cores > 0 ? cores : 1);
    if (password_hasher_init(&a->hasher, a->cfg.password_opslimit, a->cfg.password_memlimit_kib,
                             concurrency, APP_PASSWORD_WAIT_MS, e) != ERR_OK)
        return e->code;
    a->hasher_ready = true;
    a->points.hasher = &a->hasher;
    a->login_throttle = login_throttle_redis_new(
        a->redis, &(struct login_throttle_config){.ns = a->cfg.redis_namespace,
                                                  .user_failures = a->cfg.login_user_failures,
                                                  .address_failures = a->cfg.login_address_failures,
                                                  .window_s = a->cfg.login_window_s});
    if (!a->login_throttle)
        return err_set(e, ERR_INTERNAL, "out of memory");
    a->auth = (struct auth_http_ctx){
        .service = {.credentials = auth_repo_pg(a->pg),
                    .throttle = login_throttle_redis_port(a->login_throttle),
                    .hasher = &a->hasher,
                    .keys = &a->token_keys,
                    .token_ttl_s = a->cfg.token_ttl_s,
                    .now = unix_now},
        .trust_forwarded_for = a->cfg.trust_forwarded_for,
    };
    a->http_auth = (struct http_auth){a->cfg.admin_token, auth_http_verify_user, &a->token_keys};
    return ERR_OK;
}

struct app *app_new(const struct config *cfg, struct err *e)
{
    struct app *a = calloc(1, sizeof(*a));
    if (!a) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    a->cfg = *cfg;
    struct pg_pool_config pg_cfg = {
        .conninfo = a->cfg.database_url,
        .connect_timeout_s = a->cfg.db_connect_timeout_s,
        .statement_timeout_ms = a->cfg.db_statement_timeout_ms,
    };
    a->pg = pg_pool_new(&pg_cfg);
    if (!a->pg) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out_free;
    }
    a->redis = redis_pool_new(a->cfg.redis_url, a->cfg.redis_timeout_ms, e);
    if (!a->redis)
        goto out_free;
    if (a->cfg.migrate && run_migrations(a, e) != ERR_OK)
        goto out_free;

    a->reaper =
        idempotency_reaper_start(a->pg, a->cfg.idempotency_ttl_hours, a->cfg.reaper_interval_ms);
    if (!a->reaper) {
        err_set(e, ERR_INTERNAL, "cannot start the idempotency reaper");
        goto out_free;
    }
    a->products.repo = product_repo_pg(a->pg);
    if (!point_repo_pg_init(&a->points_repo, a->pg,
                            (struct point_charge_batching){
                                .max_batch = a->cfg.charge_batch_max,
                                .max_inflight = a->cfg.charge_batch_inflight,
                            })) {
        err_set(e, ERR_INTERNAL, "cannot set up the point repository");
        goto out_free;
    }
    a->points_repo_ready = true;
    a->points.repo = point_repo_pg(&a->points_repo);
    a->points.charge_max = a->cfg.charge_max;
    a->points.balance_max = a->cfg.balance_max;
    if (setup_auth(a, e) != ERR_OK)
        goto out_free;
    if (a->cfg.user_lock) {
        struct redis_lock_config lock_cfg = {
            .redis = a->redis,
            .ns = a->cfg.redis_namespace,
            .lease_ms = a->cfg.lock_lease_ms,
            .wait_ms = a->cfg.lock_wait_ms,
            .backoff_min_ms = 2,
            .backoff_max_ms = 50,
        };
        a->user_lock = redis_lock_new(&lock_cfg);
        if (!a->user_lock) {
            err_set(e, ERR_INTERNAL, "out of memory");
            goto out_free;
        }
        a->user_locks = redis_lock_port(a->user_lock);
    }
    a->coupons.repo = coupon_repo_pg(a->pg);
    a->ranking_redis = ranking_redis_new(a->redis, a->cfg.redis_namespace);
    if (!a->ranking_redis) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out_free;
    }
    a->ranking = (struct ranking_service){.repo = ranking_repo_pg(a->pg),
                                          .store = ranking_redis_store(a->ranking_redis)};
    if (a->cfg.cache_ttl_ms) {
        a->cache = cache_new(a->redis, a->cfg.redis_namespace);
        if (!a->cache) {
            err_set(e, ERR_INTERNAL, "out of memory");
            goto out_free;
        }
        a->ranking.cache = ranking_cache_redis(a->cache);
        a->ranking.cache_ttl_ms = a->cfg.cache_ttl_ms;
    }
    if (a->cfg.coupon_gate) {
        a->gate = coupon_gate_redis_new(a->redis, a->cfg.redis_namespace);
        if (!a->gate) {
            err_set(e, ERR_INTERNAL, "out of memory");
            goto out_free;
        }
        a->coupons.gate = coupon_gate_redis(a->gate);
    }
    a->coupon_requests = coupon_requests_new(a->redis, a->cfg.redis_namespace, 0);
    if (!a->coupon_requests) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out_free;
    }
    /* With Kafka the ranking consumer (of whichever instance runs it) updates the ranking from
       the order events: the request thread does no ranking work, whatever SHOPD_CONSUMERS says
       here. Without Kafka the after-commit hook only enqueues the sales, and the ranking sync
       worker copies them (docs/ranking.md). */
    if (!a->cfg.kafka_brokers[0]) {
        struct ranking_sync_config sync_cfg = {.copy = ranking_service_copy_sales_fn,
                                               .copy_ud = &a->ranking};
        a->ranking_sync = ranking_sync_start(&sync_cfg, e);
        if (!a->ranking_sync)
            goto out_free;
    }
    a->notify = (struct order_notify){.on_sale = a->ranking_sync ? ranking_sync_on_sale : NULL,
                                      .on_sale_ud = a->ranking_sync};
    if (a->cfg.kafka_brokers[0] && start_kafka(a, e) != ERR_OK)
        goto out_free;
    a->coupon_async = (struct coupon_async){
        .coupons = &a->coupons,
        .requests = a->coupon_requests,
        .producer = a->producer, /* NULL without Kafka: POST …/issue-requests answers 503 */
        .ns = a->cfg.redis_namespace,
        .wait_ms = a->cfg.kafka_message_timeout_ms + 1000, /* the report comes within the first */
    };
    if (a->cfg.outbox_relay) {
        struct outbox_sink sink;
        if (a->producer) {
            a->sink_kafka = outbox_sink_kafka_new(a->producer, APP_TOPIC_ORDER_EVENTS,
                                                  a->cfg.kafka_message_timeout_ms);
            if (!a->sink_kafka) {
                err_set(e, ERR_INTERNAL, "out of memory");
                goto out_free;
            }
            sink = outbox_sink_kafka(a->sink_kafka);
        } else {
            a->sink_http =
                outbox_sink_http_new(a->cfg.dataplatform_url, a->cfg.dataplatform_timeout_ms);
            if (!a->sink_http) {
                err_set(e, ERR_INTERNAL, "cannot create the data platform client");
                goto out_free;
            }
            sink = outbox_sink_http(a->sink_http);
        }
        /* a lost relay commit only repeats a delivery (at least once): no WAL flush to wait for */
        struct pg_pool_config relay_pg_cfg = pg_cfg;
        relay_pg_cfg.async_commit = true;
        /* a hung relay lets go of its claimed rows; above its in-transaction wait plus one send */
        relay_pg_cfg.idle_in_tx_timeout_ms =
            APP_RELAY_IN_TX_WAIT_MS + a->cfg.dataplatform_timeout_ms + 10000;
        a->relay_pg = pg_pool_new(&relay_pg_cfg);
        if (!a->relay_pg) {
            err_set(e, ERR_INTERNAL, "out of memory");
            goto out_free;
        }
        struct outbox_relay_config relay_cfg = {
            .pg = a->relay_pg,
            .sink = sink,
            .poll_interval_ms = a->cfg.outbox_poll_ms,
            /* Kafka takes a batch at once; HTTP posts one at a time (the lease covers them) */
            .batch = a->producer ? 100 : 10,
            .linger_ms = APP_RELAY_LINGER_MS,
            .in_tx_wait_ms = APP_RELAY_IN_TX_WAIT_MS,
            .backoff_base_ms = a->cfg.outbox_backoff_ms,
            .backoff_max_ms = 60000,
        };
        a->relay = outbox_relay_start(&relay_cfg, e);
        if (!a->relay)
            goto out_free;
        a->notify.wake = outbox_relay_wake;
        a->notify.wake_ud = a->relay;
    }
    a->orders = (struct order_deps){
        .tx = pg_tx_port(a->pg),
        .stock = pg_stock_port(a->pg),
        .balance = pg_balance_port(a->pg),
        .coupons = pg_coupon_port(a->pg),
        .orders = pg_order_repo(a->pg),
        .idempotency = pg_idempotency_port(a->pg),
        .events = pg_outbox_port(a->pg),
        .notify = order_notify_port(&a->notify),
        .presenter = order_http_presenter(),
        .locks = a->user_locks,
        .max_attempts = 3,
    };
    docs_http_load(&a->docs, a->cfg.docs_dir, a->cfg.swagger_ui_dir); /* missing: 503, a warning */
    build_routes(a);

    a->metrics = metrics_new(a->route_labels, a->router.n_routes);
    if (!a->metrics) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out_free;
    }
    if (add_gauges(a)) {
        err_set(e, ERR_INTERNAL, "too many metrics");
        goto out_free;
    }
    a->ops = (struct ops_ctx){.pg = a->pg, .redis = a->redis, .metrics = a->metrics};
    return a;

out_free:
    app_free(a);
    return NULL;
}

const struct router *app_router(struct app *a)
{
    return &a->router;
}

struct metrics *app_metrics(struct app *a)
{
    return a->metrics;
}

const struct config *app_config(struct app *a)
{
    return &a->cfg;
}

void app_http_config(struct app *a, struct http_server_config *out)
{
    *out = (struct http_server_config){
        .host = a->cfg.listen_host,
        .port = a->cfg.listen_port,
        .threads = a->cfg.threads,
        .max_body = APP_MAX_BODY,
        .auth = &a->http_auth,
        .access_log = a->cfg.access_log,
        .idle_timeout_s = a->cfg.idle_timeout_s,
        .max_connections = a->cfg.max_connections,
    };
}

void app_free(struct app *a)
{
    if (!a)
        return;
    outbox_relay_stop(a->relay);
    ranking_sync_stop(a->ranking_sync); /* before the ranking, the cache and the pools it uses */
    dataplatform_sink_stop(a->dp_sink);
    /* before the ranking, the pools and the DLQ producer it uses */
    ranking_consumer_stop(a->ranking_consumer);
    coupon_issuer_stop(a->coupon_issuer);   /* before the DLQ producer, the pools and the gate */
    kafka_producer_free(a->producer, 5000); /* after its users: the relay and the DLQ writers */
    outbox_sink_kafka_free(a->sink_kafka);
    outbox_sink_http_free(a->sink_http);
    idempotency_reaper_stop(a->reaper);
    metrics_free(a->metrics);
    docs_http_cleanup(&a->docs);
    coupon_gate_redis_free(a->gate);
    coupon_requests_free(a->coupon_requests);
    redis_lock_free(a->user_lock);
    ranking_redis_free(a->ranking_redis);
    cache_free(a->cache);
    login_throttle_redis_free(a->login_throttle);
    if (a->hasher_ready)
        password_hasher_cleanup(&a->hasher);
    token_keys_wipe(&a->token_keys);
    if (a->points_repo_ready)
        point_repo_pg_cleanup(&a->points_repo);
    redis_pool_free(a->redis);
    pg_pool_free(a->relay_pg);
    pg_pool_free(a->pg);
    free(a);
}
