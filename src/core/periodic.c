/* periodic.c — condition-variable timer thread. */
#include "core/periodic.h"
#include "core/timefmt.h"

#include <pthread.h>
#include <stdlib.h>
#include <time.h>

struct periodic {
    unsigned interval_ms;
    periodic_task_fn task;
    void *ud;
    pthread_t thread;
    pthread_mutex_t lock; /* guards woken, stopping */
    pthread_cond_t cond;
    bool woken, stopping;
};

bool periodic_stopping(struct periodic *p)
{
    pthread_mutex_lock(&p->lock);
    bool stopping = p->stopping;
    pthread_mutex_unlock(&p->lock);
    return stopping;
}

static void *periodic_main(void *arg)
{
    struct periodic *p = arg;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        struct timespec until = timefmt_deadline_ms(p->interval_ms);
        while (!p->woken && !p->stopping)
            if (pthread_cond_timedwait(&p->cond, &p->lock, &until) != 0)
                break; /* timed out */
        bool stopping = p->stopping;
        p->woken = false;
        pthread_mutex_unlock(&p->lock);
        if (stopping)
            return NULL;
        while (p->task(p->ud) && !periodic_stopping(p))
            ;
    }
}

struct periodic *periodic_start(unsigned interval_ms, periodic_task_fn task, void *ud)
{
    struct periodic *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->interval_ms = interval_ms ? interval_ms : 1000;
    p->task = task;
    p->ud = ud;
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&p->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&p->lock, NULL);
    if (pthread_create(&p->thread, NULL, periodic_main, p) != 0) {
        pthread_cond_destroy(&p->cond);
        pthread_mutex_destroy(&p->lock);
        free(p);
        return NULL;
    }
    return p;
}

void periodic_wake(struct periodic *p)
{
    pthread_mutex_lock(&p->lock);
    p->woken = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
}

void periodic_stop(struct periodic *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&p->lock);
    p->stopping = true;
    pthread_cond_signal(&p->cond);
    pthread_mutex_unlock(&p->lock);
    pthread_join(p->thread, NULL);
    pthread_cond_destroy(&p->cond);
    pthread_mutex_destroy(&p->lock);
    free(p);
}
