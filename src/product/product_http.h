/* product_http.h — HTTP handlers of the product API (ctx = struct product_service *). */
#ifndef SHOPD_PRODUCT_PRODUCT_HTTP_H
#define SHOPD_PRODUCT_PRODUCT_HTTP_H

#include "http/http.h"
#include "product/product.h"
#include "product/product_service.h"

/* GET /api/v1/products?limit=20&after=0 → {"items":[Product],"next_after":id|null}. */
enum err_code product_http_list(struct http_req *req, struct http_resp *resp, struct err *e);

/* GET /api/v1/products/{id} → Product. */
enum err_code product_http_get(struct http_req *req, struct http_resp *resp, struct err *e);

/* POST /api/v1/products (admin) {"name","price","stock"} → 201 Product. */
enum err_code product_http_create(struct http_req *req, struct http_resp *resp, struct err *e);

/*
 * The Product JSON object for p, and a list page {"items","next_after"}: a new
 * reference, or NULL when any part could not be built (out of memory, a name
 * that is not UTF-8) — never a partial document. Thread-safe.
 */
json_t *product_to_json(const struct product *p);
json_t *product_page_to_json(const struct product_page *page);

#endif
