/* dispatch.h — route, authorise and run one request, transport-free. */
#ifndef SHOPD_HTTP_DISPATCH_H
#define SHOPD_HTTP_DISPATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/http.h"
#include "http/router.h"

/*
 * How bearer tokens are recognised: the admin token (compared in constant
 * time) and user access tokens (verify_user: true with *user_id when token
 * is valid now; NULL = user tokens are never valid). Borrowed, read-only.
 */
struct http_auth {
    const char *admin_token;
    bool (*verify_user)(void *self, const char *token, size_t len, int64_t *user_id);
    void *self;
};

/*
 * Runs req through the router: 404 NOT_FOUND, 405 METHOD_NOT_ALLOWED (with
 * an Allow header), then the route's access rule (route_access):
 *   no or unreadable token where one is needed → 401 UNAUTHORIZED (with
 *   WWW-Authenticate: Bearer); a valid token that may not act here → 403
 *   FORBIDDEN (a user token on an admin route, or for another user than the
 *   path's or the body's user_id);
 * otherwise the handler, with req->principal set. Errors become
 * problem+json in resp. *route_index is the matched route, or r->n_routes
 * when none. resp must start zeroed; the caller cleans it up. allow_buf
 * (>= 64 bytes) backs the Allow header value. Thread-safe.
 */
void http_dispatch(const struct router *r, const struct http_auth *auth, struct http_req *req,
                   struct http_resp *resp, size_t *route_index, char *allow_buf, size_t allow_cap);

#endif
