/*
 * ranking_service.h — the popular-products use cases: the read path (cache,
 * then the Redis copy rebuilt from PostgreSQL where incomplete, then
 * PostgreSQL alone when Redis fails) and copying sales into the copy.
 */
#ifndef SHOPD_RANKING_RANKING_SERVICE_H
#define SHOPD_RANKING_RANKING_SERVICE_H

#include "ranking/ranking.h"

enum {
    RANKING_REFRESH_MS = 60 * 1000, /* default life of a day's "complete" marker */
    RANKING_CACHE_WAIT_MS = 200,    /* how long a reader waits for another's cache load */
};

/*
 * Plain data, filled by the composition root; every port borrowed. Share
 * across threads freely once filled.
 */
struct ranking_service {
    struct ranking_repo repo;   /* PostgreSQL: always set */
    struct ranking_store store; /* the Redis copy; ops NULL: every read from repo.top */
    struct ranking_cache cache; /* ranked windows; ops NULL: no cache */
    unsigned cache_ttl_ms;      /* life of a cached window */
    /*
     * How long a day loaded whole counts as complete (plus up to 20 %
     * jitter); after that the next read copies the day again, which heals
     * whatever the copy missed and bounds how stale it can be after any
     * failure. 0: RANKING_REFRESH_MS.
     */
    unsigned refresh_ms;
    int64_t (*now)(void); /* epoch seconds; NULL: time(NULL) */
};

/*
 * Top limit (1..100) products over days (1..30) UTC days ending today, most
 * sold first, ties by lower id, stock live. ERR_INVALID_REQUEST naming
 * days/limit. With a store: from the cache when it holds the window, else
 * from the store after copying every day of the window not marked complete
 * (marking it), names and stock from repo.products; when the store or
 * the cache fails in any way, from repo.top. out has room for limit items.
 * Thread-safe when the ports are.
 */
enum err_code ranking_service_popular(const struct ranking_service *s, int64_t days, int64_t limit,
                                      struct popular_product *out, size_t *n, struct err *e);

/*
 * The sales of product_ids[0..n) (NULL: every product of the day; n
 * ignored) on sold_at's UTC day changed: copies their current (quantity,
 * version) from repo into the store, which keeps per product only the
 * highest version seen, so redelivered or reordered notifications never
 * count twice or go backwards, then bumps the cache's generation. For
 * callers that retry on failure themselves (the ranking consumer, the
 * ranking sync worker): nothing is remembered when it fails; the day's
 * marker expiry covers anything lost. Returns ERR_OK, or e set:
 * ERR_UNAVAILABLE when PostgreSQL or Redis did not answer or refused for
 * now, ERR_INTERNAL for anything else. Requires a store. Thread-safe when
 * the ports are.
 */
enum err_code ranking_service_copy_sales(const struct ranking_service *s, int64_t sold_at,
                                         const int64_t *product_ids, size_t n, struct err *e);

/*
 * ranking_service_copy_sales for a void * s (a const struct
 * ranking_service *): the shape of ranking_sync_copy_fn. Thread-safe.
 */
enum err_code ranking_service_copy_sales_fn(void *s, int64_t sold_at, const int64_t *product_ids,
                                            size_t n, struct err *e);

#endif
