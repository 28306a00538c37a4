/* pg_idempotency.c — advisory-lock claims and recorded outcomes. */
#include "infra/pg_idempotency.h"

#include <stdlib.h>
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

enum err_code pg_idempotency_claim(struct pg_conn *c, int64_t user_id, const char *scope,
                                   const char *key, const char *fingerprint, bool *replay,
                                   int *status, char **body, struct err *e)
{
    *replay = false;
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
            *status = (int)pg_get_i64(r, 0, 1);
            *body = strdup(PQgetvalue(r, 0, 2));
            if (!*body)
                rc = err_set(e, ERR_INTERNAL, "out of memory");
            else
                *replay = true;
        }
    }
    PQclear(r);
    return rc;
}

enum err_code pg_idempotency_record(struct pg_conn *c, int64_t user_id, const char *scope,
                                    const char *key, const char *fingerprint, int status,
                                    const char *body, struct err *e)
{
    char user_buf[21], status_buf[21];
    const char *params[] = {pg_i64_param(user_id, user_buf),  scope, key, fingerprint,
                            pg_i64_param(status, status_buf), body};
    PGresult *r = pg_exec(c, &stmt_record, params, e);
    if (!r)
        return e->code;
    PQclear(r);
    return ERR_OK;
}
