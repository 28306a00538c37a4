/*
 * redis_lock.c — a short lease lock in Redis, kept alive while held.
 *   acquire: SET <ns>:lock:<key> <token> NX PX <lease> (one token per
 *            acquisition), retried with exponential backoff and jitter until
 *            wait_ms has passed: one round trip when the lock is free. When
 *            a reply is lost (timeout, broken connection) the SET may have
 *            been applied: a script "SET NX PX, or the key already holds
 *            <token>" is tried at once with the same token on a fresh
 *            connection and recognises our own hold; if that reply is lost
 *            too, the caller proceeds without the lock (fail open) and the
 *            (key, token) is queued for release by compare-and-delete as
 *            soon as Redis answers again;
 *   keep-alive: a thread per lock object (nice 10) renews every lock this
 *            process holds every lease/3, in one script call that extends
 *            each key by compare-and-PEXPIRE on its token. A long
 *            transaction keeps its lock; a dead (or frozen) process's locks
 *            expire within one lease. Redis writes expiries to its AOF as
 *            absolute times, so a lock that survives a Redis restart also
 *            expires within one lease of its last renewal;
 *   acquire in two halves (acquire_start/finish): the same SET sent
 *            without waiting, its answer read later, so the round trip
 *            overlaps the caller's other work;
 *   release: stops renewing and sends a compare-and-delete (the key is
 *            deleted only if it still holds our token, so a holder whose
 *            lease ran out can never delete the next holder's lock) on the
 *            thread's connection without waiting for the reply: the caller
 *            does not wait for Redis. One that cannot be sent is queued for
 *            the keep-alive thread, which retries it once Redis answers; an
 *            acquire of a key whose release is still queued in this process
 *            takes it over: the script swaps the old token for the new one.
 */
#include "infra/redis_lock.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "core/log.h"
#include "core/thread_priority.h"
#include "core/timefmt.h"

/*
 * KEYS: the lock; ARGV: token, lease, a token of this process whose release
 * is still queued ('' if none). 1 = held by token (taken now, already ours,
 * or taken over from the queued release), 0 = another holder's.
 */
static const char acquire_lua[] =
    "local v = redis.call('GET', KEYS[1])\n"
    "if not v or v == ARGV[1] or (ARGV[3] ~= '' and v == ARGV[3]) then\n"
    "  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])\n"
    "  return 1\n"
    "end\n"
    "return 0\n";

/*
 * The keep-alive's one call. KEYS: the locks to release, then the locks to
 * renew; ARGV: lease, number of locks to release, then each key's token.
 * Releases delete a key only if it holds its token; renewals extend it only
 * if it holds its token. Returns the (1-based) positions among the renewals
 * of the locks no longer ours (lease ran out before the renewal).
 */
static const char keepalive_lua[] = "local nrel = tonumber(ARGV[2])\n"
                                    "local lost = {}\n"
                                    "for i = 1, #KEYS do\n"
                                    "  local mine = redis.call('GET', KEYS[i]) == ARGV[i + 2]\n"
                                    "  if i <= nrel then\n"
                                    "    if mine then redis.call('DEL', KEYS[i]) end\n"
                                    "  elseif mine then\n"
                                    "    redis.call('PEXPIRE', KEYS[i], ARGV[1])\n"
                                    "  else\n"
                                    "    lost[#lost + 1] = i - nrel\n"
                                    "  end\n"
                                    "end\n"
                                    "return lost\n";

enum {
    LOCK_NAME_MAX = 128,     /* "<ns>:lock:<key>": 63 + 6 + 31 */
    LOCK_PENDING_MAX = 1024, /* queued releases; beyond, the oldest is left to its lease */
    LOCK_BATCH_MAX = 256,    /* keys per keep-alive script call */
};

struct entry {
    char name[LOCK_NAME_MAX];
    char token[LOCK_TOKEN_LEN];
};

/* A growable array of (name, token). */
struct entries {
    struct entry *v;
    size_t n, cap;
};

struct redis_lock {
    struct redis_lock_config cfg;
    char ns[64];
    char lease[21];
    int64_t period_us; /* keep-alive period: lease / 3 */
    pthread_mutex_t mu;
    pthread_cond_t wake; /* the keep-alive waits on it */
    pthread_cond_t done; /* redis_lock_sync waits on it */
    /* guarded by mu */
    struct entries held;    /* renewed by the keep-alive */
    struct entries pending; /* to release by compare-and-delete, oldest first */
    bool kick, stop, paused;
    uint64_t queued, tried; /* releases queued; releases tried up to that count */
    pthread_t thread;
    atomic_uint_fast64_t waited; /* round trips the callers waited for */
};

static bool entries_push(struct entries *a, const char *name, const char *token)
{
    if (a->n == a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 16;
        struct entry *v = realloc(a->v, cap * sizeof(*v));
        if (!v)
            return false;
        a->v = v;
        a->cap = cap;
    }
    struct entry *en = &a->v[a->n++];
    snprintf(en->name, sizeof(en->name), "%s", name);
    snprintf(en->token, sizeof(en->token), "%s", token);
    return true;
}

static void entries_remove_at(struct entries *a, size_t i)
{
    memmove(&a->v[i], &a->v[i + 1], (a->n - i - 1) * sizeof(a->v[0]));
    a->n--;
}

/* Removes (name, token) — token NULL: the newest entry of name, its token into out. */
static bool entries_take(struct entries *a, const char *name, const char *token, char *out)
{
    for (size_t i = a->n; i-- > 0;) {
        if (strcmp(a->v[i].name, name) != 0 || (token && strcmp(a->v[i].token, token) != 0))
            continue;
        if (out)
            memcpy(out, a->v[i].token, LOCK_TOKEN_LEN);
        entries_remove_at(a, i);
        return true;
    }
    return false;
}

/* Wakes the keep-alive thread. Under mu. */
static void kick_locked(struct redis_lock *l)
{
    if (!l->kick) {
        l->kick = true;
        pthread_cond_signal(&l->wake);
    }
}

/* Queues a compare-and-delete of (name, token). Under mu. */
static void queue_release_locked(struct redis_lock *l, const char *name, const char *token)
{
    if (l->pending.n == LOCK_PENDING_MAX) /* forget the oldest: its lease frees it anyway */
        entries_remove_at(&l->pending, 0);
    if (!entries_push(&l->pending, name, token))
        log_warn("redis_lock: out of memory; %s is left to its lease", name);
    l->queued++;
}

/* One keep-alive script call for rel[0..nrel) then ren[0..nren); lost positions into ren. */
static bool keepalive_call(struct redis_lock *l, const struct entry *rel, size_t nrel,
                           const struct entry *ren, size_t nren, bool *lost)
{
    const char *argv[5 + 2 * LOCK_BATCH_MAX];
    char numkeys[16], nrel_s[16];
    size_t n = nrel + nren;
    snprintf(numkeys, sizeof(numkeys), "%zu", n);
    snprintf(nrel_s, sizeof(nrel_s), "%zu", nrel);
    int argc = 0;
    argv[argc++] = "EVAL";
    argv[argc++] = keepalive_lua;
    argv[argc++] = numkeys;
    for (size_t i = 0; i < n; i++)
        argv[argc++] = i < nrel ? rel[i].name : ren[i - nrel].name;
    argv[argc++] = l->lease;
    argv[argc++] = nrel_s;
    for (size_t i = 0; i < n; i++)
        argv[argc++] = i < nrel ? rel[i].token : ren[i - nrel].token;
    struct err e;
    err_clear(&e);
    redisReply *r = redis_command_argv(l->cfg.redis, &e, argc, argv, NULL);
    bool ok = r && r->type == REDIS_REPLY_ARRAY;
    if (r && !ok)
        log_warn("redis_lock: keep-alive refused: %s",
                 r->type == REDIS_REPLY_ERROR ? r->str : "unexpected reply");
    for (size_t i = 0; ok && i < r->elements; i++) {
        const redisReply *x = r->element[i];
        if (x->type == REDIS_REPLY_INTEGER && x->integer >= 1 && (size_t)x->integer <= nren)
            lost[x->integer - 1] = true;
    }
    freeReplyObject(r);
    return ok;
}

/*
 * Releases rel and renews ren, LOCK_BATCH_MAX keys per call (one call in
 * practice). False when a call got no (usable) reply: the releases are then
 * tried again.
 */
static bool keepalive_round(struct redis_lock *l, const struct entries *rel,
                            const struct entries *ren, bool *lost)
{
    bool ok = true;
    size_t total = rel->n + ren->n;
    for (size_t at = 0; at < total; at += LOCK_BATCH_MAX) {
        size_t end = at + LOCK_BATCH_MAX < total ? at + LOCK_BATCH_MAX : total;
        size_t rel_from = at < rel->n ? at : rel->n, rel_to = end < rel->n ? end : rel->n;
        size_t ren_from = at > rel->n ? at - rel->n : 0, ren_to = end > rel->n ? end - rel->n : 0;
        if (!keepalive_call(l, rel->v + rel_from, rel_to - rel_from, ren->v + ren_from,
                            ren_to - ren_from, lost + ren_from))
            ok = false;
    }
    return ok;
}

static void *keepalive_main(void *arg)
{
    struct redis_lock *l = arg;
    thread_priority_background(); /* renewals are tiny; requests come first */
    struct entries rel = {0}, ren = {0};
    bool *lost = NULL;
    size_t lost_cap = 0;
    int64_t next_renew = timefmt_monotonic_us() + l->period_us;
    pthread_mutex_lock(&l->mu);
    for (;;) {
        int64_t now = timefmt_monotonic_us();
        while (!l->stop && !l->kick && now < next_renew) {
            struct timespec until;
            clock_gettime(CLOCK_MONOTONIC, &until);
            int64_t ns = (int64_t)until.tv_nsec + (next_renew - now) * 1000;
            until.tv_sec += (time_t)(ns / 1000000000);
            until.tv_nsec = (long)(ns % 1000000000);
            pthread_cond_timedwait(&l->wake, &l->mu, &until);
            now = timefmt_monotonic_us();
        }
        bool stopping = l->stop;
        bool renew = !stopping && !l->paused && now >= next_renew;
        if (now >= next_renew)
            next_renew = now + l->period_us;
        l->kick = false;
        /* take every queued release; copy the held locks to renew */
        struct entries swap = l->pending;
        l->pending = rel;
        rel = swap;
        uint64_t queued = l->queued;
        ren.n = 0;
        for (size_t i = 0; renew && i < l->held.n; i++)
            if (!entries_push(&ren, l->held.v[i].name, l->held.v[i].token))
                break;
        pthread_mutex_unlock(&l->mu);

        bool ok = true;
        if (ren.n > lost_cap) {
            bool *grown = realloc(lost, ren.n * sizeof(*lost));
            if (grown) {
                lost = grown;
                lost_cap = ren.n;
            } else {
                ren.n = lost_cap;
            }
        }
        if (ren.n)
            memset(lost, 0, ren.n * sizeof(*lost));
        if (rel.n || ren.n)
            ok = keepalive_round(l, &rel, &ren, lost);

        pthread_mutex_lock(&l->mu);
        if (ok) {
            rel.n = 0;
        } else { /* no answer: keep them, oldest first, for the next kick or period */
            for (size_t i = 0; i < l->pending.n; i++)
                if (rel.n < LOCK_PENDING_MAX)
                    entries_push(&rel, l->pending.v[i].name, l->pending.v[i].token);
            l->pending.n = 0;
            swap = l->pending;
            l->pending = rel;
            rel = swap;
        }
        for (size_t i = 0; ok && i < ren.n; i++) {
            if (lost[i] && entries_take(&l->held, ren.v[i].name, ren.v[i].token, NULL))
                log_warn("redis_lock: %s expired before its renewal; another may hold it",
                         ren.v[i].name);
        }
        l->tried = queued;
        pthread_cond_broadcast(&l->done);
        if (stopping)
            break;
    }
    pthread_mutex_unlock(&l->mu);
    free(rel.v);
    free(ren.v);
    free(lost);
    return NULL;
}

struct redis_lock *redis_lock_new(const struct redis_lock_config *cfg)
{
    struct redis_lock *l = calloc(1, sizeof(*l));
    if (!l)
        return NULL;
    l->cfg = *cfg;
    snprintf(l->ns, sizeof(l->ns), "%s", cfg->ns ? cfg->ns : "shopd");
    l->cfg.ns = l->ns;
    if (!l->cfg.lease_ms)
        l->cfg.lease_ms = 1;
    snprintf(l->lease, sizeof(l->lease), "%u", l->cfg.lease_ms);
    l->period_us = (int64_t)l->cfg.lease_ms * 1000 / 3;
    if (l->period_us < 1000)
        l->period_us = 1000;
    if (!l->cfg.backoff_min_ms)
        l->cfg.backoff_min_ms = 2;
    if (l->cfg.backoff_max_ms < l->cfg.backoff_min_ms)
        l->cfg.backoff_max_ms = l->cfg.backoff_min_ms;
    atomic_init(&l->waited, 0);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&l->wake, &attr);
    pthread_condattr_destroy(&attr);
    pthread_cond_init(&l->done, NULL);
    pthread_mutex_init(&l->mu, NULL);
    if (pthread_create(&l->thread, NULL, keepalive_main, l) != 0) {
        pthread_cond_destroy(&l->wake);
        pthread_cond_destroy(&l->done);
        pthread_mutex_destroy(&l->mu);
        free(l);
        return NULL;
    }
    return l;
}

void redis_lock_free(struct redis_lock *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->mu);
    l->stop = true;
    pthread_cond_signal(&l->wake);
    pthread_mutex_unlock(&l->mu);
    pthread_join(l->thread, NULL);
    pthread_cond_destroy(&l->wake);
    pthread_cond_destroy(&l->done);
    pthread_mutex_destroy(&l->mu);
    free(l->held.v);
    free(l->pending.v);
    free(l);
}

void redis_lock_sync(struct redis_lock *l)
{
    pthread_mutex_lock(&l->mu);
    uint64_t target = l->queued;
    if (l->tried < target)
        kick_locked(l);
    while (l->tried < target)
        pthread_cond_wait(&l->done, &l->mu);
    pthread_mutex_unlock(&l->mu);
}

void redis_lock_keepalive_pause(struct redis_lock *l, bool paused)
{
    pthread_mutex_lock(&l->mu);
    l->paused = paused;
    pthread_mutex_unlock(&l->mu);
}

uint64_t redis_lock_waited_round_trips(const struct redis_lock *l)
{
    return atomic_load(&((struct redis_lock *)l)->waited);
}

void redis_lock_token(char token[LOCK_TOKEN_LEN])
{
    unsigned char raw[16];
    if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
        /* never expected; still unique enough per process */
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        unsigned long long mix =
            (unsigned long long)ts.tv_nsec ^ ((unsigned long long)ts.tv_sec << 20) ^
            (unsigned long long)(uintptr_t)raw ^ ((unsigned long long)getpid() << 40);
        for (size_t i = 0; i < sizeof(raw); i++)
            raw[i] = (unsigned char)(mix >> (8 * (i % 8))) ^ (unsigned char)i;
    }
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < sizeof(raw); i++) {
        token[2 * i] = hex[raw[i] >> 4];
        token[2 * i + 1] = hex[raw[i] & 15];
    }
    token[2 * sizeof(raw)] = '\0';
}

static void sleep_ms(unsigned ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Runs one command for a caller. NULL: no reply (timeout, broken connection, unreachable). */
static redisReply *caller_command(struct redis_lock *l, int argc, const char **argv)
{
    struct err e;
    err_clear(&e);
    atomic_fetch_add(&l->waited, 1);
    return redis_command_argv(l->cfg.redis, &e, argc, argv, NULL);
}

/* SET NX PX: 1 taken, 0 held by another, -1 refused, -2 no reply. */
static int try_set(struct redis_lock *l, const char *name, const char *token)
{
    const char *argv[] = {"SET", name, token, "NX", "PX", l->lease};
    redisReply *r = caller_command(l, 6, argv);
    if (!r)
        return -2;
    int rc = r->type == REDIS_REPLY_STATUS ? 1 : r->type == REDIS_REPLY_NIL ? 0 : -1;
    freeReplyObject(r);
    return rc;
}

/* The script: 1 held by token (now, already, or taken over from prev), 0 another's, -1, -2. */
static int try_script(struct redis_lock *l, const char *name, const char *token, const char *prev)
{
    const char *argv[] = {"EVAL", acquire_lua, "1", name, token, l->lease, prev};
    redisReply *r = caller_command(l, 7, argv);
    if (!r)
        return -2;
    int rc = r->type == REDIS_REPLY_INTEGER ? (r->integer == 1) : -1;
    freeReplyObject(r);
    return rc;
}

/* A lock just taken: renewed from now on; Redis answered, so releases it missed can go now. */
static void keep_alive(struct redis_lock *l, const char *name, const char *token)
{
    pthread_mutex_lock(&l->mu);
    if (!entries_push(&l->held, name, token))
        log_warn("redis_lock: out of memory; %s is not renewed", name);
    if (l->pending.n)
        kick_locked(l);
    pthread_mutex_unlock(&l->mu);
}

/* The latest queued release of name in this process, taken out of the queue. */
static bool take_queued_release(struct redis_lock *l, const char *name, char prev[LOCK_TOKEN_LEN])
{
    pthread_mutex_lock(&l->mu);
    bool found = entries_take(&l->pending, name, NULL, prev);
    pthread_mutex_unlock(&l->mu);
    return found;
}

static enum err_code lock_acquire(void *self, const char *key, char token[LOCK_TOKEN_LEN],
                                  bool *held, struct err *e)
{
    struct redis_lock *l = self;
    char name[LOCK_NAME_MAX], prev[LOCK_TOKEN_LEN] = "";
    snprintf(name, sizeof(name), "%s:lock:%s", l->ns, key);
    redis_lock_token(token); /* one token for every try of this acquisition */
    *held = false;
    bool have_prev = false;
    unsigned seed = (unsigned)token[0] * 2654435761u ^ (unsigned)timefmt_monotonic_us();
    int64_t deadline = timefmt_monotonic_us() + (int64_t)l->cfg.wait_ms * 1000;
    unsigned pause = l->cfg.backoff_min_ms;
    for (;;) {
        if (!have_prev)
            have_prev = take_queued_release(l, name, prev);
        int got = have_prev ? try_script(l, name, token, prev) : try_set(l, name, token);
        if (got == -2) {
            /* no reply: the SET may have been applied; the same token on a fresh connection
             * tells (the script recognises our own hold) */
            got = try_script(l, name, token, have_prev ? prev : "");
            if (got == -2) {
                /* Redis unreachable: proceed without the lock; PostgreSQL still holds every
                 * rule. Should the lock be ours after all, free it once Redis answers. */
                pthread_mutex_lock(&l->mu);
                queue_release_locked(l, name, token);
                if (have_prev)
                    queue_release_locked(l, name, prev);
                pthread_mutex_unlock(&l->mu);
                return ERR_OK;
            }
        }
        if (got == 1) {
            *held = true;
            keep_alive(l, name, token);
            return ERR_OK;
        }
        if (got == -1) { /* a Redis that refuses SET is as good as none: fail open */
            if (have_prev) {
                pthread_mutex_lock(&l->mu);
                queue_release_locked(l, name, prev);
                pthread_mutex_unlock(&l->mu);
            }
            return ERR_OK;
        }
        have_prev = false; /* another holder's: the queued release is moot */
        if (timefmt_monotonic_us() >= deadline)
            return err_set(e, ERR_UNAVAILABLE,
                           "another request for the same user is still running, retry shortly");
        /* equal jitter: sleep in [pause/2, pause], then double */
        unsigned half = pause / 2;
        sleep_ms(half + (half ? (unsigned)rand_r(&seed) % (half + 1) : 0) + (pause % 2));
        pause = pause * 2 > l->cfg.backoff_max_ms ? l->cfg.backoff_max_ms : pause * 2;
    }
}

/* Compare-and-delete: the key goes only if it still holds the token. */
static const char release_lua[] =
    "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end\n"
    "return 0\n";

static void lock_release(void *self, const char *key, const char *token)
{
    struct redis_lock *l = self;
    char name[LOCK_NAME_MAX];
    snprintf(name, sizeof(name), "%s:lock:%s", l->ns, key);
    pthread_mutex_lock(&l->mu);
    entries_take(&l->held, name, token, NULL); /* no longer renewed */
    pthread_mutex_unlock(&l->mu);
    /* sent at once on this thread's connection, its reply read before the thread's next
     * command: the response waits for no round trip, and the next holder for no thread */
    const char *argv[] = {"EVAL", release_lua, "1", name, token};
    if (redis_send_argv(l->cfg.redis, 5, argv, NULL))
        return;
    pthread_mutex_lock(&l->mu); /* not sent: the keep-alive tries again once Redis answers */
    queue_release_locked(l, name, token);
    kick_locked(l);
    pthread_mutex_unlock(&l->mu);
}

static void lock_acquire_start(void *self, const char *key, char token[LOCK_TOKEN_LEN])
{
    struct redis_lock *l = self;
    char name[LOCK_NAME_MAX];
    snprintf(name, sizeof(name), "%s:lock:%s", l->ns, key);
    redis_lock_token(token);
    const char *argv[] = {"SET", name, token, "NX", "PX", l->lease};
    atomic_fetch_add(&l->waited, 1);
    redis_send_argv(l->cfg.redis, 6, argv, NULL); /* not sent: acquire_finish finds no reply */
}

static void lock_acquire_finish(void *self, const char *key, const char *token, bool *held,
                                bool *contended)
{
    struct redis_lock *l = self;
    char name[LOCK_NAME_MAX];
    snprintf(name, sizeof(name), "%s:lock:%s", l->ns, key);
    *held = *contended = false;
    struct err e;
    err_clear(&e);
    redisReply *r = redis_receive(l->cfg.redis, &e);
    int got;
    if (r) {
        got = r->type == REDIS_REPLY_STATUS ? 1 : r->type == REDIS_REPLY_NIL ? 0 : -1;
        freeReplyObject(r);
    } else {
        /* no reply: the SET may have been applied; the same token on a fresh connection
         * tells (the script recognises our own hold) */
        got = try_script(l, name, token, "");
        if (got == -2) { /* unreachable: fail open; should it be ours, free it later */
            pthread_mutex_lock(&l->mu);
            queue_release_locked(l, name, token);
            pthread_mutex_unlock(&l->mu);
            return;
        }
    }
    if (got == 0) {
        *contended = true;
        return;
    }
    if (got != 1)
        return; /* a Redis that refuses SET is as good as none: fail open */
    *held = true;
    keep_alive(l, name, token);
}

static const struct lock_port_ops redis_lock_ops = {
    .acquire_start = lock_acquire_start,
    .acquire_finish = lock_acquire_finish,
    .acquire = lock_acquire,
    .release = lock_release,
};

struct lock_port redis_lock_port(struct redis_lock *l)
{
    return (struct lock_port){.ops = &redis_lock_ops, .self = l};
}
