/* auth_http.c — login and password endpoints: decode, call the service, encode. */
#include "auth/auth_http.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/json_body.h"

/* The client address to throttle: the peer's, or the last X-Forwarded-For entry when trusted. */
static void client_address(const struct auth_http_ctx *ctx, const struct http_req *req, char *out,
                           size_t cap)
{
    const char *addr = req->client_addr ? req->client_addr : "";
    const char *fwd = ctx->trust_forwarded_for ? http_req_header(req, "X-Forwarded-For") : NULL;
    if (fwd && *fwd) {
        const char *last = strrchr(fwd, ',');
        addr = last ? last + 1 : fwd;
        while (*addr == ' ')
            addr++;
    }
    snprintf(out, cap, "%.*s", (int)strcspn(addr, " \t"), addr);
}

enum err_code auth_http_token(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct auth_http_ctx *ctx = req->ctx;
    int64_t user_id = 0;
    const char *password = NULL;
    const struct body_field fields[] = {
        {"user_id", BODY_FIELD_INT, true, 1, INT64_MAX, &user_id, NULL},
        {"password", BODY_FIELD_STRING, true, 0, 1024, &password, NULL},
    };
    if (body_decode(req->body, req->body_len, fields, 2, req->arena, e))
        return e->code;
    char addr[64];
    client_address(ctx, req, addr, sizeof(addr));
    struct auth_token token;
    int64_t retry_after = 0;
    if (auth_service_login(&ctx->service, user_id, password, addr, &token, &retry_after, e)) {
        if (e->code == ERR_TOO_MANY_ATTEMPTS) {
            char *value = arena_alloc(req->arena, 24);
            if (value) {
                snprintf(value, 24, "%lld", (long long)retry_after);
                http_resp_header(resp, "Retry-After", value);
            }
        }
        return e->code;
    }
    json_t *body = json_pack("{s:s, s:s, s:I, s:I}", "access_token", token.access_token,
                             "token_type", "Bearer", "expires_in", (json_int_t)token.expires_in,
                             "user_id", (json_int_t)token.user_id);
    http_resp_header(resp, "Cache-Control", "no-store");
    return http_resp_json_built(resp, 200, body, "token", e);
}

enum err_code auth_http_set_password(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct auth_http_ctx *ctx = req->ctx;
    int64_t user_id = req->path_ids[0];
    const char *password = NULL;
    const struct body_field fields[] = {
        {"password", BODY_FIELD_STRING, true, PASSWORD_MIN, PASSWORD_MAX, &password, NULL},
    };
    if (body_decode(req->body, req->body_len, fields, 1, req->arena, e))
        return e->code;
    if (user_id <= 0)
        return err_set(e, ERR_USER_NOT_FOUND, "user does not exist");
    if (auth_service_set_password(&ctx->service, user_id, password, e))
        return e->code;
    return http_resp_json_built(resp, 200, json_pack("{s:I}", "user_id", (json_int_t)user_id),
                                "password", e);
}

bool auth_http_verify_user(void *keys, const char *token, size_t len, int64_t *user_id)
{
    struct token_claims claims;
    if (token_verify(keys, token, len, (int64_t)time(NULL), &claims) != TOKEN_OK)
        return false;
    *user_id = claims.user_id;
    return true;
}
