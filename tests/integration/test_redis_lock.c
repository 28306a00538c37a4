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
    redis_lock_free(lock);
    redis_pool_free(pool);
}

static void processes__exclude_each_other(void **state)
{
    (void)state;
    char counter[96];
    snprintf(counter, sizeof(counter), "%s:counter:processes", ns);
    enum { ROUNDS = 60 };
    pid_t child = fork();
    if (child == 0) {
        struct redis_pool *pool = child_pool();
        struct redis_lock *lock = new_lock(pool, 5000, 10000);
        atomic_int inside, overlaps;
        atomic_init(&inside, 0);
        atomic_init(&overlaps, 0);
        struct test_failures failures;
        test_failures_init(&failures);
        struct worker w = {pool, lock, counter, ROUNDS, &inside, &overlaps, &failures};
        locked_loop(&w);
        redis_lock_free(lock);
        redis_pool_free(pool);
        /* no assertion here: it would jump into this copy of the test runner */
        if (test_failures_count(&failures) != 0)
            fprintf(stderr, "child: %s\n", failures.first);
        _exit(test_failures_count(&failures) == 0 ? 0 : 1);
    }
    struct redis_pool *pool = new_pool();
    struct redis_lock *lock = new_lock(pool, 5000, 10000);
    atomic_int inside, overlaps;
    atomic_init(&inside, 0);
    atomic_init(&overlaps, 0);
    struct test_failures failures;
    test_failures_init(&failures);
    struct worker w = {pool, lock, counter, ROUNDS, &inside, &overlaps, &failures};
    locked_loop(&w);
    int status = 0;
    waitpid(child, &status, 0);
    test_failures_assert_none(&failures);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(counter_value(pool, counter), 2 * ROUNDS);
    redis_lock_free(lock);
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
    char th[LOCK_TOKEN_LEN], to[LOCK_TOKEN_LEN], v[LOCK_TOKEN_LEN + 8];
    bool held;
    struct err e;
    err_clear(&e);
    assert_int_equal(h.ops->acquire(h.self, "long", th, &held, &e), ERR_OK);
    assert_true(held);
    for (int i = 0; i < 8; i++) { /* 8 x 300 ms: four leases */
        test_sleep_ms(300);
        err_clear(&e);
        assert_int_equal(o.ops->acquire(o.self, "long", to, &held, &e), ERR_UNAVAILABLE);
        get_value(pool, "long", v, sizeof(v));
        assert_string_equal(v, th);
    }
    h.ops->release(h.self, "long", th);
    redis_lock_sync(holder);
    get_value(pool, "long", v, sizeof(v));
    assert_string_equal(v, "");
    redis_lock_free(holder);
    redis_lock_free(other);
    redis_pool_free(pool);
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
    bool held;
    struct err e;
    err_clear(&e);
    assert_int_equal(a.ops->acquire(a.self, "dead", t1, &held, &e), ERR_OK);
    assert_true(held);
    redis_lock_free(dead); /* the holder "dies": no release, no renewal */
    assert_true(wait_until_gone(pool, "dead"));
    assert_int_equal(b.ops->acquire(b.self, "dead", t2, &held, &e), ERR_OK);
    assert_true(held);
    assert_string_not_equal(t1, t2);
    b.ops->release(b.self, "dead", t2);
    redis_lock_free(next);
    redis_pool_free(pool);
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
    struct lock_port p = redis_lock_port(probe), n = redis_lock_port(next);
    char tp[LOCK_TOKEN_LEN], tn[LOCK_TOKEN_LEN], v[LOCK_TOKEN_LEN + 8];
    bool held;
    struct err e;
    test_sleep_ms(1500); /* two and a half leases: still the child's */
    err_clear(&e);
    enum err_code probed = p.ops->acquire(p.self, "killed", tp, &held, &e);
    get_value(pool, "killed", v, sizeof(v));
    kill(child, SIGKILL); /* before asserting: a failure must not leave the child behind */
    int status = 0;
    waitpid(child, &status, 0);
    assert_int_equal(probed, ERR_UNAVAILABLE);
    assert_string_equal(v, tc);
    err_clear(&e);
    assert_int_equal(n.ops->acquire(n.self, "killed", tn, &held, &e), ERR_OK);
    assert_true(held);
    n.ops->release(n.self, "killed", tn);
    redis_lock_free(probe);
    redis_lock_free(next);
    redis_pool_free(pool);
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
    char t[LOCK_TOKEN_LEN], v[LOCK_TOKEN_LEN + 8];
    bool held;
    struct err e;
    err_clear(&e);
    for (int i = 0; i < 3; i++) {
        uint64_t before = redis_lock_waited_round_trips(lock);
        assert_int_equal(p.ops->acquire(p.self, "cheap", t, &held, &e), ERR_OK);
        assert_true(held);
        p.ops->release(p.self, "cheap", t);
        assert_int_equal(redis_lock_waited_round_trips(lock) - before, 1);
        redis_lock_sync(lock);
        get_value(pool, "cheap", v, sizeof(v));
        assert_string_equal(v, "");
    }
    redis_lock_free(lock);
    redis_pool_free(pool);
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
    char ta[LOCK_TOKEN_LEN], tb[LOCK_TOKEN_LEN], tc[LOCK_TOKEN_LEN], v[LOCK_TOKEN_LEN + 8];
    bool held;
    struct err e;
    err_clear(&e);
    redis_lock_keepalive_pause(slow, true); /* a stalls past its lease (no renewal) */
    assert_int_equal(a.ops->acquire(a.self, "stale", ta, &held, &e), ERR_OK);
    assert_true(held);
    assert_true(wait_until_gone(pool, "stale")); /* a's lease runs out while it still "works" */
    assert_int_equal(b.ops->acquire(b.self, "stale", tb, &held, &e), ERR_OK);
    assert_true(held);
    redis_lock_keepalive_pause(slow, false);
    a.ops->release(a.self, "stale", ta); /* late release, stale token: must not free b's lock */
    redis_lock_sync(slow);
    get_value(pool, "stale", v, sizeof(v));
    assert_string_equal(v, tb);
    err_clear(&e);
    assert_int_equal(c.ops->acquire(c.self, "stale", tc, &held, &e), ERR_UNAVAILABLE);
    b.ops->release(b.self, "stale", tb);
    redis_lock_sync(fast);
    assert_int_equal(c.ops->acquire(c.self, "stale", tc, &held, &e), ERR_OK);
    assert_true(held);
    c.ops->release(c.self, "stale", tc);
    redis_lock_free(slow);
    redis_lock_free(fast);
    redis_lock_free(third);
    redis_pool_free(pool);
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
    redis_lock_free(holder);
    redis_lock_free(waiter);
    redis_pool_free(pool);
}

static void redis_unreachable__fails_open(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    struct redis_pool *pool = redis_pool_new("redis://127.0.0.1:1/0", 200, &e);
    struct redis_lock *lock = new_lock(pool, 5000, 100);
    struct lock_port p = redis_lock_port(lock);
    char t[LOCK_TOKEN_LEN];
    bool held = true;
    assert_int_equal(p.ops->acquire(p.self, "any", t, &held, &e), ERR_OK);
    assert_false(held);
    p.ops->release(p.self, "any", t); /* harmless */
    redis_lock_free(lock);
    redis_pool_free(pool);
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
    char ta[LOCK_TOKEN_LEN], tb[LOCK_TOKEN_LEN], v[LOCK_TOKEN_LEN + 8];
    bool held = false, contended = true;
    pa.ops->acquire_start(pa.self, "split", ta);
    pa.ops->acquire_finish(pa.self, "split", ta, &held, &contended);
    assert_true(held);
    assert_false(contended);
    get_value(pool, "split", v, sizeof(v));
    assert_string_equal(v, ta);

    pb.ops->acquire_start(pb.self, "split", tb);
    pb.ops->acquire_finish(pb.self, "split", tb, &held, &contended);
    assert_false(held);
    assert_true(contended);
    get_value(pool, "split", v, sizeof(v));
    assert_string_equal(v, ta); /* still a's */

    pa.ops->release(pa.self, "split", ta);
    redis_lock_sync(a);
    pb.ops->acquire_start(pb.self, "split", tb);
    pb.ops->acquire_finish(pb.self, "split", tb, &held, &contended);
    assert_true(held);
    assert_false(contended);
    get_value(pool, "split", v, sizeof(v));
    assert_string_equal(v, tb);
    pb.ops->release(pb.self, "split", tb);
    redis_lock_free(a);
    redis_lock_free(b);
    redis_pool_free(pool);

    struct err e;
    err_clear(&e);
    struct redis_pool *gone = redis_pool_new("redis://127.0.0.1:1/0", 200, &e);
    struct redis_lock *c = new_lock(gone, 5000, 100);
    struct lock_port pc = redis_lock_port(c);
    held = contended = true;
    pc.ops->acquire_start(pc.self, "split", ta);
    pc.ops->acquire_finish(pc.self, "split", ta, &held, &contended);
    assert_false(held);
    assert_false(contended);
    redis_lock_free(c);
    redis_pool_free(gone);
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
 * The SET NX is applied but its reply is lost (timeout): the lock is ours in
 * Redis. The retry with the same token recognises it, so the holder knows it
 * holds it and releases it: the next request of the same user gets in at
 * once instead of waiting out the 5 s lease.
 */
static void applied_set_with_lost_reply__recognised_as_ours_and_released(void **state)
{
    (void)state;
    static struct proxy px; /* static: its thread must not outlive it should an assert fail */
    proxy_start(&px);
    struct redis_pool *via_proxy = proxied_pool(&px), *direct = new_pool();
    struct redis_lock *lossy = new_lock(via_proxy, 5000, 1000), *next = new_lock(direct, 5000, 300);
    struct lock_port a = redis_lock_port(lossy), b = redis_lock_port(next);
    char ta[LOCK_TOKEN_LEN], tb[LOCK_TOKEN_LEN];
    bool held = false;
    struct err e;
    err_clear(&e);
    atomic_store(&px.drop_conns, 1); /* the first connection's replies are lost */
    assert_int_equal(a.ops->acquire(a.self, "lost", ta, &held, &e), ERR_OK);
    assert_true(held);
    a.ops->release(a.self, "lost", ta);
    redis_lock_sync(lossy); /* the compare-and-delete runs in the background */
    assert_int_equal(b.ops->acquire(b.self, "lost", tb, &held, &e), ERR_OK);
    assert_true(held);
    b.ops->release(b.self, "lost", tb);
    redis_lock_free(lossy);
    redis_lock_free(next);
    redis_pool_free(via_proxy);
    redis_pool_free(direct);
    proxy_stop(&px);
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
    proxy_start(&px);
    struct redis_pool *via_proxy = proxied_pool(&px), *direct = new_pool();
    struct redis_lock *lossy = new_lock(via_proxy, 5000, 1000), *next = new_lock(direct, 5000, 300);
    struct lock_port a = redis_lock_port(lossy), b = redis_lock_port(next);
    char ta[LOCK_TOKEN_LEN], tb[LOCK_TOKEN_LEN];
    bool held = true;
    struct err e;
    err_clear(&e);
    atomic_store(&px.drop_conns, 2); /* both tries' replies are lost */
    assert_int_equal(a.ops->acquire(a.self, "orphan", ta, &held, &e), ERR_OK);
    assert_false(held); /* fail open: not known to be held */
    atomic_store(&px.drop_conns, 0);
    /* this process talks to Redis again (any lock operation): the orphan is freed */
    assert_int_equal(a.ops->acquire(a.self, "unrelated", ta, &held, &e), ERR_OK);
    assert_true(held);
    a.ops->release(a.self, "unrelated", ta);
    redis_lock_sync(lossy); /* the queued release of the orphan has been tried */
    assert_int_equal(b.ops->acquire(b.self, "orphan", tb, &held, &e), ERR_OK);
    assert_true(held);
    b.ops->release(b.self, "orphan", tb);
    redis_lock_free(lossy);
    redis_lock_free(next);
    redis_pool_free(via_proxy);
    redis_pool_free(direct);
    proxy_stop(&px);
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
