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
    unsigned linger_ms;        /* after a batch began, wait this long before the next (0: none) */
    unsigned in_tx_wait_ms;    /* wait for outcomes this long in the claim's transaction (2000) */
    unsigned backoff_base_ms;  /* retry delay base: base × 2^(attempt-1), with jitter */
    unsigned backoff_max_ms;   /* cap on the retry delay */
};

struct outbox_relay;

/*
 * Starts the relay thread. In one transaction it claims due PENDING events
 * with FOR UPDATE SKIP LOCKED (so any number of relays, in any number of
 * instances, share the work) — never an event whose order has an earlier
 * event still undelivered, so an order's events leave in the order they
 * happened — hands them to the sink, waits up to in_tx_wait_ms for the
 * outcomes and records them: a delivered event is deleted; a transient
 * failure stays PENDING with its attempt count and an exponential backoff
 * (capped), for as long as the outage lasts; a permanent one is parked as
 * FAILED until outbox_requeue_failed. Events still undecided then are
 * leased for the rest of the sink's batch time, and their outcomes are
 * written after commit behind the attempts fence, never over a row another
 * relay claimed since. cfg->pg should be a pool of its own with
 * asynchronous commit and an idle_in_transaction_session_timeout above
 * in_tx_wait_ms plus one send (see pg_pool_config). Returns NULL with e set.
 */
struct outbox_relay *outbox_relay_start(const struct outbox_relay_config *cfg, struct err *e);

/* Wakes the relay now (after a commit). Thread-safe; cheap; never blocks on I/O. */
void outbox_relay_wake(void *relay);

/*
 * Stops the thread and frees the relay. A batch in hand stops between sends
 * and waits at most about a second for outstanding outcomes; events not sent
 * or still undecided are left as they were, for any relay to claim at once
 * (delivery is at least once). NULL-safe.
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
