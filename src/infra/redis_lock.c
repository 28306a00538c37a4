/*
 * redis_lock.c — a lease lock in Redis.
 *   acquire: SET <ns>:lock:<key> <token> NX PX <lease>, retried with
 *            exponential backoff and jitter until wait_ms has passed;
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

struct redis_lock {
    struct redis_lock_config cfg;
    char ns[64];
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
    return l;
}

void redis_lock_free(struct redis_lock *l)
{
    free(l);
}

/* 128 random bits as hex, from the kernel. */
static void new_token(char token[LOCK_TOKEN_LEN])
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

static enum err_code lock_acquire(void *self, const char *key, char token[LOCK_TOKEN_LEN],
                                  bool *held, struct err *e)
{
    struct redis_lock *l = self;
    char name[256], lease[21];
    snprintf(name, sizeof(name), "%s:lock:%s", l->ns, key);
    snprintf(lease, sizeof(lease), "%u", l->cfg.lease_ms);
    new_token(token);
    *held = false;
    unsigned seed = (unsigned)token[0] * 2654435761u ^ (unsigned)timefmt_monotonic_us();
    int64_t deadline = timefmt_monotonic_us() + (int64_t)l->cfg.wait_ms * 1000;
    unsigned pause = l->cfg.backoff_min_ms;
    for (;;) {
        const char *argv[] = {"SET", name, token, "NX", "PX", lease};
        struct err redis_err;
        err_clear(&redis_err);
        redisReply *r = redis_command_argv(l->cfg.redis, &redis_err, 6, argv, NULL);
        if (!r) {
            /* Redis unreachable: proceed without the lock; PostgreSQL still holds every rule */
            return ERR_OK;
        }
        bool got = r->type == REDIS_REPLY_STATUS && strcmp(r->str, "OK") == 0;
        bool refused = r->type == REDIS_REPLY_ERROR;
        freeReplyObject(r);
        if (got) {
            *held = true;
            return ERR_OK;
        }
        if (refused)
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
    const char *argv[] = {"EVAL", release_lua, "1", name, token};
    struct err e;
    err_clear(&e);
    freeReplyObject(redis_command_argv(l->cfg.redis, &e, 5, argv, NULL));
}

static const struct lock_port_ops redis_lock_ops = {
    .acquire = lock_acquire,
    .release = lock_release,
};

struct lock_port redis_lock_port(struct redis_lock *l)
{
    return (struct lock_port){.ops = &redis_lock_ops, .self = l};
}
