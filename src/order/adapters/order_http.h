/* order_http.h — the order API (driving adapter; ctx = struct order_deps *) and the presenter. */
#ifndef SHOPD_ORDER_ADAPTERS_ORDER_HTTP_H
#define SHOPD_ORDER_ADAPTERS_ORDER_HTTP_H

#include "http/http.h"
#include "order/app/ports.h"

/* POST /api/v1/orders (Idempotency-Key header) → 201 Order, or a replay of the first outcome. */
enum err_code order_http_place(struct http_req *req, struct http_resp *resp, struct err *e);

/* GET /api/v1/orders/{id} → Order. */
enum err_code order_http_get(struct http_req *req, struct http_resp *resp, struct err *e);

/* GET /api/v1/users/{id}/orders?limit=20 → {"items":[Order]} newest first. */
enum err_code order_http_list_by_user(struct http_req *req, struct http_resp *resp, struct err *e);

/* POST /api/v1/orders/{id}/cancel → Order with status CANCELLED. */
enum err_code order_http_cancel(struct http_req *req, struct http_resp *resp, struct err *e);

/* The presenter writing outcomes as the API's JSON (stateless; thread-safe). */
struct order_presenter order_http_presenter(void);

#endif
