/*
 * test_product_service.c — product use cases with the repository mocked
 * (cmocka): validation never reaches the repository, paging asks for one
 * extra row, repository errors pass through unchanged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "product/product_service.h"

/* ---- mock repository ---- */

static enum err_code mock_get(void *self, int64_t id, struct product *out, struct err *e)
{
    (void)self;
    check_expected(id);
    enum err_code rc = mock_type(enum err_code);
    if (rc != ERR_OK)
        return err_set(e, rc, "mock failure");
    out->id = id;
    strcpy(out->name, "Keyboard");
    out->price = 39000;
    out->stock = 7;
    return ERR_OK;
}

static enum err_code mock_list(void *self, int64_t after, size_t limit, struct product *out,
                               size_t *n, struct err *e)
{
    (void)self;
    check_expected(after);
    check_expected(limit);
    size_t rows = mock_type(size_t);
    enum err_code rc = mock_type(enum err_code);
    if (rc != ERR_OK)
        return err_set(e, rc, "mock failure");
    for (size_t i = 0; i < rows; i++)
        out[i].id = after + 1 + (int64_t)i;
    *n = rows;
    return ERR_OK;
}

static enum err_code mock_create(void *self, struct product *inout, struct err *e)
{
    (void)self;
    check_expected_ptr(inout->name);
    check_expected(inout->price);
    check_expected(inout->stock);
    enum err_code rc = mock_type(enum err_code);
    if (rc != ERR_OK)
        return err_set(e, rc, "mock failure");
    inout->id = 42;
    return ERR_OK;
}

static const struct product_repo_ops mock_ops = {
    .get = mock_get,
    .list = mock_list,
    .create = mock_create,
};
static const struct product_service svc = {.repo = {.ops = &mock_ops, .self = NULL}};

/* ---- get ---- */

static void get__existing_id__returns_repo_row(void **state)
{
    (void)state;
    struct product p;
    struct err e;
    err_clear(&e);
    expect_value(mock_get, id, 5);
    will_return(mock_get, ERR_OK);
    assert_int_equal(product_service_get(&svc, 5, &p, &e), ERR_OK);
    assert_int_equal(p.id, 5);
    assert_int_equal(p.stock, 7);
}

static void get__non_positive_id__not_found_without_repo(void **state)
{
    (void)state;
    struct product p;
    struct err e;
    err_clear(&e);
    assert_int_equal(product_service_get(&svc, 0, &p, &e), ERR_PRODUCT_NOT_FOUND);
    assert_int_equal(product_service_get(&svc, -3, &p, &e), ERR_PRODUCT_NOT_FOUND);
}

static void get__repo_error__propagates(void **state)
{
    (void)state;
    struct product p;
    struct err e;
    err_clear(&e);
    expect_value(mock_get, id, 9);
    will_return(mock_get, ERR_UNAVAILABLE);
    assert_int_equal(product_service_get(&svc, 9, &p, &e), ERR_UNAVAILABLE);
    assert_int_equal(e.code, ERR_UNAVAILABLE);
}

/* ---- list ---- */

static void list__asks_for_one_extra_row_and_reports_more(void **state)
{
    (void)state;
    struct product_page page;
    struct err e;
    err_clear(&e);
    expect_value(mock_list, after, 10);
    expect_value(mock_list, limit, 4);
    will_return(mock_list, (size_t)4);
    will_return(mock_list, ERR_OK);
    assert_int_equal(product_service_list(&svc, 10, 3, &page, &e), ERR_OK);
    assert_int_equal(page.n, 3);
    assert_true(page.has_more);
    assert_int_equal(page.next_after, 13);
    product_page_cleanup(&page);
}

static void list__last_page__no_next(void **state)
{
    (void)state;
    struct product_page page;
    struct err e;
    err_clear(&e);
    expect_value(mock_list, after, 0);
    expect_value(mock_list, limit, 21);
    will_return(mock_list, (size_t)2);
    will_return(mock_list, ERR_OK);
    assert_int_equal(product_service_list(&svc, 0, 20, &page, &e), ERR_OK);
    assert_int_equal(page.n, 2);
    assert_false(page.has_more);
    product_page_cleanup(&page);
}

static void list__out_of_range__invalid_request_without_repo(void **state)
{
    (void)state;
    struct product_page page;
    struct err e;
    const int64_t limits[] = {0, -1, 101};
    for (size_t i = 0; i < 3; i++) {
        err_clear(&e);
        assert_int_equal(product_service_list(&svc, 0, limits[i], &page, &e), ERR_INVALID_REQUEST);
        assert_string_equal(e.field, "limit");
    }
    err_clear(&e);
    assert_int_equal(product_service_list(&svc, -1, 10, &page, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "after");
}

static void list__repo_error__propagates_and_frees(void **state)
{
    (void)state;
    struct product_page page;
    struct err e;
    err_clear(&e);
    expect_value(mock_list, after, 0);
    expect_value(mock_list, limit, 11);
    will_return(mock_list, (size_t)0);
    will_return(mock_list, ERR_INTERNAL);
    assert_int_equal(product_service_list(&svc, 0, 10, &page, &e), ERR_INTERNAL);
    assert_null(page.items);
}

/* ---- create ---- */

static void create__valid__passes_fields_to_repo(void **state)
{
    (void)state;
    struct product p;
    struct err e;
    err_clear(&e);
    expect_string(mock_create, inout->name, "Keyboard");
    expect_value(mock_create, inout->price, 39000);
    expect_value(mock_create, inout->stock, 100);
    will_return(mock_create, ERR_OK);
    assert_int_equal(product_service_create(&svc, "Keyboard", 39000, 100, &p, &e), ERR_OK);
    assert_int_equal(p.id, 42);
}

static void create__boundaries_accepted(void **state)
{
    (void)state;
    char name[200 * 3 + 1] = "";
    for (int i = 0; i < 200; i++)
        strcat(name, "\xea\xb0\x80"); /* 200 three-byte characters */
    struct product p;
    struct err e;
    err_clear(&e);
    expect_string(mock_create, inout->name, name);
    expect_value(mock_create, inout->price, 0);
    expect_value(mock_create, inout->stock, PRODUCT_STOCK_MAX);
    will_return(mock_create, ERR_OK);
    assert_int_equal(product_service_create(&svc, name, 0, PRODUCT_STOCK_MAX, &p, &e), ERR_OK);
    expect_string(mock_create, inout->name, "x");
    expect_value(mock_create, inout->price, PRODUCT_PRICE_MAX);
    expect_value(mock_create, inout->stock, 0);
    will_return(mock_create, ERR_OK);
    assert_int_equal(product_service_create(&svc, "x", PRODUCT_PRICE_MAX, 0, &p, &e), ERR_OK);
}

static void create__invalid__names_the_field_and_skips_repo(void **state)
{
    (void)state;
    char long_name[202];
    memset(long_name, 'a', 201);
    long_name[201] = '\0';
    const struct {
        const char *name;
        int64_t price, stock;
        const char *field;
    } cases[] = {
        {"", 1, 1, "name"},
        {" \t\n", 1, 1, "name"},
        {long_name, 1, 1, "name"},
        {"ok", -1, 1, "price"},
        {"ok", PRODUCT_PRICE_MAX + 1, 1, "price"},
        {"ok", 1, -1, "stock"},
        {"ok", 1, PRODUCT_STOCK_MAX + 1, "stock"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct product p;
        struct err e;
        err_clear(&e);
        assert_int_equal(
            product_service_create(&svc, cases[i].name, cases[i].price, cases[i].stock, &p, &e),
            ERR_INVALID_REQUEST);
        assert_string_equal(e.field, cases[i].field);
    }
}

static void create__repo_error__propagates(void **state)
{
    (void)state;
    struct product p;
    struct err e;
    err_clear(&e);
    expect_string(mock_create, inout->name, "x");
    expect_value(mock_create, inout->price, 1);
    expect_value(mock_create, inout->stock, 1);
    will_return(mock_create, ERR_UNAVAILABLE);
    assert_int_equal(product_service_create(&svc, "x", 1, 1, &p, &e), ERR_UNAVAILABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get__existing_id__returns_repo_row),
        cmocka_unit_test(get__non_positive_id__not_found_without_repo),
        cmocka_unit_test(get__repo_error__propagates),
        cmocka_unit_test(list__asks_for_one_extra_row_and_reports_more),
        cmocka_unit_test(list__last_page__no_next),
        cmocka_unit_test(list__out_of_range__invalid_request_without_repo),
        cmocka_unit_test(list__repo_error__propagates_and_frees),
        cmocka_unit_test(create__valid__passes_fields_to_repo),
        cmocka_unit_test(create__boundaries_accepted),
        cmocka_unit_test(create__invalid__names_the_field_and_skips_repo),
        cmocka_unit_test(create__repo_error__propagates),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
