/* ranking_repo_pg.h — the ranking's PostgreSQL reads: product_sales_daily and products. */
#ifndef SHOPD_RANKING_RANKING_REPO_PG_H
#define SHOPD_RANKING_RANKING_REPO_PG_H

#include "infra/pg.h"
#include "ranking/ranking.h"

/* A ranking_repo over pool (borrowed, must outlive the port). Thread-safe. */
struct ranking_repo ranking_repo_pg(struct pg_pool *pool);

#endif
