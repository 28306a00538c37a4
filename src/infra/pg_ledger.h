/*
 * pg_ledger.h — every statement that moves points: the balance change and
 * its point_ledger row in one statement, so the row carries the exact
 * balance the change produced. The only place that writes the ledger
 * (orders pay and refund, charges credit). All queued in the caller's
 * pipeline (infra/pg_pipeline.h); nothing here is thread-safe per connection.
 */
#ifndef SHOPD_INFRA_PG_LEDGER_H
#define SHOPD_INFRA_PG_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "infra/pg_pipeline.h"

/*
 * Queues a USE debit of amount (> 0) for order_id, conditional on the
 * balance covering it; when it does not (any more), the flush fails as a
 * serialization failure (40001, via shopd_expect) and the transaction is lost.
 */
enum err_code pg_ledger_queue_use(struct pg_conn *c, int64_t user_id, int64_t amount,
                                  int64_t order_id, struct err *e);

/* Queues a REFUND credit of amount (> 0) for order_id: never refused (no cap on refunds). */
enum err_code pg_ledger_queue_refund(struct pg_conn *c, int64_t user_id, int64_t amount,
                                     int64_t order_id, struct err *e);

/* What a charge came to, filled at the flush. */
struct pg_ledger_charge {
    bool applied;    /* credited, with a CHARGE row */
    bool exists;     /* the user exists */
    int64_t balance; /* applied: the balance after; else the balance the refusal saw */
};

/*
 * Queues a CHARGE credit of amount (> 0), conditional on the balance staying
 * within cap, and fills *out at the flush (out borrowed until then). A
 * refusal is not an error: !out->applied says so, and nothing changed.
 */
enum err_code pg_ledger_queue_charge(struct pg_conn *c, int64_t user_id, int64_t amount,
                                     int64_t cap, struct pg_ledger_charge *out, struct err *e);

/*
 * Queues n CHARGE credits as parts of the caller's transaction (queue
 * BEGIN before and COMMIT after): locks the n users' rows in id order (so
 * two batches never deadlock), then credits each one whose balance stays
 * within cap, in one statement. user_ids must be distinct; amounts > 0.
 * Fills out[0..n) at the flush, as pg_ledger_queue_charge fills its one
 * (out borrowed until then). Returns ERR_OK or e set (ERR_INTERNAL on OOM).
 */
enum err_code pg_ledger_queue_charges(struct pg_conn *c, size_t n, const int64_t *user_ids,
                                      const int64_t *amounts, int64_t cap,
                                      struct pg_ledger_charge *out, struct err *e);

#endif
