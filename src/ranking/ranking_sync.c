/*
 * ranking_sync.c — one worker thread per process: request threads add
 * (day, products) to a coalescing set under a mutex and signal; the worker
 * takes a day at a time, copies it outside the lock, and puts it back on
 * failure (retried after a backoff). Pending = the set's count plus what the
 * worker holds, so 0 means everything enqueued is copied.
 */
#include "ranking/ranking_sync.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "core/log.h"
#include "core/thread_priority.h"
#include "core/timefmt.h"
#include "ranking/ranking_dirty.h"

enum {
    SYNC_BACKOFF_MIN_MS = 100,
    SYNC_BACKOFF_MAX_MS = 5000,
    SYNC_STOP_DRAIN_MS = 500,
    SYNC_DAY_S = 86400,
};

struct ranking_sync {
    struct ranking_sync_config cfg;
    pthread_t thread;
    pthread_mutex_t mu; /* guards dirty, in_flight, stopping */
    pthread_cond_t cv;  /* CLOCK_MONOTONIC: a sale was added, or stop */
    struct ranking_dirty *dirty;
    int64_t in_flight; /* units the worker took and has not finished */
    bool stopping;
    int64_t *ids; /* the worker's buffer: ranking_dirty_cap ids */
};

/* Days since 1970-01-01 of epoch seconds (UTC; floor, also before 1970). */
static int64_t day_of(int64_t epoch)
{
    return epoch >= 0 ? epoch / SYNC_DAY_S : -((-epoch + SYNC_DAY_S - 1) / SYNC_DAY_S);
}

static bool passed(const struct timespec *t)
{
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return now.tv_sec > t->tv_sec || (now.tv_sec == t->tv_sec && now.tv_nsec >= t->tv_nsec);
}

void ranking_sync_on_sale(void *sync, int64_t sold_at, const int64_t *product_ids, size_t n)
{
    struct ranking_sync *s = sync;
    pthread_mutex_lock(&s->mu);
    ranking_dirty_add(s->dirty, day_of(sold_at), product_ids, n);
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

int64_t ranking_sync_pending(void *sync)
{
    struct ranking_sync *s = sync;
    pthread_mutex_lock(&s->mu);
    int64_t pending = ranking_dirty_count(s->dirty) + s->in_flight;
    pthread_mutex_unlock(&s->mu);
    return pending;
}

/*
 * Waits (s->mu held) until there is work due or a stop; true when there is
 * work to do now, false on stop.
 */
static bool wait_for_work(struct ranking_sync *s, unsigned backoff_ms, const struct timespec *retry)
{
    while (!s->stopping) {
        if (ranking_dirty_count(s->dirty) == 0)
            pthread_cond_wait(&s->cv, &s->mu);
        else if (backoff_ms && !passed(retry))
            pthread_cond_timedwait(&s->cv, &s->mu, retry);
        else
            return true;
    }
    return false;
}

static void *sync_main(void *arg)
{
    struct ranking_sync *s = arg;
    thread_priority_background(); /* ranking work yields the CPU to requests */
    unsigned backoff_ms = 0;      /* 0: the last copy succeeded */
    struct timespec retry = {0}, drain_until = {0};
    bool draining = false;
    pthread_mutex_lock(&s->mu);
    for (;;) {
        if (!draining && !wait_for_work(s, backoff_ms, &retry)) {
            draining = true; /* stop: what is left gets stop_drain_ms, without backoff */
            drain_until = timefmt_deadline_ms(s->cfg.stop_drain_ms);
            if (backoff_ms)
                break; /* failing already: do not hold the stop up */
        }
        if (draining && passed(&drain_until))
            break;
        int64_t day = 0;
        bool whole = false;
        size_t n = 0;
        if (!ranking_dirty_take(s->dirty, &day, &whole, s->ids, &n)) {
            if (draining)
                break; /* all copied */
            continue;
        }
        s->in_flight = whole ? 1 : (int64_t)n;
        pthread_mutex_unlock(&s->mu);
        struct err e;
        err_clear(&e);
        enum err_code rc =
            s->cfg.copy(s->cfg.copy_ud, day * SYNC_DAY_S, whole ? NULL : s->ids, n, &e);
        pthread_mutex_lock(&s->mu);
        if (rc != ERR_OK) {
            /* back into the set before in_flight drops: pending never reads 0 meanwhile */
            ranking_dirty_add(s->dirty, day, whole ? NULL : s->ids, n);
            if (!backoff_ms)
                log_warn("ranking: sync copy failed (%s), retrying with backoff", e.detail);
            backoff_ms = backoff_ms ? backoff_ms * 2 : s->cfg.backoff_min_ms;
            if (backoff_ms > s->cfg.backoff_max_ms)
                backoff_ms = s->cfg.backoff_max_ms;
            retry = timefmt_deadline_ms(backoff_ms);
        } else if (backoff_ms) {
            log_info("ranking: sync copies succeed again");
            backoff_ms = 0;
        }
        s->in_flight = 0;
        if (draining && rc != ERR_OK)
            break;
    }
    int64_t left = ranking_dirty_count(s->dirty);
    pthread_mutex_unlock(&s->mu);
    if (left > 0)
        log_warn("ranking: stopping with %lld sales not copied (the ranking's refresh heals them)",
                 (long long)left);
    return NULL;
}

struct ranking_sync *ranking_sync_start(const struct ranking_sync_config *cfg, struct err *e)
{
    struct ranking_sync *s = calloc(1, sizeof(*s));
    if (!s) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    if (!s->cfg.backoff_min_ms)
        s->cfg.backoff_min_ms = SYNC_BACKOFF_MIN_MS;
    if (!s->cfg.backoff_max_ms)
        s->cfg.backoff_max_ms = SYNC_BACKOFF_MAX_MS;
    if (s->cfg.backoff_max_ms < s->cfg.backoff_min_ms)
        s->cfg.backoff_max_ms = s->cfg.backoff_min_ms;
    if (!s->cfg.stop_drain_ms)
        s->cfg.stop_drain_ms = SYNC_STOP_DRAIN_MS;
    s->dirty = ranking_dirty_new(s->cfg.capacity);
    s->ids = s->dirty ? calloc(ranking_dirty_cap(s->dirty), sizeof(*s->ids)) : NULL;
    if (!s->ids) {
        ranking_dirty_free(s->dirty);
        free(s);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&s->cv, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&s->mu, NULL);
    if (pthread_create(&s->thread, NULL, sync_main, s) != 0) {
        pthread_cond_destroy(&s->cv);
        pthread_mutex_destroy(&s->mu);
        free(s->ids);
        ranking_dirty_free(s->dirty);
        free(s);
        err_set(e, ERR_INTERNAL, "cannot start the ranking sync thread");
        return NULL;
    }
    return s;
}

void ranking_sync_stop(struct ranking_sync *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->mu);
    s->stopping = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    pthread_join(s->thread, NULL);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
    free(s->ids);
    ranking_dirty_free(s->dirty);
    free(s);
}
