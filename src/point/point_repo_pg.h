/* point_repo_pg.h — PostgreSQL implementation of struct point_repo. */
#ifndef SHOPD_POINT_POINT_REPO_PG_H
#define SHOPD_POINT_POINT_REPO_PG_H

#include "core/combiner.h"
#include "infra/pg.h"
#include "point/point.h"

/*
 * The repository's state: the pool, and the combiner that runs concurrent
 * charges without a key in batches (core/combiner.h; docs/concurrency.md).
 * Embed; not copyable once initialised.
 */
struct point_repo_pg {
    struct pg_pool *pool;
    struct combiner charges;
};

/* How charges without a key are batched (SHOPD_CHARGE_BATCH_MAX, SHOPD_CHARGE_BATCH_INFLIGHT). */
struct point_charge_batching {
    size_t max_batch;    /* charges per transaction; 1 runs every charge alone */
    size_t max_inflight; /* batches at once per instance */
};

/*
 * Prepares r over pool (borrowed; must outlive r). Returns false when the
 * combiner's lock could not be created. Not thread-safe; once.
 */
bool point_repo_pg_init(struct point_repo_pg *r, struct pg_pool *pool,
                        struct point_charge_batching batching);

/* Frees what point_repo_pg_init made. Call once no thread uses the repository. */
void point_repo_pg_cleanup(struct point_repo_pg *r);

/* A point_repo over r (borrowed; must outlive the repo). Thread-safe. */
struct point_repo point_repo_pg(struct point_repo_pg *r);

#endif
