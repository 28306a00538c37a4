/* outbox_relay.h — delivers outbox events after commit, in order per order, from any instance. */
#ifndef SHOPD_INFRA_OUTBOX_RELAY_H
#define SHOPD_INFRA_OUTBOX_RELAY_H

#include <stdint.h>

#include "core/err.h"
#include "infra/outbox_sink.h"
#include "infra/pg.h"

struct outbox_relay_config {
    struct pg_pool *pg;        /* borrowed; the relay thread uses its own connection of it */
    struct outbox_sink sink;   /* borrowed until outbox_relay_stop: where events go */
    unsigned poll_interval_ms; /* look for leftovers this often without a wake-up */
    unsigned batch;            /* events claimed at a time */
    unsigned backoff_base_ms;  /* retry delay base: base × 2^(attempt-1), with jitter */
    unsigned backoff_max_ms;   /* cap on the retry delay */
};

struct outbox_relay;

/*
 * Starts the relay thread. It claims due PENDING events with FOR UPDATE SKIP
 * LOCKED (so any number of relays, in any number of instances, share the
 * work) — never an event whose order has an earlier event not yet SENT, so
 * an order's events leave in the order they happened — for a lease longer
 * than the sink can take for the batch, hands them to the sink, and records
 * each outcome: SENT; a transient failure stays PENDING with its attempt
 * count and an exponential backoff (capped), for as long as the outage
 * lasts; a permanent one is parked as FAILED until outbox_requeue_failed.
 * An outcome is written only by the relay that holds the claim (attempts
 * is the fence) and never over a SENT row. Returns NULL with e set.
 */
struct outbox_relay *outbox_relay_start(const struct outbox_relay_config *cfg, struct err *e);

/* Wakes the relay now (after a commit). Thread-safe; cheap; never blocks on I/O. */
void outbox_relay_wake(void *relay);

/*
 * Stops the thread and frees the relay. A batch in hand stops between sends
 * (unsent events are released at once) and waits at most about a second for
 * outstanding outcomes; what stays undecided is claimed again when its lease
 * ends (delivery is at least once). NULL-safe.
 */
void outbox_relay_stop(struct outbox_relay *r);

/* Number of PENDING events, read on the calling thread's connection (-1 if unknown). */
int64_t outbox_backlog(void *pg_pool);

/* Number of parked (FAILED) events (-1 if unknown). */
int64_t outbox_parked(void *pg_pool);

/* Age in seconds of the oldest PENDING event, 0 when none (-1 if unknown). */
int64_t outbox_oldest_pending_s(void *pg_pool);

/*
 * Puts every parked event back to PENDING, due now, attempts reset. Returns
 * how many (>= 0), or -1 with e set. Thread-safe (its own statement).
 */
int64_t outbox_requeue_failed(struct pg_pool *pg, struct err *e);

#endif
