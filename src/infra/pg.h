/* pg.h — PostgreSQL access: one lazy connection per thread, prepared statements. */
#ifndef SHOPD_INFRA_PG_H
#define SHOPD_INFRA_PG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "core/err.h"

struct pg_pool_config {
    const char *conninfo;          /* libpq conninfo string or URI (copied) */
    unsigned connect_timeout_s;    /* libpq connect_timeout */
    unsigned statement_timeout_ms; /* server-side statement_timeout; 0 = none */
    /*
     * synchronous_commit=off on every connection: a commit returns before its
     * WAL is flushed, and a crash may lose the last few hundred milliseconds of
     * commits. Only for writers whose commits may be lost without harm (the
     * outbox relay: a lost claim is claimed again, a lost SENT mark is sent
     * again, which at-least-once allows); they then stop adding WAL flushes
     * of their own beside the orders'.
     */
    bool async_commit;
    /* idle_in_transaction_session_timeout on every connection; 0 = the server's (none) */
    unsigned idle_in_tx_timeout_ms;
};

/*
 * A named statement, prepared on each connection the first time it is used.
 * Declare them `static const` next to the code that runs them; names must be
 * unique across the program.
 */
struct pg_stmt {
    const char *name;
    const char *sql;
    int n_params;
};

struct pg_pool;
struct pg_conn;

/* Creates a pool; connects nothing yet. Returns NULL on OOM. Free with pg_pool_free. */
struct pg_pool *pg_pool_new(const struct pg_pool_config *cfg);

/*
 * Closes every connection still open and frees the pool. Call after all
 * threads that used it have stopped. NULL-safe.
 */
void pg_pool_free(struct pg_pool *p);

/*
 * The calling thread's connection, connecting (or reconnecting, when the
 * previous one broke or the server closed it while idle) as needed. Returns
 * a connection borrowed for the current request on this thread, or NULL with
 * ERR_UNAVAILABLE. Thread-safe: each thread gets its own connection.
 */
struct pg_conn *pg_pool_conn(struct pg_pool *p, struct err *e);

/*
 * The calling thread's connection as it is, without connecting or checking
 * it (NULL when the thread has none): for ending a transaction on a
 * connection that broke inside it (pg_tx_rollback copes with that).
 */
struct pg_conn *pg_pool_conn_current(struct pg_pool *p);

/* Number of open connections (for /metrics). Thread-safe. */
int64_t pg_pool_open_count(void *pool);

/*
 * Runs stmt with text params (n = stmt->n_params; a NULL entry is SQL NULL).
 * Returns the result (caller PQclear()s it) when the command succeeded, or
 * NULL with e set: ERR_UNAVAILABLE when the connection is lost or the
 * statement timed out (the connection is then replaced on next use),
 * ERR_INTERNAL otherwise. pg_conn_sqlstate tells the SQLSTATE of a failure.
 * Not thread-safe per connection (a connection belongs to one thread).
 */
PGresult *pg_exec(struct pg_conn *c, const struct pg_stmt *stmt, const char *const *params,
                  struct err *e);

/* Runs a parameterless utility command (BEGIN, COMMIT, ROLLBACK). Returns ERR_OK or e set. */
enum err_code pg_command(struct pg_conn *c, const char *sql, struct err *e);

/*
 * Transactions. pg_tx_begin opens one on c; until pg_tx_commit or
 * pg_tx_rollback, pg_pool_conn never swaps the thread's connection for a new
 * one (a statement on a fresh connection would run outside the transaction):
 * it answers ERR_UNAVAILABLE instead. pg_tx_commit fails (ERR_INTERNAL, or
 * ERR_UNAVAILABLE) when the transaction had failed and the server rolled it
 * back; the caller then calls pg_tx_rollback. pg_tx_rollback never fails and always ends the
 * transaction state.
 */
enum err_code pg_tx_begin(struct pg_conn *c, struct err *e);
enum err_code pg_tx_commit(struct pg_conn *c, struct err *e);
void pg_tx_rollback(struct pg_conn *c);

/*
 * True between a transaction's BEGIN (pg_tx_begin or pg_queue_begin) and
 * its end (commit or pg_tx_rollback): what "only inside a transaction"
 * calls assert(). Not thread-safe (c belongs to one thread).
 */
bool pg_conn_in_tx(const struct pg_conn *c);

/* pg_conn_in_tx of the calling thread's connection (false when it has none). */
bool pg_pool_in_tx(struct pg_pool *p);

/* True when the last failure was a serialization failure (40001) or deadlock (40P01). */
bool pg_conn_failure_retryable(const struct pg_conn *c);

/* SQLSTATE of the connection's last failed command ("" if none). Borrowed. */
const char *pg_conn_sqlstate(const struct pg_conn *c);

/*
 * Round trips made on c since it was created: one per statement prepared,
 * executed or sent as a command (a count for tests and benchmarks, e.g.
 * "a charge is one round trip"). Not thread-safe (c belongs to one thread).
 */
uint64_t pg_conn_round_trips(const struct pg_conn *c);

/* The libpq handle (borrowed), for migrations and tests. */
PGconn *pg_conn_raw(struct pg_conn *c);

/* Parses column col of row row as int64 (0 when NULL). */
int64_t pg_get_i64(const PGresult *r, int row, int col);

/* Formats v in decimal into buf (>= 21 bytes) and returns buf. */
const char *pg_i64_param(int64_t v, char buf[21]);

/*
 * v[0..n) as a PostgreSQL array literal "{1,2,3}" (a bigint[] parameter).
 * Returns malloc'd text (caller frees) or NULL on OOM.
 */
char *pg_i64_array(const int64_t *v, size_t n);

#endif
