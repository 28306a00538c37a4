/* outbox_relay.c — claim in order, hand to the sink, record outcomes behind a fence. */
#include "infra/outbox_relay.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "core/log.h"
#include "core/periodic.h"
#include "core/timefmt.h"

/*
 * Claiming is a lease, not an open transaction: the chosen rows get a later
 * next_attempt_at and one more attempt in the statement that locks them
 * (SKIP LOCKED, so concurrent relays take different rows), and delivery
 * happens after commit. A row is claimable only when no earlier row of the
 * same order (aggregate_id) is unsent: an order's ORDER_CANCELLED never
 * leaves before its ORDER_PAID, whichever relay holds which. Ids of one
 * order are in causal order (a cancel reads the committed payment), so "id
 * <" is "happened before" within an order. Rows are never chosen by "id >
 * last seen": ids of different orders commit out of order.
 */
static const struct pg_stmt stmt_claim = {
    "outbox_claim",
    "UPDATE outbox_events SET attempts = attempts + 1,"
    "       next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)"
    " WHERE id IN (SELECT o.id FROM outbox_events o"
    "               WHERE o.status = 'PENDING' AND o.next_attempt_at <= now()"
    "                 AND NOT EXISTS (SELECT 1 FROM outbox_events p"
    "                                  WHERE p.aggregate_id = o.aggregate_id AND p.id < o.id"
    "                                    AND p.status <> 'SENT')"
    "               ORDER BY o.id LIMIT $1::bigint FOR UPDATE SKIP LOCKED)"
    " RETURNING id, event_id, type, aggregate_id,"
    "           to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    "           payload::text, attempts",
    2};
/*
 * a late success is still the truth: only a row already SENT is left alone.
 * One statement (one commit) for every success of a batch: per-row commits
 * would each wait for their own WAL flush, beside the orders'.
 */
static const struct pg_stmt stmt_sent = {
    "outbox_sent",
    "UPDATE outbox_events SET status = 'SENT', sent_at = now(), last_error = NULL"
    " WHERE id = ANY($1::bigint[]) AND status <> 'SENT'",
    1};
/* failures are written only by the current claim (attempts is its fence) */
static const struct pg_stmt stmt_retry = {
    "outbox_retry",
    "UPDATE outbox_events SET last_error = $3,"
    "       next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)"
    " WHERE id = $1::bigint AND status = 'PENDING' AND attempts = $4::int",
    4};
static const struct pg_stmt stmt_park = {
    "outbox_park",
    "UPDATE outbox_events SET status = 'FAILED', last_error = $2"
    " WHERE id = $1::bigint AND status = 'PENDING' AND attempts = $3::int",
    3};
static const struct pg_stmt stmt_release = {
    "outbox_release",
    "UPDATE outbox_events SET next_attempt_at = now()"
    " WHERE id = $1::bigint AND status = 'PENDING' AND attempts = $2::int",
    2};
static const struct pg_stmt stmt_requeue = {
    "outbox_requeue",
    "UPDATE outbox_events SET status = 'PENDING', attempts = 0, next_attempt_at = now(),"
    "       last_error = 'requeued after: ' || coalesce(last_error, '')"
    " WHERE status = 'FAILED'",
    0};
static const struct pg_stmt stmt_backlog = {
    "outbox_backlog", "SELECT count(*) FROM outbox_events WHERE status = 'PENDING'", 0};
static const struct pg_stmt stmt_parked = {
    "outbox_parked", "SELECT count(*) FROM outbox_events WHERE status = 'FAILED'", 0};
static const struct pg_stmt stmt_oldest = {
    "outbox_oldest",
    "SELECT coalesce(floor(extract(epoch FROM now() - min(created_at))), 0)::bigint"
    "  FROM outbox_events WHERE status = 'PENDING'",
    0};

enum { LEASE_MARGIN_MS = 10000, STOP_WAIT_MS = 1000, WHY_MAX = 200 };

struct outbox_relay {
    struct outbox_relay_config cfg;
    struct periodic *thread;
    unsigned seed; /* jitter; relay thread only */
};

/*
 * The outcomes of one batch. Shared with the sink's callbacks, which may
 * arrive after the relay stopped waiting (a Kafka delivery report at the end
 * of its timeout): reference-counted, freed by whoever lets go last.
 */
struct batch_slot {
    bool decided;
    enum outbox_outcome outcome;
    char why[WHY_MAX];
};
struct batch {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t decided, refs;
    struct batch_slot slots[];
};

static struct batch *batch_new(size_t n)
{
    struct batch *b = calloc(1, sizeof(*b) + n * sizeof(b->slots[0]));
    if (!b)
        return NULL;
    pthread_mutex_init(&b->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&b->cv, &ca);
    pthread_condattr_destroy(&ca);
    b->refs = 1; /* the relay's */
    return b;
}

/* Drops one reference (the mutex must not be held); frees on the last. */
static void batch_unref(struct batch *b)
{
    pthread_mutex_lock(&b->mu);
    bool last = --b->refs == 0;
    pthread_mutex_unlock(&b->mu);
    if (last) {
        pthread_mutex_destroy(&b->mu);
        pthread_cond_destroy(&b->cv);
        free(b);
    }
}

/* The sink's completion: records slot index once, then drops the send's reference. */
static void batch_done(void *ctx, size_t index, enum outbox_outcome outcome, const char *why)
{
    struct batch *b = ctx;
    pthread_mutex_lock(&b->mu);
    struct batch_slot *s = &b->slots[index];
    if (!s->decided) {
        s->decided = true;
        s->outcome = outcome;
        snprintf(s->why, sizeof(s->why), "%s", why ? why : "");
        b->decided++;
        pthread_cond_broadcast(&b->cv);
    }
    pthread_mutex_unlock(&b->mu);
    batch_unref(b);
}

/* Waits until n slots are decided or timeout_ms passes. Returns how many are. */
static size_t batch_wait(struct batch *b, size_t n, unsigned timeout_ms)
{
    struct timespec until = timefmt_deadline_ms(timeout_ms);
    pthread_mutex_lock(&b->mu);
    while (b->decided < n && pthread_cond_timedwait(&b->cv, &b->mu, &until) == 0) {
    }
    size_t decided = b->decided;
    pthread_mutex_unlock(&b->mu);
    return decided;
}

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
    json_t *order = json_loads(PQgetvalue(res, row, 5), 0, NULL);
    if (!order)
        return NULL;
    json_t *doc =
        json_pack("{s:s, s:s, s:s, s:o}", "event_id", PQgetvalue(res, row, 1), "type",
                  PQgetvalue(res, row, 2), "occurred_at", PQgetvalue(res, row, 4), "order", order);
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

/*
 * Writes the outcome of row i behind the claim's fence, except a success:
 * that is added to sent (a PostgreSQL array literal "{id,id,…}" being built).
 */
static void record(struct outbox_relay *r, struct pg_conn *c, const PGresult *res, int i,
                   const struct batch_slot *s, bool sent_to_sink, char *sent, size_t sent_cap)
{
    const char *id = PQgetvalue(res, i, 0), *attempts_text = PQgetvalue(res, i, 6);
    int attempts = (int)pg_get_i64(res, i, 6);
    if (!sent_to_sink) { /* stopping: let any relay take it at once */
        const char *params[] = {id, attempts_text};
        mark(c, &stmt_release, params);
    } else if (!s->decided) {
        /* no outcome yet (it may still arrive): the lease decides when it is tried again */
    } else if (s->outcome == OUTBOX_SENT) {
        size_t used = strlen(sent);
        snprintf(sent + used, sent_cap - used, "%s%s", used > 1 ? "," : "", id);
    } else if (s->outcome == OUTBOX_PARK) {
        log_error("outbox: event %s parked (permanent failure): %s", id, s->why);
        const char *params[] = {id, s->why, attempts_text};
        mark(c, &stmt_park, params);
    } else {
        char delay[21];
        const char *params[] = {id, pg_i64_param(retry_delay_ms(r, attempts), delay), s->why,
                                attempts_text};
        mark(c, &stmt_retry, params);
    }
}

/* Claims one batch, delivers it and records the outcomes; true when it was full. */
static bool relay_batch(void *arg)
{
    struct outbox_relay *r = arg;
    struct err e;
    err_clear(&e);
    struct pg_conn *c = pg_pool_conn(r->cfg.pg, &e);
    if (!c)
        return false;
    const struct outbox_sink *sink = &r->cfg.sink;
    unsigned wait_ms = sink->ops->batch_time_ms(sink->self, r->cfg.batch);
    char batch_text[21], lease_text[21];
    const char *params[] = {pg_i64_param(r->cfg.batch, batch_text),
                            pg_i64_param((int64_t)wait_ms + LEASE_MARGIN_MS, lease_text)};
    PGresult *res = pg_exec(c, &stmt_claim, params, &e);
    if (!res)
        return false;
    size_t n = (size_t)PQntuples(res);
    struct batch *b = n ? batch_new(n) : NULL;
    if (n && !b) {
        PQclear(res);
        return false; /* out of memory: the lease hands the rows back */
    }
    size_t handed = 0;
    for (size_t i = 0; i < n; i++) {
        if (sink->ops->sequential && periodic_stopping(r->thread))
            break;
        char *body = envelope(res, (int)i);
        pthread_mutex_lock(&b->mu);
        b->refs++; /* the send's, dropped by its completion */
        pthread_mutex_unlock(&b->mu);
        if (!body) {
            batch_done(b, i, OUTBOX_PARK, "event payload is not JSON");
        } else {
            struct outbox_event ev = {
                .id = pg_get_i64(res, (int)i, 0),
                .event_id = PQgetvalue(res, (int)i, 1),
                .type = PQgetvalue(res, (int)i, 2),
                .aggregate_id = pg_get_i64(res, (int)i, 3),
                .body = body,
                .body_len = strlen(body),
            };
            sink->ops->send(sink->self, &ev, i, batch_done, b);
        }
        free(body);
        handed++;
    }
    if (handed)
        batch_wait(b, handed, periodic_stopping(r->thread) ? STOP_WAIT_MS : wait_ms);
    size_t sent_cap = n * 21 + 3; /* "{" + ids of up to 20 digits and commas + "}" */
    char *sent = n ? malloc(sent_cap) : NULL;
    if (sent)
        strcpy(sent, "{");
    for (size_t i = 0; sent && i < n; i++) {
        struct batch_slot s;
        pthread_mutex_lock(&b->mu);
        s = b->slots[i];
        pthread_mutex_unlock(&b->mu);
        record(r, c, res, (int)i, &s, i < handed, sent, sent_cap);
    }
    if (sent && strlen(sent) > 1) {
        strcat(sent, "}");
        const char *sent_params[] = {sent};
        mark(c, &stmt_sent, sent_params);
    }
    free(sent); /* out of memory: nothing recorded, the lease hands the rows back */
    if (b)
        batch_unref(b);
    PQclear(res);
    return n == r->cfg.batch && !periodic_stopping(r->thread);
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
    if (!r->cfg.backoff_base_ms)
        r->cfg.backoff_base_ms = 500;
    if (r->cfg.backoff_max_ms < r->cfg.backoff_base_ms)
        r->cfg.backoff_max_ms = r->cfg.backoff_base_ms;
    r->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)r;
    r->thread = periodic_start(r->cfg.poll_interval_ms, relay_batch, r);
    if (!r->thread) {
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
    free(r);
}

/* Runs a one-number query on the calling thread's connection; -1 when it fails. */
static int64_t scalar(void *pg_pool, const struct pg_stmt *stmt)
{
    struct err e;
    err_clear(&e);
    struct pg_conn *c = pg_pool_conn(pg_pool, &e);
    if (!c)
        return -1;
    PGresult *res = pg_exec(c, stmt, NULL, &e);
    if (!res)
        return -1;
    int64_t n = pg_get_i64(res, 0, 0);
    PQclear(res);
    return n;
}

int64_t outbox_backlog(void *pg_pool)
{
    return scalar(pg_pool, &stmt_backlog);
}

int64_t outbox_parked(void *pg_pool)
{
    return scalar(pg_pool, &stmt_parked);
}

int64_t outbox_oldest_pending_s(void *pg_pool)
{
    return scalar(pg_pool, &stmt_oldest);
}

int64_t outbox_requeue_failed(struct pg_pool *pg, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(pg, e);
    if (!c)
        return -1;
    PGresult *res = pg_exec(c, &stmt_requeue, NULL, e);
    if (!res)
        return -1;
    int64_t n = strtoll(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    return n;
}
