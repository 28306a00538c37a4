/* product_repo_pg.h — PostgreSQL implementation of struct product_repo. */
#ifndef SHOPD_PRODUCT_PRODUCT_REPO_PG_H
#define SHOPD_PRODUCT_PRODUCT_REPO_PG_H

#include "infra/pg.h"
#include "product/product.h"

/* A product_repo over pool (borrowed; must outlive the repo). Thread-safe. */
struct product_repo product_repo_pg(struct pg_pool *pool);

#endif
