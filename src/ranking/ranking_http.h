/* ranking_http.h — GET /api/v1/products/popular (ctx = struct ranking_service *). */
#ifndef SHOPD_RANKING_RANKING_HTTP_H
#define SHOPD_RANKING_RANKING_HTTP_H

#include "http/http.h"
#include "ranking/ranking.h"

/*
 * {"days":days,"items":[Product + "sold"]} of items[0..n) (borrowed), or
 * NULL when any jansson call failed (never a shorter list). The caller owns
 * the result. Thread-safe.
 */
json_t *ranking_popular_to_json(int64_t days, const struct popular_product *items, size_t n);

/* ?days=3&limit=5 → {"days":3,"items":[Product + "sold"]}. */
enum err_code ranking_http_popular(struct http_req *req, struct http_resp *resp, struct err *e);

#endif
