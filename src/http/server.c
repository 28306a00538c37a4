/* server.c — libmicrohttpd adapter: bodies, dispatch, responses, logging, drain. */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <microhttpd.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "http/dispatch.h"
#include "http/problem.h"

struct http_server {
    struct MHD_Daemon *daemon;
    struct http_server_config cfg;
    const struct router *router;
    struct metrics *metrics;
    uint16_t port;
    atomic_int inflight;  /* requests between first callback and completion */
    atomic_bool draining; /* set by http_server_stop: answer with Connection: close */
};

/* Per-request state, created on the first access-handler call. */
struct request_state {
    struct arena arena;
    char *body;
    size_t body_len, body_cap;
    bool too_large;
    int64_t start_us;
};

static void request_state_free(struct request_state *st)
{
    arena_cleanup(&st->arena);
    free(st->body);
    free(st);
}

/* Appends an upload chunk, or marks the request too large (and drops the body). */
static void body_append(struct request_state *st, const char *data, size_t n, size_t max)
{
    if (st->too_large)
        return;
    if (n > max || st->body_len > max - n) {
        st->too_large = true;
        free(st->body);
        st->body = NULL;
        st->body_len = st->body_cap = 0;
        return;
    }
    if (st->body_len + n + 1 > st->body_cap) {
        size_t cap = st->body_cap ? st->body_cap : 1024;
        while (cap < st->body_len + n + 1)
            cap *= 2;
        char *p = realloc(st->body, cap);
        if (!p) {
            st->too_large = true; /* cannot hold it: refuse like an oversized body */
            return;
        }
        st->body = p;
        st->body_cap = cap;
    }
    memcpy(st->body + st->body_len, data, n);
    st->body_len += n;
    st->body[st->body_len] = '\0';
}

struct kv_collector {
    struct http_kv *items;
    size_t *n;
    size_t cap;
};

static enum MHD_Result collect_kv(void *cls, enum MHD_ValueKind kind, const char *key,
                                  const char *value)
{
    (void)kind;
    struct kv_collector *c = cls;
    if (*c->n < c->cap) {
        c->items[*c->n].name = key;
        c->items[*c->n].value = value ? value : "";
        (*c->n)++;
    }
    return MHD_YES;
}

/* Serialises resp into an MHD response. Returns NULL on OOM. */
static struct MHD_Response *build_mhd_response(struct http_server *s, struct http_resp *resp)
{
    struct MHD_Response *r;
    if (resp->json) {
        char *text = json_dumps(resp->json, JSON_COMPACT);
        if (!text)
            return NULL;
        r = MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
        if (!r)
            free(text);
    } else if (resp->raw) {
        r = MHD_create_response_from_buffer(resp->raw_len, resp->raw, MHD_RESPMEM_MUST_FREE);
        if (r)
            resp->raw = NULL; /* MHD owns it now */
    } else {
        r = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
    }
    if (!r)
        return NULL;
    if (resp->json || resp->raw_len || resp->content_type)
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type ? resp->content_type : "application/json");
    for (size_t i = 0; i < resp->n_headers; i++)
        MHD_add_response_header(r, resp->headers[i].name, resp->headers[i].value);
    if (atomic_load(&s->draining))
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    return r;
}

static enum MHD_Result respond(struct http_server *s, struct MHD_Connection *conn,
                               struct request_state *st, const char *url, const char *method)
{
    struct http_req req;
    struct http_resp resp;
    char allow[128] = "";
    size_t route_index = s->router->n_routes;
    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));

    req.method = http_method_parse(method);
    req.path = url;
    req.body = st->body ? st->body : "";
    req.body_len = st->body_len;
    req.arena = &st->arena;
    struct kv_collector headers = {req.headers, &req.n_headers, HTTP_MAX_HEADERS};
    struct kv_collector query = {req.query, &req.n_query, HTTP_MAX_QUERY};
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_kv, &headers);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_kv, &query);

    if (st->too_large) {
        struct err e;
        err_clear(&e);
        err_set(&e, ERR_PAYLOAD_TOO_LARGE, "request body exceeds %zu bytes", s->cfg.max_body);
        problem_respond(&resp, &e);
    } else {
        http_dispatch(s->router, s->cfg.admin_token, &req, &resp, &route_index, allow,
                      sizeof(allow));
    }

    enum MHD_Result ok = MHD_NO;
    struct MHD_Response *r = build_mhd_response(s, &resp);
    if (r) {
        ok = MHD_queue_response(conn, (unsigned)resp.status, r);
        MHD_destroy_response(r);
    }
    int64_t elapsed = timefmt_monotonic_us() - st->start_us;
    if (s->metrics)
        metrics_record(s->metrics, route_index, resp.status, elapsed);
    if (s->cfg.access_log) {
        char path[256]; /* decoded paths may hold control characters: never log them raw */
        size_t i = 0;
        for (; url[i] && i < sizeof(path) - 1; i++)
            path[i] = (url[i] < 0x20 || url[i] == 0x7f) ? '?' : url[i];
        path[i] = '\0';
        log_info("http %s %s %d %lldus", method, path, resp.status, (long long)elapsed);
    }
    http_resp_cleanup(&resp);
    return ok;
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls)
{
    (void)version;
    struct http_server *s = cls;
    struct request_state *st = *con_cls;
    if (!st) {
        st = calloc(1, sizeof(*st));
        if (!st)
            return MHD_NO;
        arena_init(&st->arena);
        st->start_us = timefmt_monotonic_us();
        const char *cl =
            MHD_lookup_connection_value(conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
        if (cl) {
            char *end;
            errno = 0;
            unsigned long long n = strtoull(cl, &end, 10);
            if (errno == ERANGE || n > s->cfg.max_body)
                st->too_large = true;
        }
        atomic_fetch_add(&s->inflight, 1);
        *con_cls = st;
        return MHD_YES;
    }
    if (*upload_data_size) {
        body_append(st, upload_data, *upload_data_size, s->cfg.max_body);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return respond(s, conn, st, url, method);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)conn;
    (void)toe;
    struct http_server *s = cls;
    struct request_state *st = *con_cls;
    if (!st)
        return;
    request_state_free(st);
    *con_cls = NULL;
    atomic_fetch_sub(&s->inflight, 1);
}

struct http_server *http_server_start(const struct http_server_config *cfg,
                                      const struct router *router, struct metrics *metrics,
                                      struct err *e)
{
    struct http_server *s = calloc(1, sizeof(*s));
    if (!s) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    s->router = router;
    s->metrics = metrics;
    atomic_init(&s->inflight, 0);
    atomic_init(&s->draining, false);

    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg->port);
    if (inet_pton(AF_INET, cfg->host, &addr.sin_addr) != 1) {
        err_set(e, ERR_INVALID_REQUEST, "listen address \"%s\" is not an IPv4 address", cfg->host);
        free(s);
        return NULL;
    }
    unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC | MHD_USE_TURBO |
                     MHD_USE_ERROR_LOG;
    s->daemon = MHD_start_daemon(
        flags, cfg->port, NULL, NULL, on_access, s, MHD_OPTION_SOCK_ADDR, &addr,
        MHD_OPTION_THREAD_POOL_SIZE, (unsigned)(cfg->threads ? cfg->threads : 1),
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, s, MHD_OPTION_CONNECTION_TIMEOUT,
        (unsigned)(cfg->idle_timeout_s ? cfg->idle_timeout_s : 30), MHD_OPTION_LISTEN_BACKLOG_SIZE,
        (unsigned)1024, MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned)1, MHD_OPTION_END);
    if (!s->daemon) {
        err_set(e, ERR_UNAVAILABLE, "cannot listen on %s:%u", cfg->host, (unsigned)cfg->port);
        free(s);
        return NULL;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    return s;
}

uint16_t http_server_port(const struct http_server *s)
{
    return s->port;
}

void http_server_stop(struct http_server *s, unsigned drain_timeout_ms)
{
    if (!s)
        return;
    atomic_store(&s->draining, true);
    MHD_socket listen_fd = MHD_quiesce_daemon(s->daemon);
    if (listen_fd != MHD_INVALID_SOCKET)
        close(listen_fd);
    int64_t deadline = timefmt_monotonic_us() + (int64_t)drain_timeout_ms * 1000;
    while (atomic_load(&s->inflight) > 0 && timefmt_monotonic_us() < deadline) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int left = atomic_load(&s->inflight);
    if (left > 0)
        log_warn("shutdown: %d requests still running after %u ms, stopping anyway", left,
                 drain_timeout_ms);
    MHD_stop_daemon(s->daemon);
    free(s);
}
