/* pg_idempotency.c — advisory-lock claims and recorded outcomes, queued in a pipeline. */
#include "infra/pg_idempotency.h"

#include <assert.h>
#include <string.h>

static const struct pg_stmt stmt_lock = {
    "idempotency_lock",
    "SELECT pg_try_advisory_xact_lock(hashtextextended($1::text || ':' || $2 || ':' || $3, 0))", 3};
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

static enum err_code on_lock(void *ctx, const PGresult *r, struct err *e)
{
    (void)e;
    struct idempotency_claim *claim = *(struct idempotency_claim **)ctx;
    claim->locked = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
    return ERR_OK;
}

static enum err_code on_find(void *ctx, const PGresult *r, struct err *e)
{
    struct idempotency_claim *claim = *(struct idempotency_claim **)ctx;
    claim->found = PQntuples(r) == 1;
    if (!claim->found)
        return ERR_OK;
    claim->same_request = strcmp(PQgetvalue(r, 0, 0), claim->fingerprint) == 0;
    if (!claim->same_request)
        return ERR_OK;
    claim->stored.status = (int)pg_get_i64(r, 0, 1);
    claim->stored.body = strdup(PQgetvalue(r, 0, 2));
    return claim->stored.body ? ERR_OK : err_set(e, ERR_INTERNAL, "out of memory");
}

enum err_code pg_idempotency_queue_claim(struct pg_conn *c, int64_t user_id, const char *scope,
                                         const char *key, struct idempotency_claim *claim,
                                         struct err *e)
{
    assert(pg_conn_in_tx(c) && claim->fingerprint); /* an xact lock: only inside a transaction */
    claim->locked = claim->found = claim->same_request = false;
    claim->stored = (struct recorded_outcome){0};
    char user_buf[21];
    const char *params[] = {pg_i64_param(user_id, user_buf), scope, key};
    if (pg_queue(c, &stmt_lock, params, on_lock, &claim, sizeof(claim), e))
        return e->code;
    return pg_queue(c, &stmt_find, params, on_find, &claim, sizeof(claim), e);
}

enum err_code pg_idempotency_queue_record(struct pg_conn *c, int64_t user_id, const char *scope,
                                          const char *key, const char *fingerprint, int status,
                                          const char *body, struct err *e)
{
    assert(pg_conn_in_tx(c) && body); /* committed with the work, or not at all */
    char user_buf[21], status_buf[21];
    const char *params[] = {pg_i64_param(user_id, user_buf),  scope, key, fingerprint,
                            pg_i64_param(status, status_buf), body};
    return pg_queue(c, &stmt_record, params, NULL, NULL, 0, e);
}
