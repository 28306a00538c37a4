/* coupon_http.c — coupon endpoints: decode, call the service, encode. */
#include "coupon/coupon_http.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timefmt.h"
#include "coupon/coupon_service.h"
#include "http/json_body.h"

/* A timestamp, JSON null for 0 (never), or NULL when it can't be shown (outside timefmt's range).
 */
static json_t *time_json(int64_t epoch)
{
    if (!epoch)
        return json_null();
    char text[TIMEFMT_RFC3339_LEN];
    return timefmt_rfc3339(epoch, text) ? json_string(text) : NULL;
}

/* json_pack fails (NULL) when any value is NULL ("o" of a failed time_json) or not UTF-8. */
json_t *coupon_to_json(const struct coupon *c)
{
    return json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:o}", "id", (json_int_t)c->id, "name",
                     c->name, "discount_type", coupon_type_name(c->type), "discount_value",
                     (json_int_t)c->value, "total_quantity", (json_int_t)c->total_quantity,
                     "issued_quantity", (json_int_t)c->issued_quantity, "remaining_quantity",
                     (json_int_t)(c->total_quantity - c->issued_quantity), "expires_at",
                     time_json(c->expires_at));
}

json_t *user_coupon_to_json(const struct user_coupon *u)
{
    return json_pack("{s:I, s:I, s:I, s:s, s:s, s:I, s:s, s:o, s:o, s:o}", "id", (json_int_t)u->id,
                     "coupon_id", (json_int_t)u->coupon_id, "user_id", (json_int_t)u->user_id,
                     "name", u->name, "discount_type", coupon_type_name(u->type), "discount_value",
                     (json_int_t)u->value, "status", user_coupon_status_name(u->status),
                     "issued_at", time_json(u->issued_at), "expires_at", time_json(u->expires_at),
                     "used_at", time_json(u->used_at));
}

json_t *user_coupon_list_to_json(const struct user_coupon *items, size_t n)
{
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++) {
        /* steals the item, NULL included; fails on a NULL list or item */
        if (json_array_append_new(list, user_coupon_to_json(&items[i]))) {
            json_decref(list);
            return NULL;
        }
    }
    return json_pack("{s:o}", "items", list);
}

/* Sets body (stolen) as the response; ERR_INTERNAL when building it failed (NULL). */
static enum err_code respond(struct http_resp *resp, int status, json_t *body, struct err *e)
{
    return http_resp_json_built(resp, status, body, "coupon", e);
}

enum err_code coupon_http_create(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const char *name = NULL, *type = NULL, *expires = NULL;
    struct coupon c;
    memset(&c, 0, sizeof(c));
    const struct body_field fields[] = {
        {"name", BODY_FIELD_STRING, true, 1, COUPON_NAME_MAX_CHARS, &name, NULL},
        {"discount_type", BODY_FIELD_STRING, true, 1, 16, &type, NULL},
        {"discount_value", BODY_FIELD_INT, true, INT64_MIN, INT64_MAX, &c.value, NULL},
        {"total_quantity", BODY_FIELD_INT, true, INT64_MIN, INT64_MAX, &c.total_quantity, NULL},
        {"expires_at", BODY_FIELD_STRING, true, 1, 64, &expires, NULL},
    };
    if (body_decode(req->body, req->body_len, fields, 5, req->arena, e))
        return e->code;
    if (!coupon_type_parse(type, &c.type))
        return err_set_field(e, ERR_INVALID_REQUEST, "discount_type",
                             "discount_type must be FIXED or RATE");
    if (!timefmt_parse_rfc3339(expires, &c.expires_at))
        return err_set_field(e, ERR_INVALID_REQUEST, "expires_at",
                             "expires_at must be an RFC 3339 timestamp");
    snprintf(c.name, sizeof(c.name), "%s", name);
    if (coupon_service_create(req->ctx, &c, (int64_t)time(NULL), e))
        return e->code;
    return respond(resp, 201, coupon_to_json(&c), e);
}

enum err_code coupon_http_get(struct http_req *req, struct http_resp *resp, struct err *e)
{
    struct coupon c;
    if (coupon_service_get(req->ctx, req->path_ids[0], &c, e))
        return e->code;
    return respond(resp, 200, coupon_to_json(&c), e);
}

enum err_code coupon_http_issue(struct http_req *req, struct http_resp *resp, struct err *e)
{
    int64_t user_id = 0;
    const struct body_field fields[] = {
        {"user_id", BODY_FIELD_INT, true, 1, INT64_MAX, &user_id, NULL},
    };
    if (body_decode(req->body, req->body_len, fields, 1, req->arena, e))
        return e->code;
    struct user_coupon u;
    if (coupon_service_issue(req->ctx, req->path_ids[0], user_id, &u, e))
        return e->code;
    return respond(resp, 201, user_coupon_to_json(&u), e);
}

enum err_code coupon_http_list(struct http_req *req, struct http_resp *resp, struct err *e)
{
    struct user_coupon *items = calloc(COUPON_LIST_MAX, sizeof(*items));
    if (!items)
        return err_set(e, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    enum err_code rc = coupon_service_list(req->ctx, req->path_ids[0],
                                           http_req_query(req, "status"), items, &n, e);
    if (rc == ERR_OK)
        rc = respond(resp, 200, user_coupon_list_to_json(items, n), e);
    free(items);
    return rc;
}
