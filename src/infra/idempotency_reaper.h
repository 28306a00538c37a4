/* idempotency_reaper.h — deletes idempotency outcomes older than their retention. */
#ifndef SHOPD_INFRA_IDEMPOTENCY_REAPER_H
#define SHOPD_INFRA_IDEMPOTENCY_REAPER_H

#include "infra/pg.h"

struct idempotency_reaper;

/*
 * Every interval_ms, deletes (in batches of 1,000) the idempotency_keys rows
 * older than ttl_hours (never less than 24: the contract keeps keys at least
 * 24 hours). Any number of instances may run it. pg is borrowed. NULL on failure.
 */
struct idempotency_reaper *idempotency_reaper_start(struct pg_pool *pg, unsigned ttl_hours,
                                                    unsigned interval_ms);

/* Stops the thread and frees r. NULL-safe. */
void idempotency_reaper_stop(struct idempotency_reaper *r);

#endif
