/* thread_slots.c — per-thread objects destroyed at thread exit or registry cleanup. */
#include "core/thread_slots.h"

#include <stddef.h>

/* The key's destructor: the thread is exiting with a slot. */
static void slot_thread_exit(void *arg)
{
    struct thread_slot *slot = arg;
    struct thread_slots *ts = slot->owner;
    pthread_mutex_lock(&ts->lock);
    for (struct thread_slot **pp = &ts->all; *pp; pp = &(*pp)->next) {
        if (*pp == slot) {
            *pp = slot->next;
            break;
        }
    }
    pthread_mutex_unlock(&ts->lock);
    ts->destroy(slot);
}

bool thread_slots_init(struct thread_slots *ts, void (*destroy)(struct thread_slot *slot))
{
    ts->all = NULL;
    ts->destroy = destroy;
    if (pthread_key_create(&ts->key, slot_thread_exit) != 0)
        return false;
    pthread_mutex_init(&ts->lock, NULL);
    return true;
}

struct thread_slot *thread_slots_get(struct thread_slots *ts)
{
    return pthread_getspecific(ts->key);
}

void thread_slots_set(struct thread_slots *ts, struct thread_slot *slot)
{
    slot->owner = ts;
    pthread_mutex_lock(&ts->lock);
    slot->next = ts->all;
    ts->all = slot;
    pthread_mutex_unlock(&ts->lock);
    pthread_setspecific(ts->key, slot);
}

void thread_slots_cleanup(struct thread_slots *ts)
{
    if (pthread_getspecific(ts->key))
        pthread_setspecific(ts->key, NULL);
    pthread_mutex_lock(&ts->lock);
    struct thread_slot *all = ts->all;
    ts->all = NULL;
    pthread_mutex_unlock(&ts->lock);
    while (all) {
        struct thread_slot *next = all->next;
        ts->destroy(all);
        all = next;
    }
    pthread_key_delete(ts->key);
    pthread_mutex_destroy(&ts->lock);
}
