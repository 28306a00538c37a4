/* auth_http.h — the authentication API (docs/api.md "Authentication"). */
#ifndef SHOPD_AUTH_AUTH_HTTP_H
#define SHOPD_AUTH_AUTH_HTTP_H

#include <stdbool.h>

#include "auth/auth_service.h"
#include "http/dispatch.h"
#include "http/http.h"

/* What the handlers' ctx points to. */
struct auth_http_ctx {
    struct auth_service service;
    bool trust_forwarded_for; /* throttle by the last X-Forwarded-For address (behind a proxy) */
};

/*
 * POST /api/v1/auth/token {"user_id","password"} → 200 {"access_token",
 * "token_type":"Bearer","expires_in","user_id"}; 401 INVALID_CREDENTIALS;
 * 429 TOO_MANY_ATTEMPTS with Retry-After; 503 when login cannot be checked.
 */
enum err_code auth_http_token(struct http_req *req, struct http_resp *resp, struct err *e);

/*
 * PUT /api/v1/users/{id}/password {"password"} (the user or the admin) →
 * 204-like 200 {"user_id"}; 400 INVALID_REQUEST; 404 USER_NOT_FOUND.
 */
enum err_code auth_http_set_password(struct http_req *req, struct http_resp *resp, struct err *e);

/*
 * An http_auth verify_user over keys (passed as self): a token valid now.
 * Thread-safe.
 */
bool auth_http_verify_user(void *keys, const char *token, size_t len, int64_t *user_id);

#endif
