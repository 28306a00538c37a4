/* test_router.c — route matching: literals, {id} captures, 404 versus 405 with Allow. */
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

static const struct route routes[] = {
    {HTTP_GET, "/healthz", nop, NULL, false},
    {HTTP_GET, "/api/v1/products", nop, NULL, false},
    {HTTP_POST, "/api/v1/products", nop, NULL, true},
    {HTTP_GET, "/api/v1/products/popular", nop, NULL, false},
    {HTTP_GET, "/api/v1/products/{id}", nop, NULL, false},
    {HTTP_GET, "/api/v1/users/{id}/orders/{id}", nop, NULL, false},
};
static const struct router router = {routes, sizeof(routes) / sizeof(routes[0])};

static enum router_result match(enum http_method m, const char *path, size_t *idx, int64_t *ids,
                                size_t *n, char *allow)
{
    return router_match(&router, m, path, idx, ids, n, allow, 64);
}

static void literal_route__matches_its_index(void **state)
{
    (void)state;
    size_t idx, n;
    int64_t ids[HTTP_MAX_PATH_IDS];
    char allow[64];
    assert_int_equal(match(HTTP_GET, "/healthz", &idx, ids, &n, allow), ROUTER_MATCH);
    assert_int_equal(idx, 0);
    assert_int_equal(n, 0);
    assert_int_equal(match(HTTP_POST, "/api/v1/products", &idx, ids, &n, allow), ROUTER_MATCH);
    assert_int_equal(idx, 2);
    assert_int_equal(match(HTTP_GET, "/api/v1/products/popular", &idx, ids, &n, allow),
                     ROUTER_MATCH);
    assert_int_equal(idx, 3);
}

static void id_segments__captured_in_order(void **state)
{
    (void)state;
    size_t idx, n;
    int64_t ids[HTTP_MAX_PATH_IDS];
    char allow[64];
    assert_int_equal(match(HTTP_GET, "/api/v1/products/42", &idx, ids, &n, allow), ROUTER_MATCH);
    assert_int_equal(idx, 4);
    assert_int_equal(n, 1);
    assert_int_equal(ids[0], 42);
    assert_int_equal(
        match(HTTP_GET, "/api/v1/users/7/orders/9223372036854775807", &idx, ids, &n, allow),
        ROUTER_MATCH);
    assert_int_equal(n, 2);
    assert_int_equal(ids[0], 7);
    assert_int_equal(ids[1], INT64_MAX);
}

static void id_overflow_or_zero__matches_with_id_0(void **state)
{
    (void)state;
    size_t idx, n;
    int64_t ids[HTTP_MAX_PATH_IDS];
    char allow[64];
    assert_int_equal(match(HTTP_GET, "/api/v1/products/9223372036854775808", &idx, ids, &n, allow),
                     ROUTER_MATCH);
    assert_int_equal(ids[0], 0);
    assert_int_equal(match(HTTP_GET, "/api/v1/products/99999999999999999999", &idx, ids, &n, allow),
                     ROUTER_MATCH);
    assert_int_equal(ids[0], 0);
    assert_int_equal(match(HTTP_GET, "/api/v1/products/0", &idx, ids, &n, allow), ROUTER_MATCH);
    assert_int_equal(ids[0], 0);
}

static void non_matching_paths__not_found(void **state)
{
    (void)state;
    const char *paths[] = {"/",
                           "",
                           "/api/v1/products/abc",
                           "/api/v1/products/-1",
                           "/api/v1/products/1x",
                           "/api/v1/products/",
                           "/api/v1/products/1/",
                           "/api/v1//products",
                           "/healthz/",
                           "/HEALTHZ",
                           "/api/v1/products/1/extra",
                           "/api/v1/products/123456789012345678901234567890123"};
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        size_t idx, n;
        int64_t ids[HTTP_MAX_PATH_IDS];
        char allow[64];
        assert_int_equal(match(HTTP_GET, paths[i], &idx, ids, &n, allow), ROUTER_NOT_FOUND);
    }
}

static void known_path_other_method__405_with_allow_list(void **state)
{
    (void)state;
    size_t idx, n;
    int64_t ids[HTTP_MAX_PATH_IDS];
    char allow[64];
    assert_int_equal(match(HTTP_DELETE, "/api/v1/products", &idx, ids, &n, allow),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "GET, POST");
    assert_int_equal(match(HTTP_POST, "/api/v1/products/5", &idx, ids, &n, allow),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "GET");
    assert_int_equal(match(HTTP_METHOD_OTHER, "/healthz", &idx, ids, &n, allow),
                     ROUTER_METHOD_NOT_ALLOWED);
    assert_string_equal(allow, "GET");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(literal_route__matches_its_index),
        cmocka_unit_test(id_segments__captured_in_order),
        cmocka_unit_test(id_overflow_or_zero__matches_with_id_0),
        cmocka_unit_test(non_matching_paths__not_found),
        cmocka_unit_test(known_path_other_method__405_with_allow_list),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
