/*
 * pg_pipeline.h — several statements in one round trip (libpq pipeline mode).
 *
 * pg_queue sends a statement without waiting for it; pg_flush ends the
 * pipeline with one Sync, reads every result in order and hands each to its
 * callback. The server runs the queued statements back to back; the first
 * that fails makes it skip the rest up to the Sync (a queued COMMIT
 * included), so "all or nothing" holds inside an explicit transaction.
 * Statements are prepared on first use inside the same pipeline (no extra
 * round trip). A connection belongs to one thread: nothing here is
 * thread-safe per connection.
 */
#ifndef SHOPD_INFRA_PG_PIPELINE_H
#define SHOPD_INFRA_PG_PIPELINE_H

#include <stddef.h>

#include "infra/pg.h"

/* Bytes of context a queued statement can carry to its callback (see pg_queue). */
enum { PG_CTX_MAX = 64 };

/*
 * Receives a queued statement's result when it succeeded (r borrowed: do
 * not PQclear). Returns ERR_OK, or an error with e set, which pg_flush
 * reports (it still reads the remaining results).
 */
typedef enum err_code (*pg_on_result)(void *ctx, const PGresult *r, struct err *e);

/*
 * Queues stmt with text params (as pg_exec; they are sent, hence copied, at
 * once). on_result (may be NULL) runs at the next pg_flush with a copy of
 * the ctx_size (<= PG_CTX_MAX) bytes at ctx — typically pointers to where
 * the results go, which must stay valid until pg_flush returns. Returns
 * ERR_OK, or e set (ERR_INTERNAL when the pipeline is full or ctx too big,
 * ERR_UNAVAILABLE when the connection failed to send); the caller then
 * ends the transaction with pg_tx_rollback.
 */
enum err_code pg_queue(struct pg_conn *c, const struct pg_stmt *stmt, const char *const *params,
                       pg_on_result on_result, const void *ctx, size_t ctx_size, struct err *e);

/* Queues BEGIN: c is in a transaction from now on (pg_pool_conn keeps it). */
enum err_code pg_queue_begin(struct pg_conn *c, struct err *e);

/* Queues COMMIT; pg_flush fails if the server rolled the transaction back instead. */
enum err_code pg_queue_commit(struct pg_conn *c, struct err *e);

/*
 * Sends everything queued in one round trip and waits for every result.
 * Returns ERR_OK when every statement and callback succeeded; otherwise the
 * first failure: a statement's error mapped as pg_exec maps it
 * (pg_conn_failure_retryable tells a serialization failure or deadlock,
 * ERR_UNAVAILABLE a lost connection), or what a callback returned. After a
 * queued COMMIT succeeded the transaction is over. Nothing queued: ERR_OK
 * at once.
 */
enum err_code pg_flush(struct pg_conn *c, struct err *e);

/*
 * Ends a pipeline whose results nobody wants (e.g. the caller gave up
 * before pg_flush): sends the Sync and reads the results away. Never fails;
 * a connection in trouble is marked for replacement.
 */
void pg_pipeline_discard(struct pg_conn *c);

#endif
