/* redis.c — per-thread hiredis contexts with reconnect. */
#include "infra/redis.h"

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/thread_slots.h"

struct redis_conn {
    struct thread_slot slot; /* first: the pool's registry owns it */
    redisContext *ctx;
    struct redis_pool *pool;
    unsigned unread; /* replies owed to redis_send_argv, read before the next command */
};

struct redis_pool {
    char host[256];
    int port;
    int db;
    char password[256];
    struct timeval timeout;
    struct thread_slots conns; /* one context per thread */
    atomic_int_fast64_t open;
    atomic_bool down;
};

static void conn_close(struct redis_conn *c)
{
    c->unread = 0;
    if (c->ctx) {
        redisFree(c->ctx);
        c->ctx = NULL;
        atomic_fetch_sub(&c->pool->open, 1);
    }
}

/* Registry destructor: the thread exited or the pool is being freed. */
static void conn_destroy(struct thread_slot *slot)
{
    struct redis_conn *c = (struct redis_conn *)slot;
    conn_close(c);
    free(c);
}

/* redis://[:password@]host:port[/db] */
static enum err_code parse_url(struct redis_pool *p, const char *url, struct err *e)
{
    const char *s = url;
    if (strncmp(s, "redis://", 8) != 0)
        goto bad;
    s += 8;
    const char *at = strchr(s, '@');
    if (at) {
        const char *pw = s[0] == ':' ? s + 1 : strchr(s, ':');
        if (!pw || pw > at || (size_t)(at - pw) >= sizeof(p->password))
            goto bad;
        if (pw != s + 1)
            pw++;
        memcpy(p->password, pw, (size_t)(at - pw));
        p->password[at - pw] = '\0';
        s = at + 1;
    }
    const char *colon = strchr(s, ':');
    size_t host_len = colon ? (size_t)(colon - s) : strcspn(s, "/");
    if (host_len == 0 || host_len >= sizeof(p->host))
        goto bad;
    memcpy(p->host, s, host_len);
    p->host[host_len] = '\0';
    p->port = 6379;
    s += host_len;
    char *end;
    if (*s == ':') {
        errno = 0;
        long port = strtol(s + 1, &end, 10);
        if (end == s + 1 || port < 1 || port > 65535)
            goto bad;
        p->port = (int)port;
        s = end;
    }
    if (*s == '/' && s[1]) {
        errno = 0;
        long db = strtol(s + 1, &end, 10);
        if (*end || db < 0 || db > 1000)
            goto bad;
        p->db = (int)db;
    } else if (*s && strcmp(s, "/") != 0) {
        goto bad;
    }
    return ERR_OK;
bad:
    return err_set_field(
        e, ERR_INVALID_REQUEST, "SHOPD_REDIS_URL",
        "redis url must look like redis://host:port/db, got \"%s\" (SHOPD_REDIS_URL)", url);
}

struct redis_pool *redis_pool_new(const char *url, unsigned timeout_ms, struct err *e)
{
    struct redis_pool *p = calloc(1, sizeof(*p));
    if (!p) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (parse_url(p, url, e) != ERR_OK || !thread_slots_init(&p->conns, conn_destroy)) {
        if (e->code == ERR_OK)
            err_set(e, ERR_INTERNAL, "cannot create thread key");
        free(p);
        return NULL;
    }
    p->timeout.tv_sec = timeout_ms / 1000;
    p->timeout.tv_usec = (timeout_ms % 1000) * 1000;
    atomic_init(&p->open, 0);
    atomic_init(&p->down, false);
    return p;
}

void redis_pool_free(struct redis_pool *p)
{
    if (!p)
        return;
    thread_slots_cleanup(&p->conns);
    free(p);
}

int64_t redis_pool_open_count(void *pool)
{
    return atomic_load(&((struct redis_pool *)pool)->open);
}

/* Runs AUTH / SELECT after connecting; false when either fails. */
static bool conn_setup(struct redis_conn *c)
{
    struct redis_pool *p = c->pool;
    redisReply *r;
    if (p->password[0]) {
        r = redisCommand(c->ctx, "AUTH %s", p->password);
        bool ok = r && r->type != REDIS_REPLY_ERROR;
        freeReplyObject(r);
        if (!ok)
            return false;
    }
    if (p->db) {
        r = redisCommand(c->ctx, "SELECT %d", p->db);
        bool ok = r && r->type != REDIS_REPLY_ERROR;
        freeReplyObject(r);
        if (!ok)
            return false;
    }
    return true;
}

/* An idle context has nothing to read; if it does, the server closed it (restart, timeout). */
static bool idle_ctx_is_dead(const redisContext *ctx)
{
    struct pollfd pfd = {.fd = ctx->fd, .events = POLLIN};
    return ctx->err || pfd.fd < 0 || poll(&pfd, 1, 0) != 0;
}

static redisContext *conn_get(struct redis_pool *p, struct redis_conn **out, struct err *e)
{
    struct redis_conn *c = (struct redis_conn *)thread_slots_get(&p->conns);
    if (!c) {
        c = calloc(1, sizeof(*c));
        if (!c) {
            err_set(e, ERR_INTERNAL, "out of memory");
            return NULL;
        }
        c->pool = p;
        thread_slots_set(&p->conns, &c->slot);
    }
    *out = c;
    /* the replies of commands sent without waiting come first: read them away */
    while (c->ctx && c->unread > 0) {
        void *reply = NULL;
        if (redisGetReply(c->ctx, &reply) != REDIS_OK) {
            conn_close(c);
            break;
        }
        freeReplyObject(reply);
        c->unread--;
    }
    if (c->ctx && !idle_ctx_is_dead(c->ctx))
        return c->ctx;
    conn_close(c);
    c->ctx = redisConnectWithTimeout(p->host, p->port, p->timeout);
    if (!c->ctx) {
        err_set(e, ERR_UNAVAILABLE, "redis is unavailable");
        return NULL;
    }
    atomic_fetch_add(&p->open, 1);
    if (c->ctx->err || redisSetTimeout(c->ctx, p->timeout) != REDIS_OK || !conn_setup(c)) {
        if (!atomic_exchange(&p->down, true))
            log_warn("redis: cannot connect to %s:%d: %s", p->host, p->port, c->ctx->errstr);
        conn_close(c);
        err_set(e, ERR_UNAVAILABLE, "redis is unavailable");
        return NULL;
    }
    if (atomic_exchange(&p->down, false))
        log_info("redis: connected again");
    return c->ctx;
}

redisReply *redis_command(struct redis_pool *p, struct err *e, const char *fmt, ...)
{
    struct redis_conn *c;
    redisContext *ctx = conn_get(p, &c, e);
    if (!ctx)
        return NULL;
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(ctx, fmt, ap);
    va_end(ap);
    if (!r) {
        log_warn("redis: command failed: %s", ctx->errstr);
        conn_close(c);
        err_set(e, ERR_UNAVAILABLE, "redis is unavailable");
        return NULL;
    }
    return r;
}

redisReply *redis_command_argv(struct redis_pool *p, struct err *e, int argc, const char **argv,
                               const size_t *argvlen)
{
    struct redis_conn *c;
    redisContext *ctx = conn_get(p, &c, e);
    if (!ctx)
        return NULL;
    redisReply *r = redisCommandArgv(ctx, argc, argv, argvlen);
    if (!r) {
        log_warn("redis: command failed: %s", ctx->errstr);
        conn_close(c);
        err_set(e, ERR_UNAVAILABLE, "redis is unavailable");
        return NULL;
    }
    return r;
}

bool redis_send_argv(struct redis_pool *p, int argc, const char **argv, const size_t *argvlen)
{
    struct redis_conn *c;
    struct err e;
    err_clear(&e);
    redisContext *ctx = conn_get(p, &c, &e);
    if (!ctx)
        return false;
    int done = 0;
    if (redisAppendCommandArgv(ctx, argc, argv, argvlen) != REDIS_OK)
        goto out_fail;
    while (!done)
        if (redisBufferWrite(ctx, &done) != REDIS_OK)
            goto out_fail;
    c->unread++;
    return true;

out_fail:
    log_warn("redis: send failed: %s", ctx->errstr);
    conn_close(c);
    return false;
}

redisReply *redis_receive(struct redis_pool *p, struct err *e)
{
    struct redis_conn *c = (struct redis_conn *)thread_slots_get(&p->conns);
    if (!c || !c->ctx || c->unread != 1) { /* nothing sent, or the context was lost since */
        err_set(e, ERR_UNAVAILABLE, "redis is unavailable");
        return NULL;
    }
    void *reply = NULL;
    if (redisGetReply(c->ctx, &reply) != REDIS_OK) {
        log_warn("redis: no reply: %s", c->ctx->errstr);
        conn_close(c);
        err_set(e, ERR_UNAVAILABLE, "redis is unavailable");
        return NULL;
    }
    c->unread = 0;
    return reply;
}
