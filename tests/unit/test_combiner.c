/*
 * test_combiner.c — group commit (core/combiner.h) under a storm of
 * threads: every item runs exactly once and gets its own result, a batch
 * never holds two conflicting items nor more than max_batch, no more than
 * max_inflight batches run at once, and the leader's own item comes first.
 * Worker threads only record; the main thread asserts. Also run under
 * ThreadSanitizer (label concurrency).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "core/combiner.h"

enum { THREADS = 16, ITEMS_PER_THREAD = 300, KEYS = 8, MAX_BATCH = 5, MAX_INFLIGHT = 2 };

struct job {
    struct combiner_item item;
    int key;
    pthread_t submitter;
    int result;
    atomic_int runs;
};

struct record {
    atomic_int running, max_running, max_batch, batches_over_one;
    atomic_int conflicts_in_batch, leader_not_first, batches;
};

static struct job *job_of(const struct combiner_item *item)
{
    return (struct job *)((char *)item - offsetof(struct job, item));
}

static bool same_key(const struct combiner_item *a, const struct combiner_item *b)
{
    return job_of(a)->key == job_of(b)->key;
}

static void pause_briefly(void)
{
    struct timespec ts = {0, 200 * 1000};
    nanosleep(&ts, NULL);
}

static void run_batch(void *ctx, struct combiner_item *const *items, size_t n)
{
    struct record *rec = ctx;
    int now = atomic_fetch_add(&rec->running, 1) + 1;
    for (int m = atomic_load(&rec->max_running); now > m;)
        if (atomic_compare_exchange_weak(&rec->max_running, &m, now))
            break;
    for (int m = atomic_load(&rec->max_batch); (int)n > m;)
        if (atomic_compare_exchange_weak(&rec->max_batch, &m, (int)n))
            break;
    atomic_fetch_add(&rec->batches, 1);
    if (n > 1)
        atomic_fetch_add(&rec->batches_over_one, 1);
    if (!pthread_equal(job_of(items[0])->submitter, pthread_self()))
        atomic_fetch_add(&rec->leader_not_first, 1);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = i + 1; j < n; j++)
            if (same_key(items[i], items[j]))
                atomic_fetch_add(&rec->conflicts_in_batch, 1);
        struct job *jb = job_of(items[i]);
        jb->result = jb->key * 2 + 1;
        atomic_fetch_add(&jb->runs, 1);
    }
    pause_briefly(); /* a database round trip's worth: newcomers queue meanwhile */
    atomic_fetch_sub(&rec->running, 1);
}

struct worker {
    struct combiner *c;
    struct job *jobs;
    int no;
    int wrong_results;
};

static void *submitter(void *arg)
{
    struct worker *w = arg;
    unsigned seed = (unsigned)w->no * 7919u + 1;
    for (int i = 0; i < ITEMS_PER_THREAD; i++) {
        struct job *jb = &w->jobs[i];
        jb->key = (int)(rand_r(&seed) % KEYS);
        jb->submitter = pthread_self();
        jb->result = -1;
        combiner_submit(w->c, &jb->item);
        if (jb->result != jb->key * 2 + 1)
            w->wrong_results++;
    }
    return NULL;
}

static void storm__each_item_once_batches_bounded_and_conflict_free(void **state)
{
    (void)state;
    static struct job jobs[THREADS][ITEMS_PER_THREAD];
    memset(jobs, 0, sizeof(jobs));
    struct record rec = {0};
    struct combiner c;
    assert_true(combiner_init(&c, &(struct combiner_config){.max_batch = MAX_BATCH,
                                                            .max_inflight = MAX_INFLIGHT,
                                                            .run = run_batch,
                                                            .conflict = same_key,
                                                            .ctx = &rec}));
    pthread_t threads[THREADS];
    struct worker workers[THREADS];
    for (int t = 0; t < THREADS; t++) {
        workers[t] = (struct worker){.c = &c, .jobs = jobs[t], .no = t};
        assert_int_equal(pthread_create(&threads[t], NULL, submitter, &workers[t]), 0);
    }
    for (int t = 0; t < THREADS; t++)
        pthread_join(threads[t], NULL);
    combiner_destroy(&c);

    for (int t = 0; t < THREADS; t++) {
        assert_int_equal(workers[t].wrong_results, 0);
        for (int i = 0; i < ITEMS_PER_THREAD; i++)
            assert_int_equal(atomic_load(&jobs[t][i].runs), 1);
    }
    assert_int_equal(atomic_load(&rec.conflicts_in_batch), 0);
    assert_int_equal(atomic_load(&rec.leader_not_first), 0);
    assert_true(atomic_load(&rec.max_batch) <= MAX_BATCH);
    assert_true(atomic_load(&rec.max_running) <= MAX_INFLIGHT);
    /* 16 threads against 2 slots: items did wait and ride in others' batches */
    assert_true(atomic_load(&rec.batches_over_one) > 0);
    assert_true(atomic_load(&rec.batches) < THREADS * ITEMS_PER_THREAD);
}

static void alone__runs_at_once_on_the_callers_thread(void **state)
{
    (void)state;
    struct record rec = {0};
    struct combiner c;
    assert_true(combiner_init(&c, &(struct combiner_config){.max_batch = 0, /* clamped to 1 */
                                                            .max_inflight = 0,
                                                            .run = run_batch,
                                                            .ctx = &rec}));
    struct job jb = {.key = 3, .submitter = pthread_self(), .result = -1};
    combiner_submit(&c, &jb.item);
    combiner_destroy(&c);
    assert_int_equal(jb.result, 7);
    assert_int_equal(atomic_load(&jb.runs), 1);
    assert_int_equal(atomic_load(&rec.batches), 1);
    assert_int_equal(atomic_load(&rec.leader_not_first), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(alone__runs_at_once_on_the_callers_thread),
        cmocka_unit_test(storm__each_item_once_batches_bounded_and_conflict_free),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
