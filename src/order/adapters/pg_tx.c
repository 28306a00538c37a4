/* pg_tx.c — the transaction runner on the thread's PostgreSQL connection. */
#include "order/adapters/order_pg.h"

static enum err_code tx_begin(void *self, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    return c ? pg_tx_begin(c, e) : e->code;
}

static enum err_code tx_command(void *self, const char *sql, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    return c ? pg_command(c, sql, e) : e->code;
}

static enum err_code tx_savepoint(void *self, struct err *e)
{
    return tx_command(self, "SAVEPOINT order_work", e);
}

static enum err_code tx_rollback_to_savepoint(void *self, struct err *e)
{
    return tx_command(self, "ROLLBACK TO SAVEPOINT order_work", e);
}

static enum err_code tx_commit(void *self, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    return c ? pg_tx_commit(c, e) : e->code;
}

/* Both work on the connection as it is: it may have broken inside the transaction. */
static void tx_rollback(void *self)
{
    struct pg_conn *c = pg_pool_conn_current(self);
    if (c)
        pg_tx_rollback(c);
}

static bool tx_last_failure_retryable(void *self)
{
    struct pg_conn *c = pg_pool_conn_current(self);
    return c && pg_conn_failure_retryable(c);
}

static const struct tx_port_ops pg_tx_ops = {
    .begin = tx_begin,
    .savepoint = tx_savepoint,
    .rollback_to_savepoint = tx_rollback_to_savepoint,
    .commit = tx_commit,
    .rollback = tx_rollback,
    .last_failure_retryable = tx_last_failure_retryable,
};

struct tx_port pg_tx_port(struct pg_pool *pool)
{
    return (struct tx_port){.ops = &pg_tx_ops, .self = pool};
}
