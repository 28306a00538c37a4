/* pg_migrate.c — apply embedded migrations under an advisory lock. */
#include "infra/pg_migrate.h"

#include <string.h>

#include "core/log.h"
#include "infra/pg.h"

/* Arbitrary constant naming the migration lock ("shopd" in ASCII digits). */
static const char *const MIGRATION_LOCK_KEY = "115104111112100";

static const struct pg_stmt stmt_lock = {"migrate_lock", "SELECT pg_advisory_lock($1::bigint)", 1};
static const struct pg_stmt stmt_unlock = {"migrate_unlock",
                                           "SELECT pg_advisory_unlock($1::bigint)", 1};
static const struct pg_stmt stmt_applied = {
    "migrate_applied", "SELECT 1 FROM schema_migrations WHERE version = $1", 1};
static const struct pg_stmt stmt_record = {
    "migrate_record", "INSERT INTO schema_migrations (version) VALUES ($1)", 1};

static enum err_code apply_one(struct pg_conn *c, const struct pg_migration *m, struct err *e)
{
    const char *params[] = {m->name};
    PGresult *r = pg_exec(c, &stmt_applied, params, e);
    if (!r)
        return e->code;
    bool done = PQntuples(r) > 0;
    PQclear(r);
    if (done)
        return ERR_OK;

    if (pg_command(c, "BEGIN", e))
        return e->code;
    r = PQexec(pg_conn_raw(c), m->sql);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        log_error("migration %s failed: %s", m->name, PQerrorMessage(pg_conn_raw(c)));
        PQclear(r);
        struct err ignored;
        pg_command(c, "ROLLBACK", &ignored);
        return err_set(e, ERR_INTERNAL, "migration %s failed", m->name);
    }
    PQclear(r);
    r = pg_exec(c, &stmt_record, params, e);
    if (!r) {
        struct err ignored;
        pg_command(c, "ROLLBACK", &ignored);
        return e->code;
    }
    PQclear(r);
    if (pg_command(c, "COMMIT", e))
        return e->code;
    log_info("migration %s applied", m->name);
    return ERR_OK;
}

enum err_code pg_migrate(struct pg_conn *c, const struct pg_migration *list, struct err *e)
{
    const char *key[] = {MIGRATION_LOCK_KEY};
    PGresult *r = pg_exec(c, &stmt_lock, key, e);
    if (!r)
        return e->code;
    PQclear(r);

    enum err_code rc = pg_command(c,
                                  "CREATE TABLE IF NOT EXISTS schema_migrations ("
                                  " version text PRIMARY KEY,"
                                  " applied_at timestamptz NOT NULL DEFAULT now())",
                                  e);
    for (const struct pg_migration *m = list; rc == ERR_OK && m->name; m++)
        rc = apply_one(c, m, e);

    struct err unlock_err;
    r = pg_exec(c, &stmt_unlock, key, &unlock_err);
    PQclear(r);
    return rc;
}
