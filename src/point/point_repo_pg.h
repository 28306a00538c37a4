/* point_repo_pg.h — PostgreSQL implementation of struct point_repo. */
#ifndef SHOPD_POINT_POINT_REPO_PG_H
#define SHOPD_POINT_POINT_REPO_PG_H

#include "infra/pg.h"
#include "point/point.h"

/* A point_repo over pool (borrowed; must outlive the repo). Thread-safe. */
struct point_repo point_repo_pg(struct pg_pool *pool);

#endif
