/* auth_repo_pg.c — password hashes in user_credentials (migration 0011). */
#include "auth/auth_repo_pg.h"

#include <stdio.h>
#include <string.h>

static const struct pg_stmt stmt_get_hash = {
    "auth_get_hash", "SELECT password_hash FROM user_credentials WHERE user_id = $1", 1};
/* one statement: no row for an unknown user (the insert's foreign key is never tried) */
static const struct pg_stmt stmt_set_hash = {
    "auth_set_hash",
    "INSERT INTO user_credentials (user_id, password_hash)"
    " SELECT id, $2 FROM users WHERE id = $1"
    " ON CONFLICT (user_id) DO UPDATE SET password_hash = EXCLUDED.password_hash,"
    "                                     updated_at = now()"
    " RETURNING user_id",
    2};

static enum err_code repo_get_hash(void *self, int64_t user_id, char *hash, bool *found,
                                   struct err *e)
{
    *found = false;
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char id_buf[21];
    const char *params[] = {pg_i64_param(user_id, id_buf)};
    PGresult *r = pg_exec(c, &stmt_get_hash, params, e);
    if (!r)
        return e->code;
    if (PQntuples(r) == 1 && strlen(PQgetvalue(r, 0, 0)) < PASSWORD_HASH_MAX) {
        snprintf(hash, PASSWORD_HASH_MAX, "%s", PQgetvalue(r, 0, 0));
        *found = true;
    }
    PQclear(r);
    return ERR_OK;
}

static enum err_code repo_set_hash(void *self, int64_t user_id, const char *hash, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char id_buf[21];
    const char *params[] = {pg_i64_param(user_id, id_buf), hash};
    PGresult *r = pg_exec(c, &stmt_set_hash, params, e);
    if (!r)
        return e->code;
    bool found = PQntuples(r) == 1;
    PQclear(r);
    if (!found)
        return err_set(e, ERR_USER_NOT_FOUND, "user %lld does not exist", (long long)user_id);
    return ERR_OK;
}

struct auth_credentials auth_repo_pg(struct pg_pool *pool)
{
    static const struct auth_credentials_ops ops = {repo_get_hash, repo_set_hash};
    return (struct auth_credentials){&ops, pool};
}
