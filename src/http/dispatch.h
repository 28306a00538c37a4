/* dispatch.h — route, authorise and run one request, transport-free. */
#ifndef SHOPD_HTTP_DISPATCH_H
#define SHOPD_HTTP_DISPATCH_H

#include <stddef.h>

#include "http/http.h"
#include "http/router.h"

/*
 * Runs req through the router: 404 NOT_FOUND, 405 METHOD_NOT_ALLOWED (with
 * an Allow header), 401/403 for admin routes without the right bearer token
 * (admin_token compared in constant time), otherwise the handler. Errors
 * become problem+json in resp. *route_index is the matched route, or
 * r->n_routes when none. resp must start zeroed; the caller cleans it up.
 * allow_buf (>= 64 bytes) backs the Allow header value. Thread-safe.
 */
void http_dispatch(const struct router *r, const char *admin_token, struct http_req *req,
                   struct http_resp *resp, size_t *route_index, char *allow_buf, size_t allow_cap);

#endif
