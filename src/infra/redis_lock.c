/*
 * redis_lock.c — a lease lock in Redis.
 *   acquire: a Lua script "SET <ns>:lock:<key> <token> NX PX <lease>, or
 *            the key already holds <token>" (one token per acquisition),
 *            retried with exponential backoff and jitter until wait_ms has
 *            passed. When a reply is lost (timeout, broken connection) the
 *            SET may have been applied: the script is tried once more with
 *            the same token on a fresh connection, and recognises our own
 *            hold; if that reply is lost too, the caller proceeds without
 *            the lock (fail open) and the (key, token) is remembered and
 *            released by compare-and-delete as soon as Redis answers again,
 *            instead of blocking the user for the whole lease;
 *   release: a Lua script deletes the key only if it still holds our token,
 *            so a holder whose lease ran out can never delete the next
 *            holder's lock.
 * The lease must comfortably exceed the longest transaction it guards
 * (statement timeout × statements), or two holders could overlap; the
 * database's own guarantees make even that harmless, only slower.
 */
#include "infra/redis_lock.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/timefmt.h"

static const char release_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

/* KEYS: the lock; ARGV: token, lease. 1 = held by token (now or already), 0 = another's. */
static const char acquire_lua[] =
    "if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 1 end\n"
    "if redis.call('GET', KEYS[1]) == ARGV[1] then\n"
    "  redis.call('PEXPIRE', KEYS[1], ARGV[2])\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

enum { LOCK_ORPHANS_MAX = 16 };

/* A lock that may be held with our token although acquire answered "not held". */
struct orphan {
    char name[256];
    char token[LOCK_TOKEN_LEN];
};

struct redis_lock {
    struct redis_lock_config cfg;
    char ns[64];
    pthread_mutex_t mu; /* guards orphans */
    struct orphan orphans[LOCK_ORPHANS_MAX];
    size_t n_orphans;
};

struct redis_lock *redis_lock_new(const struct redis_lock_config *cfg)
{
    struct redis_lock *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->cfg = *cfg;
    snprintf(l->ns, sizeof(l->ns), "%s", cfg->ns ? cfg->ns : "shopd");
    l->cfg.ns = l->ns;
    if (!l->cfg.backoff_min_ms)
        l->cfg.backoff_min_ms = 2;
    if (l->cfg.backoff_max_ms < l->cfg.backoff_min_ms)
        l->cfg.backoff_max_ms = l->cfg.backoff_min_ms;
    if (pthread_mutex_init(&l->mu, NULL)) {
        free(l);
        return NULL;
    }
    return l;
}

void redis_lock_free(struct redis_lock *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l);
}

void redis_lock_token(char token[LOCK_TOKEN_LEN])
{
    unsigned char raw[16];
    int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, raw, sizeof(raw)) : -1;
    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)sizeof(raw)) { /* never expected; still unique enough per process */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long mix =
            (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 20) ^
            (unsigned long long)(uintptr_t)&n ^ ((unsigned long long)getpid() << 40);
        for (size_t i = 0; i < sizeof(raw); i++)
            raw[i] = (unsigned char)(mix >> (8 * (i % 8))) ^ (unsigned char)i;
    }
    for (size_t i = 0; i < sizeof(raw); i++)
        snprintf(token + 2 * i, 3, "%02x", raw[i]);
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Compare-and-delete of name if it holds token. False when Redis did not answer. */
static bool release_by_token(struct redis_lock *l, const char *name, const char *token)
{
    const char *argv[] = {"EVAL", release_lua, "1", name, token};
    struct err e;
    err_clear(&e);
    redisReply *r = redis_command_argv(l->cfg.redis, &e, 5, argv, NULL);
    freeReplyObject(r);
    return r != NULL;
}

/* Remembers that name may be held with token (an acquire whose outcome is unknown). */
static void remember_orphan(struct redis_lock *l, const char *name, const char *token)
{
    pthread_mutex_lock(&l->mu);
    if (l->n_orphans == LOCK_ORPHANS_MAX) { /* forget the oldest: its lease ends anyway */
        memmove(&l->orphans[0], &l->orphans[1], sizeof(l->orphans[0]) * (LOCK_ORPHANS_MAX - 1));
        l->n_orphans--;
    }
    struct orphan *o = &l->orphans[l->n_orphans++];
    snprintf(o->name, sizeof(o->name), "%s", name);
    snprintf(o->token, sizeof(o->token), "%s", token);
    pthread_mutex_unlock(&l->mu);
}

/* Releases the remembered orphans while Redis answers. Cheap when there are none. */
static void release_orphans(struct redis_lock *l)
{
    for (;;) {
        struct orphan o;
        pthread_mutex_lock(&l->mu);
        bool any = l->n_orphans > 0;
        if (any)
            o = l->orphans[--l->n_orphans];
        pthread_mutex_unlock(&l->mu);
        if (!any)
            return;
        if (!release_by_token(l, o.name, o.token)) {
            remember_orphan(l, o.name, o.token); /* still unreachable: next time */
            return;
        }
        log_info("redis_lock: released %s, acquired while its reply was lost", o.name);
    }
}

/* One try: 1 held (now or already, by token), 0 held by another, -1 refused, -2 no reply. */
static int try_acquire(struct redis_lock *l, const char *name, const char *token, const char *lease)
{
    const char *argv[] = {"EVAL", acquire_lua, "1", name, token, lease};
    struct err e;
    err_clear(&e);
    redisReply *r = redis_command_argv(l->cfg.redis, &e, 6, argv, NULL);
    if (!r)
        return -2;
    int rc = r->type == REDIS_REPLY_INTEGER ? (r->integer == 1) : -1;
    freeReplyObject(r);
    return rc;
}

static enum err_code lock_acquire(void *self, const char *key, char token[LOCK_TOKEN_LEN],
                                  bool *held, struct err *e)
{
    struct redis_lock *l = self;
    char name[256], lease[21];
    snprintf(name, sizeof(name), "%s:lock:%s", l->ns, key);
    snprintf(lease, sizeof(lease), "%u", l->cfg.lease_ms);
    redis_lock_token(token); /* one token for every try of this acquisition */
    *held = false;
    release_orphans(l);
    unsigned seed = (unsigned)token[0] * 2654435761u ^ (unsigned)timefmt_monotonic_us();
    int64_t deadline = timefmt_monotonic_us() + (int64_t)l->cfg.wait_ms * 1000;
    unsigned pause = l->cfg.backoff_min_ms;
    for (;;) {
        int got = try_acquire(l, name, token, lease);
        if (got == -2) {
            /* no reply: the SET may have been applied; the same token on a fresh connection
             * tells (the script recognises our own hold) */
            got = try_acquire(l, name, token, lease);
            if (got == -2) {
                /* Redis unreachable: proceed without the lock; PostgreSQL still holds every
                 * rule. Should the lock be ours after all, free it once Redis answers. */
                remember_orphan(l, name, token);
                return ERR_OK;
            }
        }
        if (got == 1) {
            *held = true;
            return ERR_OK;
        }
        if (got == -1)
            return ERR_OK; /* a Redis that refuses SET is as good as none: fail open */
        if (timefmt_monotonic_us() >= deadline)
            return err_set(e, ERR_UNAVAILABLE,
                           "another request for the same user is still running, retry shortly");
        /* equal jitter: sleep in [pause/2, pause], then double */
        unsigned half = pause / 2;
        sleep_ms(half + (half ? (unsigned)rand_r(&seed) % (half + 1) : 0) + (pause % 2));
        pause = pause * 2 > l->cfg.backoff_max_ms ? l->cfg.backoff_max_ms : pause * 2;
    }
}

static void lock_release(void *self, const char *key, const char *token)
{
    struct redis_lock *l = self;
    char name[256];
    snprintf(name, sizeof(name), "%s:lock:%s", l->ns, key);
    if (!release_by_token(l, name, token))
        remember_orphan(l, name, token); /* the lease would free it; sooner is better */
    else
        release_orphans(l);
}

static const struct lock_port_ops redis_lock_ops = {
    .acquire = lock_acquire,
    .release = lock_release,
};

struct lock_port redis_lock_port(struct redis_lock *l)
{
    return (struct lock_port){.ops = &redis_lock_ops, .self = l};
}
