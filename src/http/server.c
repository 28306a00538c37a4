/*
 * server.c — shopd's own HTTP/1.1 server: N worker threads, each with its
 * own epoll set holding the shared listening socket (EPOLLEXCLUSIVE) and
 * the connections it accepted. Handlers run inline on the worker. Framing
 * is in http1.c, target decoding in target.c; every answer, the transport's
 * own refusals included, is built here from a struct http_resp, so every
 * error is problem+json. docs/architecture.md says why this replaced
 * libmicrohttpd.
 */
#define _GNU_SOURCE /* accept4 */
#include "http/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/arena.h"
#include "core/log.h"
#include "core/timefmt.h"
#include "http/dispatch.h"
#include "http/http1.h"
#include "http/problem.h"
#include "http/target.h"

enum {
    IN_CAP = HTTP1_MAX_HEAD + 4096, /* a full head plus room to read body bytes behind it */
    LINGER_MS = 2000,               /* how long a closing connection drains unread input */
    LINGER_MAX_BYTES = 1024 * 1024, /* and how much of it */
    DEFAULT_MAX_CONNECTIONS = 4096, /* beyond this, new connections get 503 and are closed */
    EVENTS_PER_WAIT = 64,
    /*
     * Connections accepted per wake-up. Whoever accepts, the connection goes
     * to the worker that owns the fewest (see pick_owner), so this only
     * bounds how long one wake-up spends accepting.
     */
    ACCEPTS_PER_EVENT = 16
};

enum conn_state {
    CONN_HEAD,  /* reading a request head (idle when nothing has arrived) */
    CONN_BODY,  /* reading a request body */
    CONN_WRITE, /* waiting to write the rest of out */
    CONN_LINGER /* response sent, write side shut: draining input before close */
};

struct worker;

struct conn {
    int fd;
    char addr[INET_ADDRSTRLEN]; /* the peer's IPv4 address, for login throttling */
    struct worker *w;
    struct conn *prev, *next;
    enum conn_state state;
    int64_t deadline_us; /* idle, request or write deadline; the sweep acts on it */
    bool busy;           /* a request is under way (counted in the server's inflight) */
    /* input: [0, head_len) is the current head (its strings live there), then unread bytes */
    char in[IN_CAP];
    size_t in_len, scanned, head_len;
    size_t linger_bytes;
    /* the current request */
    struct http1_head head;
    struct http1_chunked chunked;
    struct http1_buf body;
    uint64_t body_left;
    struct arena arena;
    int64_t start_us;
    bool after_write_body; /* out holds "100 Continue": read the body once it is sent */
    /* output */
    struct http1_buf out;
    size_t out_off;
    bool close_after;
};

struct worker {
    struct http_server *s;
    pthread_t thread;
    int epfd, wake_fd;
    int spare_fd;       /* held open so that, out of descriptors, a client can still be told 503 */
    struct conn *conns; /* every connection this worker owns (its thread only) */
    /*
     * Connections owned, those in the inbox included: what pick_owner reads.
     * Written by the owner (close) and by acceptors (hand-off), hence atomic.
     */
    atomic_size_t n_owned;
    /* connections accepted by another worker for this one, adopted on its next wake-up */
    pthread_mutex_t inbox_mu;
    struct conn *inbox; /* linked through next */
    time_t date_at;
    char date[40];
};

struct http_server {
    struct http_server_config cfg;
    const struct router *router;
    struct metrics *metrics;
    int listen_fd;
    uint16_t port;
    size_t max_connections;
    struct worker *workers;
    size_t n_workers;
    atomic_int inflight;   /* requests between their first byte and their last byte sent */
    atomic_size_t n_conns; /* open connections */
    atomic_bool draining;  /* stop accepting, close idle connections, answer with close */
    atomic_bool stopping;  /* workers exit */
};

/* ---- connection bookkeeping ---- */

static int64_t now_us(void)
{
    return timefmt_monotonic_us();
}

static void set_busy(struct conn *c, bool busy)
{
    if (c->busy == busy)
        return;
    c->busy = busy;
    atomic_fetch_add(&c->w->s->inflight, busy ? 1 : -1);
}

static void request_reset(struct conn *c)
{
    arena_cleanup(&c->arena);
    http1_buf_free(&c->body);
    memset(&c->chunked, 0, sizeof(c->chunked));
    c->body_left = 0;
    c->after_write_body = false;
    c->head.n_fields = 0;
}

static void conn_close(struct conn *c)
{
    struct worker *w = c->w;
    set_busy(c, false);
    epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    request_reset(c);
    http1_buf_free(&c->out);
    atomic_fetch_sub(&w->n_owned, 1);
    atomic_fetch_sub(&w->s->n_conns, 1);
    free(c);
}

static void conn_watch(struct conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    epoll_ctl(c->w->epfd, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Stops writing, then reads and drops what the client still sends, so it gets our answer. */
static void conn_linger(struct conn *c)
{
    set_busy(c, false);
    shutdown(c->fd, SHUT_WR);
    c->state = CONN_LINGER;
    c->linger_bytes = 0;
    c->deadline_us = now_us() + LINGER_MS * 1000;
    conn_watch(c, EPOLLIN);
}

/* ---- responses ---- */

/* IMF-fixdate of the current second, cached per worker. Returns "" if it cannot be formatted. */
static const char *worker_date(struct worker *w)
{
    time_t t = time(NULL);
    if (t != w->date_at) {
        struct tm tm;
        if (!gmtime_r(&t, &tm) ||
            strftime(w->date, sizeof(w->date), "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
            w->date[0] = '\0';
        w->date_at = t;
    }
    return w->date;
}

/* True when text can go into a header without breaking the message. */
static bool header_safe(const char *text)
{
    return text && strpbrk(text, "\r\n") == NULL;
}

static const char fallback_500[] =
    "{\"type\":\"about:blank\",\"title\":\"Internal error\",\"status\":500,"
    "\"detail\":\"the response could not be rendered\",\"code\":\"INTERNAL_ERROR\"}";

static bool out_printf(struct http1_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static bool out_printf(struct http1_buf *b, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    return n >= 0 && (size_t)n < sizeof(line) && http1_buf_append(b, line, (size_t)n, SIZE_MAX / 2);
}

/*
 * Serialises resp into c->out: status line, Date, Content-Type,
 * Content-Length, resp's headers, Connection: close when closing, body
 * (omitted for HEAD). A body that cannot be rendered (json_dumps failed, or
 * a JSON content type with no body: a builder ran out of memory) becomes a
 * 500 problem, never a success without its body.
 * Returns false on OOM.
 */
static bool render_response(struct conn *c, struct http_resp *resp, bool head_only)
{
    const char *body = "";
    size_t body_len = 0;
    char *dumped = NULL;
    const char *ctype = resp->content_type;
    int status = resp->status;
    if (resp->json) {
        dumped = json_dumps(resp->json, JSON_COMPACT);
        if (dumped) {
            body = dumped;
            body_len = strlen(dumped);
        }
    } else if (resp->raw) {
        body = resp->raw;
        body_len = resp->raw_len;
    }
    /* no JSON document is empty: a JSON answer without a body is a builder that failed */
    bool unbuilt = body_len == 0 && ctype && strstr(ctype, "json") != NULL;
    if ((resp->json && !dumped) || unbuilt || status < 100 || status > 599 || !header_safe(ctype)) {
        log_error("response %d could not be rendered: answering 500", status);
        status = 500;
        body = fallback_500;
        body_len = sizeof(fallback_500) - 1;
        ctype = "application/problem+json";
        resp->n_headers = 0;
    }
    if (!ctype && body_len)
        ctype = "application/json";
    struct http1_buf *b = &c->out;
    b->len = 0;
    c->out_off = 0;
    const char *date = worker_date(c->w);
    bool ok = out_printf(b, "HTTP/1.1 %d %s\r\n", status, http1_reason(status));
    if (ok && *date)
        ok = out_printf(b, "Date: %s\r\n", date);
    if (ok && ctype)
        ok = out_printf(b, "Content-Type: %s\r\n", ctype);
    if (ok)
        ok = out_printf(b, "Content-Length: %zu\r\n", body_len);
    for (size_t i = 0; ok && i < resp->n_headers; i++) {
        const struct http_kv *h = &resp->headers[i];
        if (!header_safe(h->name) || !header_safe(h->value) || !*h->name) {
            log_error("response header %.64s dropped: it would break the message",
                      h->name ? h->name : "(null)");
            continue;
        }
        ok = http1_buf_append(b, h->name, strlen(h->name), SIZE_MAX / 2) &&
             http1_buf_append(b, ": ", 2, SIZE_MAX / 2) &&
             http1_buf_append(b, h->value, strlen(h->value), SIZE_MAX / 2) &&
             http1_buf_append(b, "\r\n", 2, SIZE_MAX / 2);
    }
    if (ok && c->close_after)
        ok = out_printf(b, "Connection: close\r\n");
    if (ok)
        ok = http1_buf_append(b, "\r\n", 2, SIZE_MAX / 2);
    if (ok && !head_only)
        ok = http1_buf_append(b, body, body_len, SIZE_MAX / 2);
    free(dumped);
    resp->status = status;
    return ok;
}

/*
 * What the steps below leave behind: more input is needed, an answer is
 * ready in c->out, or the connection was closed (c is freed).
 */
enum step { STEP_NEED_INPUT, STEP_OUTPUT, STEP_CLOSED };

/*
 * Writes what is left of out. Returns true when the connection is ready to
 * read or process more (the next request, or the body after "100
 * Continue"); false when it waits for the socket, lingers or was closed.
 */
static bool conn_flush(struct conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n > 0) {
            c->out_off += (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            if (c->state != CONN_WRITE) {
                c->state = CONN_WRITE;
                c->deadline_us = now_us() + (int64_t)c->w->s->cfg.idle_timeout_s * 1000000;
                conn_watch(c, EPOLLOUT);
            }
            return false;
        }
        conn_close(c); /* the client went away */
        return false;
    }
    bool was_waiting = c->state == CONN_WRITE;
    c->out.len = c->out_off = 0;
    if (c->after_write_body) { /* "100 Continue" is out: now the body */
        c->after_write_body = false;
        c->state = CONN_BODY;
        if (was_waiting)
            conn_watch(c, EPOLLIN);
        return true;
    }
    if (c->close_after) {
        conn_linger(c);
        return false;
    }
    /* next request: keep pipelined bytes that followed this one */
    memmove(c->in, c->in + c->head_len, c->in_len - c->head_len);
    c->in_len -= c->head_len;
    c->head_len = c->scanned = 0;
    request_reset(c);
    c->state = CONN_HEAD;
    c->deadline_us = now_us() + (int64_t)c->w->s->cfg.idle_timeout_s * 1000000;
    if (was_waiting)
        conn_watch(c, EPOLLIN);
    if (c->in_len == 0) {
        set_busy(c, false);
        if (atomic_load(&c->w->s->draining))
            conn_close(c);
        return false;
    }
    c->start_us = now_us();
    c->deadline_us = c->start_us + (int64_t)c->w->s->cfg.idle_timeout_s * 1000000;
    return true;
}

static void log_and_count(struct conn *c, const char *method, const char *path, size_t route_index,
                          int status)
{
    struct http_server *s = c->w->s;
    int64_t elapsed = now_us() - c->start_us;
    if (s->metrics)
        metrics_record(s->metrics, route_index, status, elapsed);
    if (!s->cfg.access_log)
        return;
    char clean[256]; /* decoded paths may hold control characters: never log them raw */
    size_t i = 0;
    for (; path[i] && i < sizeof(clean) - 1; i++)
        clean[i] = ((unsigned char)path[i] < 0x20 || path[i] == 0x7f) ? '?' : path[i];
    clean[i] = '\0';
    log_info("http %s %s %d %lldus", method, clean, status, (long long)elapsed);
}

/* Renders resp (which it cleans up) into c->out, logs and counts it. */
static enum step conn_answer(struct conn *c, struct http_resp *resp, const char *method,
                             const char *path, size_t route_index, bool head_only)
{
    if (atomic_load(&c->w->s->draining))
        c->close_after = true;
    bool ok = render_response(c, resp, head_only);
    log_and_count(c, method, path, route_index, resp->status);
    http_resp_cleanup(resp);
    if (!ok) {
        log_error("out of memory writing a response: closing the connection");
        conn_close(c);
        return STEP_CLOSED;
    }
    return STEP_OUTPUT;
}

/*
 * True when the request in c->in is a HEAD, parsed or not: its answer must
 * have no body even when the rest of the request could not be parsed.
 */
static bool request_is_head(const struct conn *c)
{
    size_t i = 0;
    while (i + 1 < c->in_len && c->in[i] == '\r' && c->in[i + 1] == '\n')
        i += 2;
    return c->in_len - i >= 5 && memcmp(c->in + i, "HEAD", 4) == 0 &&
           (c->in[i + 4] == ' ' || c->in[i + 4] == '\0');
}

/* Answers a transport-level refusal (e set); the connection closes after it. */
static enum step conn_refuse(struct conn *c, const struct err *e)
{
    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    problem_respond(&resp, e);
    if (e->code == ERR_UNAVAILABLE)
        http_resp_header(&resp, "Retry-After", "1");
    c->close_after = true;
    c->after_write_body = false;
    bool head_parsed = c->head_len > 0;
    return conn_answer(c, &resp, head_parsed ? c->head.method : "-",
                       head_parsed ? c->head.target : "-", c->w->s->router->n_routes,
                       request_is_head(c));
}

/* Routes and runs the complete request and renders its answer. */
static enum step conn_dispatch(struct conn *c)
{
    struct http_server *s = c->w->s;
    struct http_req req;
    struct http_resp resp;
    struct err e;
    memset(&req, 0, sizeof(req));
    memset(&resp, 0, sizeof(resp));
    err_clear(&e);
    char allow[128] = "";
    size_t route_index = s->router->n_routes;

    req.method = http_method_parse(c->head.method);
    bool head_only = req.method == HTTP_HEAD; /* HEAD is GET without the body (RFC 9110 9.3.2) */
    if (head_only)
        req.method = HTTP_GET;
    req.arena = &c->arena;
    req.client_addr = c->addr;
    req.body = c->body.data ? c->body.data : "";
    req.body_len = c->body.len;
    memcpy(req.headers, c->head.fields, c->head.n_fields * sizeof(c->head.fields[0]));
    req.n_headers = c->head.n_fields;
    c->close_after = !c->head.keep_alive;
    enum err_code rc = http_target_parse(c->head.target, &c->arena, &req.path, req.query,
                                         HTTP_MAX_QUERY, &req.n_query, &e);
    if (rc != ERR_OK) {
        problem_respond(&resp, &e);
        req.path = c->head.target;
    } else {
        http_dispatch(s->router, s->cfg.auth, &req, &resp, &route_index, allow, sizeof(allow));
    }
    return conn_answer(c, &resp, c->head.method, req.path, route_index, head_only);
}

/* The head is parsed: dispatch now, refuse the body, or get ready to read it. */
static enum step conn_start_body(struct conn *c)
{
    struct http_server *s = c->w->s;
    struct err e;
    err_clear(&e);
    if (c->head.body == HTTP1_BODY_NONE ||
        (c->head.body == HTTP1_BODY_LENGTH && c->head.content_length == 0))
        return conn_dispatch(c);
    if (c->head.body == HTTP1_BODY_LENGTH && c->head.content_length > s->cfg.max_body) {
        err_set(&e, ERR_PAYLOAD_TOO_LARGE, "request body exceeds %zu bytes", s->cfg.max_body);
        return conn_refuse(c, &e); /* at once: the body is never read */
    }
    c->body_left = c->head.content_length;
    c->state = CONN_BODY;
    if (!c->head.expect_continue || c->in_len > c->head_len)
        return STEP_NEED_INPUT;
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    c->out.len = c->out_off = 0;
    if (!http1_buf_append(&c->out, cont, sizeof(cont) - 1, SIZE_MAX / 2)) {
        conn_close(c);
        return STEP_CLOSED;
    }
    c->after_write_body = true;
    return STEP_OUTPUT;
}

/* Moves body bytes from the input buffer into the body; dispatches when complete. */
static enum step conn_read_body(struct conn *c)
{
    struct http_server *s = c->w->s;
    char *avail = c->in + c->head_len;
    size_t n = c->in_len - c->head_len, used = 0;
    struct err e;
    err_clear(&e);
    bool done = false;
    if (c->head.body == HTTP1_BODY_LENGTH) {
        used = n < c->body_left ? n : (size_t)c->body_left;
        if (!http1_buf_append(&c->body, avail, used, s->cfg.max_body)) {
            err_set(&e, ERR_PAYLOAD_TOO_LARGE, "request body exceeds %zu bytes", s->cfg.max_body);
            return conn_refuse(c, &e);
        }
        c->body_left -= used;
        done = c->body_left == 0;
    } else {
        enum http1_result r =
            http1_chunked_feed(&c->chunked, avail, n, &used, &c->body, s->cfg.max_body, &e);
        if (r == HTTP1_ERROR) {
            if (e.code == ERR_PAYLOAD_TOO_LARGE)
                err_set(&e, ERR_PAYLOAD_TOO_LARGE, "request body exceeds %zu bytes",
                        s->cfg.max_body);
            return conn_refuse(c, &e);
        }
        done = r == HTTP1_DONE;
    }
    memmove(avail, avail + used, n - used);
    c->in_len -= used;
    return done ? conn_dispatch(c) : STEP_NEED_INPUT;
}

/*
 * Advances the connection as far as the bytes in c->in allow: parses,
 * dispatches and writes request after request (pipelining), iteratively.
 */
static void conn_process(struct conn *c)
{
    for (;;) {
        enum step st;
        if (c->state == CONN_HEAD) {
            if (c->in_len == 0)
                return;
            struct err e;
            err_clear(&e);
            size_t head_len = 0;
            enum http1_result r =
                http1_parse_head(c->in, c->in_len, &c->scanned, &c->head, &head_len, &e);
            if (r == HTTP1_INCOMPLETE)
                return;
            if (r == HTTP1_ERROR) {
                c->head_len = 0;
                st = conn_refuse(c, &e);
            } else {
                c->head_len = head_len;
                st = conn_start_body(c);
                if (st == STEP_NEED_INPUT && c->in_len > c->head_len)
                    st = conn_read_body(c);
            }
        } else if (c->state == CONN_BODY) {
            st = conn_read_body(c);
        } else {
            return;
        }
        if (st != STEP_OUTPUT || !conn_flush(c))
            return;
    }
}

/* One read on a readable connection, then as much progress as it allows. */
static void conn_on_readable(struct conn *c)
{
    if (c->state == CONN_LINGER) {
        char sink[4096];
        ssize_t n = recv(c->fd, sink, sizeof(sink), 0);
        if (n > 0)
            c->linger_bytes += (size_t)n;
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
            c->linger_bytes > LINGER_MAX_BYTES)
            conn_close(c);
        return;
    }
    if (c->in_len >= sizeof(c->in)) /* cannot happen: the parser refuses a full buffer */
        return;
    ssize_t n = recv(c->fd, c->in + c->in_len, sizeof(c->in) - c->in_len, 0);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        conn_close(c); /* the client closed or reset: nobody is left to answer */
        return;
    }
    if (n < 0)
        return;
    if (!c->busy) {
        set_busy(c, true);
        c->start_us = now_us();
        /* the whole request must arrive within the timeout, however slowly it trickles */
        c->deadline_us = c->start_us + (int64_t)c->w->s->cfg.idle_timeout_s * 1000000;
    }
    c->in_len += (size_t)n;
    conn_process(c);
}

/* The socket can take more of a pending answer. */
static void conn_on_writable(struct conn *c)
{
    if (conn_flush(c))
        conn_process(c);
}

/* ---- workers ---- */

static const char busy_body[] =
    "{\"type\":\"about:blank\",\"title\":\"Service unavailable\",\"status\":503,"
    "\"detail\":\"too many connections\",\"code\":\"SERVICE_UNAVAILABLE\"}";

/* Tells a connection we cannot take that we are busy, best effort, and closes it. */
static void refuse_connection(int fd)
{
    char answer[512];
    int n =
        snprintf(answer, sizeof(answer),
                 "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/problem+json\r\n"
                 "Retry-After: 1\r\nConnection: close\r\nContent-Length: %zu\r\n\r\n%s",
                 sizeof(busy_body) - 1, busy_body);
    if (n > 0 && (size_t)n < sizeof(answer)) {
        ssize_t sent = send(fd, answer, (size_t)n, MSG_NOSIGNAL | MSG_DONTWAIT);
        (void)sent; /* best effort: the connection is refused either way */
    }
    close(fd);
}

/*
 * Out of file descriptors the listening socket stays readable: give the
 * spare descriptor up, take the connection, refuse it and take the spare
 * back, so the worker neither spins nor leaves the client hanging.
 */
static void accept_without_descriptors(struct worker *w)
{
    if (w->spare_fd < 0)
        return;
    close(w->spare_fd);
    int fd = accept4(w->s->listen_fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd >= 0)
        refuse_connection(fd);
    w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    log_warn("out of file descriptors: a connection was refused with 503");
}

/*
 * The worker that owns the fewest connections, the acceptor itself among
 * equals. Handlers run inline and block on the database, so two busy
 * connections on one worker wait for each other while another worker may
 * idle: with EPOLLEXCLUSIVE alone, 16 connections opened at once by wrk
 * ended up on 4 of 16 workers (counted in /proc/<pid>/fdinfo), a quarter of
 * the transactions in flight that the clients asked for. The count is read
 * without a lock; two acceptors racing may both pick one worker, which the
 * next accept evens out.
 */
static struct worker *pick_owner(struct worker *self)
{
    struct http_server *s = self->s;
    struct worker *best = self;
    size_t best_n = atomic_load(&self->n_owned);
    for (size_t i = 0; i < s->n_workers && best_n > 0; i++) {
        size_t n = atomic_load(&s->workers[i].n_owned);
        if (n < best_n) {
            best = &s->workers[i];
            best_n = n;
        }
    }
    return best;
}

/* Closes and frees c, counted for w but never registered with its epoll set. */
static void conn_discard(struct worker *w, struct conn *c)
{
    close(c->fd);
    free(c);
    atomic_fetch_sub(&w->n_owned, 1);
    atomic_fetch_sub(&w->s->n_conns, 1);
}

/* Registers c with its worker w (w's thread only); false when epoll refuses it. */
static bool conn_adopt(struct worker *w, struct conn *c)
{
    c->w = w;
    c->prev = NULL;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0) {
        conn_discard(w, c);
        return false;
    }
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    return true;
}

/* Hands c to worker w's inbox and wakes w (any thread). */
static void conn_hand_off(struct worker *w, struct conn *c)
{
    pthread_mutex_lock(&w->inbox_mu);
    c->next = w->inbox;
    w->inbox = c;
    pthread_mutex_unlock(&w->inbox_mu);
    uint64_t one = 1;
    ssize_t r = write(w->wake_fd, &one, sizeof(one));
    (void)r;
}

/* Takes w's inbox; with adopt false (the server stopping) closes its connections instead. */
static void adopt_inbox(struct worker *w, bool adopt)
{
    pthread_mutex_lock(&w->inbox_mu);
    struct conn *c = w->inbox;
    w->inbox = NULL;
    pthread_mutex_unlock(&w->inbox_mu);
    while (c) {
        struct conn *next = c->next;
        if (adopt)
            conn_adopt(w, c);
        else
            conn_discard(w, c);
        c = next;
    }
}

static void accept_connections(struct worker *w)
{
    struct http_server *s = w->s;
    for (int i = 0; i < ACCEPTS_PER_EVENT && !atomic_load(&s->draining); i++) {
        struct sockaddr_in peer;
        socklen_t peer_len = sizeof(peer);
        int fd = accept4(s->listen_fd, (struct sockaddr *)&peer, &peer_len,
                         SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EMFILE || errno == ENFILE)
                accept_without_descriptors(w);
            else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                     errno != ECONNABORTED && errno != EINVAL)
                log_warn("accept failed: %s", strerror(errno));
            return;
        }
        if (atomic_fetch_add(&s->n_conns, 1) >= s->max_connections) {
            refuse_connection(fd);
            atomic_fetch_sub(&s->n_conns, 1);
            continue;
        }
        struct conn *c = calloc(1, sizeof(*c));
        if (!c) {
            close(fd);
            atomic_fetch_sub(&s->n_conns, 1);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        c->fd = fd;
        if (peer.sin_family != AF_INET ||
            !inet_ntop(AF_INET, &peer.sin_addr, c->addr, sizeof(c->addr)))
            c->addr[0] = '\0';
        c->state = CONN_HEAD;
        arena_init(&c->arena);
        c->deadline_us = now_us() + (int64_t)s->cfg.idle_timeout_s * 1000000;
        struct worker *owner = pick_owner(w);
        atomic_fetch_add(&owner->n_owned, 1);
        if (owner == w)
            conn_adopt(w, c);
        else
            conn_hand_off(owner, c);
    }
}

/* Acts on expired deadlines; when draining, closes connections with nothing under way. */
static void sweep(struct worker *w)
{
    int64_t now = now_us();
    bool draining = atomic_load(&w->s->draining);
    struct conn *next;
    for (struct conn *c = w->conns; c; c = next) {
        next = c->next;
        bool idle = c->state == CONN_HEAD && c->in_len == 0;
        if (draining && idle) {
            conn_close(c);
        } else if (now >= c->deadline_us) {
            if (c->busy && (c->state == CONN_HEAD || c->state == CONN_BODY)) {
                struct err e;
                err_clear(&e);
                err_set(&e, ERR_REQUEST_TIMEOUT, "the request did not arrive within %u s",
                        w->s->cfg.idle_timeout_s);
                if (conn_refuse(c, &e) == STEP_OUTPUT)
                    conn_flush(c);
            } else {
                conn_close(c);
            }
        }
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    struct http_server *s = w->s;
    struct epoll_event events[EVENTS_PER_WAIT];
    int64_t next_sweep = now_us() + 1000000;
    while (!atomic_load(&s->stopping)) {
        int n = epoll_wait(w->epfd, events, EVENTS_PER_WAIT, 250);
        for (int i = 0; i < n; i++) {
            void *p = events[i].data.ptr;
            if (p == &s->listen_fd) {
                accept_connections(w);
            } else if (p == w) {
                uint64_t v;
                ssize_t r = read(w->wake_fd, &v, sizeof(v));
                (void)r;
                adopt_inbox(w, true);
                if (atomic_load(&s->draining))
                    next_sweep = 0; /* woken for a drain or a stop: look at every connection now */
            } else {
                struct conn *c = p;
                if (c->state == CONN_WRITE)
                    conn_on_writable(c);
                else
                    conn_on_readable(c);
            }
        }
        int64_t now = now_us();
        if (now >= next_sweep) {
            sweep(w);
            next_sweep = now + 1000000;
        }
    }
    while (w->conns)
        conn_close(w->conns);
    return NULL;
}

/* ---- start and stop ---- */

static int listen_socket(const struct http_server_config *cfg, uint16_t *port, struct err *e)
{
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof(addr));
    addr.sin_family = AF_INET;
    addr.sin_port = htons(cfg->port);
    if (inet_pton(AF_INET, cfg->host, &addr.sin_addr) != 1) {
        err_set(e, ERR_INVALID_REQUEST, "listen address \"%s\" is not an IPv4 address", cfg->host);
        return -1;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    int one = 1;
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) != 0 ||
        bind(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0 || listen(fd, 1024) != 0) {
        err_set(e, ERR_UNAVAILABLE, "cannot listen on %s:%u: %s", cfg->host, (unsigned)cfg->port,
                strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    socklen_t len = sizeof(addr);
    getsockname(fd, (struct sockaddr *)&addr, &len);
    *port = ntohs(addr.sin_port);
    return fd;
}

static void wake_workers(struct http_server *s)
{
    for (size_t i = 0; i < s->n_workers; i++) {
        uint64_t one = 1;
        ssize_t r = write(s->workers[i].wake_fd, &one, sizeof(one));
        (void)r;
    }
}

/* Stops and frees workers [0, n) and the server. */
static void server_free(struct http_server *s, size_t started)
{
    atomic_store(&s->stopping, true);
    wake_workers(s);
    for (size_t i = 0; i < started; i++)
        pthread_join(s->workers[i].thread, NULL);
    for (size_t i = 0; i < s->n_workers; i++) {
        adopt_inbox(&s->workers[i], false); /* handed off after its worker stopped */
        pthread_mutex_destroy(&s->workers[i].inbox_mu);
        if (s->workers[i].epfd >= 0)
            close(s->workers[i].epfd);
        if (s->workers[i].wake_fd >= 0)
            close(s->workers[i].wake_fd);
        if (s->workers[i].spare_fd >= 0)
            close(s->workers[i].spare_fd);
    }
    if (s->listen_fd >= 0)
        close(s->listen_fd);
    free(s->workers);
    free(s);
}

struct http_server *http_server_start(const struct http_server_config *cfg,
                                      const struct router *router, struct metrics *metrics,
                                      struct err *e)
{
    struct http_server *s = calloc(1, sizeof(*s));
    size_t n = cfg->threads ? cfg->threads : 1;
    struct worker *workers = calloc(n, sizeof(*workers));
    if (!s || !workers) {
        free(s);
        free(workers);
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    s->cfg = *cfg;
    if (!s->cfg.idle_timeout_s)
        s->cfg.idle_timeout_s = 30;
    s->router = router;
    s->metrics = metrics;
    s->max_connections = cfg->max_connections ? cfg->max_connections : DEFAULT_MAX_CONNECTIONS;
    s->workers = workers;
    s->n_workers = n;
    atomic_init(&s->inflight, 0);
    atomic_init(&s->n_conns, 0);
    atomic_init(&s->draining, false);
    atomic_init(&s->stopping, false);
    for (size_t i = 0; i < n; i++) {
        workers[i].epfd = workers[i].wake_fd = workers[i].spare_fd = -1;
        atomic_init(&workers[i].n_owned, 0);
        pthread_mutex_init(&workers[i].inbox_mu, NULL);
        workers[i].s = s;
    }
    s->listen_fd = listen_socket(cfg, &s->port, e);
    if (s->listen_fd < 0) {
        server_free(s, 0);
        return NULL;
    }
    size_t started = 0;
    for (; started < n; started++) {
        struct worker *w = &workers[started];
        w->s = s;
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        w->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
        w->spare_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        struct epoll_event lev = {.events = EPOLLIN | EPOLLEXCLUSIVE, .data.ptr = &s->listen_fd};
        struct epoll_event wev = {.events = EPOLLIN, .data.ptr = w};
        if (w->epfd < 0 || w->wake_fd < 0 ||
            epoll_ctl(w->epfd, EPOLL_CTL_ADD, s->listen_fd, &lev) != 0 ||
            epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wake_fd, &wev) != 0 ||
            pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            err_set(e, ERR_INTERNAL, "cannot start HTTP worker %zu: %s", started, strerror(errno));
            server_free(s, started);
            return NULL;
        }
    }
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
    /* refuse new connections now (Linux stops listening on SHUT_RD); the fd stays ours */
    shutdown(s->listen_fd, SHUT_RD);
    for (size_t i = 0; i < s->n_workers; i++)
        epoll_ctl(s->workers[i].epfd, EPOLL_CTL_DEL, s->listen_fd, NULL);
    wake_workers(s); /* idle connections are closed at once */
    int64_t deadline = now_us() + (int64_t)drain_timeout_ms * 1000;
    while (atomic_load(&s->inflight) > 0 && now_us() < deadline) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    int left = atomic_load(&s->inflight);
    if (left > 0)
        log_warn("shutdown: %d requests still running after %u ms, stopping anyway", left,
                 drain_timeout_ms);
    server_free(s, s->n_workers);
}
