/*
 * test_redis_lock.c — the distributed lock against a real Redis: mutual
 * exclusion across threads and across processes, expiry of a dead holder,
 * a stale token unable to release a newer holder's lock, the wait timeout,
 * failing open when Redis is unreachable, and a SET whose reply was lost
 * (through a proxy that swallows replies) never leaving the lock held for
 * the whole lease.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "infra/redis_lock.h"
#include "support/test_db.h"
#include "support/test_fixtures.h"
#include "support/test_proxy.h"
#include "support/test_proc.h"

static char ns[64];

static struct redis_lock *new_lock(struct redis_pool *pool, unsigned lease_ms, unsigned wait_ms)
{
    struct redis_lock_config cfg = {.redis = pool,
                                    .ns = ns,
                                    .lease_ms = lease_ms,
                                    .wait_ms = wait_ms,
                                    .backoff_min_ms = 1,
                                    .backoff_max_ms = 20};
    return redis_lock_new(&cfg);
}

/* A pool on the test Redis, or NULL. Never asserts (forked children use it). */
static struct redis_pool *pool_or_null(void)
{
    struct err e;
    err_clear(&e);
    return redis_pool_new(test_redis_url(), 1000, &e);
}

static struct redis_pool *new_pool(void)
{
    struct redis_pool *p = pool_or_null();
    assert_non_null(p);
    return p;
}

/* In a forked child, where a failed assertion would jump into its copy of the test runner. */
static struct redis_pool *child_pool(void)
{
    struct redis_pool *p = pool_or_null();
    if (!p)
        _exit(1);
    return p;
}

/* Reads, pauses, writes a Redis counter: loses updates unless callers exclude each other. */
static void unsafe_increment(struct redis_pool *pool, const char *counter)
{
    struct err e;
    err_clear(&e);
    redisReply *r = redis_command(pool, &e, "GET %s", counter);
    long long v = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
    freeReplyObject(r);
    test_sleep_ms(1);
    freeReplyObject(redis_command(pool, &e, "SET %s %lld", counter, v + 1));
}

struct worker {
    struct redis_pool *pool;
    struct redis_lock *lock;
    const char *counter;
    int rounds;
    atomic_int *inside, *overlaps;
    struct test_failures *failures; /* what went wrong in the threads, asserted after the joins */
};

static void *locked_loop(void *arg)
{
    struct worker *w = arg;
    struct lock_port port = redis_lock_port(w->lock);
    for (int i = 0; i < w->rounds; i++) {
        char token[LOCK_TOKEN_LEN];
        bool held = false;
        struct err e;
        err_clear(&e);
        enum err_code rc = port.ops->acquire(port.self, "user:1", token, &held, &e);
        if (rc != ERR_OK || !held) {
            test_failures_add(w->failures, "acquire: %s, held %d (%s)", err_code_str(rc), held,
                              e.detail);
            continue;
        }
        if (atomic_fetch_add(w->inside, 1) != 0)
            atomic_fetch_add(w->overlaps, 1);
        unsafe_increment(w->pool, w->counter);
        atomic_fetch_sub(w->inside, 1);
        port.ops->release(port.self, "user:1", token);
    }
    return NULL;
}

static long long counter_value(struct redis_pool *pool, const char *counter)
{
    struct err e;
    err_clear(&e);
    redisReply *r = redis_command(pool, &e, "GET %s", counter);
    long long v = r && r->type == REDIS_REPLY_STRING ? atoll(r->str) : 0;
    freeReplyObject(r);
    return v;
}

/*
 * Runs locked_loop for rounds in the calling thread, on a lock of its own
 * over pool; what goes wrong is counted in f (initialised here). Never
 * asserts (forked children use it).
 */
static void locked_loop_here(struct redis_pool *pool, const char *counter, int rounds,
                             struct test_failures *f)
{
    struct redis_lock *lock = new_lock(pool, 5000, 10000);
    atomic_int inside, overlaps;
    atomic_init(&inside, 0);
    atomic_init(&overlaps, 0);
    test_failures_init(f);
    struct worker w = {pool, lock, counter, rounds, &inside, &overlaps, f};
    locked_loop(&w);
    redis_lock_free(lock);
}

/* Frees the locks a, b and c (NULL ones skipped), then pool. */
static void free_all(struct redis_pool *pool, struct redis_lock *a, struct redis_lock *b,
                     struct redis_lock *c)
{
    struct redis_lock *locks[] = {a, b, c};
    for (size_t i = 0; i < sizeof(locks) / sizeof(locks[0]); i++)
        if (locks[i])
            redis_lock_free(locks[i]);
    redis_pool_free(pool);
}

static void threads__exclude_each_other(void **state)
{
    (void)state;
    struct redis_pool *pool = new_pool();
    struct redis_lock *lock = new_lock(pool, 5000, 10000);
    char counter[96];
    snprintf(counter, sizeof(counter), "%s:counter:threads", ns);
    atomic_int inside, overlaps;
    atomic_init(&inside, 0);
    atomic_init(&overlaps, 0);
    enum { THREADS = 8, ROUNDS = 25 };
    struct test_failures failures;
    test_failures_init(&failures);
    struct worker w = {pool, lock, counter, ROUNDS, &inside, &overlaps, &failures};
    pthread_t t[THREADS];
    for (int i = 0; i < THREADS; i++)
        pthread_create(&t[i], NULL, locked_loop, &w);
    for (int i = 0; i < THREADS; i++)
        pthread_join(t[i], NULL);
    test_failures_assert_none(&failures);
    assert_int_equal(atomic_load(&overlaps), 0);
    assert_int_equal(counter_value(pool, counter), THREADS * ROUNDS);
    free_all(pool, lock, NULL, NULL);
}

static void processes__exclude_each_other(void **state)
{
    (void)state;
    char counter[96];
    snprintf(counter, sizeof(counter), "%s:counter:processes", ns);
    enum { ROUNDS = 60 };
    struct test_failures failures;
    pid_t child = fork();
    if (child == 0) {
        struct redis_pool *pool = child_pool();
        locked_loop_here(pool, counter, ROUNDS, &failures);
        redis_pool_free(pool);
        /* no assertion here: it would jump into this copy of the test runner */
        if (test_failures_count(&failures) != 0)
            fprintf(stderr, "child: %s\n", failures.first);
        _exit(test_failures_count(&failures) == 0 ? 0 : 1);
    }
    struct redis_pool *pool = new_pool();
    locked_loop_here(pool, counter, ROUNDS, &failures);
    int status = 0;
    waitpid(child, &status, 0);
    test_failures_assert_none(&failures);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(counter_value(pool, counter), 2 * ROUNDS);
    redis_pool_free(pool);
}

/* The value of key in Redis ("" when absent). */
static void get_value(struct redis_pool *pool, const char *key, char *out, size_t cap)
{
    struct err e;
    err_clear(&e);
    char name[160];
    snprintf(name, sizeof(name), "%s:lock:%s", ns, key);
    redisReply *r = redis_command(pool, &e, "GET %s", name);
    assert_non_null(r);
    snprintf(out, cap, "%s", r->type == REDIS_REPLY_STRING ? r->str : "");
    freeReplyObject(r);
}

/* Fails the test unless key's lock value in Redis is want ("": absent). */
static void assert_value(struct redis_pool *pool, const char *key, const char *want)
{
    char v[LOCK_TOKEN_LEN + 8];
    get_value(pool, key, v, sizeof(v));
    assert_string_equal(v, want);
}

/* Polls until the lock key is gone; false after a generous 10 s. */
static bool wait_until_gone(struct redis_pool *pool, const char *key)
{
    for (int i = 0; i < 1000; i++) {
        char v[LOCK_TOKEN_LEN + 8];
        get_value(pool, key, v, sizeof(v));
        if (!v[0])
            return true;
        test_sleep_ms(10);
    }
    return false;
}

/* Acquires key through p, its token into token; fails the test unless ERR_OK and held. */
static void take(struct lock_port p, const char *key, char *token)
{
    bool held = false;
    struct err e;
    err_clear(&e);
    assert_int_equal(p.ops->acquire(p.self, key, token, &held, &e), ERR_OK);
    assert_true(held);
}

/* take, then release at once. */
static void take_and_release(struct lock_port p, const char *key)
{
    char token[LOCK_TOKEN_LEN];
    take(p, key, token);
    p.ops->release(p.self, key, token);
}

/* What an acquire through p of key answers (held into *held, may be NULL). */
static enum err_code try_acquire(struct lock_port p, const char *key, bool *held)
{
    char token[LOCK_TOKEN_LEN];
    bool h = false;
    struct err e;
    err_clear(&e);
    enum err_code rc = p.ops->acquire(p.self, key, token, &h, &e);
    if (held)
        *held = h;
    return rc;
}

/*
 * A holder that works for several leases keeps its lock: the keep-alive
 * renews it (without it the 600 ms lease would run out and others get in).
 */
static void long_holder__keep_alive_renews_past_the_lease(void **state)
{
    (void)state;
    struct redis_pool *pool = new_pool();
    struct redis_lock *holder = new_lock(pool, 600, 0), *other = new_lock(pool, 600, 0);
    struct lock_port h = redis_lock_port(holder), o = redis_lock_port(other);
    char th[LOCK_TOKEN_LEN];
    take(h, "long", th);
    for (int i = 0; i < 8; i++) { /* 8 x 300 ms: four leases */
        test_sleep_ms(300);
        assert_int_equal(try_acquire(o, "long", NULL), ERR_UNAVAILABLE);
        assert_value(pool, "long", th);
    }
    h.ops->release(h.self, "long", th);
    redis_lock_sync(holder);
    assert_value(pool, "long", "");
    free_all(pool, holder, other, NULL);
}

/*
 * A holder that dies (its lock object goes away without releasing: no more
 * renewals) frees the key within about one lease; the next holder gets in
 * (waiting up to a generous 10 s, far below the old 30 s lease).
 */
static void dead_holder__stops_renewing_and_the_lock_frees_within_a_lease(void **state)
{
    (void)state;
    struct redis_pool *pool = new_pool();
    struct redis_lock *dead = new_lock(pool, 600, 0);
    struct redis_lock *next = new_lock(pool, 600, 10000);
    struct lock_port a = redis_lock_port(dead), b = redis_lock_port(next);
    char t1[LOCK_TOKEN_LEN], t2[LOCK_TOKEN_LEN];
    take(a, "dead", t1);
    redis_lock_free(dead); /* the holder "dies": no release, no renewal */
    assert_true(wait_until_gone(pool, "dead"));
    take(b, "dead", t2);
    assert_string_not_equal(t1, t2);
    b.ops->release(b.self, "dead", t2);
    free_all(pool, next, NULL, NULL);
}

/*
 * kill -9 of a holding process: while it lives its keep-alive holds the lock
 * past the lease; once it is killed the lock frees itself within a lease.
 */
static void killed_process__held_while_alive_freed_after_kill(void **state)
{
    (void)state;
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    pid_t child = fork();
    if (child == 0) {
        close(fds[0]);
        struct redis_pool *pool = child_pool();
        struct redis_lock *lock = new_lock(pool, 600, 0);
        struct lock_port p = redis_lock_port(lock);
        char t[LOCK_TOKEN_LEN];
        bool held = false;
        struct err e;
        err_clear(&e);
        p.ops->acquire(p.self, "killed", t, &held, &e);
        if (!held)
            _exit(1);
        if (write(fds[1], t, LOCK_TOKEN_LEN) != LOCK_TOKEN_LEN)
            _exit(1);
        for (;;)
            pause();
    }
    close(fds[1]);
    char tc[LOCK_TOKEN_LEN] = "";
    assert_int_equal(read(fds[0], tc, LOCK_TOKEN_LEN), LOCK_TOKEN_LEN);
    close(fds[0]);
    struct redis_pool *pool = new_pool();
    struct redis_lock *probe = new_lock(pool, 600, 0), *next = new_lock(pool, 600, 10000);
    char v[LOCK_TOKEN_LEN + 8];
    test_sleep_ms(1500); /* two and a half leases: still the child's */
    enum err_code probed = try_acquire(redis_lock_port(probe), "killed", NULL);
    get_value(pool, "killed", v, sizeof(v));
    kill(child, SIGKILL); /* before asserting: a failure must not leave the child behind */
    int status = 0;
    waitpid(child, &status, 0);
    assert_int_equal(probed, ERR_UNAVAILABLE);
    assert_string_equal(v, tc);
    take_and_release(redis_lock_port(next), "killed");
    free_all(pool, probe, next, NULL);
}

/*
 * acquire + release of a free lock: the caller waits for one Redis round trip
 * (SET NX PX); the compare-and-delete goes through the keep-alive thread, and
 * does delete the key.
 */
static void free_lock__one_waited_round_trip_and_released_in_the_background(void **state)
{
    (void)state;
    struct redis_pool *pool = new_pool();
    struct redis_lock *lock = new_lock(pool, 5000, 1000);
    struct lock_port p = redis_lock_port(lock);
    for (int i = 0; i < 3; i++) {
        uint64_t before = redis_lock_waited_round_trips(lock);
        take_and_release(p, "cheap");
        assert_int_equal(redis_lock_waited_round_trips(lock) - before, 1);
        redis_lock_sync(lock);
        assert_value(pool, "cheap", "");
    }
    free_all(pool, lock, NULL, NULL);
}

static void stale_token__cannot_release_the_next_holders_lock(void **state)
{
    (void)state;
    struct redis_pool *pool = new_pool();
    struct redis_lock *slow = new_lock(pool, 300, 0);
    struct redis_lock *fast = new_lock(pool, 5000, 2000);
    struct redis_lock *third = new_lock(pool, 5000, 50);
    struct lock_port a = redis_lock_port(slow), b = redis_lock_port(fast),
                     c = redis_lock_port(third);
    char ta[LOCK_TOKEN_LEN], tb[LOCK_TOKEN_LEN];
    redis_lock_keepalive_pause(slow, true); /* a stalls past its lease (no renewal) */
    take(a, "stale", ta);
    assert_true(wait_until_gone(pool, "stale")); /* a's lease runs out while it still "works" */
    take(b, "stale", tb);
    redis_lock_keepalive_pause(slow, false);
    a.ops->release(a.self, "stale", ta); /* late release, stale token: must not free b's lock */
    redis_lock_sync(slow);
    assert_value(pool, "stale", tb);
    assert_int_equal(try_acquire(c, "stale", NULL), ERR_UNAVAILABLE);
    b.ops->release(b.self, "stale", tb);
    redis_lock_sync(fast);
    take_and_release(c, "stale");
    free_all(pool, slow, fast, third);
}

static void wait_timeout__documented_error(void **state)
{
    (void)state;
    struct redis_pool *pool = new_pool();
    struct redis_lock *holder = new_lock(pool, 5000, 0), *waiter = new_lock(pool, 5000, 100);
    struct lock_port h = redis_lock_port(holder), w = redis_lock_port(waiter);
    char th[LOCK_TOKEN_LEN], tw[LOCK_TOKEN_LEN];
    bool held;
    struct err e;
    err_clear(&e);
    assert_int_equal(h.ops->acquire(h.self, "busy", th, &held, &e), ERR_OK);
    assert_int_equal(w.ops->acquire(w.self, "busy", tw, &held, &e), ERR_UNAVAILABLE);
    assert_false(held);
    assert_non_null(strstr(e.detail, "retry"));
    h.ops->release(h.self, "busy", th);
    free_all(pool, holder, waiter, NULL);
}

/* A pool on a port where nothing listens (Redis unreachable), 200 ms timeouts. */
static struct redis_pool *unreachable_pool(void)
{
    struct err e;
    err_clear(&e);
    return redis_pool_new("redis://127.0.0.1:1/0", 200, &e);
}

static void redis_unreachable__fails_open(void **state)
{
    (void)state;
    struct redis_pool *pool = unreachable_pool();
    struct redis_lock *lock = new_lock(pool, 5000, 100);
    struct lock_port p = redis_lock_port(lock);
    char t[LOCK_TOKEN_LEN];
    bool held = true;
    struct err e;
    err_clear(&e);
    assert_int_equal(p.ops->acquire(p.self, "any", t, &held, &e), ERR_OK);
    assert_false(held);
    p.ops->release(p.self, "any", t); /* harmless */
    free_all(pool, lock, NULL, NULL);
}

/* acquire_start then acquire_finish of "split" through p; fails unless held and contended match. */
static void split_acquire(struct lock_port p, char *token, bool want_held, bool want_contended)
{
    bool held = !want_held, contended = !want_contended;
    p.ops->acquire_start(p.self, "split", token);
    p.ops->acquire_finish(p.self, "split", token, &held, &contended);
    assert_int_equal(held, want_held);
    assert_int_equal(contended, want_contended);
}

/*
 * The two-halves acquire place order uses (acquire_start, then
 * acquire_finish after other work): taken when free, "contended" while
 * another holds it, taken again after that release, and neither held nor
 * contended when Redis cannot be reached (fail open).
 */
static void split_acquire__held_contended_then_held_and_unreachable_fails_open(void **state)
{
    (void)state;
    struct redis_pool *pool = new_pool();
    struct redis_lock *a = new_lock(pool, 5000, 0), *b = new_lock(pool, 5000, 0);
    struct lock_port pa = redis_lock_port(a), pb = redis_lock_port(b);
    char ta[LOCK_TOKEN_LEN], tb[LOCK_TOKEN_LEN];
    split_acquire(pa, ta, true, false);
    assert_value(pool, "split", ta);

    split_acquire(pb, tb, false, true);
    assert_value(pool, "split", ta); /* still a's */

    pa.ops->release(pa.self, "split", ta);
    redis_lock_sync(a);
    split_acquire(pb, tb, true, false);
    assert_value(pool, "split", tb);
    pb.ops->release(pb.self, "split", tb);
    free_all(pool, a, b, NULL);

    struct redis_pool *gone = unreachable_pool();
    struct redis_lock *c = new_lock(gone, 5000, 100);
    split_acquire(redis_lock_port(c), ta, false, false);
    free_all(gone, c, NULL, NULL);
}

/* A lock whose Redis is reached through px, with short command timeouts. */
static struct redis_pool *proxied_pool(const struct proxy *px)
{
    char url[64];
    proxy_url(px, url, sizeof(url));
    struct err e;
    err_clear(&e);
    struct redis_pool *p = redis_pool_new(url, 200, &e);
    assert_non_null(p);
    return p;
}

/*
 * The fixture of the lost-reply tests: lock lossy (port a, 1 s wait)
 * reaches Redis through a proxy that can swallow replies; lock next (port
 * b, 300 ms wait) reaches it directly.
 */
struct lossy_pair {
    struct proxy *px;
    struct redis_pool *via_proxy, *direct;
    struct redis_lock *lossy, *next;
    struct lock_port a, b;
};

/* Starts px (static in the caller: its thread must not outlive it should an assert fail). */
static void lossy_pair_start(struct lossy_pair *f, struct proxy *px)
{
    proxy_start(px);
    f->px = px;
    f->via_proxy = proxied_pool(px);
    f->direct = new_pool();
    f->lossy = new_lock(f->via_proxy, 5000, 1000);
    f->next = new_lock(f->direct, 5000, 300);
    f->a = redis_lock_port(f->lossy);
    f->b = redis_lock_port(f->next);
}

/* Frees the locks and pools, then stops the proxy. */
static void lossy_pair_stop(struct lossy_pair *f)
{
    free_all(f->via_proxy, f->lossy, NULL, NULL);
    free_all(f->direct, f->next, NULL, NULL);
    proxy_stop(f->px);
}

/*
 * The SET NX is applied but its reply is lost (timeout): the lock is ours in
 * Redis. The retry with the same token recognises it, so the holder knows it
 * holds it and releases it: the next request of the same user gets in at
 * once instead of waiting out the 5 s lease.
 */
static void applied_set_with_lost_reply__recognised_as_ours_and_released(void **state)
{
    (void)state;
    static struct proxy px;
    struct lossy_pair f;
    lossy_pair_start(&f, &px);
    atomic_store(&px.drop_conns, 1); /* the first connection's replies are lost */
    take_and_release(f.a, "lost");
    redis_lock_sync(f.lossy); /* the compare-and-delete runs in the background */
    take_and_release(f.b, "lost");
    lossy_pair_stop(&f);
}

/*
 * Every reply is lost (the SET applied, the retry too): the caller proceeds
 * without the lock (fail open), and the lock it may hold is released by
 * token as soon as this process reaches Redis again — not after the lease.
 */
static void no_reply_at_all__fails_open_and_frees_the_lock_once_redis_answers(void **state)
{
    (void)state;
    static struct proxy px;
    struct lossy_pair f;
    lossy_pair_start(&f, &px);
    atomic_store(&px.drop_conns, 2); /* both tries' replies are lost */
    bool held = true;
    assert_int_equal(try_acquire(f.a, "orphan", &held), ERR_OK);
    assert_false(held); /* fail open: not known to be held */
    atomic_store(&px.drop_conns, 0);
    /* this process talks to Redis again (any lock operation): the orphan is freed */
    take_and_release(f.a, "unrelated");
    redis_lock_sync(f.lossy); /* the queued release of the orphan has been tried */
    take_and_release(f.b, "orphan");
    lossy_pair_stop(&f);
}

int main(void)
{
    snprintf(ns, sizeof(ns), "locktest%ld", (long)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(threads__exclude_each_other),
        cmocka_unit_test(processes__exclude_each_other),
        cmocka_unit_test(long_holder__keep_alive_renews_past_the_lease),
        cmocka_unit_test(dead_holder__stops_renewing_and_the_lock_frees_within_a_lease),
        cmocka_unit_test(killed_process__held_while_alive_freed_after_kill),
        cmocka_unit_test(free_lock__one_waited_round_trip_and_released_in_the_background),
        cmocka_unit_test(stale_token__cannot_release_the_next_holders_lock),
        cmocka_unit_test(wait_timeout__documented_error),
        cmocka_unit_test(redis_unreachable__fails_open),
        cmocka_unit_test(split_acquire__held_contended_then_held_and_unreachable_fails_open),
        cmocka_unit_test(applied_set_with_lost_reply__recognised_as_ours_and_released),
        cmocka_unit_test(no_reply_at_all__fails_open_and_frees_the_lock_once_redis_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
