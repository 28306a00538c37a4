/* coupon_http.h — the coupon API (ctx = struct coupon_service *). */
#ifndef SHOPD_COUPON_COUPON_HTTP_H
#define SHOPD_COUPON_COUPON_HTTP_H

#include "http/http.h"

/* POST /api/v1/coupons (admin) → 201 Coupon. */
enum err_code coupon_http_create(struct http_req *req, struct http_resp *resp, struct err *e);

/* GET /api/v1/coupons/{id} → Coupon. */
enum err_code coupon_http_get(struct http_req *req, struct http_resp *resp, struct err *e);

/* POST /api/v1/coupons/{id}/issue {"user_id"} → 201 UserCoupon. */
enum err_code coupon_http_issue(struct http_req *req, struct http_resp *resp, struct err *e);

/* GET /api/v1/users/{id}/coupons?status=AVAILABLE → {"items":[UserCoupon]}. */
enum err_code coupon_http_list(struct http_req *req, struct http_resp *resp, struct err *e);

#endif
