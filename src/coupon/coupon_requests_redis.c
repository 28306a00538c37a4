/* coupon_requests_redis.c — one hash per request; create and decide are one Lua script each. */
#include "coupon/coupon_requests_redis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

enum { REQUESTS_TTL_DEFAULT_S = 7 * 24 * 3600 };

/* KEYS: record, pending. ARGV: coupon_id, user_id, requested_at, ttl */
static const char create_lua[] =
    "redis.call('HSET', KEYS[1], 'coupon_id', ARGV[1], 'user_id', ARGV[2],"
    " 'status', 'PENDING', 'requested_at', ARGV[3])\n"
    "redis.call('EXPIRE', KEYS[1], ARGV[4])\n"
    "redis.call('INCR', KEYS[2])\n"
    "return 0\n";
/*
 * KEYS: record, pending. ARGV: status, code, user_coupon_id, decided_at, coupon_id, user_id,
 * requested_at, ttl. 1 = written, 0 = already decided (kept).
 */
static const char decide_lua[] =
    "local s = redis.call('HGET', KEYS[1], 'status')\n"
    "if s and s ~= 'PENDING' then return 0 end\n"
    "if s then\n"
    "  if redis.call('DECR', KEYS[2]) < 0 then redis.call('SET', KEYS[2], 0) end\n"
    "else\n"
    "  redis.call('HSET', KEYS[1], 'coupon_id', ARGV[5], 'user_id', ARGV[6],"
    " 'requested_at', ARGV[7])\n"
    "  redis.call('EXPIRE', KEYS[1], ARGV[8])\n"
    "end\n"
    "redis.call('HSET', KEYS[1], 'status', ARGV[1], 'code', ARGV[2], 'user_coupon_id', ARGV[3],"
    " 'decided_at', ARGV[4])\n"
    "return 1\n";

struct coupon_requests {
    struct redis_pool *pool;
    char ns[64];
    unsigned ttl_s;
};

struct coupon_requests *coupon_requests_new(struct redis_pool *pool, const char *ns, unsigned ttl_s)
{
    struct coupon_requests *r = calloc(1, sizeof(*r));
    if (r) {
        r->pool = pool;
        snprintf(r->ns, sizeof(r->ns), "%s", ns);
        r->ttl_s = ttl_s ? ttl_s : REQUESTS_TTL_DEFAULT_S;
    }
    return r;
}

void coupon_requests_free(struct coupon_requests *r)
{
    free(r);
}

static void record_key(const struct coupon_requests *r, int64_t id, char key[128])
{
    snprintf(key, 128, "%s:coupon-req:%lld", r->ns, (long long)id);
}

static void pending_key(const struct coupon_requests *r, char key[128])
{
    snprintf(key, 128, "%s:coupon-req:pending", r->ns);
}

/* Runs argv; NULL (e set, ERR_UNAVAILABLE) when Redis is away or refused the command. */
static redisReply *run(struct coupon_requests *r, int argc, const char **argv, struct err *e)
{
    redisReply *reply = redis_command_argv(r->pool, e, argc, argv, NULL);
    if (reply && reply->type == REDIS_REPLY_ERROR) {
        log_warn("coupon requests: redis refused %s: %s", argv[0], reply->str);
        freeReplyObject(reply);
        reply = NULL;
    }
    if (!reply)
        err_set(e, ERR_UNAVAILABLE, "the issue request store cannot be reached");
    return reply;
}

enum err_code coupon_requests_create(struct coupon_requests *r, struct coupon_request *inout,
                                     struct err *e)
{
    char seq[128];
    snprintf(seq, sizeof(seq), "%s:coupon-req:seq", r->ns);
    const char *incr[] = {"INCR", seq};
    redisReply *reply = run(r, 2, incr, e);
    if (!reply)
        return e->code;
    inout->id = reply->type == REDIS_REPLY_INTEGER ? reply->integer : 0;
    freeReplyObject(reply);
    if (inout->id <= 0)
        return err_set(e, ERR_UNAVAILABLE, "the issue request store gave no id");
    inout->status = COUPON_REQUEST_PENDING;
    inout->code = ERR_OK;
    inout->user_coupon_id = 0;
    inout->decided_at = 0;
    char key[128], pending[128], coupon[21], user[21], at[21], ttl[21];
    record_key(r, inout->id, key);
    pending_key(r, pending);
    snprintf(coupon, sizeof(coupon), "%lld", (long long)inout->coupon_id);
    snprintf(user, sizeof(user), "%lld", (long long)inout->user_id);
    snprintf(at, sizeof(at), "%lld", (long long)inout->requested_at);
    snprintf(ttl, sizeof(ttl), "%u", r->ttl_s);
    const char *argv[] = {"EVAL", create_lua, "2", key, pending, coupon, user, at, ttl};
    reply = run(r, 9, argv, e);
    if (!reply)
        return e->code;
    freeReplyObject(reply);
    return ERR_OK;
}

/* The error code named text (REJECTED requests); ERR_INTERNAL when unknown. */
static enum err_code code_of(const char *text)
{
    for (int c = ERR_OK + 1; c < ERR_CODE_COUNT; c++)
        if (strcmp(text, err_code_str((enum err_code)c)) == 0)
            return (enum err_code)c;
    return ERR_INTERNAL;
}

enum err_code coupon_requests_get(struct coupon_requests *r, int64_t id, struct coupon_request *out,
                                  struct err *e)
{
    memset(out, 0, sizeof(*out));
    char key[128];
    record_key(r, id, key);
    const char *argv[] = {"HGETALL", key};
    redisReply *reply = run(r, 2, argv, e);
    if (!reply)
        return e->code;
    bool found = false;
    out->id = id;
    for (size_t i = 0; reply->type == REDIS_REPLY_ARRAY && i + 1 < reply->elements; i += 2) {
        const char *name = reply->element[i]->str, *value = reply->element[i + 1]->str;
        if (!name || !value)
            continue;
        long long v = strtoll(value, NULL, 10);
        if (strcmp(name, "coupon_id") == 0)
            out->coupon_id = v;
        else if (strcmp(name, "user_id") == 0)
            out->user_id = v;
        else if (strcmp(name, "status") == 0)
            found = coupon_request_status_parse(value, &out->status);
        else if (strcmp(name, "code") == 0)
            out->code = value[0] ? code_of(value) : ERR_OK;
        else if (strcmp(name, "user_coupon_id") == 0)
            out->user_coupon_id = v;
        else if (strcmp(name, "requested_at") == 0)
            out->requested_at = v;
        else if (strcmp(name, "decided_at") == 0)
            out->decided_at = v;
    }
    freeReplyObject(reply);
    if (!found)
        return err_set(e, ERR_ISSUE_REQUEST_NOT_FOUND, "issue request %lld does not exist",
                       (long long)id);
    return ERR_OK;
}

enum err_code coupon_requests_decide(struct coupon_requests *r, const struct coupon_request *req,
                                     bool *changed, struct err *e)
{
    *changed = false;
    char key[128], pending[128], uc[21], decided[21], coupon[21], user[21], at[21], ttl[21];
    record_key(r, req->id, key);
    pending_key(r, pending);
    snprintf(uc, sizeof(uc), "%lld", (long long)req->user_coupon_id);
    snprintf(decided, sizeof(decided), "%lld", (long long)req->decided_at);
    snprintf(coupon, sizeof(coupon), "%lld", (long long)req->coupon_id);
    snprintf(user, sizeof(user), "%lld", (long long)req->user_id);
    snprintf(at, sizeof(at), "%lld", (long long)req->requested_at);
    snprintf(ttl, sizeof(ttl), "%u", r->ttl_s);
    const char *argv[] = {"EVAL",
                          decide_lua,
                          "2",
                          key,
                          pending,
                          coupon_request_status_name(req->status),
                          req->code ? err_code_str(req->code) : "",
                          uc,
                          decided,
                          coupon,
                          user,
                          at,
                          ttl};
    redisReply *reply = run(r, 13, argv, e);
    if (!reply)
        return e->code;
    *changed = reply->type == REDIS_REPLY_INTEGER && reply->integer == 1;
    freeReplyObject(reply);
    return ERR_OK;
}

int64_t coupon_requests_pending(void *ud)
{
    struct coupon_requests *r = ud;
    char pending[128];
    pending_key(r, pending);
    const char *argv[] = {"GET", pending};
    struct err e;
    err_clear(&e);
    redisReply *reply = run(r, 2, argv, &e);
    if (!reply)
        return -1;
    int64_t n = reply->type == REDIS_REPLY_STRING ? strtoll(reply->str, NULL, 10) : 0;
    freeReplyObject(reply);
    return n;
}
