/* coupon_http.c — coupon endpoints: decode, call the service, encode. */
#include "coupon/coupon_http.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/timefmt.h"
#include "coupon/coupon_service.h"
#include "http/json_body.h"

static json_t *time_json(int64_t epoch)
{
    if (!epoch)
        return json_null();
    char text[TIMEFMT_RFC3339_LEN];
    timefmt_rfc3339(epoch, text);
    return json_string(text);
}

static json_t *coupon_json(const struct coupon *c)
{
    return json_pack("{s:I, s:s, s:s, s:I, s:I, s:I, s:I, s:o}", "id", (json_int_t)c->id, "name",
                     c->name, "discount_type", coupon_type_name(c->type), "discount_value",
                     (json_int_t)c->value, "total_quantity", (json_int_t)c->total_quantity,
                     "issued_quantity", (json_int_t)c->issued_quantity, "remaining_quantity",
                     (json_int_t)(c->total_quantity - c->issued_quantity), "expires_at",
                     time_json(c->expires_at));
}

static json_t *user_coupon_json(const struct user_coupon *u)
{
    return json_pack("{s:I, s:I, s:I, s:s, s:s, s:I, s:s, s:o, s:o, s:o}", "id", (json_int_t)u->id,
                     "coupon_id", (json_int_t)u->coupon_id, "user_id", (json_int_t)u->user_id,
                     "name", u->name, "discount_type", coupon_type_name(u->type), "discount_value",
                     (json_int_t)u->value, "status", user_coupon_status_name(u->status),
                     "issued_at", time_json(u->issued_at), "expires_at", time_json(u->expires_at),
                     "used_at", time_json(u->used_at));
}

enum err_code coupon_http_create(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const char *name = NULL, *type = NULL, *expires = NULL;
    struct coupon c;
    memset(&c, 0, sizeof(c));
    const struct json_field fields[] = {
        {"name", JSON_FIELD_STRING, true, 1, COUPON_NAME_MAX_CHARS, &name, NULL},
        {"discount_type", JSON_FIELD_STRING, true, 1, 16, &type, NULL},
        {"discount_value", JSON_FIELD_INT, true, INT64_MIN, INT64_MAX, &c.value, NULL},
        {"total_quantity", JSON_FIELD_INT, true, INT64_MIN, INT64_MAX, &c.total_quantity, NULL},
        {"expires_at", JSON_FIELD_STRING, true, 1, 64, &expires, NULL},
    };
    if (json_body_decode(req->body, req->body_len, fields, 5, req->arena, e))
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
    http_resp_json(resp, 201, coupon_json(&c));
    return ERR_OK;
}

enum err_code coupon_http_get(struct http_req *req, struct http_resp *resp, struct err *e)
{
    struct coupon c;
    if (coupon_service_get(req->ctx, req->path_ids[0], &c, e))
        return e->code;
    http_resp_json(resp, 200, coupon_json(&c));
    return ERR_OK;
}

enum err_code coupon_http_issue(struct http_req *req, struct http_resp *resp, struct err *e)
{
    int64_t user_id = 0;
    const struct json_field fields[] = {
        {"user_id", JSON_FIELD_INT, true, 1, INT64_MAX, &user_id, NULL},
    };
    if (json_body_decode(req->body, req->body_len, fields, 1, req->arena, e))
        return e->code;
    struct user_coupon u;
    if (coupon_service_issue(req->ctx, req->path_ids[0], user_id, &u, e))
        return e->code;
    http_resp_json(resp, 201, user_coupon_json(&u));
    return ERR_OK;
}

enum err_code coupon_http_list(struct http_req *req, struct http_resp *resp, struct err *e)
{
    struct user_coupon *items = calloc(COUPON_LIST_MAX, sizeof(*items));
    if (!items)
        return err_set(e, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    enum err_code rc = coupon_service_list(req->ctx, req->path_ids[0],
                                           http_req_query(req, "status"), items, &n, e);
    if (rc == ERR_OK) {
        json_t *list = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(list, user_coupon_json(&items[i]));
        http_resp_json(resp, 200, json_pack("{s:o}", "items", list));
    }
    free(items);
    return rc;
}
