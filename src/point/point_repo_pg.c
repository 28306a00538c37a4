/* point_repo_pg.c — users, balances and ledger in PostgreSQL. */
#include "point/point_repo_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/pg_idempotency.h"

static const struct pg_stmt stmt_create_user = {
    "point_create_user", "INSERT INTO users (name) VALUES ($1) RETURNING id, name, balance", 1};
static const struct pg_stmt stmt_balance = {"point_balance",
                                            "SELECT balance FROM users WHERE id = $1", 1};
/*
 * The whole charge in one statement, hence one transaction and one round trip:
 * the conditional UPDATE re-checks the cap on the latest row version (READ
 * COMMITTED re-evaluates WHERE after waiting for a concurrent writer), and the
 * ledger row carries the exact balance that UPDATE produced.
 */
static const struct pg_stmt stmt_charge = {
    "point_charge",
    "WITH u AS (UPDATE users SET balance = balance + $2"
    "            WHERE id = $1 AND balance + $2 <= $3 RETURNING id, balance),"
    " l AS (INSERT INTO point_ledger (user_id, type, amount, balance_after)"
    "       SELECT id, 'CHARGE', $2, balance FROM u RETURNING balance_after)"
    " SELECT balance_after FROM l",
    3};
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

static enum err_code user_not_found(int64_t user_id, struct err *e)
{
    return err_set(e, ERR_USER_NOT_FOUND, "user %lld does not exist", (long long)user_id);
}

static enum err_code repo_create_user(void *self, const char *name, struct point_user *out,
                                      struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    const char *params[] = {name};
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
    struct pg_conn *c = pg_pool_conn(self, e);
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

static enum err_code repo_charge(void *self, int64_t user_id, int64_t amount, int64_t cap,
                                 int64_t *balance_after, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char id_buf[21], amount_buf[21], cap_buf[21];
    const char *params[] = {pg_i64_param(user_id, id_buf), pg_i64_param(amount, amount_buf),
                            pg_i64_param(cap, cap_buf)};
    PGresult *r = pg_exec(c, &stmt_charge, params, e);
    if (!r)
        return e->code;
    bool applied = PQntuples(r) == 1;
    if (applied)
        *balance_after = pg_get_i64(r, 0, 0);
    PQclear(r);
    if (applied)
        return ERR_OK;

    /* Nothing changed: tell an unknown user from a full balance (cold path). */
    int64_t balance = 0;
    enum err_code rc = repo_balance(self, user_id, &balance, e);
    if (rc != ERR_OK)
        return rc;
    return err_set(e, ERR_BALANCE_LIMIT_EXCEEDED,
                   "balance %lld plus %lld would exceed the limit of %lld", (long long)balance,
                   (long long)amount, (long long)cap);
}

/*
 * The charge statement once, with its outcome recorded under key in the same
 * transaction. The statement changes nothing when it refuses, so a refusal
 * is recorded without a savepoint.
 */
static enum err_code repo_charge_once(void *self, int64_t user_id, int64_t amount, int64_t cap,
                                      const char *key, const char *fingerprint,
                                      const struct point_charge_renderer *render,
                                      struct point_charge_outcome *out, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    if (pg_tx_begin(c, e))
        return e->code;
    bool replay = false;
    char *body = NULL;
    if (pg_idempotency_claim(c, user_id, "charge", key, fingerprint, &replay, &out->status,
                             &out->body, e))
        goto out_rollback;
    if (replay) {
        pg_tx_rollback(c);
        out->replayed = true;
        return ERR_OK;
    }
    int64_t balance = 0;
    enum err_code outcome = repo_charge(self, user_id, amount, cap, &balance, e);
    if (outcome != ERR_OK && outcome != ERR_USER_NOT_FOUND && outcome != ERR_BALANCE_LIMIT_EXCEEDED)
        goto out_rollback;
    struct err refusal = *e;
    body = outcome == ERR_OK ? render->ok(user_id, balance) : render->refusal(&refusal);
    int status = outcome == ERR_OK ? 200 : err_http_status(outcome);
    if (!body) {
        err_set(e, ERR_INTERNAL, "out of memory rendering a charge");
        goto out_rollback;
    }
    if (pg_idempotency_record(c, user_id, "charge", key, fingerprint, status, body, e) ||
        pg_tx_commit(c, e))
        goto out_rollback;
    if (outcome != ERR_OK) {
        free(body);
        *e = refusal;
        return outcome;
    }
    *out = (struct point_charge_outcome){status, body, false};
    return ERR_OK;

out_rollback:
    free(body);
    pg_tx_rollback(c);
    return e->code;
}

static enum err_code repo_history(void *self, int64_t user_id, int64_t before, size_t limit,
                                  struct point_entry *out, size_t *n, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
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
    .charge_once = repo_charge_once,
    .history = repo_history,
};

struct point_repo point_repo_pg(struct pg_pool *pool)
{
    return (struct point_repo){.ops = &point_repo_pg_ops, .self = pool};
}
