/* dispatch.c — the request pipeline between transport and handlers. */
#include "http/dispatch.h"

#include <string.h>
#include <strings.h>

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

static enum err_code check_admin(const struct http_req *req, const char *admin_token, struct err *e)
{
    const char *auth = http_req_header(req, "Authorization");
    if (!auth || !*auth)
        return err_set(e, ERR_UNAUTHORIZED, "admin endpoint needs an Authorization: Bearer token");
    if (strncasecmp(auth, "Bearer ", 7) != 0)
        return err_set(e, ERR_UNAUTHORIZED, "authorization scheme must be Bearer");
    const char *token = auth + 7;
    while (*token == ' ')
        token++;
    if (!secret_equal(token, admin_token))
        return err_set(e, ERR_FORBIDDEN, "admin token is not valid");
    return ERR_OK;
}

void http_dispatch(const struct router *r, const char *admin_token, struct http_req *req,
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
    if (rt->admin && check_admin(req, admin_token, &e) != ERR_OK) {
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
        if (rc == ERR_UNAVAILABLE) /* a busy user lock, a database restart: worth a retry */
            http_resp_header(resp, "Retry-After", "1");
    } else if (resp->status == 0) {
        err_set(&e, ERR_INTERNAL, "handler produced no response");
        log_error("handler %s %s produced no response", http_method_name(req->method), rt->pattern);
        problem_respond(resp, &e);
    }
}
