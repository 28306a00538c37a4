/* thread_slots.h — one lazily created object per thread, owned by a registry. */
#ifndef SHOPD_CORE_THREAD_SLOTS_H
#define SHOPD_CORE_THREAD_SLOTS_H

#include <pthread.h>
#include <stdbool.h>

struct thread_slots;

/*
 * Embed as the first member of the per-thread object (a connection, say).
 * The registry links it; the object's owner fills the rest.
 */
struct thread_slot {
    struct thread_slot *next;
    struct thread_slots *owner;
};

/*
 * The registry: a pthread key plus the list of every live slot, so that a
 * slot is destroyed when its thread exits, and all remaining ones when the
 * registry is cleaned up. Embed it; not copyable once initialised.
 */
struct thread_slots {
    pthread_key_t key;
    pthread_mutex_t lock; /* guards all */
    struct thread_slot *all;
    void (*destroy)(struct thread_slot *slot); /* frees the object around slot */
};

/* Prepares the registry; destroy frees one object. Returns false if no key is left. */
bool thread_slots_init(struct thread_slots *ts, void (*destroy)(struct thread_slot *slot));

/* The calling thread's slot, or NULL when it has none yet. Thread-safe, lock-free. */
struct thread_slot *thread_slots_get(struct thread_slots *ts);

/* Makes slot (owned by the registry from now on) the calling thread's. Thread-safe. */
void thread_slots_set(struct thread_slots *ts, struct thread_slot *slot);

/*
 * Destroys every slot still registered and the key. Call once no thread uses
 * the registry any more (threads that exit later destroy nothing).
 */
void thread_slots_cleanup(struct thread_slots *ts);

#endif
