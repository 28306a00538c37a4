/* coupon_async_http.h — the asynchronous issuance API (ctx = struct coupon_async *). */
#ifndef SHOPD_COUPON_COUPON_ASYNC_HTTP_H
#define SHOPD_COUPON_COUPON_ASYNC_HTTP_H

#include "coupon/coupon.h"
#include "http/http.h"

/*
 * POST /api/v1/coupons/{id}/issue-requests {"user_id"} → 202 IssueRequest,
 * Location: /api/v1/coupon-issue-requests/{request_id}.
 */
enum err_code coupon_async_http_request(struct http_req *req, struct http_resp *resp,
                                        struct err *e);

/* GET /api/v1/coupon-issue-requests/{id} → IssueRequest. */
enum err_code coupon_async_http_get(struct http_req *req, struct http_resp *resp, struct err *e);

/* The API's IssueRequest JSON: a new reference, or NULL when it could not be built. Thread-safe. */
json_t *coupon_request_to_json(const struct coupon_request *r);

#endif
