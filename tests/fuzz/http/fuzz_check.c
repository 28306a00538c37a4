/* fuzz_check.c — the contract checks applied to every answer. */
#include "fuzz_check.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "fuzz_json.h"

void fuzz_req_reset(struct fuzz_req *r)
{
    fuzz_buf_clear(&r->bytes);
    r->gen = "?";
    r->known = r->head = r->expect_continue = r->text_ok = false;
}

/* The stable codes of src/core/err.h and their statuses. */
static const struct {
    const char *code;
    int status;
} codes[] = {
    {"INVALID_JSON", 400},
    {"INVALID_REQUEST", 400},
    {"INVALID_AMOUNT", 400},
    {"IDEMPOTENCY_KEY_REQUIRED", 400},
    {"UNAUTHORIZED", 401},
    {"INVALID_CREDENTIALS", 401},
    {"FORBIDDEN", 403},
    {"NOT_FOUND", 404},
    {"PRODUCT_NOT_FOUND", 404},
    {"USER_NOT_FOUND", 404},
    {"ORDER_NOT_FOUND", 404},
    {"COUPON_NOT_FOUND", 404},
    {"METHOD_NOT_ALLOWED", 405},
    {"OUT_OF_STOCK", 409},
    {"INSUFFICIENT_BALANCE", 409},
    {"BALANCE_LIMIT_EXCEEDED", 409},
    {"COUPON_NOT_USABLE", 409},
    {"COUPON_SOLD_OUT", 409},
    {"COUPON_ALREADY_ISSUED", 409},
    {"COUPON_EXPIRED", 409},
    {"ORDER_NOT_CANCELLABLE", 409},
    {"REQUEST_IN_PROGRESS", 409},
    {"BAD_REQUEST", 400},
    {"REQUEST_TIMEOUT", 408},
    {"PAYLOAD_TOO_LARGE", 413},
    {"URI_TOO_LONG", 414},
    {"EXPECTATION_FAILED", 417},
    {"HEADERS_TOO_LARGE", 431},
    {"IDEMPOTENCY_KEY_REUSED", 422},
    {"TOO_MANY_ATTEMPTS", 429},
    {"INTERNAL_ERROR", 500},
    {"NOT_IMPLEMENTED", 501},
    {"SERVICE_UNAVAILABLE", 503},
    {"HTTP_VERSION_NOT_SUPPORTED", 505},
};

static const int allowed_statuses[] = {200, 201, 400, 401, 403, 404, 405, 408, 409,
                                       413, 414, 417, 422, 429, 431, 501, 503, 505};

/* Sets why to what followed by arg; returns false. */
static bool fail(char *why, size_t why_len, const char *what, const char *arg)
{
    snprintf(why, why_len, "%s%s", what, arg);
    return false;
}

static bool status_allowed(int status)
{
    for (size_t i = 0; i < sizeof(allowed_statuses) / sizeof(allowed_statuses[0]); i++)
        if (allowed_statuses[i] == status)
            return true;
    return false;
}

static bool member_is(const struct fuzz_json_doc *d, const char *key, enum fuzz_json_type t)
{
    const struct fuzz_json_member *m = fuzz_json_get(d, key);
    return m && m->type == t;
}

/* The problem document of an error answer. */
static bool check_problem(const struct fuzz_req *req, const char *body, const struct fuzz_resp *r,
                          char *why, size_t why_len)
{
    if (!r->has_content_type || strcasecmp(r->content_type, "application/problem+json") != 0)
        return fail(why, why_len, "error answer not application/problem+json, Content-Type: ",
                    r->has_content_type ? r->content_type : "(none)");
    if (req->head)
        return true; /* HEAD: no body to look at */
    struct fuzz_json_doc d;
    char jwhy[128];
    if (!fuzz_json_parse(body, r->body_len, &d, jwhy, sizeof(jwhy)))
        return fail(why, why_len, "problem body is not JSON: ", jwhy);
    if (d.type != FJ_OBJECT)
        return fail(why, why_len, "problem body is not an object", "");
    static const char *const strings[] = {"type", "title", "detail", "code"};
    for (size_t i = 0; i < 4; i++)
        if (!member_is(&d, strings[i], FJ_STRING))
            return fail(why, why_len, "problem lacks a string member ", strings[i]);
    int64_t st;
    if (!fuzz_json_int(fuzz_json_get(&d, "status"), &st))
        return fail(why, why_len, "problem lacks an integer member ", "status");
    if (st != r->status) {
        snprintf(why, why_len, "problem status %lld differs from HTTP status %d", (long long)st,
                 r->status);
        return false;
    }
    const struct fuzz_json_member *code = fuzz_json_get(&d, "code");
    char c[64];
    size_t n = code->val_len - 2 < sizeof(c) - 1 ? code->val_len - 2 : sizeof(c) - 1;
    memcpy(c, code->val + 1, n);
    c[n] = '\0';
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        if (strcmp(codes[i].code, c) != 0)
            continue;
        if (codes[i].status != r->status) {
            snprintf(why, why_len, "code %s answered with status %d (expected %d)", c, r->status,
                     codes[i].status);
            return false;
        }
        return true;
    }
    return fail(why, why_len, "unknown problem code ", c);
}

/* A success answer: JSON object (or the metrics text). Records created products. */
static bool check_success(const struct fuzz_req *req, const char *body, const struct fuzz_resp *r,
                          struct fuzz_created *created, char *why, size_t why_len)
{
    if (req->text_ok && r->has_content_type && strncasecmp(r->content_type, "text/plain", 10) == 0)
        return true;
    if (!r->has_content_type || strncasecmp(r->content_type, "application/json", 16) != 0)
        return fail(why, why_len, "success not application/json, Content-Type: ",
                    r->has_content_type ? r->content_type : "(none)");
    if (req->head)
        return true;
    struct fuzz_json_doc d;
    char jwhy[128];
    if (!fuzz_json_parse(body, r->body_len, &d, jwhy, sizeof(jwhy)))
        return fail(why, why_len, "success body is not JSON: ", jwhy);
    if (d.type != FJ_OBJECT)
        return fail(why, why_len, "success body is not a JSON object", "");
    if (r->status == 201 && d.n_members == 4 && member_is(&d, "price", FJ_NUMBER) &&
        fuzz_json_int(fuzz_json_get(&d, "id"), &created->id) &&
        fuzz_json_int(fuzz_json_get(&d, "stock"), &created->stock))
        created->product = true;
    return true;
}

bool fuzz_check_response(const struct fuzz_req *req, const char *resp, const struct fuzz_resp *r,
                         struct fuzz_created *created, char *why, size_t why_len)
{
    memset(created, 0, sizeof(*created));
    const char *body = resp + r->body_off;
    if (r->status == 500) {
        snprintf(why, why_len, "500 answer (INTERNAL_ERROR is a finding): %.*s",
                 (int)(r->body_len < 300 ? r->body_len : 300), body);
        return false;
    }
    if (!status_allowed(r->status)) {
        snprintf(why, why_len, "status %d is not one the contract allows", r->status);
        return false;
    }
    if (r->status == 405 && !r->has_allow)
        return fail(why, why_len, "405 without an Allow header", "");
    if (r->status == 401 && !r->has_www_authenticate)
        return fail(why, why_len, "401 without WWW-Authenticate", "");
    if ((r->status == 503 || r->status == 429) && !r->has_retry_after)
        return fail(why, why_len,
                    r->status == 503 ? "503 without Retry-After" : "429 without Retry-After", "");
    if (r->status >= 400)
        return check_problem(req, body, r, why, why_len);
    return check_success(req, body, r, created, why, why_len);
}
