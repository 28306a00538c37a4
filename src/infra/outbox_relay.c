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
#include "core/thread_priority.h"
#include "core/timefmt.h"

/*
 * The outbox holds only undelivered events: a row is deleted in the
 * transaction that records its delivery, so a delivered event costs its
 * INSERT and one DELETE, and the table stays as small as the backlog.
 *
 * A batch is claimed with FOR UPDATE SKIP LOCKED inside a transaction that
 * stays open while the sink delivers (a few milliseconds when it is healthy):
 * concurrent relays take different rows, a relay that dies lets go of its
 * rows with its connection, and a relay that hangs is cut off by the
 * connection's idle_in_transaction_session_timeout. A row is claimable only
 * when no earlier row of the same order (aggregate_id) is still in the
 * table: an order's ORDER_CANCELLED never leaves before its ORDER_PAID,
 * whichever relay holds which. Ids of one order are in causal order (a
 * cancel reads the committed payment), so "id <" is "happened before" within
 * an order. Rows are never chosen by "id > last seen": ids of different
 * orders commit out of order.
 *
 * When outcomes are still missing after in_tx_wait_ms (the sink is slow or
 * down), the undecided rows are leased instead: one more attempt and a
 * next_attempt_at past the longest the sink can take, committed; their
 * outcomes are written later behind the attempts fence, so a late write
 * never touches a row another relay has claimed since.
 */
static const struct pg_stmt stmt_claim = {
    "outbox_claim",
    "SELECT o.id, o.event_id, o.type, o.aggregate_id,"
    "       to_char(o.created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'),"
    "       o.payload::text, o.attempts"
    "  FROM outbox_events o"
    " WHERE o.status = 'PENDING' AND o.next_attempt_at <= now()"
    "   AND NOT EXISTS (SELECT 1 FROM outbox_events p"
    "                    WHERE p.aggregate_id = o.aggregate_id AND p.id < o.id)"
    " ORDER BY o.id LIMIT $1::bigint FOR UPDATE OF o SKIP LOCKED",
    1};
/* every delivery of a batch in one statement, under the claim's row locks */
static const struct pg_stmt stmt_delivered = {
    "outbox_delivered", "DELETE FROM outbox_events WHERE id = ANY($1::bigint[])", 1};
/* rows not delivered in the transaction: one more attempt, not due before the lease ends */
static const struct pg_stmt stmt_lease = {
    "outbox_lease",
    "UPDATE outbox_events SET attempts = attempts + 1,"
    "       next_attempt_at = now() + make_interval(secs => $2::double precision / 1000)"
    " WHERE id = ANY($1::bigint[])",
    2};
/* outcomes written behind the fence: the attempts value of this relay's lease */
static const struct pg_stmt stmt_delivered_late = {
    "outbox_delivered_late",
    "DELETE FROM outbox_events WHERE id = $1::bigint AND status = 'PENDING' AND attempts = $2::int",
    2};
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
    unsigned seed;        /* jitter; relay thread only */
    struct timespec last; /* when the last batch began; relay thread only */
    bool background;      /* the relay thread's priority is lowered; relay thread only */
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

/*
 * {"event_id","type","occurred_at","order":payload}; malloc'd, or NULL with
 * *malformed telling a payload that is not JSON (permanent) from a failed
 * allocation (transient: the event is tried again, never parked for it).
 */
static char *envelope(const PGresult *res, int row, bool *malformed)
{
    json_error_t err;
    json_t *order = json_loads(PQgetvalue(res, row, 5), 0, &err);
    *malformed = !order && json_error_code(&err) != json_error_out_of_memory;
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

/* Appends id to a PostgreSQL array literal being built ("{" + ids + commas). */
static void id_list_add(char *list, size_t cap, const char *id)
{
    size_t used = strlen(list);
    snprintf(list + used, cap - used, "%s%s", used > 1 ? "," : "", id);
}

/*
 * Writes a failure (retry with backoff, or park) of row i behind the fence
 * (the row's attempts value once this relay has counted its attempt).
 */
static void record_failure(struct outbox_relay *r, struct pg_conn *c, const PGresult *res, int i,
                           const struct batch_slot *s)
{
    const char *id = PQgetvalue(res, i, 0);
    int fence = (int)pg_get_i64(res, i, 6) + 1;
    char fence_text[21];
    pg_i64_param(fence, fence_text);
    if (s->outcome == OUTBOX_PARK) {
        log_error("outbox: event %s parked (permanent failure): %s", id, s->why);
        const char *params[] = {id, s->why, fence_text};
        mark(c, &stmt_park, params);
    } else {
        char delay[21];
        const char *params[] = {id, pg_i64_param(retry_delay_ms(r, fence), delay), s->why,
                                fence_text};
        mark(c, &stmt_retry, params);
    }
}

/* A copy of slot i, taken under the batch's lock. */
static struct batch_slot slot_copy(struct batch *b, size_t i)
{
    pthread_mutex_lock(&b->mu);
    struct batch_slot s = b->slots[i];
    pthread_mutex_unlock(&b->mu);
    return s;
}

/* Milliseconds from since to now (CLOCK_MONOTONIC); now is set. */
static long long ms_since(const struct timespec *since, struct timespec *now)
{
    clock_gettime(CLOCK_MONOTONIC, now);
    return (now->tv_sec - since->tv_sec) * 1000LL + (now->tv_nsec - since->tv_nsec) / 1000000LL;
}

/* Hands rows [0, n) of res to the sink; returns how many it took (a stop or the budget ends it). */
static size_t hand_to_sink(struct outbox_relay *r, const PGresult *res, size_t n, struct batch *b)
{
    const struct outbox_sink *sink = &r->cfg.sink;
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    size_t handed = 0;
    for (size_t i = 0; i < n; i++) {
        /* one send at a time: stop when stopping or past the transaction's budget */
        if (outbox_sink_sequential(sink) &&
            (periodic_stopping(r->thread) || ms_since(&start, &now) >= r->cfg.in_tx_wait_ms))
            break; /* the rest stays locked only until commit, untouched */
        bool malformed;
        char *body = envelope(res, (int)i, &malformed);
        pthread_mutex_lock(&b->mu);
        b->refs++; /* the send's, dropped by its completion */
        pthread_mutex_unlock(&b->mu);
        if (!body) {
            if (malformed)
                batch_done(b, i, OUTBOX_PARK, "event payload is not JSON");
            else
                batch_done(b, i, OUTBOX_RETRY, "out of memory building the event");
        } else {
            struct outbox_event ev = {
                .id = pg_get_i64(res, (int)i, 0),
                .event_id = PQgetvalue(res, (int)i, 1),
                .type = PQgetvalue(res, (int)i, 2),
                .aggregate_id = pg_get_i64(res, (int)i, 3),
                .body = body,
                .body_len = strlen(body),
            };
            outbox_sink_send(sink, &ev, i, batch_done, b);
        }
        free(body);
        handed++;
    }
    return handed;
}

/*
 * Inside the claim's transaction: deletes the delivered rows, counts an
 * attempt on every other handed row (retry and park outcomes, and — unless
 * stopping — the undecided, whose lease then covers the rest of the batch
 * time) and writes the failures. Returns false when a statement failed (the
 * caller rolls back: the rows are claimed again at once). was_decided[i]
 * tells whether row i's outcome was written here (a later one is written by
 * record_late); *undecided whether leased rows wait for a late outcome.
 */
static bool record_in_tx(struct outbox_relay *r, struct pg_conn *c, const PGresult *res,
                         struct batch *b, size_t handed, bool stopping, unsigned lease_ms,
                         bool *was_decided, bool *undecided)
{
    size_t cap = handed * 21 + 3; /* "{" + ids of up to 20 digits and commas + "}" */
    char *done = malloc(cap), *counted = malloc(cap);
    bool ok = done && counted;
    *undecided = false;
    if (ok) {
        strcpy(done, "{");
        strcpy(counted, "{");
    }
    for (size_t i = 0; ok && i < handed; i++) {
        struct batch_slot s = slot_copy(b, i);
        was_decided[i] = s.decided; /* what this transaction writes; the rest comes later */
        const char *id = PQgetvalue(res, (int)i, 0);
        if (s.decided && s.outcome == OUTBOX_SENT) {
            id_list_add(done, cap, id);
        } else if (s.decided || !stopping) {
            id_list_add(counted, cap, id);
            *undecided = *undecided || !s.decided;
        } /* undecided while stopping: left as it was, any relay takes it at once */
    }
    struct err e;
    err_clear(&e);
    if (ok && strlen(counted) > 1) {
        strcat(counted, "}");
        char lease_text[21];
        const char *params[] = {counted, pg_i64_param(lease_ms, lease_text)};
        PGresult *res2 = pg_exec(c, &stmt_lease, params, &e);
        ok = res2 != NULL;
        PQclear(res2);
        for (size_t i = 0; ok && i < handed; i++) {
            struct batch_slot s = slot_copy(b, i);
            if (was_decided[i] && s.outcome != OUTBOX_SENT)
                record_failure(r, c, res, (int)i, &s);
        }
    }
    if (ok && strlen(done) > 1) {
        strcat(done, "}");
        const char *params[] = {done};
        PGresult *res2 = pg_exec(c, &stmt_delivered, params, &e);
        ok = res2 != NULL;
        PQclear(res2);
    }
    if (!ok)
        log_warn("outbox: cannot record delivery outcomes: %s",
                 e.detail[0] ? e.detail : "out of memory");
    free(done);
    free(counted);
    return ok;
}

/* After commit: the late outcomes of leased rows, each behind its fence. */
static void record_late(struct outbox_relay *r, struct pg_conn *c, const PGresult *res,
                        struct batch *b, size_t handed, bool *was_decided)
{
    for (size_t i = 0; i < handed; i++) {
        struct batch_slot s = slot_copy(b, i);
        if (was_decided[i] || !s.decided)
            continue; /* written in the transaction, or still unknown: the lease decides */
        if (s.outcome == OUTBOX_SENT) {
            char fence[21];
            const char *params[] = {PQgetvalue(res, (int)i, 0),
                                    pg_i64_param(pg_get_i64(res, (int)i, 6) + 1, fence)};
            mark(c, &stmt_delivered_late, params);
        } else {
            record_failure(r, c, res, (int)i, &s);
        }
    }
}

/* Lets a few more events gather after a wake-up: fewer, fuller batches under load. */
static void linger(struct outbox_relay *r)
{
    struct timespec now;
    long long since_ms = ms_since(&r->last, &now);
    if (r->cfg.linger_ms && since_ms >= 0 && since_ms < r->cfg.linger_ms &&
        !periodic_stopping(r->thread)) {
        long long rest = r->cfg.linger_ms - since_ms;
        struct timespec ts = {rest / 1000, (rest % 1000) * 1000000L};
        nanosleep(&ts, NULL);
        clock_gettime(CLOCK_MONOTONIC, &now);
    }
    r->last = now;
}

/* Claims one batch, delivers it and records the outcomes; true when it was full. */
static bool relay_batch(void *arg)
{
    struct outbox_relay *r = arg;
    if (!r->background) { /* event work yields the CPU to requests */
        thread_priority_background();
        r->background = true;
    }
    linger(r);
    struct err e;
    err_clear(&e);
    struct pg_conn *c = pg_pool_conn(r->cfg.pg, &e);
    if (!c || pg_tx_begin(c, &e) != ERR_OK)
        return false;
    char batch_text[21];
    const char *params[] = {pg_i64_param(r->cfg.batch, batch_text)};
    PGresult *res = pg_exec(c, &stmt_claim, params, &e);
    size_t n = res ? (size_t)PQntuples(res) : 0;
    struct batch *b = n ? batch_new(n) : NULL;
    if (!res || n == 0 || !b) { /* nothing due, or a failure: nothing was sent */
        pg_tx_rollback(c);
        PQclear(res);
        return false;
    }
    const struct outbox_sink *sink = &r->cfg.sink;
    unsigned batch_ms = outbox_sink_batch_time_ms(sink, r->cfg.batch);
    size_t handed = hand_to_sink(r, res, n, b);
    bool stopping = periodic_stopping(r->thread);
    unsigned in_tx_ms = stopping ? STOP_WAIT_MS : r->cfg.in_tx_wait_ms;
    batch_wait(b, handed, in_tx_ms < batch_ms ? in_tx_ms : batch_ms);
    bool *was_decided = calloc(handed ? handed : 1, sizeof(bool));
    bool undecided = false;
    bool ok = was_decided && record_in_tx(r, c, res, b, handed, stopping,
                                          batch_ms + LEASE_MARGIN_MS, was_decided, &undecided);
    if (!ok || pg_tx_commit(c, &e) != ERR_OK) {
        pg_tx_rollback(c); /* nothing recorded: the rows are claimed again at once */
        undecided = false;
    }
    if (undecided && !periodic_stopping(r->thread)) {
        batch_wait(b, handed, batch_ms > in_tx_ms ? batch_ms - in_tx_ms : 0);
        record_late(r, c, res, b, handed, was_decided);
    }
    free(was_decided);
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
    if (!r->cfg.in_tx_wait_ms)
        r->cfg.in_tx_wait_ms = 2000;
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
