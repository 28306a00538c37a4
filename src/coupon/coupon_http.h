/* coupon_http.h — the coupon API (ctx = struct coupon_service *). */
#ifndef SHOPD_COUPON_COUPON_HTTP_H
#define SHOPD_COUPON_COUPON_HTTP_H

#include "coupon/coupon.h"
#include "http/http.h"

/* POST /api/v1/coupons (admin) → 201 Coupon. */
enum err_code coupon_http_create(struct http_req *req, struct http_resp *resp, struct err *e);

/* GET /api/v1/coupons/{id} → Coupon. */
enum err_code coupon_http_get(struct http_req *req, struct http_resp *resp, struct err *e);

/* POST /api/v1/coupons/{id}/issue {"user_id"} → 201 UserCoupon. */
enum err_code coupon_http_issue(struct http_req *req, struct http_resp *resp, struct err *e);

/* GET /api/v1/users/{id}/coupons?status=AVAILABLE → {"items":[UserCoupon]}. */
enum err_code coupon_http_list(struct http_req *req, struct http_resp *resp, struct err *e);

/*
 * The API's JSON of a Coupon, a UserCoupon, and {"items":[UserCoupon]} for
 * items[0..n): a new reference, or NULL when any part of it could not be
 * built (out of memory, a name that is not UTF-8, a timestamp outside
 * TIMEFMT_EPOCH_MIN..TIMEFMT_EPOCH_MAX) — never a partial document. Thread-safe.
 */
json_t *coupon_to_json(const struct coupon *c);
json_t *user_coupon_to_json(const struct user_coupon *u);
json_t *user_coupon_list_to_json(const struct user_coupon *items, size_t n);

#endif
