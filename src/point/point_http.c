/* point_http.c — users/points API: decode, call the service, encode. */
#include "point/point_http.h"

#include <string.h>

#include "core/timefmt.h"
#include "http/json_body.h"
#include "http/problem.h"
#include "point/point_service.h"

/* json_pack returns NULL when anything fails (OOM, a NULL or non-UTF-8 string, a NULL "o"). */
json_t *point_balance_to_json(int64_t user_id, int64_t balance)
{
    return json_pack("{s:I, s:I}", "user_id", (json_int_t)user_id, "balance", (json_int_t)balance);
}

json_t *point_user_to_json(const struct point_user *u)
{
    return json_pack("{s:I, s:s, s:I}", "id", (json_int_t)u->id, "name", u->name, "balance",
                     (json_int_t)u->balance);
}

json_t *point_entry_to_json(const struct point_entry *p)
{
    char created[TIMEFMT_RFC3339_LEN];
    bool dated = timefmt_rfc3339(p->created_at, created); /* else NULL: json_pack fails */
    return json_pack("{s:I, s:s, s:I, s:I, s:o, s:s}", "id", (json_int_t)p->id, "type",
                     point_entry_type_name(p->type), "amount", (json_int_t)p->amount,
                     "balance_after", (json_int_t)p->balance_after, "order_id",
                     p->order_id ? json_integer(p->order_id) : json_null(), "created_at",
                     dated ? created : NULL);
}

json_t *point_history_to_json(const struct point_history *h)
{
    json_t *items = json_array();
    for (size_t i = 0; i < h->n; i++) {
        /* steals the entry, NULL included; fails on a NULL array or entry */
        if (json_array_append_new(items, point_entry_to_json(&h->items[i]))) {
            json_decref(items);
            return NULL;
        }
    }
    return json_pack("{s:o, s:o}", "items", items, "next_before",
                     h->has_more ? json_integer(h->next_before) : json_null());
}

/* Sets body (stolen) as the response; ERR_INTERNAL when building it failed (NULL). */
static enum err_code respond(struct http_resp *resp, int status, json_t *body, struct err *e)
{
    return http_resp_json_built(resp, status, body, "points", e);
}

enum err_code point_http_create_user(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct point_service *svc = req->ctx;
    const char *name = NULL, *password = NULL;
    const struct body_field fields[] = {
        {"name", BODY_FIELD_STRING, true, 1, POINT_USER_NAME_MAX_CHARS, &name, NULL},
        {"password", BODY_FIELD_STRING, true, PASSWORD_MIN, PASSWORD_MAX, &password, NULL},
    };
    if (body_decode(req->body, req->body_len, fields, 2, req->arena, e))
        return e->code;
    struct point_user u;
    if (point_service_create_user(svc, name, password, &u, e))
        return e->code;
    return respond(resp, 201, point_user_to_json(&u), e);
}

enum err_code point_http_balance(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct point_service *svc = req->ctx;
    int64_t user_id = req->path_ids[0], balance;
    if (point_service_balance(svc, user_id, &balance, e))
        return e->code;
    return respond(resp, 200, point_balance_to_json(user_id, balance), e);
}

static bool render_ok(int64_t user_id, int64_t balance, struct recorded_outcome *out)
{
    json_t *doc = point_balance_to_json(user_id, balance);
    *out = (struct recorded_outcome){200, doc ? json_dumps(doc, JSON_COMPACT) : NULL};
    json_decref(doc);
    return out->body != NULL;
}

static bool render_refusal(const struct err *e, struct recorded_outcome *out)
{
    json_t *doc = problem_new(e);
    *out = (struct recorded_outcome){err_http_status(e->code),
                                     doc ? json_dumps(doc, JSON_COMPACT) : NULL};
    json_decref(doc);
    return out->body != NULL;
}

static const struct point_charge_renderer charge_renderer = {render_ok, render_refusal};

/* A charge with an Idempotency-Key: applied once, retries get the first outcome. */
static enum err_code charge_once(struct http_req *req, struct http_resp *resp, int64_t amount,
                                 const char *key, struct err *e)
{
    struct point_charge_outcome out;
    enum err_code rc = point_service_charge_once(req->ctx, req->path_ids[0], amount, key,
                                                 &charge_renderer, &out, e);
    if (rc != ERR_OK)
        return rc;
    http_resp_raw(resp, out.status,
                  out.status >= 400 ? "application/problem+json" : "application/json", out.body,
                  strlen(out.body));
    if (out.replayed)
        http_resp_header(resp, "Idempotent-Replayed", "true");
    return ERR_OK;
}

enum err_code point_http_charge(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct point_service *svc = req->ctx;
    int64_t user_id = req->path_ids[0], amount = 0, balance;
    const struct body_field fields[] = {
        /* the range is the service's to judge (INVALID_AMOUNT), not the decoder's */
        {"amount", BODY_FIELD_INT, true, INT64_MIN, INT64_MAX, &amount, NULL},
    };
    if (body_decode(req->body, req->body_len, fields, 1, req->arena, e))
        return e->code;
    const char *key = http_req_header(req, "Idempotency-Key");
    if (key)
        return charge_once(req, resp, amount, key, e);
    if (point_service_charge(svc, user_id, amount, &balance, e))
        return e->code;
    return respond(resp, 200, point_balance_to_json(user_id, balance), e);
}

enum err_code point_http_history(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct point_service *svc = req->ctx;
    int64_t limit, before;
    if (http_req_query_int(req, "limit", 20, 1, POINT_HISTORY_MAX, &limit, e) ||
        http_req_query_int(req, "before", 0, 0, INT64_MAX, &before, e))
        return e->code;
    struct point_history h;
    if (point_service_history(svc, req->path_ids[0], before, limit, &h, e))
        return e->code;
    json_t *body = point_history_to_json(&h);
    point_history_cleanup(&h);
    return respond(resp, 200, body, e);
}
