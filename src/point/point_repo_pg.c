/* point_repo_pg.c — users, balances and ledger in PostgreSQL. */
#include "point/point_repo_pg.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/pg_idempotency.h"
#include "infra/pg_ledger.h"

static const struct pg_stmt stmt_create_user = {
    "point_create_user",
    "WITH u AS (INSERT INTO users (name) VALUES ($1) RETURNING id, name, balance),"
    " c AS (INSERT INTO user_credentials (user_id, password_hash) SELECT id, $2 FROM u)"
    " SELECT id, name, balance FROM u",
    2};
static const struct pg_stmt stmt_balance = {"point_balance",
                                            "SELECT balance FROM users WHERE id = $1", 1};
/* One row per user even without ledger rows (NULL columns), none for an unknown user. */
static const struct pg_stmt stmt_history = {
    "point_history",
    "SELECT l.id, l.type, l.amount, l.balance_after, l.order_id,"
    "       extract(epoch FROM l.created_at)::bigint"
    "  FROM users u LEFT JOIN LATERAL ("
    "       SELECT * FROM point_ledger"
    "        WHERE user_id = u.id AND ($2::bigint = 0 OR id < $2::bigint)"
    "        ORDER BY id DESC LIMIT $3::bigint) l ON true"
    " WHERE u.id = $1"
    " ORDER BY l.id DESC",
    3};

static struct pg_pool *pool_of(void *self)
{
    return ((struct point_repo_pg *)self)->pool;
}

static enum err_code user_not_found(int64_t user_id, struct err *e)
{
    return err_set(e, ERR_USER_NOT_FOUND, "user %lld does not exist", (long long)user_id);
}

static enum err_code repo_create_user(void *self, const char *name, const char *password_hash,
                                      struct point_user *out, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(pool_of(self), e);
    if (!c)
        return e->code;
    const char *params[] = {name, password_hash};
    PGresult *r = pg_exec(c, &stmt_create_user, params, e);
    if (!r)
        return e->code;
    out->id = pg_get_i64(r, 0, 0);
    snprintf(out->name, sizeof(out->name), "%s", PQgetvalue(r, 0, 1));
    out->balance = pg_get_i64(r, 0, 2);
    PQclear(r);
    return ERR_OK;
}

static enum err_code repo_balance(void *self, int64_t user_id, int64_t *balance, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(pool_of(self), e);
    if (!c)
        return e->code;
    char id_buf[21];
    const char *params[] = {pg_i64_param(user_id, id_buf)};
    PGresult *r = pg_exec(c, &stmt_balance, params, e);
    if (!r)
        return e->code;
    enum err_code rc = ERR_OK;
    if (PQntuples(r) == 0)
        rc = user_not_found(user_id, e);
    else
        *balance = pg_get_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

/* A charge without a key on its way through the combiner (charges_run fills the rest). */
struct charge_request {
    struct combiner_item item;
    int64_t user_id, amount, cap;
    struct pg_ledger_charge result;
    enum err_code rc; /* ERR_OK: result is what the database did; else err says why not */
    struct err err;
};

static struct charge_request *request_of(const struct combiner_item *item)
{
    return (struct charge_request *)((char *)item - offsetof(struct charge_request, item));
}

/* One user's charges are never in one batch (the statement credits each user once). */
static bool charges_conflict(const struct combiner_item *a, const struct combiner_item *b)
{
    const struct charge_request *x = request_of(a), *y = request_of(b);
    return x->user_id == y->user_id || x->cap != y->cap;
}

/* One charge alone: one statement, one round trip, refusals included. */
static void charge_alone(struct pg_pool *pool, struct charge_request *q)
{
    struct pg_conn *c = pg_pool_conn(pool, &q->err);
    if (!c || pg_ledger_queue_charge(c, q->user_id, q->amount, q->cap, &q->result, &q->err) ||
        pg_flush(c, &q->err))
        q->rc = q->err.code;
    else
        q->rc = ERR_OK;
}

/*
 * n charges of distinct users as one transaction in one round trip: BEGIN,
 * the rows locked in id order, every credit in one statement, COMMIT. When
 * the server refused the batch (it is rolled back whole), each charge runs
 * alone instead; when the connection was lost, the outcome is unknown, as
 * for a charge alone, and every one of them says so.
 */
static void charges_run(void *ctx, struct combiner_item *const *items, size_t n)
{
    struct point_repo_pg *r = ctx;
    if (n == 1) {
        charge_alone(r->pool, request_of(items[0]));
        return;
    }
    struct err e = {0};
    int64_t *ids = malloc(n * 2 * sizeof(*ids));
    struct pg_ledger_charge *results = malloc(n * sizeof(*results));
    struct pg_conn *c = ids && results ? pg_pool_conn(r->pool, &e) : NULL;
    bool ran = false, lost = false;
    if (c) {
        for (size_t i = 0; i < n; i++) {
            ids[i] = request_of(items[i])->user_id;
            ids[n + i] = request_of(items[i])->amount;
        }
        ran = pg_queue_begin(c, &e) == ERR_OK &&
              pg_ledger_queue_charges(c, n, ids, ids + n, request_of(items[0])->cap, results, &e) ==
                  ERR_OK &&
              pg_queue_commit(c, &e) == ERR_OK && pg_flush(c, &e) == ERR_OK;
        if (!ran) {
            lost = e.code == ERR_UNAVAILABLE;
            pg_tx_rollback(c);
        }
    } else {
        lost = e.code == ERR_UNAVAILABLE;
    }
    for (size_t i = 0; i < n; i++) {
        struct charge_request *q = request_of(items[i]);
        if (ran) {
            q->result = results[i];
            q->rc = ERR_OK;
        } else if (lost) {
            q->err = e;
            q->rc = e.code;
        } else {
            charge_alone(r->pool, q);
        }
    }
    free(ids);
    free(results);
}

static struct point_charge_result result_of(const struct pg_ledger_charge *ch)
{
    return (struct point_charge_result){ch->applied, ch->exists, ch->balance};
}

/*
 * A charge without a key: in one round trip, alone or (under load) in a
 * batch with other users' charges (core/combiner.h).
 */
static enum err_code repo_charge(void *self, int64_t user_id, int64_t amount, int64_t cap,
                                 struct point_charge_result *out, struct err *e)
{
    struct point_repo_pg *r = self;
    struct charge_request q = {.user_id = user_id, .amount = amount, .cap = cap};
    if (r->charges.cfg.max_batch > 1)
        combiner_submit(&r->charges, &q.item);
    else
        charge_alone(r->pool, &q);
    if (q.rc != ERR_OK) {
        *e = q.err;
        return q.rc;
    }
    *out = result_of(&q.result);
    return ERR_OK;
}

/*
 * BEGIN, the key's claim and the charge itself go together (the charge
 * statement changes nothing when it refuses, so a refusal needs no
 * savepoint before its outcome is recorded).
 */
static enum err_code repo_charge_keyed_begin(void *self, int64_t user_id, int64_t amount,
                                             int64_t cap, const char *key,
                                             struct idempotency_claim *claim,
                                             struct point_charge_result *out, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(pool_of(self), e);
    if (!c)
        return e->code;
    struct pg_ledger_charge ch;
    if (pg_queue_begin(c, e) || pg_idempotency_queue_claim(c, user_id, "charge", key, claim, e) ||
        pg_ledger_queue_charge(c, user_id, amount, cap, &ch, e) || pg_flush(c, e)) {
        recorded_outcome_cleanup(&claim->stored);
        pg_tx_rollback(c);
        return e->code;
    }
    *out = result_of(&ch);
    return ERR_OK;
}

static enum err_code repo_charge_keyed_commit(void *self, int64_t user_id, const char *key,
                                              const char *fingerprint,
                                              const struct recorded_outcome *outcome, struct err *e)
{
    struct pg_conn *c = pg_pool_conn_current(pool_of(self));
    if (!c)
        return err_set(e, ERR_INTERNAL, "a keyed charge's commit without its transaction");
    if (pg_idempotency_queue_record(c, user_id, "charge", key, fingerprint, outcome->status,
                                    outcome->body, e) ||
        pg_queue_commit(c, e) || pg_flush(c, e)) {
        pg_tx_rollback(c);
        return e->code;
    }
    return ERR_OK;
}

static void repo_charge_keyed_rollback(void *self)
{
    struct pg_conn *c = pg_pool_conn_current(pool_of(self));
    if (c)
        pg_tx_rollback(c);
}

static enum err_code repo_history(void *self, int64_t user_id, int64_t before, size_t limit,
                                  struct point_entry *out, size_t *n, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(pool_of(self), e);
    if (!c)
        return e->code;
    char id_buf[21], before_buf[21], limit_buf[21];
    const char *params[] = {pg_i64_param(user_id, id_buf), pg_i64_param(before, before_buf),
                            pg_i64_param((int64_t)limit, limit_buf)};
    PGresult *r = pg_exec(c, &stmt_history, params, e);
    if (!r)
        return e->code;
    int rows = PQntuples(r);
    enum err_code rc = ERR_OK;
    *n = 0;
    if (rows == 0) {
        rc = user_not_found(user_id, e);
        goto out_clear;
    }
    for (int i = 0; i < rows && *n < limit; i++) {
        if (PQgetisnull(r, i, 0))
            continue; /* the user exists but has no rows */
        struct point_entry *p = &out[(*n)++];
        p->id = pg_get_i64(r, i, 0);
        if (!point_entry_type_parse(PQgetvalue(r, i, 1), &p->type)) {
            rc = err_set(e, ERR_INTERNAL, "ledger row %lld has an unknown type", (long long)p->id);
            goto out_clear;
        }
        p->amount = pg_get_i64(r, i, 2);
        p->balance_after = pg_get_i64(r, i, 3);
        p->order_id = pg_get_i64(r, i, 4);
        p->created_at = pg_get_i64(r, i, 5);
    }
out_clear:
    PQclear(r);
    return rc;
}

static const struct point_repo_ops point_repo_pg_ops = {
    .create_user = repo_create_user,
    .balance = repo_balance,
    .charge = repo_charge,
    .charge_keyed_begin = repo_charge_keyed_begin,
    .charge_keyed_commit = repo_charge_keyed_commit,
    .charge_keyed_rollback = repo_charge_keyed_rollback,
    .history = repo_history,
};

bool point_repo_pg_init(struct point_repo_pg *r, struct pg_pool *pool,
                        struct point_charge_batching batching)
{
    r->pool = pool;
    struct combiner_config cfg = {.max_batch = batching.max_batch,
                                  .max_inflight = batching.max_inflight,
                                  .run = charges_run,
                                  .conflict = charges_conflict,
                                  .ctx = r};
    return combiner_init(&r->charges, &cfg);
}

void point_repo_pg_cleanup(struct point_repo_pg *r)
{
    combiner_destroy(&r->charges);
}

struct point_repo point_repo_pg(struct point_repo_pg *r)
{
    return (struct point_repo){.ops = &point_repo_pg_ops, .self = r};
}
