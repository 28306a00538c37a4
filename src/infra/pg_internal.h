/* pg_internal.h — a connection's insides, shared by pg.c and pg_pipeline.c only (not an API). */
#ifndef SHOPD_INFRA_PG_INTERNAL_H
#define SHOPD_INFRA_PG_INTERNAL_H

#include <stddef.h>

#include "core/thread_slots.h"
#include "infra/pg.h"
#include "infra/pg_pipeline.h"

/* a 100-line order: 100 takes, 6 more writes, the COMMIT and first-use Parses */
enum { PG_MAX_PREPARED = 128, PG_MAX_QUEUED = 160 };

enum pg_queued_kind {
    PG_QUEUED_PREPARE, /* a statement's first Parse on this connection */
    PG_QUEUED_STMT,    /* a prepared statement's execution */
    PG_QUEUED_BEGIN,
    PG_QUEUED_COMMIT,
};

/* One request sent in the current pipeline, waiting for its result. */
struct pg_queued {
    enum pg_queued_kind kind;
    const struct pg_stmt *stmt; /* PREPARE, STMT */
    pg_on_result on_result;     /* STMT: may be NULL */
    union {
        unsigned char bytes[PG_CTX_MAX];
        max_align_t align;
    } ctx; /* the caller's context, copied */
};

struct pg_conn {
    struct thread_slot slot; /* first: the pool's registry owns it */
    PGconn *conn;
    struct pg_pool *pool;
    const struct pg_stmt *prepared[PG_MAX_PREPARED];
    int n_prepared;
    bool broken;
    bool in_tx; /* between pg_tx_begin (or a queued BEGIN) and the end of the transaction */
    char sqlstate[6];
    uint64_t round_trips; /* exchanges with the server (prepare, execute, command, flush) */
    struct pg_queued queued[PG_MAX_QUEUED];
    int n_queued; /* > 0: the connection is in pipeline mode with these sent */
};

/*
 * Maps a failed result (r may be NULL) to an error in e, records its
 * SQLSTATE on c and marks c broken when the connection is gone.
 */
enum err_code pg_conn_fail(struct pg_conn *c, const PGresult *r, const char *what, struct err *e);

/* True when stmt was prepared on c (or its Parse is queued in the current pipeline). */
bool pg_conn_is_prepared(const struct pg_conn *c, const struct pg_stmt *stmt);

#endif
