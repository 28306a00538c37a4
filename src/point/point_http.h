/* point_http.h — HTTP handlers of the users/points API (ctx = struct point_service *). */
#ifndef SHOPD_POINT_POINT_HTTP_H
#define SHOPD_POINT_POINT_HTTP_H

#include "http/http.h"

/* POST /api/v1/users {"name"} → 201 {"id","name","balance"}. */
enum err_code point_http_create_user(struct http_req *req, struct http_resp *resp, struct err *e);

/* GET /api/v1/users/{id}/points → {"user_id","balance"}. */
enum err_code point_http_balance(struct http_req *req, struct http_resp *resp, struct err *e);

/* POST /api/v1/users/{id}/points/charge {"amount"} → {"user_id","balance"}. */
enum err_code point_http_charge(struct http_req *req, struct http_resp *resp, struct err *e);

/* GET /api/v1/users/{id}/points/history?limit=20&before=ID → {"items":[…],"next_before"}. */
enum err_code point_http_history(struct http_req *req, struct http_resp *resp, struct err *e);

#endif
