/*
 * test_fixtures.h — the shop data tests make over HTTP (products, funded
 * users, coupons), orders posted with a key and a token, answers checked
 * against their status and error code, and a record of failures seen by
 * worker threads for the main thread to assert.
 *
 * cmocka assertions jump (longjmp) to the test's runner: they must run in
 * the test's main thread only. Functions marked "main thread" assert; the
 * others never do and may run in any thread once test_http_global_init ran.
 */
#ifndef SHOPD_TESTS_TEST_FIXTURES_H
#define SHOPD_TESTS_TEST_FIXTURES_H

#include <pthread.h>
#include <stddef.h>

struct test_resp;

/*
 * POST base+path with body (admin: the test admin token) and returns the
 * answer's "id"; fails the test unless the status is 201. Main thread.
 */
long long test_post_created(const char *base, const char *path, const char *body, int admin);

/* POST /api/v1/products {name, price, stock} as admin; returns its id. Main thread. */
long long test_new_product(const char *base, const char *name, long long price, long long stock);

/* Charges amount points to user, acting as user; fails the test unless 200. Main thread. */
void test_charge_points(const char *base, long long user, long long amount);

/*
 * Signs a user named name up (test_new_user) and, when points > 0, charges
 * it that many points. Returns its id. Main thread.
 */
long long test_new_funded_user(const char *base, const char *name, long long points);

/*
 * POST /api/v1/coupons as admin: a campaign named name of discount type
 * ("FIXED" or "PERCENT"), value and quantity, expiring at expires_at
 * (RFC 3339). Returns its id; fails the test unless 201. Main thread.
 */
long long test_new_coupon(const char *base, const char *name, const char *type, long long value,
                          long long quantity, const char *expires_at);

/*
 * Writes {"user_id":user,"items":[{"product_id":product,"quantity":quantity}]}
 * (with "coupon_id" when coupon > 0) into buf and returns buf. Any thread.
 */
const char *test_order_body(char *buf, size_t cap, long long user, long long product,
                            long long quantity, long long coupon);

/*
 * Writes an order of user for 1 to 4 lines, each of a product drawn from
 * products[0..n_products) and a quantity of 1 to 3, drawn with rand_r(seed),
 * into buf and returns buf. Any thread (each with its own seed).
 */
const char *test_random_order_body(char *buf, size_t cap, long long user, const long long *products,
                                   size_t n_products, unsigned *seed);

/*
 * POST base/api/v1/orders with body, Idempotency-Key key (NULL: none) and
 * user's access token. Fills *out (caller test_resp_free, also on failure); returns what
 * test_http returns (0, or -1 when the transfer failed). Never asserts:
 * any thread.
 */
int test_post_order(const char *base, long long user, const char *key, const char *body,
                    struct test_resp *out);

/*
 * POST base/api/v1/orders/{order}/cancel with user's access token. Fills
 * *out (caller test_resp_free). Never asserts: any thread.
 */
void test_cancel_order(const char *base, long long user, long long order, struct test_resp *out);

/* Writes ids[0..n) comma-separated ("3,5,8") into buf (cut at cap) and returns buf. Any thread. */
const char *test_id_list(char *buf, size_t cap, const long long *ids, size_t n);

/* What each thread of test_run_workers gets. */
struct test_worker {
    void *ctx;     /* shared by all the threads */
    int n;         /* 0 .. threads-1 */
    unsigned seed; /* the thread's own, for rand_r */
};

/*
 * Runs fn in threads threads (at most 64), thread i with a struct
 * test_worker {ctx, i, seed0 + i} as its argument, and joins them all.
 * Fails the test, after joining the threads that started, when one could
 * not be started. Main thread.
 */
void test_run_workers(int threads, void *(*fn)(void *), void *ctx, unsigned seed0);

/*
 * Asserts that r answered status and, when code is not NULL, the error code
 * code; then frees r. Main thread.
 */
void test_resp_expect(struct test_resp *r, long status, const char *code);

/* Who test_call_expect acts as, besides a user id (> 0). */
enum { TEST_AS_NOBODY = 0, TEST_AS_ADMIN = -1 };

/*
 * Sends method base+path with body (NULL: none) as `as` (a user id: that
 * user's token; TEST_AS_NOBODY: no token; TEST_AS_ADMIN: the admin token) and
 * asserts the answer as test_resp_expect does. Main thread.
 */
void test_call_expect(const char *base, const char *method, const char *path, const char *body,
                      long long as, long status, const char *code);

/*
 * What worker threads saw go wrong: a count and the first message. Threads
 * call test_failures_add (thread-safe); the main thread, after joining
 * them, calls test_failures_assert_none.
 */
struct test_failures {
    pthread_mutex_t mu;
    int count;
    char first[512];
};

/* Empties f (also before reuse). Not thread-safe: before the threads start. */
void test_failures_init(struct test_failures *f);

/* Counts one failure; the first one's message (printf-style) is kept. Thread-safe. */
void test_failures_add(struct test_failures *f, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* The number counted so far. Thread-safe. */
int test_failures_count(struct test_failures *f);

/*
 * Fails the test with the count and the first message when anything was
 * counted; destroys f's mutex either way. Main thread, after the joins.
 */
void test_failures_assert_none(struct test_failures *f);

/*
 * The whole file at path, NUL-terminated (caller frees); its size in *len
 * (may be NULL). NULL when it cannot be read. Any thread.
 */
char *test_read_file(const char *path, size_t *len);

#endif
