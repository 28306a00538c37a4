/* test_products_pg.c — the products API against real PostgreSQL, over HTTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/test_db.h"
#include "support/test_http.h"
#include "support/test_server.h"

static struct test_db db;
static struct test_server srv;

static long long create_product(const char *name, long long price, long long stock)
{
    char body[2048];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"price\":%lld,\"stock\":%lld}", name, price,
             stock);
    struct test_resp r;
    test_call(srv.base, "POST", "/api/v1/products", body, 1, &r);
    assert_int_equal(r.status, 201);
    long long id = test_resp_int(&r, "id");
    assert_true(id > 0);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), name);
    assert_int_equal(test_resp_int(&r, "price"), price);
    assert_int_equal(test_resp_int(&r, "stock"), stock);
    test_resp_free(&r);
    return id;
}

static void create__201_and_get_returns_the_same_product(void **state)
{
    (void)state;
    long long id = create_product("Keyboard", 39000, 100);
    char path[64];
    snprintf(path, sizeof(path), "/api/v1/products/%lld", id);
    struct test_resp r;
    test_call(srv.base, "GET", path, NULL, 0, &r);
    assert_int_equal(r.status, 200);
    json_t *expected = json_pack("{s:I, s:s, s:I, s:I}", "id", (json_int_t)id, "name", "Keyboard",
                                 "price", (json_int_t)39000, "stock", (json_int_t)100);
    assert_true(json_equal(r.json, expected));
    json_decref(expected);
    test_resp_free(&r);
}

static void create__multibyte_name_of_200_characters_is_accepted(void **state)
{
    (void)state;
    char name[200 * 3 + 1] = "";
    for (int i = 0; i < 200; i++)
        strcat(name, "\xea\xb0\x80"); /* 가 */
    create_product(name, 0, 0);
}

static void create__invalid_input__400_and_nothing_written(void **state)
{
    (void)state;
    int64_t before = test_db_scalar(&db, "SELECT count(*) FROM products");
    char long_name[260];
    memset(long_name, 'n', 201);
    long_name[201] = '\0';
    char long_body[400];
    snprintf(long_body, sizeof(long_body), "{\"name\":\"%s\",\"price\":1,\"stock\":1}", long_name);
    const struct {
        const char *body;
        const char *field;
    } cases[] = {
        {"{\"name\":\"A\",\"price\":-1,\"stock\":1}", "price"},
        {"{\"name\":\"A\",\"price\":1,\"stock\":-1}", "stock"},
        {"{\"name\":\"  \",\"price\":1,\"stock\":1}", "name"},
        {"{\"name\":\"A\",\"price\":\"1\",\"stock\":1}", "price"},
        {"{\"name\":\"A\",\"price\":1}", "stock"},
        {"{\"name\":\"A\",\"price\":1,\"stock\":1,\"color\":\"red\"}", "color"},
        {long_body, "name"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct test_resp r;
        test_call(srv.base, "POST", "/api/v1/products", cases[i].body, 1, &r);
        assert_int_equal(r.status, 400);
        assert_string_equal(test_resp_code(&r), "INVALID_REQUEST");
        assert_string_equal(json_string_value(json_object_get(r.json, "field")), cases[i].field);
        test_resp_free(&r);
    }
    struct test_resp r;
    test_call(srv.base, "POST", "/api/v1/products", "{\"name\":\"A\",\"price\":1,\"stock\":1}", 0,
              &r);
    assert_int_equal(r.status, 401);
    test_resp_free(&r);
    assert_int_equal(test_db_scalar(&db, "SELECT count(*) FROM products"), before);
}

static void get__unknown_id__404_product_not_found(void **state)
{
    (void)state;
    const char *paths[] = {"/api/v1/products/999999", "/api/v1/products/0",
                           "/api/v1/products/99999999999999999999"};
    for (size_t i = 0; i < 3; i++) {
        struct test_resp r;
        test_call(srv.base, "GET", paths[i], NULL, 0, &r);
        assert_int_equal(r.status, 404);
        assert_string_equal(test_resp_code(&r), "PRODUCT_NOT_FOUND");
        test_resp_free(&r);
    }
}

static void get__stock_is_read_live(void **state)
{
    (void)state;
    long long id = create_product("Mouse", 15000, 10);
    PQclear(test_db_query(&db, "UPDATE products SET stock = 3"
                               " WHERE name = 'Mouse'"));
    char path[64];
    snprintf(path, sizeof(path), "/api/v1/products/%lld", id);
    struct test_resp r;
    test_call(srv.base, "GET", path, NULL, 0, &r);
    assert_int_equal(test_resp_int(&r, "stock"), 3);
    test_resp_free(&r);
}

static void list__pages_in_id_order_with_next_after(void **state)
{
    (void)state;
    PQclear(test_db_query(&db, "TRUNCATE products CASCADE"));
    long long ids[25];
    for (int i = 0; i < 25; i++) {
        char name[32];
        snprintf(name, sizeof(name), "item %02d", i);
        ids[i] = create_product(name, 100 + i, i);
    }
    long long after = 0;
    int seen = 0;
    const int expected_pages[] = {10, 10, 5};
    for (int page = 0; page < 3; page++) {
        char path[96];
        snprintf(path, sizeof(path), "/api/v1/products?limit=10&after=%lld", after);
        struct test_resp r;
        test_call(srv.base, "GET", path, NULL, 0, &r);
        assert_int_equal(r.status, 200);
        json_t *items = json_object_get(r.json, "items");
        assert_int_equal(json_array_size(items), expected_pages[page]);
        for (size_t i = 0; i < json_array_size(items); i++)
            assert_int_equal(json_integer_value(json_object_get(json_array_get(items, i), "id")),
                             ids[seen++]);
        json_t *next = json_object_get(r.json, "next_after");
        if (page < 2) {
            assert_int_equal(json_integer_value(next), ids[seen - 1]);
            after = json_integer_value(next);
        } else {
            assert_true(json_is_null(next));
        }
        test_resp_free(&r);
    }
    assert_int_equal(seen, 25);

    struct test_resp r;
    test_call(srv.base, "GET", "/api/v1/products", NULL, 0, &r);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 20); /* default limit */
    test_resp_free(&r);

    const char *bad[] = {"limit=0", "limit=101", "limit=abc", "after=-1", "after=1.5"};
    for (size_t i = 0; i < 5; i++) {
        char path[96];
        snprintf(path, sizeof(path), "/api/v1/products?%s", bad[i]);
        test_call(srv.base, "GET", path, NULL, 0, &r);
        assert_int_equal(r.status, 400);
        assert_string_equal(test_resp_code(&r), "INVALID_REQUEST");
        test_resp_free(&r);
    }
}

/* Any int64 id works in every query: after= and ids beyond 32 bits. */
static void ids_beyond_32_bits__list_is_empty_and_get_is_404(void **state)
{
    (void)state;
    create_product("wide", 1, 1);
    const char *ids[] = {"2147483648", "9223372036854775807"};
    for (size_t i = 0; i < 2; i++) {
        char path[96];
        struct test_resp r;
        snprintf(path, sizeof(path), "/api/v1/products?after=%s", ids[i]);
        test_call(srv.base, "GET", path, NULL, 0, &r);
        assert_int_equal(r.status, 200);
        assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
        assert_true(json_is_null(json_object_get(r.json, "next_after")));
        test_resp_free(&r);
        snprintf(path, sizeof(path), "/api/v1/products/%s", ids[i]);
        test_call(srv.base, "GET", path, NULL, 0, &r);
        assert_int_equal(r.status, 404);
        assert_string_equal(test_resp_code(&r), "PRODUCT_NOT_FOUND");
        test_resp_free(&r);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create__201_and_get_returns_the_same_product),
        cmocka_unit_test(create__multibyte_name_of_200_characters_is_accepted),
        cmocka_unit_test(create__invalid_input__400_and_nothing_written),
        cmocka_unit_test(get__unknown_id__404_product_not_found),
        cmocka_unit_test(get__stock_is_read_live),
        cmocka_unit_test(list__pages_in_id_order_with_next_after),
        cmocka_unit_test(ids_beyond_32_bits__list_is_empty_and_get_is_404),
    };
    return TEST_ENV_RUN(tests, &db, &srv, "products", NULL);
}
