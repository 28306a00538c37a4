/* coupon_repo_pg.h — PostgreSQL implementation of struct coupon_repo. */
#ifndef SHOPD_COUPON_COUPON_REPO_PG_H
#define SHOPD_COUPON_COUPON_REPO_PG_H

#include "coupon/coupon.h"
#include "infra/pg.h"

/* A coupon_repo over pool (borrowed; must outlive the repo). Thread-safe. */
struct coupon_repo coupon_repo_pg(struct pg_pool *pool);

#endif
