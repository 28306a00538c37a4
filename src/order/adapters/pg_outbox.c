/* pg_outbox.c — the event port: events written to outbox_events inside the order's transaction. */
#include <assert.h>
#include <stdlib.h>

#include "infra/pg_pipeline.h"
#include "order/adapters/order_json.h"
#include "order/adapters/order_pg.h"

static const struct pg_stmt stmt_publish = {
    "outbox_publish",
    "INSERT INTO outbox_events (type, aggregate_id, payload) VALUES ($1, $2, $3::jsonb)", 3};

static enum err_code outbox_publish(void *self, const char *type, const struct order *o,
                                    struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    assert(pg_conn_in_tx(c)); /* QUEUED: only inside the unit of work */
    json_t *payload = order_json(o);
    char *text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    json_decref(payload);
    if (!text)
        return err_set(e, ERR_INTERNAL, "out of memory encoding an event");
    char id_buf[21];
    const char *params[] = {type, pg_i64_param(o->id, id_buf), text};
    enum err_code rc = pg_queue(c, &stmt_publish, params, NULL, NULL, 0, e);
    free(text);
    return rc;
}

static const struct event_port_ops pg_outbox_ops = {.publish = outbox_publish};

struct event_port pg_outbox_port(struct pg_pool *pool)
{
    return (struct event_port){.ops = &pg_outbox_ops, .self = pool};
}
