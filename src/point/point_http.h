/* point_http.h — HTTP handlers of the users/points API (ctx = struct point_service *). */
#ifndef SHOPD_POINT_POINT_HTTP_H
#define SHOPD_POINT_POINT_HTTP_H

#include "http/http.h"
#include "point/point_service.h"

/* POST /api/v1/users {"name"} → 201 {"id","name","balance"}. */
enum err_code point_http_create_user(struct http_req *req, struct http_resp *resp, struct err *e);

/* GET /api/v1/users/{id}/points → {"user_id","balance"}. */
enum err_code point_http_balance(struct http_req *req, struct http_resp *resp, struct err *e);

/* POST /api/v1/users/{id}/points/charge {"amount"} → {"user_id","balance"}. */
enum err_code point_http_charge(struct http_req *req, struct http_resp *resp, struct err *e);

/* GET /api/v1/users/{id}/points/history?limit=20&before=ID → {"items":[…],"next_before"}. */
enum err_code point_http_history(struct http_req *req, struct http_resp *resp, struct err *e);

/*
 * The API's JSON of a balance {"user_id","balance"}, a user, a ledger entry,
 * and a history page {"items","next_before"}: a new reference, or NULL when
 * any part could not be built (out of memory, a name that is not UTF-8, a
 * created_at outside TIMEFMT_EPOCH_MIN..TIMEFMT_EPOCH_MAX) — never a partial
 * document. Thread-safe.
 */
json_t *point_balance_to_json(int64_t user_id, int64_t balance);
json_t *point_user_to_json(const struct point_user *u);
json_t *point_entry_to_json(const struct point_entry *p);
json_t *point_history_to_json(const struct point_history *h);

#endif
