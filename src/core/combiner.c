/* combiner.c — group commit: leaders run the queued items in batches. */
#include "core/combiner.h"

#include <assert.h>

enum { COMBINER_BATCH_LIMIT = 256 }; /* max_batch's ceiling: the leader's array is on its stack */

enum item_state {
    ITEM_QUEUED, /* waiting in the queue */
    ITEM_LEAD,   /* still queued, but its thread is to lead the next batch */
    ITEM_TAKEN,  /* in another thread's batch, running */
    ITEM_DONE    /* run; the result is filled */
};

bool combiner_init(struct combiner *c, const struct combiner_config *cfg)
{
    *c = (struct combiner){.cfg = *cfg};
    if (c->cfg.max_batch < 1)
        c->cfg.max_batch = 1;
    if (c->cfg.max_batch > COMBINER_BATCH_LIMIT)
        c->cfg.max_batch = COMBINER_BATCH_LIMIT;
    if (c->cfg.max_inflight < 1)
        c->cfg.max_inflight = 1;
    return pthread_mutex_init(&c->lock, NULL) == 0;
}

void combiner_destroy(struct combiner *c)
{
    assert(!c->head && c->leaders == 0);
    pthread_mutex_destroy(&c->lock);
}

/* Removes item, which follows prev (NULL: item is the head), from the queue. Under the lock. */
static void unlink_item(struct combiner *c, struct combiner_item *prev, struct combiner_item *item)
{
    if (prev)
        prev->next = item->next;
    else
        c->head = item->next;
    if (c->tail == item)
        c->tail = prev;
    item->next = NULL;
}

/* Hands the next batch to the oldest queued item's thread if a batch may start. Under the lock. */
static void promote_next_leader(struct combiner *c)
{
    if (c->leaders >= c->cfg.max_inflight)
        return;
    for (struct combiner_item *p = c->head; p; p = p->next) {
        if (p->state == ITEM_QUEUED) {
            p->state = ITEM_LEAD;
            c->leaders++;
            pthread_cond_signal(&p->wake);
            return;
        }
    }
}

static bool conflicts_with_batch(const struct combiner *c, const struct combiner_item *item,
                                 struct combiner_item *const *batch, size_t n)
{
    if (!c->cfg.conflict)
        return false;
    for (size_t i = 0; i < n; i++)
        if (c->cfg.conflict(item, batch[i]))
            return true;
    return false;
}

/*
 * The leader's batch: itself first, then the oldest queued items that fit,
 * each taken out of the queue. Returns the count. Under the lock.
 */
static size_t take_batch(struct combiner *c, struct combiner_item *leader,
                         struct combiner_item **batch)
{
    struct combiner_item *prev = NULL;
    for (struct combiner_item *p = c->head; p; prev = p, p = p->next) {
        if (p == leader) {
            unlink_item(c, prev, p);
            break;
        }
    }
    size_t n = 0;
    batch[n++] = leader;
    prev = NULL;
    for (struct combiner_item *p = c->head, *next; p && n < c->cfg.max_batch; p = next) {
        next = p->next;
        if (p->state != ITEM_QUEUED || conflicts_with_batch(c, p, batch, n)) {
            prev = p;
            continue;
        }
        unlink_item(c, prev, p);
        p->state = ITEM_TAKEN;
        batch[n++] = p;
    }
    return n;
}

void combiner_submit(struct combiner *c, struct combiner_item *item)
{
    pthread_cond_init(&item->wake, NULL);
    item->next = NULL;
    item->state = ITEM_QUEUED;

    pthread_mutex_lock(&c->lock);
    if (c->tail)
        c->tail->next = item;
    else
        c->head = item;
    c->tail = item;
    if (c->leaders < c->cfg.max_inflight) {
        item->state = ITEM_LEAD;
        c->leaders++;
    }
    while (item->state == ITEM_QUEUED || item->state == ITEM_TAKEN)
        pthread_cond_wait(&item->wake, &c->lock);
    if (item->state == ITEM_DONE) {
        pthread_mutex_unlock(&c->lock);
        pthread_cond_destroy(&item->wake);
        return;
    }

    assert(item->state == ITEM_LEAD);
    struct combiner_item *batch[COMBINER_BATCH_LIMIT];
    size_t n = take_batch(c, item, batch);
    /* what did not fit (a conflict, a full batch) may start another batch at once */
    promote_next_leader(c);
    pthread_mutex_unlock(&c->lock);

    c->cfg.run(c->cfg.ctx, batch, n);

    pthread_mutex_lock(&c->lock);
    for (size_t i = 1; i < n; i++) {
        batch[i]->state = ITEM_DONE;
        pthread_cond_signal(&batch[i]->wake);
    }
    assert(c->leaders > 0);
    c->leaders--;
    promote_next_leader(c);
    pthread_mutex_unlock(&c->lock);
    pthread_cond_destroy(&item->wake);
}
