/* pg_tx.c — the unit of work: a transaction on the thread's connection, sent as pipelines. */
#include "infra/pg_pipeline.h"
#include "order/adapters/order_pg.h"

static enum err_code tx_begin(void *self, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    return c ? pg_queue_begin(c, e) : e->code;
}

static enum err_code tx_flush(void *self, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    return c ? pg_flush(c, e) : e->code;
}

static enum err_code tx_commit(void *self, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c || pg_queue_commit(c, e))
        return e->code;
    return pg_flush(c, e);
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
    .flush = tx_flush,
    .commit = tx_commit,
    .rollback = tx_rollback,
    .last_failure_retryable = tx_last_failure_retryable,
};

struct tx_port pg_tx_port(struct pg_pool *pool)
{
    return (struct tx_port){.ops = &pg_tx_ops, .self = pool};
}
