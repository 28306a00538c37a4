/* order_http.c — order endpoints: decode, run the use case, send its outcome. */
#include "order/adapters/order_http.h"

#include <stdlib.h>
#include <string.h>

#include "http/json_body.h"
#include "http/problem.h"
#include "order/adapters/order_json.h"
#include "order/app/cancel_order.h"
#include "order/app/place_order.h"

/* ---- presenter: the API's encoding of outcomes (stored for replay) ---- */

static char *dump(json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

static char *present_order(void *self, const struct order *o)
{
    (void)self;
    return dump(order_json(o));
}

static char *present_order_list(void *self, const struct order *orders, size_t n)
{
    (void)self;
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        if (json_array_append_new(items, order_json(&orders[i])) != 0) { /* never a short list */
            json_decref(items);
            return NULL;
        }
    }
    return dump(json_pack("{s:o}", "items", items));
}

static char *present_error(void *self, const struct err *e)
{
    (void)self;
    return dump(problem_new(e));
}

static const struct order_presenter_ops json_presenter_ops = {
    .order_body = present_order,
    .order_list_body = present_order_list,
    .error_body = present_error,
};

struct order_presenter order_http_presenter(void)
{
    return (struct order_presenter){.ops = &json_presenter_ops, .self = NULL};
}

/* ---- handlers ---- */

/* Sends a use case's outcome as it is (the same bytes a replay sends). */
static void send_result(struct http_resp *resp, struct order_result *r)
{
    size_t len = strlen(r->body);
    http_resp_raw(resp, r->status,
                  r->status >= 400 ? "application/problem+json" : "application/json", r->body, len);
    r->body = NULL; /* the response owns it now */
    if (r->replayed)
        http_resp_header(resp, "Idempotent-Replayed", "true");
}

/* items: [{"product_id": id, "quantity": n}, …] → out (capacity ORDER_MAX_LINES). */
static enum err_code decode_items(json_t *items, struct order_item *out, struct arena *a,
                                  struct err *e)
{
    for (size_t i = 0; i < json_array_size(items); i++) {
        const struct json_field fields[] = {
            {"product_id", JSON_FIELD_INT, true, 1, INT64_MAX, &out[i].product_id, NULL},
            {"quantity", JSON_FIELD_INT, true, 1, ORDER_MAX_LINE_QUANTITY, &out[i].quantity, NULL},
        };
        json_t *item = json_array_get(items, i);
        if (!json_is_object(item))
            return err_set_field(e, ERR_INVALID_REQUEST, "items", "items[%zu] must be an object",
                                 i);
        if (json_object_decode(item, fields, 2, a, e)) {
            char detail[sizeof(e->detail)];
            memcpy(detail, e->detail, sizeof(detail));
            return err_set_field(e, ERR_INVALID_REQUEST, "items", "items[%zu]: %.200s", i, detail);
        }
    }
    return ERR_OK;
}

enum err_code order_http_place(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct order_deps *d = req->ctx;
    const char *key = http_req_header(req, "Idempotency-Key");
    if (!key || !order_idempotency_key_valid(key))
        return err_set(e, ERR_IDEMPOTENCY_KEY_REQUIRED,
                       "Idempotency-Key header must be 1 to %d printable ASCII characters",
                       ORDER_KEY_MAX);
    int64_t user_id = 0, coupon_id = 0;
    json_t *items = NULL;
    const struct json_field fields[] = {
        {"user_id", JSON_FIELD_INT, true, 1, INT64_MAX, &user_id, NULL},
        {"items", JSON_FIELD_ARRAY, true, 1, ORDER_MAX_LINES, &items, NULL},
        {"coupon_id", JSON_FIELD_INT, false, 1, INT64_MAX, &coupon_id, NULL},
    };
    struct order_item lines[ORDER_MAX_LINES];
    enum err_code rc = json_body_decode(req->body, req->body_len, fields, 3, req->arena, e);
    if (rc == ERR_OK)
        rc = decode_items(items, lines, req->arena, e);
    if (rc == ERR_OK) {
        struct place_order_cmd cmd = {user_id, lines, json_array_size(items), coupon_id, key};
        struct order_result result;
        rc = place_order(d, &cmd, &result, e);
        if (rc == ERR_OK)
            send_result(resp, &result);
        order_result_cleanup(&result);
    }
    json_decref(items);
    return rc;
}

enum err_code order_http_get(struct http_req *req, struct http_resp *resp, struct err *e)
{
    struct order_result result;
    enum err_code rc = get_order(req->ctx, req->path_ids[0], &result, e);
    if (rc == ERR_OK)
        send_result(resp, &result);
    order_result_cleanup(&result);
    return rc;
}

enum err_code order_http_list_by_user(struct http_req *req, struct http_resp *resp, struct err *e)
{
    int64_t limit;
    if (http_req_query_int(req, "limit", 20, 1, 100, &limit, e))
        return e->code;
    struct order_result result;
    enum err_code rc = list_user_orders(req->ctx, req->path_ids[0], limit, &result, e);
    if (rc == ERR_OK)
        send_result(resp, &result);
    order_result_cleanup(&result);
    return rc;
}

enum err_code order_http_cancel(struct http_req *req, struct http_resp *resp, struct err *e)
{
    struct order_result result;
    enum err_code rc = cancel_order(req->ctx, req->path_ids[0], &result, e);
    if (rc == ERR_OK)
        send_result(resp, &result);
    order_result_cleanup(&result);
    return rc;
}
