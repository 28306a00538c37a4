/* ranking_http.h — GET /api/v1/products/popular (ctx = struct ranking_service *). */
#ifndef SHOPD_RANKING_RANKING_HTTP_H
#define SHOPD_RANKING_RANKING_HTTP_H

#include "http/http.h"

/* ?days=3&limit=5 → {"days":3,"items":[Product + "sold"]}. */
enum err_code ranking_http_popular(struct http_req *req, struct http_resp *resp, struct err *e);

#endif
