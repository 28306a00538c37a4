/* test_fixtures.c — shop data over HTTP, orders, and failures recorded by worker threads. */
#include "support/test_fixtures.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "support/test_http.h"

long long test_post_created(const char *base, const char *path, const char *body, int admin)
{
    struct test_resp r;
    test_call(base, "POST", path, body, admin, &r);
    if (r.status != 201)
        fail_msg("POST %s %s: %ld %s", path, body ? body : "", r.status, r.body ? r.body : "");
    long long id = test_resp_int(&r, "id");
    test_resp_free(&r);
    return id;
}

long long test_new_product(const char *base, const char *name, long long price, long long stock)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":%lld,\"stock\":%lld}", name, price,
             stock);
    return test_post_created(base, "/api/v1/products", body, 1);
}

void test_charge_points(const char *base, long long user, long long amount)
{
    char path[96], body[64];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/points/charge", user);
    snprintf(body, sizeof(body), "{\"amount\":%lld}", amount);
    struct test_resp r;
    test_call_as(base, "POST", path, body, user, &r);
    if (r.status != 200)
        fail_msg("charging %lld to user %lld: %ld %s", amount, user, r.status,
                 r.body ? r.body : "");
    test_resp_free(&r);
}

long long test_new_funded_user(const char *base, const char *name, long long points)
{
    long long id = test_new_user(base, name);
    if (points > 0)
        test_charge_points(base, id, points);
    return id;
}

long long test_new_coupon(const char *base, const char *name, const char *type, long long value,
                          long long quantity, const char *expires_at)
{
    char body[320];
    snprintf(body, sizeof(body),
             "{\"name\":\"%s\",\"discount_type\":\"%s\",\"discount_value\":%lld,"
             "\"total_quantity\":%lld,\"expires_at\":\"%s\"}",
             name, type, value, quantity, expires_at);
    return test_post_created(base, "/api/v1/coupons", body, 1);
}

const char *test_order_body(char *buf, size_t cap, long long user, long long product,
                            long long quantity, long long coupon)
{
    int n =
        snprintf(buf, cap, "{\"user_id\":%lld,\"items\":[{\"product_id\":%lld,\"quantity\":%lld}]",
                 user, product, quantity);
    if (n >= 0 && (size_t)n < cap && coupon > 0)
        n += snprintf(buf + n, cap - (size_t)n, ",\"coupon_id\":%lld", coupon);
    if (n >= 0 && (size_t)n < cap)
        snprintf(buf + n, cap - (size_t)n, "}");
    return buf;
}

const char *test_random_order_body(char *buf, size_t cap, long long user, const long long *products,
                                   size_t n_products, unsigned *seed)
{
    int lines = 1 + (int)(rand_r(seed) % 4);
    size_t used = (size_t)snprintf(buf, cap, "{\"user_id\":%lld,\"items\":[", user);
    for (int l = 0; l < lines && used < cap; l++)
        used += (size_t)snprintf(buf + used, cap - used, "%s{\"product_id\":%lld,\"quantity\":%u}",
                                 l ? "," : "", products[rand_r(seed) % n_products],
                                 1 + rand_r(seed) % 3);
    if (used < cap)
        snprintf(buf + used, cap - used, "]}");
    return buf;
}

int test_post_order(const char *base, long long user, const char *key, const char *body,
                    struct test_resp *out)
{
    char url[160], header[160], auth[640];
    snprintf(url, sizeof(url), "%s/api/v1/orders", base);
    snprintf(header, sizeof(header), "Idempotency-Key: %s", key ? key : "");
    test_user_auth_header(user, auth, sizeof(auth));
    const char *headers[] = {auth, key ? header : NULL, NULL};
    return test_http("POST", url, body, headers, out);
}

void test_cancel_order(const char *base, long long user, long long order, struct test_resp *out)
{
    char path[96];
    snprintf(path, sizeof(path), "/api/v1/orders/%lld/cancel", order);
    test_call_as(base, "POST", path, NULL, user, out);
}

const char *test_id_list(char *buf, size_t cap, const long long *ids, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used < cap; i++)
        used += (size_t)snprintf(buf + used, cap - used, "%s%lld", i ? "," : "", ids[i]);
    return buf;
}

void test_run_workers(int threads, void *(*fn)(void *), void *ctx, unsigned seed0)
{
    enum { MAX_WORKERS = 64 };
    assert_true(threads > 0 && threads <= MAX_WORKERS);
    struct test_worker workers[MAX_WORKERS];
    pthread_t tids[MAX_WORKERS];
    int started = 0;
    for (int i = 0; i < threads; i++) {
        workers[i] = (struct test_worker){ctx, i, seed0 + (unsigned)i};
        if (pthread_create(&tids[i], NULL, fn, &workers[i]) != 0)
            break;
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(tids[i], NULL);
    if (started != threads)
        fail_msg("test_run_workers: started %d of %d threads", started, threads);
}

void test_resp_expect(struct test_resp *r, long status, const char *code)
{
    assert_int_equal(r->status, status);
    if (code)
        assert_string_equal(test_resp_code(r), code);
    test_resp_free(r);
}

void test_call_expect(const char *base, const char *method, const char *path, const char *body,
                      long long as, long status, const char *code)
{
    struct test_resp r;
    if (as > 0)
        test_call_as(base, method, path, body, as, &r);
    else
        test_call(base, method, path, body, as == TEST_AS_ADMIN, &r);
    test_resp_expect(&r, status, code);
}

void test_failures_init(struct test_failures *f)
{
    pthread_mutex_init(&f->mu, NULL);
    f->count = 0;
    f->first[0] = '\0';
}

void test_failures_add(struct test_failures *f, const char *fmt, ...)
{
    pthread_mutex_lock(&f->mu);
    if (f->count++ == 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(f->first, sizeof(f->first), fmt, ap);
        va_end(ap);
    }
    pthread_mutex_unlock(&f->mu);
}

int test_failures_count(struct test_failures *f)
{
    pthread_mutex_lock(&f->mu);
    int n = f->count;
    pthread_mutex_unlock(&f->mu);
    return n;
}

void test_failures_assert_none(struct test_failures *f)
{
    int n = test_failures_count(f);
    char first[sizeof(f->first)];
    snprintf(first, sizeof(first), "%s", f->first);
    pthread_mutex_destroy(&f->mu);
    if (n != 0)
        fail_msg("%d failure(s) in worker threads; the first: %s", n, first);
}

char *test_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    long size = -1;
    if (fseek(f, 0, SEEK_END) == 0)
        size = ftell(f);
    if (size >= 0 && fseek(f, 0, SEEK_SET) == 0)
        buf = malloc((size_t)size + 1);
    size_t n = buf ? fread(buf, 1, (size_t)size, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}
