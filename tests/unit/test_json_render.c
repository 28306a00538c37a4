/* test_json_render.c — every response body builder (product, point, coupon and its issue
 * requests, order and order list, ranking, problem): every failure of jansson (an
 * allocation, a name that is not UTF-8, a timestamp that can't be shown) is reported,
 * never turned into a partial document or an empty 200 (docs/architecture.md, "Out of
 * memory"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/timefmt.h"
#include "coupon/coupon_async_http.h"
#include "coupon/coupon_http.h"
#include "http/problem.h"
#include "order/adapters/order_json.h"
#include "point/point_http.h"
#include "product/product_http.h"
#include "ranking/ranking_http.h"

/* ---- an allocator whose fail_at-th allocation fails (0 = none) ---- */

static long n_allocs, fail_at;

static void *failing_malloc(size_t size)
{
    n_allocs++;
    if (fail_at && n_allocs == fail_at)
        return NULL;
    return malloc(size);
}

static void allocs_reset(long fail)
{
    n_allocs = 0;
    fail_at = fail;
}

static int setup(void **state)
{
    (void)state;
    json_set_alloc_funcs(failing_malloc, free);
    allocs_reset(0);
    return 0;
}

static char *dump(json_t *doc)
{
    allocs_reset(0);
    char *text = json_dumps(doc, JSON_COMPACT | JSON_SORT_KEYS);
    assert_non_null(text);
    return text;
}

/*
 * Builds with build(arg) once without failures (the reference), then once with
 * each of its allocations failing in turn: every run must give NULL or the whole
 * reference document, and at least one must fail.
 */
static void assert_all_or_nothing(json_t *(*build)(const void *), const void *arg)
{
    allocs_reset(0);
    json_t *ref = build(arg);
    assert_non_null(ref);
    long total = n_allocs;
    assert_true(total > 0);
    char *want = dump(ref);
    json_decref(ref);
    long failed = 0;
    for (long k = 1; k <= total; k++) {
        allocs_reset(k);
        json_t *doc = build(arg);
        allocs_reset(0);
        if (!doc) {
            failed++;
            continue;
        }
        char *got = dump(doc);
        if (strcmp(got, want) != 0)
            fail_msg("allocation %ld of %ld failed and gave a partial document: %s", k, total, got);
        free(got);
        json_decref(doc);
    }
    assert_true(failed > 0);
    free(want);
}

/* ---- fixtures ---- */

static const struct product products[] = {
    {1, "keyboard", 39000, 10}, {2, "mouse", 15000, 5}, {3, "monitor", 250000, 1}};

static json_t *build_product(const void *arg)
{
    return product_to_json(arg);
}

static json_t *build_product_page(const void *arg)
{
    (void)arg;
    struct product_page page = {(struct product *)products, 3, true, 3};
    return product_page_to_json(&page);
}

static const struct point_entry entries[] = {{7, POINT_REFUND, 1000, 5001000, 42, 1798761599},
                                             {6, POINT_USE, -1000, 5000000, 42, 1798761500},
                                             {5, POINT_CHARGE, 1000000, 5001000, 0, 1798761000}};

static json_t *build_history(const void *arg)
{
    (void)arg;
    struct point_history h = {(struct point_entry *)entries, 3, true, 5};
    return point_history_to_json(&h);
}

static json_t *build_point_user(const void *arg)
{
    return point_user_to_json(arg);
}

static const struct coupon a_coupon = {9, "welcome", COUPON_TYPE_RATE, 15, 100, 3, 4102444799};

static json_t *build_coupon(const void *arg)
{
    return coupon_to_json(arg);
}

static const struct user_coupon user_coupons[] = {
    {11, 9, 1, "welcome", COUPON_TYPE_RATE, 15, USER_COUPON_USED, 1798761000, 4102444799,
     1798761599},
    {10, 8, 1, "fixed", COUPON_TYPE_FIXED, 5000, USER_COUPON_AVAILABLE, 1798760000, 4102444799, 0}};

static json_t *build_user_coupons(const void *arg)
{
    (void)arg;
    return user_coupon_list_to_json(user_coupons, 2);
}

/* ---- allocation failures ---- */

static void product__all_or_nothing(void **state)
{
    (void)state;
    assert_all_or_nothing(build_product, &products[0]);
    assert_all_or_nothing(build_product_page, NULL);
}

static void point__all_or_nothing(void **state)
{
    (void)state;
    const struct point_user u = {3, "kim", 1500};
    assert_all_or_nothing(build_point_user, &u);
    assert_all_or_nothing(build_history, NULL);
}

static void coupon__all_or_nothing(void **state)
{
    (void)state;
    assert_all_or_nothing(build_coupon, &a_coupon);
    assert_all_or_nothing(build_user_coupons, NULL);
}

static json_t *build_coupon_request(const void *arg)
{
    return coupon_request_to_json(arg);
}

static void coupon_request__all_or_nothing(void **state)
{
    (void)state;
    const struct coupon_request issued = {77,     9,  1,          COUPON_REQUEST_ISSUED,
                                          ERR_OK, 11, 1798761000, 1798761001};
    const struct coupon_request rejected = {
        78, 9, 2, COUPON_REQUEST_REJECTED, ERR_COUPON_SOLD_OUT, 0, 1798761000, 1798761002};
    const struct coupon_request pending = {79,     9, 3,          COUPON_REQUEST_PENDING,
                                           ERR_OK, 0, 1798761000, 0};
    assert_all_or_nothing(build_coupon_request, &issued);
    assert_all_or_nothing(build_coupon_request, &rejected);
    assert_all_or_nothing(build_coupon_request, &pending);
}

static const struct popular_product popular[] = {
    {3, "monitor", 250000, 1, 40}, {1, "keyboard", 39000, 10, 12}, {2, "mouse", 15000, 5, 12}};

static json_t *build_popular(const void *arg)
{
    (void)arg;
    return ranking_popular_to_json(3, popular, 3);
}

static void ranking__all_or_nothing(void **state)
{
    (void)state;
    assert_all_or_nothing(build_popular, NULL);
    json_t *empty = ranking_popular_to_json(1, popular, 0);
    assert_non_null(empty);
    assert_int_equal(json_array_size(json_object_get(empty, "items")), 0);
    json_decref(empty);
    struct popular_product bad[] = {popular[0], popular[1]};
    snprintf(bad[1].name, sizeof(bad[1].name), "%s", "\xff");
    assert_null(ranking_popular_to_json(3, bad, 2));
}

/* ---- values jansson or timefmt refuse ---- */

/* ---- orders and problem documents (issue 8: a failed builder gave a shorter list) ---- */

static json_t *build_order(const void *arg)
{
    return order_json(arg);
}

static json_t *build_problem(const void *arg)
{
    return problem_new(arg);
}

static json_t *build_order_list(const void *arg)
{
    const struct order *o = arg;
    struct order two[2] = {*o, *o};
    two[1].id = o->id + 1;
    two[1].status = ORDER_CANCELLED;
    two[1].coupon_id = 0;
    return order_list_json(two, 2);
}

static void order_and_problem__all_or_nothing(void **state)
{
    (void)state;
    struct order_line lines[3] = {
        {.product_id = 3, .name = "Keyboard", .unit_price = 39000, .quantity = 2, .amount = 78000},
        {.product_id = 4, .name = "Mouse", .unit_price = 1000, .quantity = 1, .amount = 1000},
        {.product_id = 9, .name = "Cable", .unit_price = 500, .quantity = 3, .amount = 1500},
    };
    struct order o = {.id = 42,
                      .user_id = 1,
                      .status = ORDER_PAID,
                      .lines = lines,
                      .n_lines = 3,
                      .subtotal = 80500,
                      .discount = 5000,
                      .total = 75500,
                      .coupon_id = 17,
                      .created_at = 1795000000};
    assert_all_or_nothing(build_order, &o);
    assert_all_or_nothing(build_order_list, &o);
    struct err e;
    err_clear(&e);
    err_set_field(&e, ERR_INVALID_REQUEST, "items", "items must not be empty");
    e.product_id = 7;
    assert_all_or_nothing(build_problem, &e);
}

static void invalid_utf8_name__null(void **state)
{
    (void)state;
    struct product p = {1, "bad \xff name", 1, 1};
    assert_null(product_to_json(&p));
    struct product two[] = {{1, "fine", 1, 1}, {2, "\xc3(", 1, 1}};
    struct product_page page = {two, 2, false, 0};
    assert_null(product_page_to_json(&page));
    struct point_user u = {1, "\xe2\x82", 0};
    assert_null(point_user_to_json(&u));
    struct coupon c = a_coupon;
    snprintf(c.name, sizeof(c.name), "%s", "\xff");
    assert_null(coupon_to_json(&c));
    struct user_coupon list[] = {user_coupons[0], user_coupons[1]};
    snprintf(list[1].name, sizeof(list[1].name), "%s", "\xc0\xaf");
    assert_null(user_coupon_list_to_json(list, 2));
}

static void timestamps_outside_years_1_to_9999__null(void **state)
{
    (void)state;
    struct coupon c = a_coupon;
    c.expires_at = TIMEFMT_EPOCH_MAX + 1;
    assert_null(coupon_to_json(&c));
    c.expires_at = TIMEFMT_EPOCH_MAX;
    json_t *ok = coupon_to_json(&c);
    assert_string_equal(json_string_value(json_object_get(ok, "expires_at")),
                        "9999-12-31T23:59:59Z");
    json_decref(ok);
    struct user_coupon list[] = {user_coupons[0], user_coupons[1]};
    list[1].issued_at = INT64_MIN;
    assert_null(user_coupon_list_to_json(list, 2));
    struct point_entry e[] = {entries[0], entries[1]};
    e[1].created_at = 9224318015999LL; /* PostgreSQL's last second, year 294276 */
    struct point_history h = {e, 2, false, 0};
    assert_null(point_history_to_json(&h));
    assert_null(point_entry_to_json(&e[1]));
}

/*
 * problem_respond under each allocation failing in turn: the status of the
 * error, problem+json, and either the whole document or the fixed text
 * (written without jansson) - never a document with members missing.
 */
static void problem_respond__whole_document_or_fixed_text(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    err_set(&e, ERR_OUT_OF_STOCK, "product 7 has 2 left");
    e.product_id = 7;
    json_t *ref = problem_new(&e);
    char *want = dump(ref);
    json_decref(ref);
    allocs_reset(0);
    json_t *count = problem_new(&e);
    long total = n_allocs;
    json_decref(count);
    long fixed = 0;
    for (long k = 1; k <= total; k++) {
        struct http_resp resp;
        memset(&resp, 0, sizeof(resp));
        allocs_reset(k);
        problem_respond(&resp, &e);
        allocs_reset(0);
        assert_int_equal(resp.status, 409);
        assert_string_equal(resp.content_type, "application/problem+json");
        if (resp.json) {
            char *got = dump(resp.json);
            assert_string_equal(got, want);
            free(got);
        } else {
            fixed++;
            assert_non_null(resp.raw);
            json_t *doc = json_loadb(resp.raw, resp.raw_len, 0, NULL);
            assert_non_null(doc);
            assert_int_equal(json_integer_value(json_object_get(doc, "status")), 409);
            assert_string_equal(json_string_value(json_object_get(doc, "code")), "OUT_OF_STOCK");
            json_decref(doc);
        }
        http_resp_cleanup(&resp);
    }
    assert_true(fixed > 0);
    free(want);
}

/* ---- a handler: ERR_INTERNAL and no body when the body can't be built ---- */

static struct product repo_product;

static enum err_code fake_get(void *self, int64_t id, struct product *out, struct err *e)
{
    (void)self, (void)e;
    *out = repo_product;
    out->id = id;
    return ERR_OK;
}

static enum err_code fake_list(void *self, int64_t after, size_t limit, struct product *out,
                               size_t *n, struct err *e)
{
    (void)self, (void)after, (void)e;
    *n = limit < 3 ? limit : 3;
    for (size_t i = 0; i < *n; i++)
        out[i] = i == 1 ? repo_product : products[i];
    return ERR_OK;
}

static const struct product_repo_ops fake_ops = {.get = fake_get, .list = fake_list};

static void product_handlers__internal_error_instead_of_a_partial_200(void **state)
{
    (void)state;
    struct product_service svc = {{&fake_ops, NULL}};
    struct http_req req;
    memset(&req, 0, sizeof(req));
    req.ctx = &svc;
    req.path_ids[0] = 5;
    req.n_path_ids = 1;
    struct http_resp resp;
    struct err e;

    repo_product = (struct product){0, "ok", 1, 1};
    memset(&resp, 0, sizeof(resp));
    assert_int_equal(product_http_get(&req, &resp, &e), ERR_OK);
    assert_int_equal(resp.status, 200);
    assert_non_null(resp.json);
    json_decref(resp.json);

    for (long k = 1; k <= 3; k++) {
        memset(&resp, 0, sizeof(resp));
        allocs_reset(k);
        enum err_code rc = product_http_list(&req, &resp, &e);
        allocs_reset(0);
        assert_int_equal(rc, ERR_INTERNAL);
        assert_null(resp.json);
    }

    repo_product = (struct product){0, "\xff", 1, 1};
    memset(&resp, 0, sizeof(resp));
    assert_int_equal(product_http_get(&req, &resp, &e), ERR_INTERNAL);
    assert_null(resp.json);
    memset(&resp, 0, sizeof(resp));
    assert_int_equal(product_http_list(&req, &resp, &e), ERR_INTERNAL);
    assert_null(resp.json);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(product__all_or_nothing),
        cmocka_unit_test(point__all_or_nothing),
        cmocka_unit_test(coupon__all_or_nothing),
        cmocka_unit_test(order_and_problem__all_or_nothing),
        cmocka_unit_test(coupon_request__all_or_nothing),
        cmocka_unit_test(ranking__all_or_nothing),
        cmocka_unit_test(problem_respond__whole_document_or_fixed_text),
        cmocka_unit_test(invalid_utf8_name__null),
        cmocka_unit_test(timestamps_outside_years_1_to_9999__null),
        cmocka_unit_test(product_handlers__internal_error_instead_of_a_partial_200),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
