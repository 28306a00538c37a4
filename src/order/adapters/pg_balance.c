/* pg_balance.c — the points payment gateway: the balance read, and the ledger's pay/refund. */
#include <assert.h>

#include "infra/pg_ledger.h"
#include "order/adapters/order_pg.h"

static const struct pg_stmt stmt_balance = {"order_balance_of",
                                            "SELECT balance FROM users WHERE id = $1", 1};

struct balance_out {
    bool *exists;
    int64_t *balance;
};

static enum err_code on_balance(void *ctx, const PGresult *r, struct err *e)
{
    (void)e;
    const struct balance_out *out = ctx;
    *out->exists = PQntuples(r) == 1;
    *out->balance = *out->exists ? pg_get_i64(r, 0, 0) : 0;
    return ERR_OK;
}

static enum err_code balance_read(void *self, int64_t user_id, bool *exists, int64_t *balance,
                                  struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    assert(pg_conn_in_tx(c)); /* QUEUED: only inside the unit of work */
    char user_buf[21];
    const char *params[] = {pg_i64_param(user_id, user_buf)};
    struct balance_out out = {exists, balance};
    return pg_queue(c, &stmt_balance, params, on_balance, &out, sizeof(out), e);
}

/* An amount of 0 moves nothing and writes no ledger row. */
static enum err_code balance_pay(void *self, int64_t user_id, int64_t amount, int64_t order_id,
                                 struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    assert(pg_conn_in_tx(c)); /* QUEUED: only inside the unit of work */
    return amount > 0 ? pg_ledger_queue_use(c, user_id, amount, order_id, e) : ERR_OK;
}

static enum err_code balance_refund(void *self, int64_t user_id, int64_t amount, int64_t order_id,
                                    struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    assert(pg_conn_in_tx(c)); /* QUEUED: only inside the unit of work */
    return amount > 0 ? pg_ledger_queue_refund(c, user_id, amount, order_id, e) : ERR_OK;
}

static const struct balance_port_ops pg_balance_ops = {
    .read = balance_read,
    .pay = balance_pay,
    .refund = balance_refund,
};

struct balance_port pg_balance_port(struct pg_pool *pool)
{
    return (struct balance_port){.ops = &pg_balance_ops, .self = pool};
}
