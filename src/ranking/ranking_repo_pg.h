/* ranking_repo_pg.h — popular products from product_sales_daily. */
#ifndef SHOPD_RANKING_RANKING_REPO_PG_H
#define SHOPD_RANKING_RANKING_REPO_PG_H

#include "infra/pg.h"
#include "ranking/ranking.h"

/* A ranking_repo over pool (borrowed). Thread-safe. */
struct ranking_repo ranking_repo_pg(struct pg_pool *pool);

#endif
