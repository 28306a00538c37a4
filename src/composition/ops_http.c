/* ops_http.c — liveness, readiness, metrics and the outbox requeue. */
#include "composition/ops_http.h"

#include <string.h>

#include "core/log.h"
#include "infra/outbox_relay.h"

static const struct pg_stmt stmt_ping = {"ops_ping", "SELECT 1", 0};

enum err_code ops_http_healthz(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    return http_resp_json_built(resp, 200, json_pack("{s:s}", "status", "ok"), "health", e);
}

static bool pg_ready(struct pg_pool *pool)
{
    struct err e;
    err_clear(&e);
    struct pg_conn *c = pg_pool_conn(pool, &e);
    if (!c)
        return false;
    PGresult *r = pg_exec(c, &stmt_ping, NULL, &e);
    PQclear(r);
    return r != NULL;
}

static bool redis_ready(struct redis_pool *pool)
{
    struct err e;
    err_clear(&e);
    redisReply *r = redis_command(pool, &e, "PING");
    bool ok = r && r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0;
    freeReplyObject(r);
    return ok;
}

enum err_code ops_http_readyz(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct ops_ctx *ops = req->ctx;
    bool pg = pg_ready(ops->pg);
    bool redis = redis_ready(ops->redis);
    if (!pg || !redis)
        return err_set(e, ERR_UNAVAILABLE, "not ready: postgres %s, redis %s", pg ? "up" : "down",
                       redis ? "up" : "down");
    return http_resp_json_built(
        resp, 200, json_pack("{s:s, s:s, s:s}", "status", "ready", "postgres", "up", "redis", "up"),
        "readiness", e);
}

enum err_code ops_http_metrics(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct ops_ctx *ops = req->ctx;
    size_t len;
    char *text = metrics_render(ops->metrics, &len);
    if (!text)
        return err_set(e, ERR_INTERNAL, "out of memory rendering metrics");
    http_resp_raw(resp, 200, "text/plain; version=0.0.4; charset=utf-8", text, len);
    return ERR_OK;
}

enum err_code ops_http_outbox_requeue(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct ops_ctx *ops = req->ctx;
    int64_t n = outbox_requeue_failed(ops->pg, e);
    if (n < 0)
        return e->code;
    log_info("outbox: %lld parked events requeued by an admin", (long long)n);
    return http_resp_json_built(resp, 200, json_pack("{s:I}", "requeued", (json_int_t)n), "requeue",
                                e);
}
