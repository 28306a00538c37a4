/* outbox_relay.h — sends outbox events to the data platform after commit, from any instance. */
#ifndef SHOPD_INFRA_OUTBOX_RELAY_H
#define SHOPD_INFRA_OUTBOX_RELAY_H

#include <stdint.h>

#include "core/err.h"
#include "infra/pg.h"

struct outbox_relay_config {
    struct pg_pool *pg;        /* borrowed; the relay thread uses its own connection of it */
    const char *url;           /* data platform endpoint; NULL or "" = log events instead */
    unsigned timeout_ms;       /* per POST */
    unsigned poll_interval_ms; /* look for leftovers this often without a wake-up */
    unsigned batch;            /* events claimed at a time */
    unsigned max_attempts;     /* then the event is marked FAILED (never deleted) */
    unsigned backoff_base_ms;  /* retry delay base: base × 2^(attempt-1), with jitter */
    unsigned backoff_max_ms;   /* cap on the retry delay */
    unsigned lease_ms;         /* a claimed event is not claimed again for this long */
};

struct outbox_relay;

/*
 * Starts the relay thread. It claims due PENDING events with FOR UPDATE SKIP
 * LOCKED (so any number of relays, in any number of instances, share the
 * work), POSTs each as {"event_id","type","occurred_at","order"}, marks it
 * SENT only on a 2xx, otherwise schedules a retry with exponential backoff and
 * jitter, and after max_attempts marks it FAILED with the last error.
 * Returns NULL with e set on failure.
 */
struct outbox_relay *outbox_relay_start(const struct outbox_relay_config *cfg, struct err *e);

/* Wakes the relay now (after a commit). Thread-safe; cheap; never blocks on I/O. */
void outbox_relay_wake(void *relay);

/* Stops the thread (finishing the event in hand) and frees the relay. NULL-safe. */
void outbox_relay_stop(struct outbox_relay *r);

/* Number of PENDING events, read on the calling thread's connection (-1 if unknown). */
int64_t outbox_backlog(void *pg_pool);

#endif
