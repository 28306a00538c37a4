/*
 * combiner.h — group commit: requests from many threads run together, in
 * batches, by whichever of them is leading at the time.
 *
 * A thread submits an item and waits. At most max_inflight batches run at
 * once. While they are busy, newcomers queue; when a batch ends, the oldest
 * waiting item's thread becomes the next leader and runs, on its own thread
 * (so with its own database connection), every queued item that fits: up
 * to max_batch of them, none in conflict with another of the batch (two
 * charges of one user, say). Under light load an item finds a free slot and
 * runs alone at once, so nothing waits for a batch to fill.
 */
#ifndef SHOPD_CORE_COMBINER_H
#define SHOPD_CORE_COMBINER_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

/*
 * Embed in the caller's request (usually on its stack) and recover the
 * request around it with container_of-style arithmetic in the callbacks.
 * Private to the combiner while submitted.
 */
struct combiner_item {
    struct combiner_item *next;
    int state;
    pthread_cond_t wake;
};

/*
 * Runs items[0..n) (n >= 1) as one batch and fills each one's result in
 * the request around it. Called on the leader's thread, without the
 * combiner's lock; items[0] is the leader's own.
 */
typedef void (*combiner_run_fn)(void *ctx, struct combiner_item *const *items, size_t n);

/* True when a and b may not run in one batch. Called under the combiner's lock: keep it cheap. */
typedef bool (*combiner_conflict_fn)(const struct combiner_item *a, const struct combiner_item *b);

struct combiner_config {
    size_t max_batch;    /* items per batch, >= 1 (1: every item runs alone) */
    size_t max_inflight; /* batches running at once, >= 1 */
    combiner_run_fn run;
    combiner_conflict_fn conflict; /* NULL: nothing conflicts */
    void *ctx;                     /* run's first argument, borrowed */
};

/* Embed; not copyable once initialised. */
struct combiner {
    pthread_mutex_t lock; /* guards the queue and leaders */
    struct combiner_item *head, *tail;
    size_t leaders; /* batches running or about to */
    struct combiner_config cfg;
};

/*
 * Prepares c with cfg (copied; both sizes clamped to at least 1). Returns
 * false when the lock could not be created.
 */
bool combiner_init(struct combiner *c, const struct combiner_config *cfg);

/* Frees c's lock. Call once no thread submits any more. */
void combiner_destroy(struct combiner *c);

/*
 * Runs item in some batch and returns once its result is filled: either
 * this thread led the batch (cfg.run ran here) or another thread's batch
 * included it. item is borrowed until then. Thread-safe.
 */
void combiner_submit(struct combiner *c, struct combiner_item *item);

#endif
