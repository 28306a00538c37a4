/* product_http.c — product API: decode, call the service, encode. */
#include "product/product_http.h"

#include "http/json_body.h"
#include "product/product_service.h"

/* json_pack returns NULL when anything fails (OOM, a name that is not UTF-8). */
json_t *product_to_json(const struct product *p)
{
    return json_pack("{s:I, s:s, s:I, s:I}", "id", (json_int_t)p->id, "name", p->name, "price",
                     (json_int_t)p->price, "stock", (json_int_t)p->stock);
}

json_t *product_page_to_json(const struct product_page *page)
{
    json_t *items = json_array();
    for (size_t i = 0; i < page->n; i++) {
        /* steals the item, NULL included; fails on a NULL array or item */
        if (json_array_append_new(items, product_to_json(&page->items[i]))) {
            json_decref(items);
            return NULL;
        }
    }
    return json_pack("{s:o, s:o}", "items", items, "next_after",
                     page->has_more ? json_integer(page->next_after) : json_null());
}

/* Sets body (stolen) as the response; ERR_INTERNAL when building it failed (NULL). */
static enum err_code respond(struct http_resp *resp, int status, json_t *body, struct err *e)
{
    return http_resp_json_built(resp, status, body, "product", e);
}

enum err_code product_http_list(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct product_service *svc = req->ctx;
    int64_t limit, after;
    if (http_req_query_int(req, "limit", 20, 1, PRODUCT_LIST_MAX, &limit, e) ||
        http_req_query_int(req, "after", 0, 0, INT64_MAX, &after, e))
        return e->code;
    struct product_page page;
    if (product_service_list(svc, after, limit, &page, e))
        return e->code;
    json_t *body = product_page_to_json(&page);
    product_page_cleanup(&page);
    return respond(resp, 200, body, e);
}

enum err_code product_http_get(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct product_service *svc = req->ctx;
    struct product p;
    if (product_service_get(svc, req->path_ids[0], &p, e))
        return e->code;
    return respond(resp, 200, product_to_json(&p), e);
}

enum err_code product_http_create(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct product_service *svc = req->ctx;
    const char *name = NULL;
    int64_t price = 0, stock = 0;
    const struct body_field fields[] = {
        {"name", BODY_FIELD_STRING, true, 1, PRODUCT_NAME_MAX_CHARS, &name, NULL},
        {"price", BODY_FIELD_INT, true, 0, PRODUCT_PRICE_MAX, &price, NULL},
        {"stock", BODY_FIELD_INT, true, 0, PRODUCT_STOCK_MAX, &stock, NULL},
    };
    if (body_decode(req->body, req->body_len, fields, 3, req->arena, e))
        return e->code;
    struct product p;
    if (product_service_create(svc, name, price, stock, &p, e))
        return e->code;
    return respond(resp, 201, product_to_json(&p), e);
}
