/* pg.c — per-thread libpq connections with lazy prepare and reconnect. */
#include "infra/pg.h"

#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/thread_slots.h"
#include "infra/pg_internal.h"

struct pg_pool {
    char *conninfo;
    char connect_timeout[16];
    char options[256];
    struct thread_slots conns; /* one connection per thread */
    atomic_int_fast64_t open;
    atomic_bool down; /* last connect failed: log only transitions */
};

static void conn_close(struct pg_conn *c)
{
    if (c->conn) {
        PQfinish(c->conn);
        c->conn = NULL;
        atomic_fetch_sub(&c->pool->open, 1);
    }
    c->n_prepared = 0;
    c->n_queued = 0;
    c->broken = false;
}

/* Registry destructor: the thread exited or the pool is being freed. */
static void conn_destroy(struct thread_slot *slot)
{
    struct pg_conn *c = (struct pg_conn *)slot;
    conn_close(c);
    free(c);
}

struct pg_pool *pg_pool_new(const struct pg_pool_config *cfg)
{
    struct pg_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->conninfo = strdup(cfg->conninfo);
    if (!p->conninfo || !thread_slots_init(&p->conns, conn_destroy)) {
        free(p->conninfo);
        free(p);
        return NULL;
    }
    snprintf(p->connect_timeout, sizeof(p->connect_timeout), "%u",
             cfg->connect_timeout_s ? cfg->connect_timeout_s : 3);
    char idle[64] = "";
    if (cfg->idle_in_tx_timeout_ms)
        snprintf(idle, sizeof(idle), " -c idle_in_transaction_session_timeout=%u",
                 cfg->idle_in_tx_timeout_ms);
    /*
     * Generic plans: every statement shopd prepares is a key or range lookup
     * whose plan does not depend on its parameters, and with the default
     * (auto) PostgreSQL re-planned several order statements on every
     * execution (~10% of its CPU per order; docs/query-performance.md).
     */
    snprintf(p->options, sizeof(p->options),
             "-c statement_timeout=%u -c plan_cache_mode=force_generic_plan%s%s",
             cfg->statement_timeout_ms, cfg->async_commit ? " -c synchronous_commit=off" : "",
             idle);
    atomic_init(&p->open, 0);
    atomic_init(&p->down, false);
    return p;
}

void pg_pool_free(struct pg_pool *p)
{
    if (!p)
        return;
    thread_slots_cleanup(&p->conns);
    free(p->conninfo);
    free(p);
}

int64_t pg_pool_open_count(void *pool)
{
    return atomic_load(&((struct pg_pool *)pool)->open);
}

/* An idle connection should have nothing to read; if it does, the server closed it. */
static bool idle_conn_is_dead(PGconn *conn)
{
    if (PQstatus(conn) != CONNECTION_OK)
        return true;
    struct pollfd pfd = {.fd = PQsocket(conn), .events = POLLIN};
    if (pfd.fd < 0)
        return true;
    if (poll(&pfd, 1, 0) == 0)
        return false;
    return true;
}

/* Server notices (e.g. "relation already exists, skipping") go to the debug log. */
static void notice_to_log(void *arg, const char *message)
{
    (void)arg;
    log_debug("pg notice: %s", message);
}

static enum err_code conn_open(struct pg_conn *c, struct err *e)
{
    struct pg_pool *p = c->pool;
    const char *keys[] = {"connect_timeout", "application_name", "options", "dbname", NULL};
    const char *vals[] = {p->connect_timeout, "shopd", p->options, p->conninfo, NULL};
    c->conn = PQconnectdbParams(keys, vals, 1);
    if (!c->conn)
        return err_set(e, ERR_UNAVAILABLE, "database is unavailable");
    atomic_fetch_add(&p->open, 1);
    if (PQstatus(c->conn) != CONNECTION_OK) {
        if (!atomic_exchange(&p->down, true))
            log_warn("pg: cannot connect: %s", PQerrorMessage(c->conn));
        conn_close(c);
        return err_set(e, ERR_UNAVAILABLE, "database is unavailable");
    }
    PQsetNoticeProcessor(c->conn, notice_to_log, NULL);
    if (atomic_exchange(&p->down, false))
        log_info("pg: connected again");
    return ERR_OK;
}

struct pg_conn *pg_pool_conn(struct pg_pool *p, struct err *e)
{
    struct pg_conn *c = (struct pg_conn *)thread_slots_get(&p->conns);
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c) {
            err_set(e, ERR_INTERNAL, "out of memory");
            return NULL;
        }
        c->pool = p;
        thread_slots_set(&p->conns, &c->slot);
    }
    if (c->in_tx || c->n_queued > 0) {
        /* inside a transaction or a pipeline: the same connection or nothing */
        if (c->broken || !c->conn) {
            err_set(e, ERR_UNAVAILABLE, "database is unavailable");
            return NULL;
        }
        return c;
    }
    if (c->conn && (c->broken || idle_conn_is_dead(c->conn))) {
        log_info("pg: replacing a broken connection");
        conn_close(c);
    }
    if (!c->conn && conn_open(c, e) != ERR_OK)
        return NULL;
    c->sqlstate[0] = '\0';
    return c;
}

struct pg_conn *pg_pool_conn_current(struct pg_pool *p)
{
    return (struct pg_conn *)thread_slots_get(&p->conns);
}

/* Maps a failed result to an error; marks the connection broken when it is gone. */
enum err_code pg_conn_fail(struct pg_conn *c, const PGresult *r, const char *what, struct err *e)
{
    const char *state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    snprintf(c->sqlstate, sizeof(c->sqlstate), "%s", state ? state : "");
    bool lost = PQstatus(c->conn) != CONNECTION_OK || !state;
    /* 57P0x: the server is shutting down or killed us; 08xxx: connection exception */
    if (lost || strncmp(c->sqlstate, "57P", 3) == 0 || strncmp(c->sqlstate, "08", 2) == 0) {
        c->broken = true;
        log_warn("pg: %s: connection lost: %s", what, PQerrorMessage(c->conn));
        return err_set(e, ERR_UNAVAILABLE, "database is unavailable");
    }
    if (strcmp(c->sqlstate, "40001") == 0 || strcmp(c->sqlstate, "40P01") == 0) {
        log_info("pg: %s: %s, the transaction may be retried", what,
                 c->sqlstate[4] == '1' ? "serialization failure" : "deadlock");
        return err_set(e, ERR_UNAVAILABLE, "database conflict, please retry");
    }
    if (strcmp(c->sqlstate, "57014") == 0) {
        log_warn("pg: %s: statement timed out", what);
        return err_set(e, ERR_UNAVAILABLE, "database did not answer in time");
    }
    /* constraint violations are often expected by callers: log them at debug level */
    if (strncmp(c->sqlstate, "23", 2) == 0 || strncmp(c->sqlstate, "40", 2) == 0)
        log_debug("pg: %s failed (%s): %s", what, c->sqlstate, PQerrorMessage(c->conn));
    else
        log_error("pg: %s failed (%s): %s", what, c->sqlstate, PQerrorMessage(c->conn));
    return err_set(e, ERR_INTERNAL, "database error %s in %s", c->sqlstate, what);
}

bool pg_conn_is_prepared(const struct pg_conn *c, const struct pg_stmt *stmt)
{
    for (int i = 0; i < c->n_prepared; i++)
        if (c->prepared[i] == stmt)
            return true;
    return false;
}

static enum err_code ensure_prepared(struct pg_conn *c, const struct pg_stmt *stmt, struct err *e)
{
    if (pg_conn_is_prepared(c, stmt))
        return ERR_OK;
    if (c->n_prepared >= PG_MAX_PREPARED)
        return err_set(e, ERR_INTERNAL, "too many prepared statements");
    c->round_trips++;
    PGresult *r = PQprepare(c->conn, stmt->name, stmt->sql, stmt->n_params, NULL);
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        enum err_code rc = pg_conn_fail(c, r, stmt->name, e);
        PQclear(r);
        return rc;
    }
    PQclear(r);
    c->prepared[c->n_prepared++] = stmt;
    return ERR_OK;
}

/* A synchronous call while a pipeline is open would read the pipeline's results: refused. */
static bool pipeline_open(const struct pg_conn *c, struct err *e)
{
    if (c->n_queued == 0)
        return false;
    err_set(e, ERR_INTERNAL, "a statement was run while a pipeline was open");
    return true;
}

PGresult *pg_exec(struct pg_conn *c, const struct pg_stmt *stmt, const char *const *params,
                  struct err *e)
{
    if (pipeline_open(c, e))
        return NULL;
    if (ensure_prepared(c, stmt, e) != ERR_OK)
        return NULL;
    c->round_trips++;
    PGresult *r = PQexecPrepared(c->conn, stmt->name, stmt->n_params, params, NULL, NULL, 0);
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK) {
        c->sqlstate[0] = '\0';
        return r;
    }
    pg_conn_fail(c, r, stmt->name, e);
    PQclear(r);
    return NULL;
}

enum err_code pg_command(struct pg_conn *c, const char *sql, struct err *e)
{
    if (pipeline_open(c, e))
        return e->code;
    c->round_trips++;
    PGresult *r = PQexec(c->conn, sql);
    if (r && PQresultStatus(r) == PGRES_COMMAND_OK) {
        PQclear(r);
        c->sqlstate[0] = '\0';
        return ERR_OK;
    }
    enum err_code rc = pg_conn_fail(c, r, sql, e);
    PQclear(r);
    return rc;
}

enum err_code pg_tx_begin(struct pg_conn *c, struct err *e)
{
    if (pg_command(c, "BEGIN", e) != ERR_OK)
        return e->code;
    c->in_tx = true;
    return ERR_OK;
}

enum err_code pg_tx_commit(struct pg_conn *c, struct err *e)
{
    if (pipeline_open(c, e))
        return e->code;
    c->round_trips++;
    PGresult *r = PQexec(c->conn, "COMMIT");
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK) {
        enum err_code rc = pg_conn_fail(c, r, "COMMIT", e); /* the caller still rolls back */
        PQclear(r);
        return rc;
    }
    /* COMMIT of a failed transaction "succeeds" with the tag ROLLBACK */
    bool committed = strcmp(PQcmdStatus(r), "COMMIT") == 0;
    PQclear(r);
    if (!committed)
        return err_set(e, ERR_INTERNAL, "transaction was rolled back by the server");
    c->in_tx = false;
    return ERR_OK;
}

void pg_tx_rollback(struct pg_conn *c)
{
    pg_pipeline_discard(c);
    c->in_tx = false;
    if (!c->conn || c->broken)
        return;
    c->round_trips++;
    PGresult *r = PQexec(c->conn, "ROLLBACK");
    if (!r || PQresultStatus(r) != PGRES_COMMAND_OK)
        c->broken = true; /* replaced on next use */
    PQclear(r);
}

bool pg_conn_in_tx(const struct pg_conn *c)
{
    return c->in_tx;
}

bool pg_pool_in_tx(struct pg_pool *p)
{
    const struct pg_conn *c = pg_pool_conn_current(p);
    return c && c->in_tx;
}

bool pg_conn_failure_retryable(const struct pg_conn *c)
{
    return strcmp(c->sqlstate, "40001") == 0 || strcmp(c->sqlstate, "40P01") == 0;
}

const char *pg_conn_sqlstate(const struct pg_conn *c)
{
    return c->sqlstate;
}

PGconn *pg_conn_raw(struct pg_conn *c)
{
    return c->conn;
}

int64_t pg_get_i64(const PGresult *r, int row, int col)
{
    if (PQgetisnull(r, row, col))
        return 0;
    return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

const char *pg_i64_param(int64_t v, char buf[21])
{
    snprintf(buf, 21, "%lld", (long long)v);
    return buf;
}

uint64_t pg_conn_round_trips(const struct pg_conn *c)
{
    return c->round_trips;
}

char *pg_i64_array(const int64_t *v, size_t n)
{
    size_t cap = n * 21 + 3, len = 0; /* "{" + up to 20 characters and a comma each + "}" */
    char *text = malloc(cap);
    if (!text)
        return NULL;
    text[len++] = '{';
    for (size_t i = 0; i < n; i++)
        len += (size_t)snprintf(text + len, cap - len, i ? ",%lld" : "%lld", (long long)v[i]);
    text[len++] = '}';
    text[len] = '\0';
    return text;
}
