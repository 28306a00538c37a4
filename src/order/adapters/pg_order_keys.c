/* pg_order_keys.c — the order module's idempotency port (its keys) over infra/pg_idempotency. */
#include "infra/pg_idempotency.h"
#include "order/adapters/order_pg.h"

static enum err_code claim(void *self, int64_t user_id, const char *scope, const char *key,
                           struct idempotency_claim *claim, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    return pg_idempotency_queue_claim(c, user_id, scope, key, claim, e);
}

static enum err_code record(void *self, int64_t user_id, const char *scope, const char *key,
                            const char *fingerprint, const struct recorded_outcome *outcome,
                            struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    return pg_idempotency_queue_record(c, user_id, scope, key, fingerprint, outcome->status,
                                       outcome->body, e);
}

static const struct idempotency_port_ops pg_idempotency_ops = {
    .claim = claim,
    .record = record,
};

struct idempotency_port pg_idempotency_port(struct pg_pool *pool)
{
    return (struct idempotency_port){.ops = &pg_idempotency_ops, .self = pool};
}
