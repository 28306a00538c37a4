/* pg_balance.c — the points payment gateway: conditional debit/credit plus the ledger row. */
#include "order/adapters/order_pg.h"

static const struct pg_stmt stmt_pay = {
    "order_balance_pay",
    "WITH u AS (UPDATE users SET balance = balance - $2"
    "            WHERE id = $1 AND balance >= $2 RETURNING id, balance)"
    " INSERT INTO point_ledger (user_id, type, amount, balance_after, order_id)"
    " SELECT id, 'USE', -$2, balance, $3 FROM u RETURNING balance_after",
    3};
/* No cap here: SHOPD_BALANCE_MAX limits charges only, a refund always succeeds (docs/api.md). */
static const struct pg_stmt stmt_refund = {
    "order_balance_refund",
    "WITH u AS (UPDATE users SET balance = balance + $2 WHERE id = $1 RETURNING id, balance)"
    " INSERT INTO point_ledger (user_id, type, amount, balance_after, order_id)"
    " SELECT id, 'REFUND', $2, balance, $3 FROM u RETURNING balance_after",
    3};
static const struct pg_stmt stmt_balance = {"order_balance_of",
                                            "SELECT balance FROM users WHERE id = $1", 1};

/* Reads user_id's balance into *balance; ERR_USER_NOT_FOUND when there is no such user. */
static enum err_code read_balance(struct pg_conn *c, const char *user_param, int64_t user_id,
                                  int64_t *balance, struct err *e)
{
    const char *params[] = {user_param};
    PGresult *r = pg_exec(c, &stmt_balance, params, e);
    if (!r)
        return e->code;
    enum err_code rc = ERR_OK;
    if (PQntuples(r) == 0)
        rc = err_set(e, ERR_USER_NOT_FOUND, "user %lld does not exist", (long long)user_id);
    else
        *balance = pg_get_i64(r, 0, 0);
    PQclear(r);
    return rc;
}

/*
 * Runs a ledger-writing statement (stmt_pay or stmt_refund). An amount of 0
 * moves nothing and writes no row, but the user must still exist.
 */
static enum err_code move(void *self, const struct pg_stmt *stmt, int64_t user_id, int64_t amount,
                          int64_t order_id, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char user_buf[21], amount_buf[21], order_buf[21];
    const char *params[] = {pg_i64_param(user_id, user_buf), pg_i64_param(amount, amount_buf),
                            pg_i64_param(order_id, order_buf)};
    int64_t balance = 0;
    if (amount == 0)
        return read_balance(c, params[0], user_id, &balance, e);
    PGresult *r = pg_exec(c, stmt, params, e);
    if (!r)
        return e->code;
    bool applied = PQntuples(r) == 1;
    PQclear(r);
    if (applied)
        return ERR_OK;
    /* nothing changed: unknown user or not enough points (cold path) */
    if (read_balance(c, params[0], user_id, &balance, e))
        return e->code;
    return err_set(e, ERR_INSUFFICIENT_BALANCE, "balance %lld is less than the total %lld",
                   (long long)balance, (long long)amount);
}

static enum err_code balance_pay(void *self, int64_t user_id, int64_t amount, int64_t order_id,
                                 struct err *e)
{
    return move(self, &stmt_pay, user_id, amount, order_id, e);
}

static enum err_code balance_refund(void *self, int64_t user_id, int64_t amount, int64_t order_id,
                                    struct err *e)
{
    return move(self, &stmt_refund, user_id, amount, order_id, e);
}

static const struct balance_port_ops pg_balance_ops = {
    .pay = balance_pay,
    .refund = balance_refund,
};

struct balance_port pg_balance_port(struct pg_pool *pool)
{
    return (struct balance_port){.ops = &pg_balance_ops, .self = pool};
}
