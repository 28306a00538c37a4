/* pg_idempotency.h — first outcomes per (user, scope, key) in PostgreSQL, shared by every
 * idempotent endpoint (orders, charges). */
#ifndef SHOPD_INFRA_PG_IDEMPOTENCY_H
#define SHOPD_INFRA_PG_IDEMPOTENCY_H

#include <stdbool.h>
#include <stdint.h>

#include "infra/pg.h"

/*
 * Inside an open transaction on c: takes a transaction-scoped advisory lock on
 * the key (so a concurrent request with the same key is told at once, on any
 * instance: ERR_REQUEST_IN_PROGRESS), then reads a recorded outcome in a
 * second statement (its snapshot follows the lock, so it sees the previous
 * holder's commit). Same fingerprint: *replay = true, *status and *body
 * (malloc'd, caller frees) filled. Other fingerprint: ERR_IDEMPOTENCY_KEY_REUSED.
 */
enum err_code pg_idempotency_claim(struct pg_conn *c, int64_t user_id, const char *scope,
                                   const char *key, const char *fingerprint, bool *replay,
                                   int *status, char **body, struct err *e);

/* Inside the same transaction: records the outcome (committed with the work, or not at all). */
enum err_code pg_idempotency_record(struct pg_conn *c, int64_t user_id, const char *scope,
                                    const char *key, const char *fingerprint, int status,
                                    const char *body, struct err *e);

#endif
