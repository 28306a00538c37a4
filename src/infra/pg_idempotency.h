/* pg_idempotency.h — first outcomes per (user, scope, key) in PostgreSQL, shared by every
 * idempotent endpoint (orders, charges). Everything is queued in the caller's pipeline. */
#ifndef SHOPD_INFRA_PG_IDEMPOTENCY_H
#define SHOPD_INFRA_PG_IDEMPOTENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "core/idempotency.h"
#include "infra/pg.h"
#include "infra/pg_pipeline.h"

/*
 * Queues, inside the transaction open on c, a transaction-scoped advisory
 * lock on the key (a concurrent request with the same key learns at once,
 * on any instance, that it is in progress), then the read of a recorded
 * outcome: a second statement, whose snapshot follows the lock and so sees
 * the previous holder's commit. claim (with ->fingerprint set) is filled at
 * pg_flush; read it with idempotency_claim_result. Returns ERR_OK or e set.
 */
enum err_code pg_idempotency_queue_claim(struct pg_conn *c, int64_t user_id, const char *scope,
                                         const char *key, struct idempotency_claim *claim,
                                         struct err *e);

/* Queues the outcome's record in the same transaction (committed with the work, or not at all). */
enum err_code pg_idempotency_queue_record(struct pg_conn *c, int64_t user_id, const char *scope,
                                          const char *key, const char *fingerprint, int status,
                                          const char *body, struct err *e);

#endif
