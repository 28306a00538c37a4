/* ranking_http.c — popular products endpoint. */
#include "ranking/ranking_http.h"

#include "ranking/ranking_service.h"

/* One item of the answer, or NULL on OOM. */
static json_t *item_json(const struct popular_product *p)
{
    return json_pack("{s:I, s:s, s:I, s:I, s:I}", "id", (json_int_t)p->id, "name", p->name, "price",
                     (json_int_t)p->price, "stock", (json_int_t)p->stock, "sold",
                     (json_int_t)p->sold);
}

json_t *ranking_popular_to_json(int64_t days, const struct popular_product *items, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        /* json_array_append_new takes the item even when it fails (and NULL, or a NULL list,
         * fails) */
        if (json_array_append_new(list, item_json(&items[i]))) {
            json_decref(list);
            return NULL;
        }
    }
    /* "o" steals list, also when json_pack fails (and a NULL list fails it) */
    return json_pack("{s:I, s:o}", "days", (json_int_t)days, "items", list);
}

enum err_code ranking_http_popular(struct http_req *req, struct http_resp *resp, struct err *e)
{
    int64_t days, limit;
    if (http_req_query_int(req, "days", 3, 1, RANKING_DAYS_MAX, &days, e) ||
        http_req_query_int(req, "limit", 5, 1, RANKING_LIMIT_MAX, &limit, e))
        return e->code;
    /* up to 100 × ~830 bytes: the request's arena, not the worker's stack */
    struct popular_product *items = arena_alloc(req->arena, (size_t)limit * sizeof(*items));
    if (!items)
        return err_set(e, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    if (ranking_service_popular(req->ctx, days, limit, items, &n, e))
        return e->code;
    return http_resp_json_built(resp, 200, ranking_popular_to_json(days, items, n),
                                "popular products", e);
}
