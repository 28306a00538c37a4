/* order_http.c — order endpoints: decode, run the use case, send its outcome. */
#include "order/adapters/order_http.h"

#include <stdlib.h>
#include <string.h>

#include "http/json_body.h"
#include "http/problem.h"
#include "order/adapters/order_json.h"
#include "order/app/cancel_order.h"
#include "order/app/place_order.h"
#include "order/app/read_orders.h"

/* ---- presenter: the API's encoding of first outcomes (stored for replay) ---- */

static char *dump(json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    return text;
}

static bool present_placed(void *self, const struct order *o, struct recorded_outcome *out)
{
    (void)self;
    *out = (struct recorded_outcome){201, dump(order_json(o))};
    return out->body != NULL;
}

static bool present_refused(void *self, const struct err *e, struct recorded_outcome *out)
{
    (void)self;
    *out = (struct recorded_outcome){err_http_status(e->code), dump(problem_new(e))};
    return out->body != NULL;
}

static const struct order_presenter_ops http_presenter_ops = {
    .placed = present_placed,
    .refused = present_refused,
};

struct order_presenter order_http_presenter(void)
{
    return (struct order_presenter){.ops = &http_presenter_ops, .self = NULL};
}

/* ---- handlers ---- */

/* Sends body (malloc'd; the response takes it) with status. */
static enum err_code send_body(struct http_resp *resp, int status, char *body, struct err *e)
{
    if (!body)
        return err_set(e, ERR_INTERNAL, "out of memory rendering an answer");
    http_resp_raw(resp, status, status >= 400 ? "application/problem+json" : "application/json",
                  body, strlen(body));
    return ERR_OK;
}

/* Sends o as the API's Order with status. */
static enum err_code send_order(struct http_resp *resp, int status, const struct order *o,
                                struct err *e)
{
    return send_body(resp, status, dump(order_json(o)), e);
}

/*
 * Sends the key's first outcome as it was recorded (the same bytes for the
 * first answer and every replay), marked when it is a replay.
 */
static enum err_code send_recorded(struct http_resp *resp, struct recorded_outcome *recorded,
                                   bool replayed, struct err *e)
{
    enum err_code rc = send_body(resp, recorded->status, recorded->body, e);
    recorded->body = NULL; /* the response owns it now */
    if (rc == ERR_OK && replayed)
        http_resp_header(resp, "Idempotent-Replayed", "true");
    return rc;
}

/* items: [{"product_id": id, "quantity": n}, …] → out (capacity ORDER_MAX_LINES). */
static enum err_code decode_items(json_t *items, struct order_item *out, struct arena *a,
                                  struct err *e)
{
    for (size_t i = 0; i < json_array_size(items); i++) {
        const struct body_field fields[] = {
            {"product_id", BODY_FIELD_INT, true, 1, INT64_MAX, &out[i].product_id, NULL},
            {"quantity", BODY_FIELD_INT, true, 1, ORDER_MAX_LINE_QUANTITY, &out[i].quantity, NULL},
        };
        json_t *item = json_array_get(items, i);
        if (!json_is_object(item))
            return err_set_field(e, ERR_INVALID_REQUEST, "items", "items[%zu] must be an object",
                                 i);
        if (body_object_decode(item, fields, 2, a, e)) {
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
    const struct body_field fields[] = {
        {"user_id", BODY_FIELD_INT, true, 1, INT64_MAX, &user_id, NULL},
        {"items", BODY_FIELD_ARRAY, true, 1, ORDER_MAX_LINES, &items, NULL},
        {"coupon_id", BODY_FIELD_INT, false, 1, INT64_MAX, &coupon_id, NULL},
    };
    struct order_item lines[ORDER_MAX_LINES];
    enum err_code rc = body_decode(req->body, req->body_len, fields, 3, req->arena, e);
    if (rc == ERR_OK)
        rc = decode_items(items, lines, req->arena, e);
    if (rc == ERR_OK) {
        struct place_order_cmd cmd = {user_id, lines, json_array_size(items), coupon_id, key};
        struct place_order_outcome outcome;
        rc = order_place(d, &cmd, &outcome, e);
        if (rc == ERR_OK)
            rc = send_recorded(resp, &outcome.recorded, outcome.replayed, e);
        place_order_outcome_cleanup(&outcome);
    }
    json_decref(items);
    return rc;
}

enum err_code order_http_get(struct http_req *req, struct http_resp *resp, struct err *e)
{
    struct order o;
    enum err_code rc = order_get(req->ctx, req->path_ids[0], http_req_acting_user(req), &o, e);
    if (rc == ERR_OK)
        rc = send_order(resp, 200, &o, e);
    order_cleanup(&o);
    return rc;
}

/* {"items":[Order...]} as text, or NULL */
static char *order_list_body(const struct order_list *list)
{
    return dump(order_list_json(list->items, list->n));
}

enum err_code order_http_list_by_user(struct http_req *req, struct http_resp *resp, struct err *e)
{
    int64_t limit;
    if (http_req_query_int(req, "limit", 20, 1, ORDER_LIST_MAX, &limit, e))
        return e->code;
    struct order_list list;
    enum err_code rc = order_list_by_user(req->ctx, req->path_ids[0], limit, &list, e);
    if (rc == ERR_OK)
        rc = send_body(resp, 200, order_list_body(&list), e);
    order_list_cleanup(&list);
    return rc;
}

enum err_code order_http_cancel(struct http_req *req, struct http_resp *resp, struct err *e)
{
    struct order o;
    enum err_code rc = order_cancel(req->ctx, req->path_ids[0], http_req_acting_user(req), &o, e);
    if (rc == ERR_OK)
        rc = send_order(resp, 200, &o, e);
    order_cleanup(&o);
    return rc;
}
