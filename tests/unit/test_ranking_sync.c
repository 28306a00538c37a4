/*
 * test_ranking_sync.c — the ranking sync's coalescing set (a product counts
 * once per day; a full day becomes a whole-day copy; days beyond the slots
 * become a range of whole days; nothing is ever dropped) and its worker over
 * a fake copy (failures stay pending and are retried; a day that fills up
 * while a copy is in hand is copied whole; stop while failing returns).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "ranking/ranking_dirty.h"
#include "ranking/ranking_sync.h"

enum { WAIT_MAX_MS = 10000 }; /* a bound on polling, never a performance threshold */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Takes one day and asserts what it holds (ids NULL: the whole day). */
static void assert_take(struct ranking_dirty *d, int64_t day, const int64_t *ids, size_t n)
{
    int64_t got_day = -1, got[64];
    bool whole = false;
    size_t got_n = 99;
    assert_true(ranking_dirty_cap(d) <= 64);
    assert_true(ranking_dirty_take(d, &got_day, &whole, got, &got_n));
    assert_int_equal(got_day, day);
    assert_int_equal(whole, ids == NULL);
    assert_int_equal(got_n, ids ? n : 0);
    qsort(got, got_n, sizeof(got[0]), cmp_i64);
    for (size_t i = 0; ids && i < n; i++)
        assert_int_equal(got[i], ids[i]);
}

static void assert_empty(struct ranking_dirty *d)
{
    int64_t day, ids[64];
    bool whole;
    size_t n;
    assert_int_equal(ranking_dirty_count(d), 0);
    assert_false(ranking_dirty_take(d, &day, &whole, ids, &n));
}

static void dirty__a_product_counts_once_per_day(void **state)
{
    (void)state;
    struct ranking_dirty *d = ranking_dirty_new(16);
    assert_non_null(d);
    ranking_dirty_add(d, 10, (int64_t[]){1, 2, 2}, 3);
    ranking_dirty_add(d, 10, (int64_t[]){2, 3}, 2);
    ranking_dirty_add(d, 11, (int64_t[]){1}, 1);
    ranking_dirty_add(d, 12, (int64_t[]){0}, 0); /* nothing sold: nothing remembered */
    assert_int_equal(ranking_dirty_count(d), 4);
    assert_take(d, 10, (int64_t[]){1, 2, 3}, 3);
    assert_int_equal(ranking_dirty_count(d), 1);
    assert_take(d, 11, (int64_t[]){1}, 1);
    assert_empty(d);
    ranking_dirty_free(d);
}

static void dirty__full_day_becomes_a_whole_day_never_dropped(void **state)
{
    (void)state;
    struct ranking_dirty *d = ranking_dirty_new(4);
    ranking_dirty_add(d, 5, (int64_t[]){1, 2, 3}, 3);
    ranking_dirty_add(d, 5, (int64_t[]){3, 4}, 2); /* exactly full: still products */
    assert_int_equal(ranking_dirty_count(d), 4);
    ranking_dirty_add(d, 5, (int64_t[]){5}, 1); /* a fifth product: the whole day */
    assert_int_equal(ranking_dirty_count(d), 1);
    ranking_dirty_add(d, 5, (int64_t[]){6, 7}, 2); /* already whole */
    ranking_dirty_add(d, 6, (int64_t[]){1, 2, 3, 4, 5, 6}, 6);
    assert_int_equal(ranking_dirty_count(d), 2);
    assert_take(d, 5, NULL, 0);
    assert_take(d, 6, NULL, 0);
    assert_empty(d);
    /* the slot starts afresh: products again */
    ranking_dirty_add(d, 5, (int64_t[]){9}, 1);
    assert_take(d, 5, (int64_t[]){9}, 1);
    /* an id the set cannot hold: the whole day, not a lost sale */
    ranking_dirty_add(d, 7, (int64_t[]){3, -1}, 2);
    assert_take(d, 7, NULL, 0);
    ranking_dirty_add(d, 8, NULL, 0); /* asked for whole */
    assert_take(d, 8, NULL, 0);
    assert_empty(d);
    ranking_dirty_free(d);
}

static void dirty__days_beyond_the_slots_become_a_range_of_whole_days(void **state)
{
    (void)state;
    struct ranking_dirty *d = ranking_dirty_new(8);
    for (int64_t day = 0; day < RANKING_DIRTY_DAYS; day++)
        ranking_dirty_add(d, day, (int64_t[]){day + 1}, 1);
    ranking_dirty_add(d, 20, (int64_t[]){1}, 1);
    ranking_dirty_add(d, 17, (int64_t[]){2}, 1);
    ranking_dirty_add(d, 18, (int64_t[]){3}, 1);                      /* inside the range already */
    assert_int_equal(ranking_dirty_count(d), RANKING_DIRTY_DAYS + 4); /* + days 17..20 */
    for (int64_t day = 0; day < RANKING_DIRTY_DAYS; day++)
        assert_take(d, day, (int64_t[]){day + 1}, 1);
    for (int64_t day = 17; day <= 20; day++)
        assert_take(d, day, NULL, 0);
    assert_empty(d);
    ranking_dirty_free(d);
}

static void dirty__given_back_after_a_failure_merges_with_newer_sales(void **state)
{
    (void)state;
    struct ranking_dirty *d = ranking_dirty_new(4);
    ranking_dirty_add(d, 3, (int64_t[]){1, 2}, 2);
    int64_t day, ids[4];
    bool whole;
    size_t n;
    assert_true(ranking_dirty_take(d, &day, &whole, ids, &n));
    ranking_dirty_add(d, 3, (int64_t[]){2, 3}, 2); /* sold meanwhile */
    ranking_dirty_add(d, day, ids, n);             /* the failed copy comes back */
    assert_take(d, 3, (int64_t[]){1, 2, 3}, 3);
    /* given back into a day that is full by now: whole, still nothing lost */
    ranking_dirty_add(d, 3, (int64_t[]){1, 2}, 2);
    assert_true(ranking_dirty_take(d, &day, &whole, ids, &n));
    ranking_dirty_add(d, 3, (int64_t[]){3, 4, 5}, 3);
    ranking_dirty_add(d, day, ids, n);
    assert_take(d, 3, NULL, 0);
    assert_empty(d);
    ranking_dirty_free(d);
}

/* ---- the worker over a fake copy ---- */

struct fake {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int calls, fail_first; /* the first fail_first calls fail (-1: every call) */
    bool gated, inside;    /* gated: a call waits while gated; inside: a call is waiting */
    int64_t last_sold_at;
    bool last_whole;
    int64_t last_ids[16];
    size_t last_n;
};

static struct fake fake = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static void fake_reset(int fail_first, bool gated)
{
    pthread_mutex_lock(&fake.mu);
    fake.calls = 0;
    fake.fail_first = fail_first;
    fake.gated = gated;
    fake.inside = false;
    fake.last_n = 0;
    pthread_mutex_unlock(&fake.mu);
}

static enum err_code fake_copy(void *ud, int64_t sold_at, const int64_t *ids, size_t n,
                               struct err *e)
{
    (void)ud;
    pthread_mutex_lock(&fake.mu);
    fake.inside = true;
    pthread_cond_broadcast(&fake.cv);
    while (fake.gated)
        pthread_cond_wait(&fake.cv, &fake.mu);
    fake.inside = false;
    int call = fake.calls++;
    bool fail = fake.fail_first < 0 || call < fake.fail_first;
    if (!fail) {
        fake.last_sold_at = sold_at;
        fake.last_whole = ids == NULL;
        fake.last_n = ids && n <= 16 ? n : 0;
        if (ids && n <= 16)
            memcpy(fake.last_ids, ids, n * sizeof(*ids));
        qsort(fake.last_ids, fake.last_n, sizeof(int64_t), cmp_i64);
    }
    pthread_mutex_unlock(&fake.mu);
    return fail ? err_set(e, ERR_UNAVAILABLE, "fake: redis is away") : ERR_OK;
}

/* What the fake saw so far (a copy: assertions never run with its lock held). */
static struct fake fake_seen(void)
{
    pthread_mutex_lock(&fake.mu);
    struct fake seen = fake;
    pthread_mutex_unlock(&fake.mu);
    return seen;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static bool drained(struct ranking_sync *s)
{
    for (int waited = 0; waited < WAIT_MAX_MS; waited++) {
        if (ranking_sync_pending(s) == 0)
            return true;
        sleep_ms(1);
    }
    return false;
}

static void wait_inside(void)
{
    pthread_mutex_lock(&fake.mu);
    while (!fake.inside)
        pthread_cond_wait(&fake.cv, &fake.mu);
    pthread_mutex_unlock(&fake.mu);
}

static void open_gate(void)
{
    pthread_mutex_lock(&fake.mu);
    fake.gated = false;
    pthread_cond_broadcast(&fake.cv);
    pthread_mutex_unlock(&fake.mu);
}

static struct ranking_sync *start(size_t capacity, unsigned backoff_min, unsigned backoff_max)
{
    struct err e;
    err_clear(&e);
    struct ranking_sync_config cfg = {.copy = fake_copy,
                                      .capacity = capacity,
                                      .backoff_min_ms = backoff_min,
                                      .backoff_max_ms = backoff_max};
    struct ranking_sync *s = ranking_sync_start(&cfg, &e);
    assert_non_null(s);
    return s;
}

static void sync__failed_copies_stay_pending_and_are_retried_until_copied(void **state)
{
    (void)state;
    fake_reset(3, true);
    struct ranking_sync *s = start(16, 1, 4);
    int64_t sold_at = 1700000000 + 3600; /* 2023-11-14T23:13:20Z + 1 h: still that UTC day */
    ranking_sync_on_sale(s, sold_at, (int64_t[]){8, 7}, 2);
    wait_inside();                             /* the worker holds it: */
    int64_t in_hand = ranking_sync_pending(s); /* still pending */
    open_gate();
    bool ok = drained(s);
    struct fake seen = fake_seen();
    ranking_sync_stop(s);
    assert_int_equal(in_hand, 2);
    assert_true(ok);
    assert_int_equal(seen.calls, 4); /* three failures, then the copy */
    assert_int_equal(seen.last_sold_at, 19675LL * 86400);
    assert_false(seen.last_whole);
    assert_int_equal(seen.last_n, 2);
    assert_int_equal(seen.last_ids[0], 7);
    assert_int_equal(seen.last_ids[1], 8);
}

static void sync__a_day_that_fills_up_meanwhile_is_copied_whole(void **state)
{
    (void)state;
    fake_reset(0, true);
    struct ranking_sync *s = start(2, 0, 0);
    ranking_sync_on_sale(s, 86400 * 3, (int64_t[]){1}, 1);
    wait_inside();                                                   /* copying {1} */
    ranking_sync_on_sale(s, 86400 * 3 + 5, (int64_t[]){2, 3, 4}, 3); /* more than 2 */
    int64_t pending = ranking_sync_pending(s); /* the one in hand + the whole day */
    open_gate();
    bool ok = drained(s);
    struct fake seen = fake_seen();
    ranking_sync_stop(s);
    assert_int_equal(pending, 2);
    assert_true(ok);
    assert_int_equal(seen.calls, 2);
    assert_true(seen.last_whole);
    assert_int_equal(seen.last_sold_at, 86400 * 3);
}

static void sync__stop_while_copies_fail_abandons_and_returns(void **state)
{
    (void)state;
    fake_reset(-1, false);
    struct ranking_sync *s = start(16, 60000, 60000); /* it would wait a minute to retry */
    ranking_sync_on_sale(s, 0, (int64_t[]){1}, 1);
    for (int waited = 0; waited < WAIT_MAX_MS; waited++) {
        pthread_mutex_lock(&fake.mu);
        int calls = fake.calls;
        pthread_mutex_unlock(&fake.mu);
        if (calls > 0)
            break;
        sleep_ms(1);
    }
    int64_t kept = ranking_sync_pending(s); /* kept after the failure */
    ranking_sync_stop(s);                   /* returns, without the minute's wait */
    assert_int_equal(kept, 1);
    ranking_sync_stop(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(dirty__a_product_counts_once_per_day),
        cmocka_unit_test(dirty__full_day_becomes_a_whole_day_never_dropped),
        cmocka_unit_test(dirty__days_beyond_the_slots_become_a_range_of_whole_days),
        cmocka_unit_test(dirty__given_back_after_a_failure_merges_with_newer_sales),
        cmocka_unit_test(sync__failed_copies_stay_pending_and_are_retried_until_copied),
        cmocka_unit_test(sync__a_day_that_fills_up_meanwhile_is_copied_whole),
        cmocka_unit_test(sync__stop_while_copies_fail_abandons_and_returns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
