/* pg_idempotency.c — the order module's idempotency port over infra/pg_idempotency. */
#include "infra/pg_idempotency.h"
#include "order/adapters/order_pg.h"

static enum err_code claim(void *self, int64_t user_id, const char *scope, const char *key,
                           const char *fingerprint, bool *replay,
                           struct idempotency_outcome *stored, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    return pg_idempotency_claim(c, user_id, scope, key, fingerprint, replay, &stored->status,
                                &stored->body, e);
}

static enum err_code record(void *self, int64_t user_id, const char *scope, const char *key,
                            const char *fingerprint, int status, const char *body, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    return pg_idempotency_record(c, user_id, scope, key, fingerprint, status, body, e);
}

static const struct idempotency_port_ops pg_idempotency_ops = {
    .claim = claim,
    .record = record,
};

struct idempotency_port pg_idempotency_port(struct pg_pool *pool)
{
    return (struct idempotency_port){.ops = &pg_idempotency_ops, .self = pool};
}
