/* pg_idempotency.c — first outcomes per (user, scope, key), claimed with a transaction lock. */
#include <stdlib.h>
#include <string.h>

#include "order/adapters/order_pg.h"

/*
 * A transaction-scoped advisory lock on the key: held until commit or
 * rollback, so a second request with the same key while the first runs is
 * told so at once (never waits), on any instance.
 */
static const struct pg_stmt stmt_lock = {
    "idempotency_lock",
    "SELECT pg_try_advisory_xact_lock(hashtextextended($1::text || ':' || $2 || ':' || $3, 0))", 3};
/* A separate statement, so its snapshot is taken after the lock: it sees the holder's commit. */
static const struct pg_stmt stmt_find = {
    "idempotency_find",
    "SELECT fingerprint, response_status, response_body FROM idempotency_keys"
    " WHERE user_id = $1 AND scope = $2 AND key = $3",
    3};
static const struct pg_stmt stmt_record = {
    "idempotency_record",
    "INSERT INTO idempotency_keys (user_id, scope, key, fingerprint, response_status,"
    " response_body) VALUES ($1, $2, $3, $4, $5, $6)",
    6};

static enum err_code claim(void *self, int64_t user_id, const char *scope, const char *key,
                           const char *fingerprint, bool *replay,
                           struct idempotency_outcome *stored, struct err *e)
{
    *replay = false;
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char user_buf[21];
    const char *params[] = {pg_i64_param(user_id, user_buf), scope, key};
    PGresult *r = pg_exec(c, &stmt_lock, params, e);
    if (!r)
        return e->code;
    bool locked = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    PQclear(r);
    if (!locked)
        return err_set(e, ERR_REQUEST_IN_PROGRESS,
                       "a request with this Idempotency-Key is being processed");
    r = pg_exec(c, &stmt_find, params, e);
    if (!r)
        return e->code;
    enum err_code rc = ERR_OK;
    if (PQntuples(r) == 1) {
        if (strcmp(PQgetvalue(r, 0, 0), fingerprint) != 0) {
            rc = err_set(e, ERR_IDEMPOTENCY_KEY_REUSED,
                         "this Idempotency-Key was used with a different request");
        } else {
            stored->status = (int)pg_get_i64(r, 0, 1);
            stored->body = strdup(PQgetvalue(r, 0, 2));
            if (!stored->body)
                rc = err_set(e, ERR_INTERNAL, "out of memory");
            else
                *replay = true;
        }
    }
    PQclear(r);
    return rc;
}

static enum err_code record(void *self, int64_t user_id, const char *scope, const char *key,
                            const char *fingerprint, int status, const char *body, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char user_buf[21], status_buf[21];
    const char *params[] = {pg_i64_param(user_id, user_buf),  scope, key, fingerprint,
                            pg_i64_param(status, status_buf), body};
    PGresult *r = pg_exec(c, &stmt_record, params, e);
    if (!r)
        return e->code;
    PQclear(r);
    return ERR_OK;
}

static const struct idempotency_port_ops pg_idempotency_ops = {
    .claim = claim,
    .record = record,
};

struct idempotency_port pg_idempotency_port(struct pg_pool *pool)
{
    return (struct idempotency_port){.ops = &pg_idempotency_ops, .self = pool};
}
