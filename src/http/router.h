/* router.h — one route table: method + pattern → handler. */
#ifndef SHOPD_HTTP_ROUTER_H
#define SHOPD_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"

/*
 * Who may call a route; the dispatcher enforces it before the handler runs
 * (docs/security.md). Every route but the public ones needs a bearer token:
 * a user's access token or the admin token (which passes every user check).
 */
enum route_access {
    ROUTE_PUBLIC,    /* anyone, no token needed */
    ROUTE_ADMIN,     /* the admin token only */
    ROUTE_USER_PATH, /* the user named by the path's first {id} (…/users/{id}/…) */
    ROUTE_USER_BODY, /* the user named by the body's "user_id" member */
    ROUTE_OWNER      /* any user; the handler scopes the resource to http_req_acting_user */
};

/*
 * One row of the table. pattern is a path whose segments are literals or
 * "{id}" (a segment of 1..32 decimal digits, delivered in req->path_ids;
 * 0 when the value does not fit a positive int64).
 * A literal segment wins over {id} only by being a different pattern: the
 * table is scanned in order, so list "/products/popular" before
 * "/products/{id}".
 */
struct route {
    enum http_method method;
    const char *pattern;
    http_handler_fn handler;
    void *ctx;
    enum route_access access;
};

enum router_result { ROUTER_MATCH, ROUTER_NOT_FOUND, ROUTER_METHOD_NOT_ALLOWED };

/* A borrowed table of n routes; the caller keeps it alive. */
struct router {
    const struct route *routes;
    size_t n_routes;
};

/*
 * Matches method and path. On ROUTER_MATCH sets *route_index and fills
 * ids/n_ids (ids of up to HTTP_MAX_PATH_IDS {id} segments; 0 when a digit
 * string overflows int64). On ROUTER_METHOD_NOT_ALLOWED writes the allowed
 * methods ("GET, POST") into allow. Thread-safe (read-only table).
 */
enum router_result router_match(const struct router *r, enum http_method method, const char *path,
                                size_t *route_index, int64_t ids[HTTP_MAX_PATH_IDS], size_t *n_ids,
                                char *allow, size_t allow_cap);

#endif
