/* pg_ledger.c — balance changes with their ledger rows, one statement each. */
#include "infra/pg_ledger.h"

#include <assert.h>
#include <stdlib.h>

static const struct pg_stmt stmt_use = {
    "ledger_use",
    "WITH u AS (UPDATE users SET balance = balance - $2"
    "            WHERE id = $1 AND balance >= $2 RETURNING id, balance),"
    " l AS (INSERT INTO point_ledger (user_id, type, amount, balance_after, order_id)"
    "       SELECT id, 'USE', -$2, balance, $3 FROM u RETURNING 1)"
    " SELECT shopd_expect(EXISTS (SELECT 1 FROM l), 'the balance of user ' || $1::text)",
    3};
/* No cap here: SHOPD_BALANCE_MAX limits charges only, a refund always succeeds (docs/api.md). */
static const struct pg_stmt stmt_refund = {
    "ledger_refund",
    "WITH u AS (UPDATE users SET balance = balance + $2 WHERE id = $1 RETURNING id, balance)"
    " INSERT INTO point_ledger (user_id, type, amount, balance_after, order_id)"
    " SELECT id, 'REFUND', $2, balance, $3 FROM u",
    3};
/*
 * The conditional UPDATE re-checks the cap on the latest row version (READ
 * COMMITTED re-evaluates WHERE after waiting for a concurrent writer). One
 * row whatever happened: the balance after (NULL when refused) and the
 * balance of the statement's snapshot (NULL when there is no such user),
 * so a refusal needs no second statement to explain itself.
 */
static const struct pg_stmt stmt_charge = {
    "ledger_charge",
    "WITH u AS (UPDATE users SET balance = balance + $2"
    "            WHERE id = $1 AND balance + $2 <= $3 RETURNING id, balance),"
    " l AS (INSERT INTO point_ledger (user_id, type, amount, balance_after)"
    "       SELECT id, 'CHARGE', $2, balance FROM u RETURNING balance_after)"
    " SELECT (SELECT balance_after FROM l), (SELECT balance FROM users WHERE id = $1)",
    3};

/* Queues stmt with (user_id, amount, third). */
static enum err_code queue_move(struct pg_conn *c, const struct pg_stmt *stmt, int64_t user_id,
                                int64_t amount, int64_t third, pg_on_result on_result,
                                const void *ctx, size_t ctx_size, struct err *e)
{
    char user_buf[21], amount_buf[21], third_buf[21];
    const char *params[] = {pg_i64_param(user_id, user_buf), pg_i64_param(amount, amount_buf),
                            pg_i64_param(third, third_buf)};
    return pg_queue(c, stmt, params, on_result, ctx, ctx_size, e);
}

enum err_code pg_ledger_queue_use(struct pg_conn *c, int64_t user_id, int64_t amount,
                                  int64_t order_id, struct err *e)
{
    assert(amount > 0 && pg_conn_in_tx(c)); /* a refusal loses the transaction: there is one */
    return queue_move(c, &stmt_use, user_id, amount, order_id, NULL, NULL, 0, e);
}

enum err_code pg_ledger_queue_refund(struct pg_conn *c, int64_t user_id, int64_t amount,
                                     int64_t order_id, struct err *e)
{
    assert(amount > 0);
    return queue_move(c, &stmt_refund, user_id, amount, order_id, NULL, NULL, 0, e);
}

static enum err_code on_charge(void *ctx, const PGresult *r, struct err *e)
{
    (void)e;
    struct pg_ledger_charge *out = *(struct pg_ledger_charge **)ctx;
    out->applied = !PQgetisnull(r, 0, 0);
    out->exists = out->applied || !PQgetisnull(r, 0, 1);
    out->balance = pg_get_i64(r, 0, out->applied ? 0 : 1);
    return ERR_OK;
}

enum err_code pg_ledger_queue_charge(struct pg_conn *c, int64_t user_id, int64_t amount,
                                     int64_t cap, struct pg_ledger_charge *out, struct err *e)
{
    assert(amount > 0);
    *out = (struct pg_ledger_charge){0};
    return queue_move(c, &stmt_charge, user_id, amount, cap, on_charge, &out, sizeof(out), e);
}

/* Row locks in id order, so that concurrent batches take them in one global order. */
static const struct pg_stmt stmt_charge_lock = {
    "ledger_charge_lock", "SELECT 1 FROM users WHERE id = ANY($1::bigint[]) ORDER BY id FOR UPDATE",
    1};
/*
 * stmt_charge for many users at once (distinct ids, locked by
 * stmt_charge_lock in this transaction, so the snapshot's balances are the
 * latest): one row per request in request order, with the same two columns.
 */
static const struct pg_stmt stmt_charges = {
    "ledger_charges",
    "WITH r AS (SELECT * FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY"
    "            AS r(user_id, amount, ord)),"
    " u AS (UPDATE users SET balance = users.balance + r.amount FROM r"
    "        WHERE users.id = r.user_id AND users.balance + r.amount <= $3"
    "        RETURNING users.id, users.balance, r.amount),"
    " l AS (INSERT INTO point_ledger (user_id, type, amount, balance_after)"
    "       SELECT id, 'CHARGE', amount, balance FROM u ORDER BY id"
    "       RETURNING user_id, balance_after)"
    " SELECT l.balance_after, cur.balance FROM r"
    "   LEFT JOIN l ON l.user_id = r.user_id LEFT JOIN users cur ON cur.id = r.user_id"
    "  ORDER BY r.ord",
    3};

struct charges_ctx {
    struct pg_ledger_charge *out;
    size_t n;
};

static enum err_code on_charges(void *ctx, const PGresult *r, struct err *e)
{
    const struct charges_ctx *cc = ctx;
    if ((size_t)PQntuples(r) != cc->n)
        return err_set(e, ERR_INTERNAL, "a batch of %zu charges came back with %d rows", cc->n,
                       PQntuples(r));
    for (size_t i = 0; i < cc->n; i++) {
        struct pg_ledger_charge *out = &cc->out[i];
        out->applied = !PQgetisnull(r, (int)i, 0);
        out->exists = out->applied || !PQgetisnull(r, (int)i, 1);
        out->balance = pg_get_i64(r, (int)i, out->applied ? 0 : 1);
    }
    return ERR_OK;
}

/* The batch's preconditions (pg_ledger.h), for assert(): distinct users, positive amounts. */
static inline bool charges_well_formed(size_t n, const int64_t *user_ids, const int64_t *amounts)
{
    for (size_t i = 0; i < n; i++) {
        if (amounts[i] <= 0)
            return false;
        for (size_t j = 0; j < i; j++)
            if (user_ids[j] == user_ids[i])
                return false;
    }
    return true;
}

enum err_code pg_ledger_queue_charges(struct pg_conn *c, size_t n, const int64_t *user_ids,
                                      const int64_t *amounts, int64_t cap,
                                      struct pg_ledger_charge *out, struct err *e)
{
    assert(pg_conn_in_tx(c) && charges_well_formed(n, user_ids, amounts));
    for (size_t i = 0; i < n; i++)
        out[i] = (struct pg_ledger_charge){0};
    char *ids = pg_i64_array(user_ids, n), *amts = pg_i64_array(amounts, n);
    char cap_buf[21];
    enum err_code rc;
    if (!ids || !amts) {
        rc = err_set(e, ERR_INTERNAL, "out of memory queueing %zu charges", n);
    } else {
        const char *lock_params[] = {ids};
        const char *params[] = {ids, amts, pg_i64_param(cap, cap_buf)};
        struct charges_ctx cc = {out, n};
        rc = pg_queue(c, &stmt_charge_lock, lock_params, NULL, NULL, 0, e);
        if (rc == ERR_OK)
            rc = pg_queue(c, &stmt_charges, params, on_charges, &cc, sizeof(cc), e);
    }
    free(ids);
    free(amts);
    return rc;
}
