/* auth_repo_pg.h — PostgreSQL implementation of struct auth_credentials (user_credentials). */
#ifndef SHOPD_AUTH_AUTH_REPO_PG_H
#define SHOPD_AUTH_AUTH_REPO_PG_H

#include "auth/auth_service.h"
#include "infra/pg.h"

/* Credentials over pool (borrowed; must outlive them). Thread-safe. */
struct auth_credentials auth_repo_pg(struct pg_pool *pool);

#endif
