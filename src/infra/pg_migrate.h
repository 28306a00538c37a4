/* pg_migrate.h — ordered schema migrations, safe with concurrent starters. */
#ifndef SHOPD_INFRA_PG_MIGRATE_H
#define SHOPD_INFRA_PG_MIGRATE_H

#include "core/err.h"

struct pg_conn;

/* One migration: file name "NNNN_name.sql" (its version) and its SQL text. */
struct pg_migration {
    const char *name;
    const char *sql;
};

/* The files of db/migrations in name order, embedded at build time; ends with {0, 0}. */
extern const struct pg_migration pg_migrations_embedded[];

/*
 * Applies every migration of list (terminated by a NULL name) not yet
 * recorded in schema_migrations, each in its own transaction, in order.
 * Holds a session advisory lock meanwhile so instances starting at once apply
 * each migration exactly once. Returns ERR_OK, ERR_UNAVAILABLE, or
 * ERR_INTERNAL naming the failing migration. Uses c exclusively meanwhile.
 */
enum err_code pg_migrate(struct pg_conn *c, const struct pg_migration *list, struct err *e);

#endif
