/* outbox_relay.c — claim, send, mark; retry with backoff; many relays at once. */
#include "infra/outbox_relay.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/log.h"
#include "core/periodic.h"
#include "core/timefmt.h"
#include "infra/dataplatform.h"

/*
 * Claiming is a lease, not an open transaction: the chosen rows get a later
 * next_attempt_at in the same statement that locks them (SKIP LOCKED, so
 * concurrent relays take different rows), and the HTTP call happens after
 * commit. A relay that dies mid-send leaves its events due again when the
 * lease ends: delivery is at least once, and event_id lets the receiver drop
 * the duplicate. Rows are chosen by status and due time, never by "id > last
 * seen": ids commit out of order.
 */
static const struct pg_stmt stmt_claim = {
    "outbox_claim",
    "UPDATE outbox_events SET attempts = attempts + 1,"
    "       next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)"
    " WHERE id IN (SELECT id FROM outbox_events"
    "               WHERE status = 'PENDING' AND next_attempt_at <= now()"
    "               ORDER BY id LIMIT $1::bigint FOR UPDATE SKIP LOCKED)"
    " RETURNING id, event_id, type,"
    "           to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    "           payload::text, attempts",
    2};
static const struct pg_stmt stmt_sent = {
    "outbox_sent",
    "UPDATE outbox_events SET status = 'SENT', sent_at = now(), last_error = NULL WHERE id = $1",
    1};
static const struct pg_stmt stmt_retry = {
    "outbox_retry",
    "UPDATE outbox_events SET last_error = $3,"
    "       next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)"
    " WHERE id = $1",
    3};
static const struct pg_stmt stmt_failed = {
    "outbox_failed", "UPDATE outbox_events SET status = 'FAILED', last_error = $2 WHERE id = $1",
    2};
static const struct pg_stmt stmt_backlog = {
    "outbox_backlog", "SELECT count(*) FROM outbox_events WHERE status = 'PENDING'", 0};

struct outbox_relay {
    struct outbox_relay_config cfg;
    struct dataplatform *client; /* NULL: log events */
    struct periodic *thread;
    unsigned seed; /* jitter; relay thread only */
};

/* Exponential backoff with "equal jitter": a delay in [d/2, d]. */
static unsigned retry_delay_ms(struct outbox_relay *r, int attempts)
{
    unsigned long long d = r->cfg.backoff_base_ms;
    for (int i = 1; i < attempts && d < r->cfg.backoff_max_ms; i++)
        d *= 2;
    if (d > r->cfg.backoff_max_ms)
        d = r->cfg.backoff_max_ms;
    unsigned half = (unsigned)(d / 2);
    return half + (half ? (unsigned)rand_r(&r->seed) % (half + 1) : 0);
}

/* {"event_id","type","occurred_at","order":payload}; malloc'd or NULL. */
static char *envelope(const PGresult *res, int row)
{
    json_t *order = json_loads(PQgetvalue(res, row, 4), 0, NULL);
    if (!order)
        return NULL;
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:o}", "event_id", PQgetvalue(res, row, 1), "type",
                  PQgetvalue(res, row, 2), "occurred_at", PQgetvalue(res, row, 3), "order", order);
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

static void mark(struct pg_conn *c, const struct pg_stmt *stmt, const char *const *params)
{
    struct err e;
    err_clear(&e);
    PGresult *res = pg_exec(c, stmt, params, &e);
    if (!res)
        log_warn("outbox: cannot record a delivery outcome: %s", e.detail);
    PQclear(res);
}

/* Sends one claimed event and records the outcome. */
static void deliver(struct outbox_relay *r, struct pg_conn *c, const PGresult *res, int row)
{
    const char *id = PQgetvalue(res, row, 0);
    int attempts = (int)pg_get_i64(res, row, 5);
    struct err e;
    err_clear(&e);
    char *body = envelope(res, row);
    if (!body)
        err_set(&e, ERR_INTERNAL, "event payload is not JSON");
    else if (r->client)
        dataplatform_send(r->client, body, strlen(body), &e);
    else
        log_info("event %s", body);
    free(body);

    if (e.code == ERR_OK) {
        const char *params[] = {id};
        mark(c, &stmt_sent, params);
    } else if ((unsigned)attempts >= r->cfg.max_attempts) {
        log_error("outbox: event %s failed for good after %d attempts: %s", id, attempts, e.detail);
        const char *params[] = {id, e.detail};
        mark(c, &stmt_failed, params);
    } else {
        char delay[21];
        const char *params[] = {id, pg_i64_param(retry_delay_ms(r, attempts), delay), e.detail};
        mark(c, &stmt_retry, params);
    }
}

/* Claims and delivers one batch; true when the batch was full (more may be due). */
static bool relay_batch(void *arg)
{
    struct outbox_relay *r = arg;
    struct err e;
    err_clear(&e);
    struct pg_conn *c = pg_pool_conn(r->cfg.pg, &e);
    if (!c)
        return false;
    char batch[21], lease[21];
    const char *params[] = {pg_i64_param(r->cfg.batch, batch),
                            pg_i64_param(r->cfg.lease_ms, lease)};
    PGresult *res = pg_exec(c, &stmt_claim, params, &e);
    if (!res)
        return false;
    int n = PQntuples(res);
    for (int i = 0; i < n; i++)
        deliver(r, c, res, i);
    PQclear(res);
    return n == (int)r->cfg.batch;
}

struct outbox_relay *outbox_relay_start(const struct outbox_relay_config *cfg, struct err *e)
{
    struct outbox_relay *r = calloc(1, sizeof(*r));
    if (!r) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    r->cfg = *cfg;
    if (!r->cfg.batch)
        r->cfg.batch = 50;
    if (!r->cfg.poll_interval_ms)
        r->cfg.poll_interval_ms = 1000;
    if (!r->cfg.max_attempts)
        r->cfg.max_attempts = 10;
    if (!r->cfg.lease_ms)
        r->cfg.lease_ms = 30000;
    if (r->cfg.backoff_max_ms < r->cfg.backoff_base_ms)
        r->cfg.backoff_max_ms = r->cfg.backoff_base_ms;
    r->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)r;
    if (cfg->url && cfg->url[0]) {
        r->client = dataplatform_new(cfg->url, cfg->timeout_ms);
        if (!r->client) {
            free(r);
            err_set(e, ERR_INTERNAL, "cannot create the data platform client");
            return NULL;
        }
    }
    r->thread = periodic_start(r->cfg.poll_interval_ms, relay_batch, r);
    if (!r->thread) {
        dataplatform_free(r->client);
        free(r);
        err_set(e, ERR_INTERNAL, "cannot start the outbox relay thread");
        return NULL;
    }
    return r;
}

void outbox_relay_wake(void *relay)
{
    periodic_wake(((struct outbox_relay *)relay)->thread);
}

void outbox_relay_stop(struct outbox_relay *r)
{
    if (!r)
        return;
    periodic_stop(r->thread);
    dataplatform_free(r->client);
    free(r);
}

int64_t outbox_backlog(void *pg_pool)
{
    struct err e;
    err_clear(&e);
    struct pg_conn *c = pg_pool_conn(pg_pool, &e);
    if (!c)
        return -1;
    PGresult *res = pg_exec(c, &stmt_backlog, NULL, &e);
    if (!res)
        return -1;
    int64_t n = pg_get_i64(res, 0, 0);
    PQclear(res);
    return n;
}
