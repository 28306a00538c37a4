/* ranking_http.c — popular products endpoint. */
#include "ranking/ranking_http.h"

#include "ranking/ranking_service.h"

enum err_code ranking_http_popular(struct http_req *req, struct http_resp *resp, struct err *e)
{
    int64_t days, limit;
    if (http_req_query_int(req, "days", 3, 1, RANKING_DAYS_MAX, &days, e) ||
        http_req_query_int(req, "limit", 5, 1, RANKING_LIMIT_MAX, &limit, e))
        return e->code;
    struct popular_product items[RANKING_LIMIT_MAX];
    size_t n = 0;
    if (ranking_service_popular(req->ctx, days, limit, items, &n, e))
        return e->code;
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            list, json_pack("{s:I, s:s, s:I, s:I, s:I}", "id", (json_int_t)items[i].id, "name",
                            items[i].name, "price", (json_int_t)items[i].price, "stock",
                            (json_int_t)items[i].stock, "sold", (json_int_t)items[i].sold));
    http_resp_json(resp, 200, json_pack("{s:I, s:o}", "days", (json_int_t)days, "items", list));
    return ERR_OK;
}
