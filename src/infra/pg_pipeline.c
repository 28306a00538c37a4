/* pg_pipeline.c — queued statements, one Sync, results handed out in order. */
#include <assert.h>
#include <string.h>

#include "core/log.h"
#include "infra/pg_internal.h"

/* Enters pipeline mode before the first request of a pipeline; makes room for one more. */
static enum err_code make_room(struct pg_conn *c, int needed, struct err *e)
{
    if (c->broken || !c->conn)
        return err_set(e, ERR_UNAVAILABLE, "database is unavailable");
    if (c->n_queued + needed > PG_MAX_QUEUED)
        return err_set(e, ERR_INTERNAL, "too many statements in one pipeline");
    if (c->n_queued == 0 && PQpipelineStatus(c->conn) == PQ_PIPELINE_OFF &&
        !PQenterPipelineMode(c->conn)) {
        c->broken = true;
        return err_set(e, ERR_UNAVAILABLE, "database is unavailable");
    }
    return ERR_OK;
}

/* A send that failed: libpq could not write, so the connection is no longer usable. */
static enum err_code send_failed(struct pg_conn *c, const char *what, struct err *e)
{
    log_warn("pg: %s: could not send: %s", what, PQerrorMessage(c->conn));
    c->broken = true;
    return err_set(e, ERR_UNAVAILABLE, "database is unavailable");
}

static enum err_code queue_prepare(struct pg_conn *c, const struct pg_stmt *stmt, struct err *e)
{
    if (c->n_prepared >= PG_MAX_PREPARED)
        return err_set(e, ERR_INTERNAL, "too many prepared statements");
    if (!PQsendPrepare(c->conn, stmt->name, stmt->sql, stmt->n_params, NULL))
        return send_failed(c, stmt->name, e);
    /* counted as prepared now, so a second use in this pipeline does not Parse again */
    c->prepared[c->n_prepared++] = stmt;
    c->queued[c->n_queued++] = (struct pg_queued){.kind = PG_QUEUED_PREPARE, .stmt = stmt};
    return ERR_OK;
}

enum err_code pg_queue(struct pg_conn *c, const struct pg_stmt *stmt, const char *const *params,
                       pg_on_result on_result, const void *ctx, size_t ctx_size, struct err *e)
{
    if (ctx_size > PG_CTX_MAX)
        return err_set(e, ERR_INTERNAL, "%s: callback context too big", stmt->name);
    bool prepared = pg_conn_is_prepared(c, stmt);
    if (make_room(c, prepared ? 1 : 2, e))
        return e->code;
    if (!prepared && queue_prepare(c, stmt, e))
        return e->code;
    if (!PQsendQueryPrepared(c->conn, stmt->name, stmt->n_params, params, NULL, NULL, 0))
        return send_failed(c, stmt->name, e);
    struct pg_queued *q = &c->queued[c->n_queued++];
    *q = (struct pg_queued){.kind = PG_QUEUED_STMT, .stmt = stmt, .on_result = on_result};
    if (ctx_size)
        memcpy(q->ctx.bytes, ctx, ctx_size);
    return ERR_OK;
}

static enum err_code queue_command(struct pg_conn *c, enum pg_queued_kind kind, const char *sql,
                                   struct err *e)
{
    if (make_room(c, 1, e))
        return e->code;
    if (!PQsendQueryParams(c->conn, sql, 0, NULL, NULL, NULL, NULL, 0))
        return send_failed(c, sql, e);
    c->queued[c->n_queued++] = (struct pg_queued){.kind = kind};
    return ERR_OK;
}

enum err_code pg_queue_begin(struct pg_conn *c, struct err *e)
{
    if (queue_command(c, PG_QUEUED_BEGIN, "BEGIN", e))
        return e->code;
    c->in_tx = true;
    return ERR_OK;
}

enum err_code pg_queue_commit(struct pg_conn *c, struct err *e)
{
    assert(c->in_tx);
    return queue_command(c, PG_QUEUED_COMMIT, "COMMIT", e);
}

/* Forgets a Parse that did not happen (failed, or skipped after an earlier error). */
static void unprepare(struct pg_conn *c, const struct pg_stmt *stmt)
{
    for (int i = 0; i < c->n_prepared; i++) {
        if (c->prepared[i] == stmt) {
            c->prepared[i] = c->prepared[--c->n_prepared];
            return;
        }
    }
}

static const char *queued_name(const struct pg_queued *q)
{
    switch (q->kind) {
    case PG_QUEUED_BEGIN:
        return "BEGIN";
    case PG_QUEUED_COMMIT:
        return "COMMIT";
    default:
        return q->stmt->name;
    }
}

/* A request that succeeded: its callback, or the end of the transaction. */
static enum err_code succeeded(struct pg_conn *c, struct pg_queued *q, const PGresult *r,
                               struct err *e)
{
    if (q->kind == PG_QUEUED_COMMIT) {
        /* COMMIT of a failed transaction "succeeds" with the tag ROLLBACK */
        if (strcmp(PQcmdStatus((PGresult *)r), "COMMIT") != 0)
            return err_set(e, ERR_INTERNAL, "transaction was rolled back by the server");
        c->in_tx = false;
        return ERR_OK;
    }
    if (q->kind == PG_QUEUED_STMT && q->on_result)
        return q->on_result(q->ctx.bytes, r, e);
    return ERR_OK;
}

/*
 * The result of the next queued request, and the NULL that ends it. NULL
 * when the connection broke (or answered out of step: then it is of no
 * further use either).
 */
static PGresult *next_result(struct pg_conn *c)
{
    PGresult *r = PQgetResult(c->conn);
    if (!r || PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
        PQclear(r);
        return NULL;
    }
    PGresult *end = PQgetResult(c->conn);
    if (end) { /* one result per request is all we send for */
        PQclear(end);
        PQclear(r);
        return NULL;
    }
    return r;
}

/* Reads every queued request's result; the first failure goes to e. */
static enum err_code read_results(struct pg_conn *c, struct err *e)
{
    enum err_code rc = ERR_OK;
    for (int i = 0; i < c->n_queued; i++) {
        struct pg_queued *q = &c->queued[i];
        PGresult *r = next_result(c);
        if (!r) {
            for (int j = i; j < c->n_queued; j++)
                if (c->queued[j].kind == PG_QUEUED_PREPARE)
                    unprepare(c, c->queued[j].stmt);
            if (rc == ERR_OK)
                rc = pg_conn_fail(c, NULL, queued_name(q), e);
            c->broken = true;
            return rc;
        }
        ExecStatusType st = PQresultStatus(r);
        if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
            enum err_code got = succeeded(c, q, r, e);
            if (rc == ERR_OK)
                rc = got;
        } else {
            if (q->kind == PG_QUEUED_PREPARE)
                unprepare(c, q->stmt);
            if (st != PGRES_PIPELINE_ABORTED && rc == ERR_OK)
                rc = pg_conn_fail(c, r, queued_name(q), e);
        }
        PQclear(r);
    }
    PGresult *sync = PQgetResult(c->conn);
    if (!sync || PQresultStatus(sync) != PGRES_PIPELINE_SYNC) {
        c->broken = true;
        if (rc == ERR_OK)
            rc = err_set(e, ERR_UNAVAILABLE, "database is unavailable");
    }
    PQclear(sync);
    return rc;
}

enum err_code pg_flush(struct pg_conn *c, struct err *e)
{
    if (c->n_queued == 0)
        return ERR_OK;
    c->round_trips++;
    c->sqlstate[0] = '\0'; /* only this exchange's failure counts from here */
    enum err_code rc;
    if (!PQpipelineSync(c->conn)) {
        rc = send_failed(c, "Sync", e);
        for (int i = 0; i < c->n_queued; i++)
            if (c->queued[i].kind == PG_QUEUED_PREPARE)
                unprepare(c, c->queued[i].stmt);
    } else {
        rc = read_results(c, e);
    }
    c->n_queued = 0;
    if (!c->broken && !PQexitPipelineMode(c->conn))
        c->broken = true;
    return rc;
}

void pg_pipeline_discard(struct pg_conn *c)
{
    if (c->n_queued == 0 || !c->conn || c->broken) {
        c->n_queued = 0; /* a broken connection is replaced whole */
        return;
    }
    struct err ignored;
    err_clear(&ignored);
    char sqlstate[sizeof(c->sqlstate)];
    memcpy(sqlstate, c->sqlstate, sizeof(sqlstate));
    for (int i = 0; i < c->n_queued; i++)
        c->queued[i].on_result = NULL; /* whoever queued them has moved on */
    pg_flush(c, &ignored);
    memcpy(c->sqlstate, sqlstate, sizeof(sqlstate)); /* the failure that made us give up stays */
}
