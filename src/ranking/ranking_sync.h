/* ranking_sync.h — copies sales into the ranking off the request thread (no Kafka). */
#ifndef SHOPD_RANKING_RANKING_SYNC_H
#define SHOPD_RANKING_RANKING_SYNC_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/*
 * Where the worker copies to: copies the current sales of product_ids[0..n)
 * (product_ids NULL: every product) on sold_at's UTC day from the source of
 * truth into the ranking. Returns ERR_OK, or e set (the worker keeps the
 * day and retries). Called on the worker's thread only.
 */
typedef enum err_code (*ranking_sync_copy_fn)(void *ud, int64_t sold_at, const int64_t *product_ids,
                                              size_t n, struct err *e);

struct ranking_sync_config {
    ranking_sync_copy_fn copy; /* ranking_service_copy_sales_fn in shopd */
    void *copy_ud;             /* borrowed until ranking_sync_stop */
    size_t capacity;           /* products remembered per day before the whole day (0: 1024) */
    unsigned backoff_min_ms;   /* first retry after a failed copy (0: 100) */
    unsigned backoff_max_ms;   /* retry delay cap, doubling from the minimum (0: 5000) */
    unsigned stop_drain_ms;    /* at stop, keep copying what is left this long (0: 500) */
};

struct ranking_sync;

/*
 * Starts the worker thread (nice THREAD_BACKGROUND_NICE): it takes one day at
 * a time out of a coalescing set (ranking/ranking_dirty.h) and copies it with
 * cfg->copy; a failed copy goes back into the set and is retried after a
 * backoff (minimum doubling to maximum, reset by a success), for as long as
 * the failure lasts. Returns the worker (owned by the caller:
 * ranking_sync_stop), or NULL with e set.
 */
struct ranking_sync *ranking_sync_start(const struct ranking_sync_config *cfg, struct err *e);

/*
 * The after-commit listener (order_notify.on_sale's shape; sync is a struct
 * ranking_sync *): remembers that product_ids[0..n) (borrowed, read before
 * returning) sold on sold_at's UTC day, and wakes the worker. Only a mutex
 * and a condition variable: no I/O, no allocation, never fails, never
 * drops (a full day becomes a whole-day copy). Thread-safe.
 */
void ranking_sync_on_sale(void *sync, int64_t sold_at, const int64_t *product_ids, size_t n);

/*
 * Units of work not yet copied (a metrics gauge; sync is a struct
 * ranking_sync *): products remembered, plus one per whole day, plus what
 * the worker holds right now. 0 means every sale enqueued so far is in the
 * ranking (and the cache generation was bumped after it). Thread-safe.
 */
int64_t ranking_sync_pending(void *sync);

/*
 * Stops the worker and frees s (NULL-safe). Call once no listener call can
 * start any more (after the HTTP server stopped). Keeps copying what is
 * left for up to cfg.stop_drain_ms (no backoff: the first failure ends it)
 * after the copy in hand (bounded by the PostgreSQL and Redis timeouts),
 * then abandons the rest, logged; the ranking's refresh heals it
 * (docs/ranking.md). Joins the thread before returning.
 */
void ranking_sync_stop(struct ranking_sync *s);

#endif
