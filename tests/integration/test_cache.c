/* test_cache.c — cache-aside against a real Redis: hit and miss, invalidation by generation,
 * one loader for 100 concurrent misses, a loader never deletes another's guard, Redis down. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "infra/cache.h"
#include "support/test_db.h"

static char ns[64];
static atomic_int loads;

static enum err_code slow_load(void *ud, char **out, struct err *e)
{
    (void)e;
    atomic_fetch_add(&loads, 1);
    struct timespec ts = {0, 50 * 1000 * 1000}; /* a slow query */
    nanosleep(&ts, NULL);
    *out = strdup(ud);
    return ERR_OK;
}

static struct redis_pool *pool_for(const char *url)
{
    struct err e;
    err_clear(&e);
    struct redis_pool *p = redis_pool_new(url, 500, &e);
    assert_non_null(p);
    return p;
}

/* A cache in ns over a new pool on url (*pool: the caller's, with the cache); loads reset to 0. */
static struct cache *cache_open(const char *url, struct redis_pool **pool)
{
    *pool = pool_for(url);
    struct cache *c = cache_new(*pool, ns);
    assert_non_null(c);
    atomic_store(&loads, 0);
    return c;
}

static void cache_close(struct cache *c, struct redis_pool *pool)
{
    cache_free(c);
    redis_pool_free(pool);
}

/*
 * cache_get of key (a 10 s entry, waiting up to wait_ms for another loader)
 * with load answering ud must return ERR_OK with want, a hit or a miss as
 * want_hit says.
 */
static void get_expecting(struct cache *c, const char *key, unsigned wait_ms, cache_load_fn load,
                          void *ud, bool want_hit, const char *want)
{
    char *out;
    bool hit;
    struct err e;
    err_clear(&e);
    assert_int_equal(cache_get(c, key, 10000, wait_ms, load, ud, &out, &hit, &e), ERR_OK);
    assert_int_equal(hit, want_hit);
    assert_string_equal(out, want);
    free(out);
}

static void miss_then_hit(void **state)
{
    (void)state;
    struct redis_pool *pool;
    struct cache *c = cache_open(test_redis_url(), &pool);
    get_expecting(c, "k1", 500, slow_load, "v1", false, "v1");
    get_expecting(c, "k1", 500, slow_load, "v2", true, "v1"); /* from the cache, not the loader */
    assert_int_equal(atomic_load(&loads), 1);
    cache_close(c, pool);
}

static void generation_bump__old_entries_never_read_again(void **state)
{
    (void)state;
    struct redis_pool *pool;
    struct cache *c = cache_open(test_redis_url(), &pool);
    char key[64];
    snprintf(key, sizeof(key), "g:%lld", cache_generation(c, "things"));
    get_expecting(c, key, 500, slow_load, "old", false, "old");
    assert_true(cache_bump(c, "things") > 0); /* a write happened */
    snprintf(key, sizeof(key), "g:%lld", cache_generation(c, "things"));
    get_expecting(c, key, 500, slow_load, "new", false, "new");
    cache_close(c, pool);
}

struct stampede {
    struct cache *c;
    atomic_int *wrong;
};

static void *reader(void *arg)
{
    struct stampede *s = arg;
    char *out = NULL;
    bool hit;
    struct err e;
    err_clear(&e);
    if (cache_get(s->c, "hot", 10000, 2000, slow_load, "value", &out, &hit, &e) != ERR_OK ||
        strcmp(out, "value") != 0)
        atomic_fetch_add(s->wrong, 1);
    free(out);
    return NULL;
}

static void hundred_concurrent_misses__one_load(void **state)
{
    (void)state;
    struct redis_pool *pool;
    struct cache *c = cache_open(test_redis_url(), &pool);
    atomic_int wrong;
    atomic_init(&wrong, 0);
    struct stampede s = {c, &wrong};
    pthread_t t[100];
    for (int i = 0; i < 100; i++)
        pthread_create(&t[i], NULL, reader, &s);
    for (int i = 0; i < 100; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(atomic_load(&wrong), 0);
    assert_int_equal(atomic_load(&loads), 1);
    cache_close(c, pool);
}

static struct redis_pool *guard_pool;

/* A loader slower than its guard's lease: meanwhile the guard expires and another instance's
 * loader takes it. */
static enum err_code load_outliving_the_guard(void *ud, char **out, struct err *e)
{
    (void)e;
    struct timespec ts = {0, 150 * 1000 * 1000}; /* the guard lives 2 × 50 ms */
    nanosleep(&ts, NULL);
    struct err ignored;
    err_clear(&ignored);
    redisReply *r =
        redis_command(guard_pool, &ignored, "SET %s:cache:slow:load other NX PX 10000", ns);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STATUS); /* the first guard had expired */
    freeReplyObject(r);
    *out = strdup(ud);
    return ERR_OK;
}

static void expired_guard__taken_by_another_loader__not_deleted_by_the_first(void **state)
{
    (void)state;
    struct cache *c = cache_open(test_redis_url(), &guard_pool);
    get_expecting(c, "slow", 50, load_outliving_the_guard, "v", false, "v");
    struct err e;
    err_clear(&e);
    /* the second loader's guard is still there: only its owner may delete it */
    redisReply *r = redis_command(guard_pool, &e, "GET %s:cache:slow:load", ns);
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_STRING);
    assert_string_equal(r->str, "other");
    freeReplyObject(r);
    freeReplyObject(redis_command(guard_pool, &e, "DEL %s:cache:slow:load", ns));
    cache_close(c, guard_pool);
}

static void redis_down__the_loader_answers(void **state)
{
    (void)state;
    struct redis_pool *pool;
    struct cache *c = cache_open("redis://127.0.0.1:1/0", &pool);
    get_expecting(c, "k", 100, slow_load, "direct", false, "direct");
    assert_int_equal(atomic_load(&loads), 1);
    cache_close(c, pool);
}

int main(void)
{
    snprintf(ns, sizeof(ns), "cachetest%ld", (long)getpid());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(miss_then_hit),
        cmocka_unit_test(generation_bump__old_entries_never_read_again),
        cmocka_unit_test(hundred_concurrent_misses__one_load),
        cmocka_unit_test(expired_guard__taken_by_another_loader__not_deleted_by_the_first),
        cmocka_unit_test(redis_down__the_loader_answers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
