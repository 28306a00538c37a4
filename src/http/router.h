/* router.h — one route table: method + pattern → handler. */
#ifndef SHOPD_HTTP_ROUTER_H
#define SHOPD_HTTP_ROUTER_H

#include <stdbool.h>
#include <stddef.h>

#include "http/http.h"

/*
 * One row of the table. pattern is a path whose segments are literals or
 * "{id}" (a segment of 1..32 decimal digits, delivered in req->path_ids;
 * 0 when the value does not fit a positive int64).
 * A literal segment wins over {id} only by being a different pattern: the
 * table is scanned in order, so list "/products/popular" before
 * "/products/{id}". admin routes need the bearer token.
 */
struct route {
    enum http_method method;
    const char *pattern;
    http_handler_fn handler;
    void *ctx;
    bool admin;
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
