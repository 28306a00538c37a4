/* idempotency_reaper.c — batched deletes of expired idempotency outcomes. */
#include "infra/idempotency_reaper.h"

#include <stdlib.h>

#include "core/log.h"
#include "core/periodic.h"

enum { REAP_BATCH = 1000 };

/* Short batches keep each delete's locks and WAL small; idempotency_keys_created_at serves it. */
static const struct pg_stmt stmt_reap = {
    "idempotency_reap",
    "DELETE FROM idempotency_keys WHERE ctid IN ("
    " SELECT ctid FROM idempotency_keys"
    "  WHERE created_at < now() - make_interval(hours => $1::int) LIMIT $2::bigint)",
    2};

struct idempotency_reaper {
    struct pg_pool *pg;
    unsigned ttl_hours;
    struct periodic *thread;
};

/* Deletes one batch; true when it was full (more may be expired). */
static bool reap_batch(void *arg)
{
    struct idempotency_reaper *r = arg;
    struct err e;
    err_clear(&e);
    struct pg_conn *c = pg_pool_conn(r->pg, &e);
    if (!c)
        return false;
    char ttl[21], batch[21];
    const char *params[] = {pg_i64_param(r->ttl_hours, ttl), pg_i64_param(REAP_BATCH, batch)};
    PGresult *res = pg_exec(c, &stmt_reap, params, &e);
    if (!res)
        return false;
    long deleted = strtol(PQcmdTuples(res), NULL, 10);
    PQclear(res);
    if (deleted > 0)
        log_info("reaper: deleted %ld idempotency keys older than %u hours", deleted, r->ttl_hours);
    return deleted == REAP_BATCH;
}

struct idempotency_reaper *idempotency_reaper_start(struct pg_pool *pg, unsigned ttl_hours,
                                                    unsigned interval_ms)
{
    struct idempotency_reaper *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->pg = pg;
    r->ttl_hours = ttl_hours < 24 ? 24 : ttl_hours;
    r->thread = periodic_start(interval_ms, reap_batch, r);
    if (!r->thread) {
        free(r);
        return NULL;
    }
    return r;
}

void idempotency_reaper_stop(struct idempotency_reaper *r)
{
    if (!r)
        return;
    periodic_stop(r->thread);
    free(r);
}
