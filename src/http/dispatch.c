/* dispatch.c — the request pipeline between transport and handlers. */
#include "http/dispatch.h"

#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "core/log.h"
#include "http/problem.h"

/* Constant-time equality of two strings (length leaks, content does not). */
static bool secret_equal(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned char diff = la != lb;
    for (size_t i = 0; i < la && i < lb; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* The bearer token of req, or NULL (no Authorization header, or another scheme). */
static const char *bearer_token(const struct http_req *req, bool *present)
{
    const char *auth = http_req_header(req, "Authorization");
    *present = auth && *auth;
    if (!*present || strncasecmp(auth, "Bearer ", 7) != 0)
        return NULL;
    const char *token = auth + 7;
    while (*token == ' ')
        token++;
    return token; /* may be "": an empty token is a wrong one */
}

/* What the Authorization header held. */
enum credential { CRED_NONE, CRED_NOT_BEARER, CRED_INVALID, CRED_VALID };

/*
 * Sets req->principal from its bearer token (actor NONE unless the token is
 * the admin token or a valid user token) and says what was presented.
 */
static enum credential authenticate(const struct http_auth *auth, struct http_req *req)
{
    req->principal = (struct http_principal){HTTP_ACTOR_NONE, 0};
    bool present = false;
    const char *token = bearer_token(req, &present);
    if (!present)
        return CRED_NONE;
    if (!token)
        return CRED_NOT_BEARER;
    if (auth && auth->admin_token && secret_equal(token, auth->admin_token)) {
        req->principal.actor = HTTP_ACTOR_ADMIN;
        return CRED_VALID;
    }
    int64_t user_id = 0;
    if (auth && auth->verify_user &&
        auth->verify_user(auth->self, token, strlen(token), &user_id)) {
        req->principal = (struct http_principal){HTTP_ACTOR_USER, user_id};
        return CRED_VALID;
    }
    return CRED_INVALID;
}

/* The body's top-level integer "user_id", or 0 when there is none (the handler says why). */
static int64_t body_user_id(const struct http_req *req)
{
    json_t *doc = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, NULL);
    json_t *v = json_object_get(doc, "user_id");
    int64_t id = json_is_integer(v) ? (int64_t)json_integer_value(v) : 0;
    json_decref(doc);
    return id;
}

/*
 * The route's access rule for an authenticated req. Returns ERR_OK,
 * ERR_UNAUTHORIZED (no usable token where one is needed) or ERR_FORBIDDEN.
 */
static enum err_code authorize(const struct route *rt, const struct http_req *req,
                               enum credential cred, struct err *e)
{
    const struct http_principal *p = &req->principal;
    if (rt->access == ROUTE_PUBLIC)
        return ERR_OK;
    if (rt->access == ROUTE_ADMIN) {
        if (p->actor == HTTP_ACTOR_ADMIN)
            return ERR_OK;
        if (cred == CRED_NONE)
            return err_set(e, ERR_UNAUTHORIZED,
                           "admin endpoint needs an Authorization: Bearer token");
        if (cred == CRED_NOT_BEARER)
            return err_set(e, ERR_UNAUTHORIZED, "authorization scheme must be Bearer");
        return err_set(e, ERR_FORBIDDEN, "admin token is not valid");
    }
    switch (cred) {
    case CRED_NONE:
        return err_set(e, ERR_UNAUTHORIZED,
                       "this endpoint needs an Authorization: Bearer access token");
    case CRED_NOT_BEARER:
        return err_set(e, ERR_UNAUTHORIZED, "authorization scheme must be Bearer");
    case CRED_INVALID:
        return err_set(e, ERR_UNAUTHORIZED,
                       "the access token is not valid (malformed, expired "
                       "or signed with a key no longer accepted)");
    case CRED_VALID:
        break;
    }
    if (p->actor == HTTP_ACTOR_ADMIN)
        return ERR_OK;
    int64_t acted_for = 0;
    switch (rt->access) {
    case ROUTE_USER_PATH:
        acted_for = req->n_path_ids > 0 ? req->path_ids[0] : 0;
        break;
    case ROUTE_USER_BODY:
        acted_for = body_user_id(req);
        if (acted_for == 0)
            return ERR_OK; /* no readable user_id: the handler's validation answers 400 */
        break;
    default: /* ROUTE_OWNER: the handler scopes the resource to the token's user */
        return ERR_OK;
    }
    if (acted_for != p->user_id)
        return err_set(e, ERR_FORBIDDEN, "the access token is for user %lld, not user %lld",
                       (long long)p->user_id, (long long)acted_for);
    return ERR_OK;
}

void http_dispatch(const struct router *r, const struct http_auth *auth, struct http_req *req,
                   struct http_resp *resp, size_t *route_index, char *allow_buf, size_t allow_cap)
{
    struct err e;
    err_clear(&e);
    size_t idx = r->n_routes;
    enum router_result m = router_match(r, req->method, req->path, &idx, req->path_ids,
                                        &req->n_path_ids, allow_buf, allow_cap);
    *route_index = r->n_routes;
    switch (m) {
    case ROUTER_NOT_FOUND:
        err_set(&e, ERR_NOT_FOUND, "no resource at %.200s", req->path);
        problem_respond(resp, &e);
        return;
    case ROUTER_METHOD_NOT_ALLOWED:
        err_set(&e, ERR_METHOD_NOT_ALLOWED, "%s is not allowed here; allowed: %s",
                http_method_name(req->method), allow_buf);
        problem_respond(resp, &e);
        http_resp_header(resp, "Allow", allow_buf);
        return;
    case ROUTER_MATCH:
        break;
    }
    *route_index = idx;
    const struct route *rt = &r->routes[idx];
    enum credential cred = authenticate(auth, req);
    if (authorize(rt, req, cred, &e) != ERR_OK) {
        problem_respond(resp, &e);
        if (e.code == ERR_UNAUTHORIZED)
            http_resp_header(resp, "WWW-Authenticate", "Bearer");
        return;
    }
    req->ctx = rt->ctx;
    enum err_code rc = rt->handler(req, resp, &e);
    if (rc != ERR_OK) {
        if (e.code != rc) /* a handler that forgot to fill e still gets a coherent answer */
            err_set(&e, rc, "%s", err_title(rc));
        if (rc == ERR_INTERNAL) { /* the detail may name internals: log it, answer plainly */
            log_error("handler %s %s failed: %s", http_method_name(req->method), rt->pattern,
                      e.detail);
            err_set(&e, ERR_INTERNAL, "internal error");
        }
        problem_respond(resp, &e);
        if (err_http_status(rc) == 401) /* RFC 9110 15.5.2: every 401 names the scheme */
            http_resp_header(resp, "WWW-Authenticate", "Bearer");
        if (rc == ERR_UNAVAILABLE) /* a busy user lock, a database restart: worth a retry */
            http_resp_header(resp, "Retry-After", "1");
    } else if (resp->status == 0) {
        err_set(&e, ERR_INTERNAL, "handler produced no response");
        log_error("handler %s %s produced no response", http_method_name(req->method), rt->pattern);
        problem_respond(resp, &e);
    }
}
