/* server.h — the HTTP/1.1 server: worker threads, one epoll set each, handlers inline. */
#ifndef SHOPD_HTTP_SERVER_H
#define SHOPD_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "http/dispatch.h"
#include "http/metrics.h"
#include "http/router.h"

struct http_server_config {
    const char *host;             /* IPv4 literal to bind */
    uint16_t port;                /* 0 = any free port (see http_server_port) */
    unsigned threads;             /* worker threads; handlers run on them */
    size_t max_body;              /* larger bodies get 413 */
    const struct http_auth *auth; /* bearer tokens: admin and user (borrowed; NULL = none) */
    bool access_log;              /* one log line per request */
    unsigned idle_timeout_s;      /* idle keep-alive connections are closed after this, and a
                                     request must arrive whole within it (else 408); 0 = 30 */
    size_t max_connections;       /* open connections beyond this get 503; 0 = 4096 */
};

struct http_server;

/*
 * Binds and starts serving router's routes. Borrows cfg strings, router and
 * metrics (NULL = no metrics) until http_server_stop. Returns the server or
 * NULL with e set (ERR_UNAVAILABLE when the address cannot be bound).
 */
struct http_server *http_server_start(const struct http_server_config *cfg,
                                      const struct router *router, struct metrics *metrics,
                                      struct err *e);

/* The bound TCP port (useful after port 0). Thread-safe. */
uint16_t http_server_port(const struct http_server *s);

/*
 * Graceful stop: stops accepting, lets in-flight requests finish (at most
 * drain_timeout_ms), then stops the threads and frees s. NULL-safe.
 */
void http_server_stop(struct http_server *s, unsigned drain_timeout_ms);

#endif
