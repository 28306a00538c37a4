/* ops_http.h — operational endpoints: /healthz, /readyz, /metrics, outbox requeue. */
#ifndef SHOPD_COMPOSITION_OPS_HTTP_H
#define SHOPD_COMPOSITION_OPS_HTTP_H

#include "http/http.h"
#include "http/metrics.h"
#include "infra/pg.h"
#include "infra/redis.h"

/* What the ops handlers look at (all borrowed). The ctx of their routes. */
struct ops_ctx {
    struct pg_pool *pg;
    struct redis_pool *redis;
    struct metrics *metrics;
};

/*
 * POST /api/v1/admin/outbox/requeue (admin) → 200 {"requeued":N}: parked
 * (FAILED) outbox events go back to PENDING, due now. 503 when PostgreSQL
 * does not answer.
 */
enum err_code ops_http_outbox_requeue(struct http_req *req, struct http_resp *resp, struct err *e);

/* GET /healthz → 200 {"status":"ok"} while the process runs. */
enum err_code ops_http_healthz(struct http_req *req, struct http_resp *resp, struct err *e);

/* GET /readyz → 200 when PostgreSQL and Redis answer, else 503 SERVICE_UNAVAILABLE. */
enum err_code ops_http_readyz(struct http_req *req, struct http_resp *resp, struct err *e);

/* GET /metrics → Prometheus text exposition. */
enum err_code ops_http_metrics(struct http_req *req, struct http_resp *resp, struct err *e);

#endif
