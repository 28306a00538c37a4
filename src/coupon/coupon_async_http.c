/* coupon_async_http.c — issue-request endpoints: decode, call coupon_async, encode. */
#include "coupon/coupon_async_http.h"

#include <stdio.h>
#include <time.h>

#include "core/timefmt.h"
#include "coupon/coupon_async.h"
#include "http/json_body.h"

/* A timestamp, JSON null for 0, or NULL when it can't be shown. */
static json_t *time_json(int64_t epoch)
{
    if (!epoch)
        return json_null();
    char text[TIMEFMT_RFC3339_LEN];
    return timefmt_rfc3339(epoch, text) ? json_string(text) : NULL;
}

json_t *coupon_request_to_json(const struct coupon_request *r)
{
    char id[21];
    snprintf(id, sizeof(id), "%lld", (long long)r->id);
    json_t *code =
        r->status == COUPON_REQUEST_REJECTED ? json_string(err_code_str(r->code)) : json_null();
    json_t *uc = r->status == COUPON_REQUEST_ISSUED ? json_integer(r->user_coupon_id) : json_null();
    return json_pack("{s:s, s:I, s:I, s:s, s:o, s:o, s:o, s:o}", "request_id", id, "coupon_id",
                     (json_int_t)r->coupon_id, "user_id", (json_int_t)r->user_id, "status",
                     coupon_request_status_name(r->status), "code", code, "user_coupon_id", uc,
                     "requested_at", time_json(r->requested_at), "decided_at",
                     time_json(r->decided_at));
}

enum err_code coupon_async_http_request(struct http_req *req, struct http_resp *resp, struct err *e)
{
    int64_t user_id = 0;
    const struct body_field fields[] = {
        {"user_id", BODY_FIELD_INT, true, 1, INT64_MAX, &user_id, NULL},
    };
    if (body_decode(req->body, req->body_len, fields, 1, req->arena, e))
        return e->code;
    struct coupon_request r;
    if (coupon_async_accept(req->ctx, req->path_ids[0], user_id, (int64_t)time(NULL), &r, e))
        return e->code;
    char location[96];
    snprintf(location, sizeof(location), "/api/v1/coupon-issue-requests/%lld", (long long)r.id);
    const char *kept = arena_strdup(req->arena, location); /* outlives the response */
    if (!kept)
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (http_resp_json_built(resp, 202, coupon_request_to_json(&r), "issue request", e))
        return e->code;
    http_resp_header(resp, "Location", kept);
    return ERR_OK;
}

enum err_code coupon_async_http_get(struct http_req *req, struct http_resp *resp, struct err *e)
{
    struct coupon_request r;
    if (coupon_async_get(req->ctx, req->path_ids[0], http_req_acting_user(req), &r, e))
        return e->code;
    return http_resp_json_built(resp, 200, coupon_request_to_json(&r), "issue request", e);
}
