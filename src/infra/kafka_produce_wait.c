/* kafka_produce_wait.c — a waiter shared by the caller and the producer's poll thread. */
#include "infra/kafka_produce_wait.h"
#include "core/timefmt.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

/* Freed by whichever of the caller and the report lets go last. */
struct waiter {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    int refs;
    bool done;
    enum kafka_delivery_class status;
    char error[160];
};

static void waiter_release(struct waiter *w)
{
    pthread_mutex_lock(&w->lock);
    bool last = --w->refs == 0;
    pthread_mutex_unlock(&w->lock);
    if (last) {
        pthread_mutex_destroy(&w->lock);
        pthread_cond_destroy(&w->cond);
        free(w);
    }
}

static void on_report(void *ctx, void *msg_opaque, const struct kafka_delivery *d)
{
    (void)msg_opaque;
    struct waiter *w = ctx;
    pthread_mutex_lock(&w->lock);
    w->done = true;
    w->status = d->status;
    snprintf(w->error, sizeof(w->error), "%s: %s", d->error, d->message);
    pthread_cond_broadcast(&w->cond);
    pthread_mutex_unlock(&w->lock);
    waiter_release(w);
}

static bool before(const struct timespec *a, const struct timespec *b)
{
    return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

enum err_code kafka_produce_wait_or(struct kafka_producer *p, const struct kafka_record *r,
                                    unsigned timeout_ms, bool (*give_up)(void *ud), void *ud,
                                    struct err *e)
{
    struct waiter *w = calloc(1, sizeof(*w));
    if (!w)
        return err_set(e, ERR_UNAVAILABLE, "out of memory");
    pthread_mutex_init(&w->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cond, &attr);
    pthread_condattr_destroy(&attr);
    w->refs = 2;
    if (kafka_produce_cb(p, r, on_report, w, NULL, e) != ERR_OK) {
        w->refs = 1; /* no report will come */
        waiter_release(w);
        return e->code;
    }
    struct timespec until = timefmt_deadline_ms(timeout_ms);
    bool gave_up = false;
    enum err_code rc;
    pthread_mutex_lock(&w->lock);
    while (!w->done) {
        struct timespec slice = timefmt_deadline_ms(50);
        if (before(&until, &slice))
            slice = until;
        if (pthread_cond_timedwait(&w->cond, &w->lock, &slice) != 0 && !before(&slice, &until))
            break; /* the whole timeout has passed */
        if (!w->done && give_up && give_up(ud)) {
            gave_up = true;
            break;
        }
    }
    if (!w->done)
        rc = err_set(e, ERR_UNAVAILABLE,
                     gave_up ? "gave up waiting for the delivery report"
                             : "no delivery report within %u ms",
                     timeout_ms);
    else if (w->status == KAFKA_DELIVERED)
        rc = ERR_OK;
    else
        rc = err_set(e, w->status == KAFKA_PERMANENT ? ERR_INVALID_REQUEST : ERR_UNAVAILABLE,
                     "kafka delivery failed: %s", w->error);
    pthread_mutex_unlock(&w->lock);
    waiter_release(w);
    return rc;
}

enum err_code kafka_produce_wait(struct kafka_producer *p, const struct kafka_record *r,
                                 unsigned timeout_ms, struct err *e)
{
    return kafka_produce_wait_or(p, r, timeout_ms, NULL, NULL, e);
}
