/*
 * test_router.c — the route table (http/router.c): literal routes, {id}
 * captures, what matches nothing (404) and what matches another method
 * (405 with the Allow list). Paths are matched exactly: no trailing-slash or
 * double-slash normalisation, no case folding.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/router.h"

static enum err_code nop(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    (void)resp;
    (void)e;
    return ERR_OK;
}

/* The shape of shopd's own table, in its order. */
static const struct route routes[] = {
    {HTTP_GET, "/healthz", nop, NULL, false},                          /* 0 */
    {HTTP_GET, "/api/v1/products", nop, NULL, false},                  /* 1 */
    {HTTP_POST, "/api/v1/products", nop, NULL, true},                  /* 2 */
    {HTTP_GET, "/api/v1/products/popular", nop, NULL, false},          /* 3 */
    {HTTP_GET, "/api/v1/products/{id}", nop, NULL, false},             /* 4 */
    {HTTP_GET, "/api/v1/users/{id}/orders/{id}", nop, NULL, false},    /* 5 */
    {HTTP_POST, "/api/v1/users/{id}/points/charge", nop, NULL, false}, /* 6 */
    {HTTP_GET, "/api/v1/users/{id}/points", nop, NULL, false},         /* 7 */
    {HTTP_DELETE, "/api/v1/things/{id}", nop, NULL, false},            /* 8 */
    {HTTP_PUT, "/api/v1/things/{id}", nop, NULL, false},               /* 9 */
    {HTTP_GET, "/api/v1/things/{id}", nop, NULL, false},               /* 10 */
    {HTTP_GET, "/a/{id}/b/{id}/c/{id}/d/{id}", nop, NULL, false},      /* 11 */
    {HTTP_GET, "/e/{id}/{id}/{id}/{id}/{id}", nop, NULL, false},       /* 12: more ids than fit */
};
static const struct router router = {routes, sizeof(routes) / sizeof(routes[0])};

struct match {
    enum router_result result;
    size_t index;
    int64_t ids[HTTP_MAX_PATH_IDS];
    size_t n_ids;
    char allow[64];
};

static struct match match(enum http_method m, const char *path)
{
    struct match r;
    memset(&r, 0, sizeof(r));
    r.index = (size_t)-1;
    r.result = router_match(&router, m, path, &r.index, r.ids, &r.n_ids, r.allow, sizeof(r.allow));
    return r;
}

static void assert_not_found(enum http_method m, const char *path)
{
    struct match r = match(m, path);
    if (r.result != ROUTER_NOT_FOUND)
        fail_msg("%s %s: expected no route, got result %d (route %zu)", http_method_name(m), path,
                 (int)r.result, r.index);
}

/* ---- literal routes ---- */

static void literal_path__matches_its_route_without_ids(void **state)
{
    (void)state;
    struct match r = match(HTTP_GET, "/healthz");
    assert_int_equal(r.result, ROUTER_MATCH);
    assert_int_equal(r.index, 0);
    assert_int_equal(r.n_ids, 0);
    r = match(HTTP_GET, "/api/v1/products");
    assert_int_equal(r.result, ROUTER_MATCH);
    assert_int_equal(r.index, 1);
}

static void same_path_two_methods__each_method_its_own_route(void **state)
{
    (void)state;
    assert_int_equal(match(HTTP_GET, "/api/v1/products").index, 1);
    assert_int_equal(match(HTTP_POST, "/api/v1/products").index, 2);
}

static void literal_listed_before_id__wins_over_id(void **state)
{
    (void)state;
    struct match r = match(HTTP_GET, "/api/v1/products/popular");
    assert_int_equal(r.result, ROUTER_MATCH);
    assert_int_equal(r.index, 3);
    assert_int_equal(r.n_ids, 0);
}

/* ---- {id} captures ---- */

static void id_segment__captured_as_int64(void **state)
{
    (void)state;
    const struct {
        const char *path;
        int64_t id;
    } cases[] = {
        {"/api/v1/products/1", 1},
        {"/api/v1/products/42", 42},
        {"/api/v1/products/007", 7}, /* leading zeros are digits too */
        {"/api/v1/products/9223372036854775807", INT64_MAX},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct match r = match(HTTP_GET, cases[i].path);
        assert_int_equal(r.result, ROUTER_MATCH);
        assert_int_equal(r.index, 4);
        assert_int_equal(r.n_ids, 1);
        assert_true(r.ids[0] == cases[i].id);
    }
}

static void several_ids__captured_in_path_order(void **state)
{
    (void)state;
    struct match r = match(HTTP_GET, "/api/v1/users/7/orders/9223372036854775807");
    assert_int_equal(r.result, ROUTER_MATCH);
    assert_int_equal(r.index, 5);
    assert_int_equal(r.n_ids, 2);
    assert_int_equal(r.ids[0], 7);
    assert_true(r.ids[1] == INT64_MAX);

    r = match(HTTP_GET, "/a/1/b/22/c/333/d/4444");
    assert_int_equal(r.result, ROUTER_MATCH);
    assert_int_equal(r.n_ids, HTTP_MAX_PATH_IDS);
    assert_int_equal(r.ids[0], 1);
    assert_int_equal(r.ids[1], 22);
    assert_int_equal(r.ids[2], 333);
    assert_int_equal(r.ids[3], 4444);

    r = match(HTTP_POST, "/api/v1/users/12/points/charge");
    assert_int_equal(r.result, ROUTER_MATCH);
    assert_int_equal(r.index, 6);
    assert_int_equal(r.ids[0], 12);
}

static void more_ids_than_a_request_holds__pattern_never_matches(void **state)
{
    (void)state;
    assert_not_found(HTTP_GET, "/e/1/2/3/4/5");
}

static void digits_not_a_positive_int64__match_with_id_0(void **state)
{
    (void)state;
    const char *paths[] = {
        "/api/v1/products/9223372036854775808",              /* INT64_MAX + 1 */
        "/api/v1/products/99999999999999999999",             /* far beyond */
        "/api/v1/products/12345678901234567890123456789012", /* 32 digits: the longest segment */
        "/api/v1/products/0",
        "/api/v1/products/0000",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct match r = match(HTTP_GET, paths[i]);
        assert_int_equal(r.result, ROUTER_MATCH);
        assert_int_equal(r.index, 4);
        assert_int_equal(r.n_ids, 1);
        assert_int_equal(r.ids[0], 0);
    }
    /* an overflowing id does not disturb the ids beside it */
    struct match r = match(HTTP_GET, "/api/v1/users/99999999999999999999/orders/5");
    assert_int_equal(r.result, ROUTER_MATCH);
    assert_int_equal(r.ids[0], 0);
    assert_int_equal(r.ids[1], 5);
}

static void id_segment_not_all_digits__not_found(void **state)
{
    (void)state;
    const char *paths[] = {
        "/api/v1/products/abc",
        "/api/v1/products/-1",
        "/api/v1/products/+1",
        "/api/v1/products/1x",
        "/api/v1/products/x1",
        "/api/v1/products/1.0",
        "/api/v1/products/1e3",
        "/api/v1/products/%31",
        "/api/v1/products/ 1",
        "/api/v1/products/0x10",
        "/api/v1/products/123456789012345678901234567890123", /* 33 digits */
        "/api/v1/users/abc/orders/1",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        assert_not_found(HTTP_GET, paths[i]);
}

/* ---- exact matching: what does not normalise ---- */

static void trailing_slash__not_found(void **state)
{
    (void)state;
    assert_not_found(HTTP_GET, "/healthz/");
    assert_not_found(HTTP_GET, "/api/v1/products/");
    assert_not_found(HTTP_GET, "/api/v1/products/1/");
    assert_not_found(HTTP_POST, "/api/v1/products/");
}

static void double_slash__not_found(void **state)
{
    (void)state;
    assert_not_found(HTTP_GET, "//healthz");
    assert_not_found(HTTP_GET, "/api/v1//products");
    assert_not_found(HTTP_GET, "/api/v1/products//1");
    assert_not_found(HTTP_GET, "/api//v1/users/1/points");
}

static void other_unknown_paths__not_found(void **state)
{
    (void)state;
    const char *paths[] = {
        "",
        "/",
        "healthz",
        "/HEALTHZ",
        "/healthz2",
        "/health",
        "/api/v1/products/1/extra",
        "/api/v1/products/popular/1",
        "/api/v1/users/1/orders",
        "/api/v1/users/1/orders/2/3",
        "/api/v2/products",
        "/api/v1/products?limit=5", /* the query string is never part of the path */
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
        assert_not_found(HTTP_GET, paths[i]);
}

/* ---- 405 ---- */

static void known_path_other_method__405_with_its_methods(void **state)
{
    (void)state;
    struct match r = match(HTTP_DELETE, "/api/v1/products");
    assert_int_equal(r.result, ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(r.allow, "GET, POST");

    r = match(HTTP_POST, "/api/v1/products/5");
    assert_int_equal(r.result, ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(r.allow, "GET");

    r = match(HTTP_GET, "/api/v1/users/3/points/charge");
    assert_int_equal(r.result, ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(r.allow, "POST");

    r = match(HTTP_METHOD_OTHER, "/healthz");
    assert_int_equal(r.result, ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(r.allow, "GET");
}

static void allow_list__in_a_fixed_method_order_whatever_the_table_order(void **state)
{
    (void)state;
    /* the table lists DELETE, PUT, GET for /api/v1/things/{id} */
    struct match r = match(HTTP_POST, "/api/v1/things/1");
    assert_int_equal(r.result, ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(r.allow, "GET, PUT, DELETE");
}

static void head_on_a_get_route__405_allow_get(void **state)
{
    (void)state;
    /* HEAD is not derived from GET: it is a method like any other */
    struct match r = match(HTTP_HEAD, "/healthz");
    assert_int_equal(r.result, ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(r.allow, "GET");
}

static void allow_list__small_buffer__truncated_never_overrun(void **state)
{
    (void)state;
    char allow[16];
    memset(allow, '#', sizeof(allow));
    size_t idx = 0, n = 0;
    int64_t ids[HTTP_MAX_PATH_IDS];
    /* "GET, PUT, DELETE" needs 17 bytes; the router may write 6 of them */
    assert_int_equal(router_match(&router, HTTP_POST, "/api/v1/things/1", &idx, ids, &n, allow, 6),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_true(memchr(allow, '\0', 6) != NULL);
    for (size_t i = 6; i < sizeof(allow); i++)
        assert_int_equal(allow[i], '#');
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(literal_path__matches_its_route_without_ids),
        cmocka_unit_test(same_path_two_methods__each_method_its_own_route),
        cmocka_unit_test(literal_listed_before_id__wins_over_id),
        cmocka_unit_test(id_segment__captured_as_int64),
        cmocka_unit_test(several_ids__captured_in_path_order),
        cmocka_unit_test(more_ids_than_a_request_holds__pattern_never_matches),
        cmocka_unit_test(digits_not_a_positive_int64__match_with_id_0),
        cmocka_unit_test(id_segment_not_all_digits__not_found),
        cmocka_unit_test(trailing_slash__not_found),
        cmocka_unit_test(double_slash__not_found),
        cmocka_unit_test(other_unknown_paths__not_found),
        cmocka_unit_test(known_path_other_method__405_with_its_methods),
        cmocka_unit_test(allow_list__in_a_fixed_method_order_whatever_the_table_order),
        cmocka_unit_test(head_on_a_get_route__405_allow_get),
        cmocka_unit_test(allow_list__small_buffer__truncated_never_overrun),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
