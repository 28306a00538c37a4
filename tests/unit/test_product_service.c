/*
 * test_product_service.c — product use cases (product/product_service.c)
 * with the repository port mocked in cmocka. Links shopd_product alone.
 *
 * "repo untouched": every mock starts with check_expected()/mock_type(), so
 * a call nobody expected fails the test on the spot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "product/product_service.h"

#define HANGUL "\xea\xb0\x80"    /* 3 bytes, 1 character */
#define EMOJI "\xf0\x9f\x98\x80" /* 4 bytes, 1 character */

/* ---- mock repository ---- */

static enum err_code mock_get(void *self, int64_t id, struct product *out, struct err *e)
{
    (void)self;
    check_expected(id);
    enum err_code rc = mock_type(enum err_code);
    if (rc != ERR_OK) {
        err_set(e, rc, "repo: product %lld failed", (long long)id);
        e->product_id = id;
        return rc;
    }
    out->id = id;
    strcpy(out->name, "Keyboard");
    out->price = 39000;
    out->stock = 7;
    return ERR_OK;
}

/* Returns the queued number of rows, ids after + 10, after + 20, ... (gaps on purpose). */
static enum err_code mock_list(void *self, int64_t after, size_t limit, struct product *out,
                               size_t *n, struct err *e)
{
    (void)self;
    check_expected(after);
    check_expected(limit);
    size_t rows = mock_type(size_t);
    enum err_code rc = mock_type(enum err_code);
    if (rc != ERR_OK)
        return err_set(e, rc, "repo: list failed");
    assert_true(rows <= limit); /* the repository never writes past what it was asked */
    for (size_t i = 0; i < rows; i++) {
        out[i].id = after + 10 * (int64_t)(i + 1);
        out[i].price = 100 + (int64_t)i;
    }
    *n = rows;
    return ERR_OK;
}

static enum err_code mock_create(void *self, struct product *inout, struct err *e)
{
    (void)self;
    check_expected_ptr(inout->name);
    check_expected(inout->price);
    check_expected(inout->stock);
    assert_int_equal(inout->id, 0); /* the repository assigns it */
    enum err_code rc = mock_type(enum err_code);
    if (rc != ERR_OK)
        return err_set(e, rc, "repo: insert failed");
    inout->id = 42;
    return ERR_OK;
}

static const struct product_repo_ops mock_ops = {
    .get = mock_get,
    .list = mock_list,
    .create = mock_create,
};
static const struct product_service svc = {.repo = {.ops = &mock_ops, .self = NULL}};

/* Expects one repo list call (after, limit) answering rows rows with rc. */
static void expect_list(int64_t after, size_t limit, size_t rows, enum err_code rc)
{
    expect_value(mock_list, after, after);
    expect_value(mock_list, limit, limit);
    will_return(mock_list, rows);
    will_return(mock_list, rc);
}

static void expect_create(const char *name, int64_t price, int64_t stock, enum err_code rc)
{
    expect_string(mock_create, inout->name, name);
    expect_value(mock_create, inout->price, price);
    expect_value(mock_create, inout->stock, stock);
    will_return(mock_create, rc);
}

/* ---- get ---- */

static void get__existing_id__the_repository_row(void **state)
{
    (void)state;
    struct product p;
    struct err e;
    err_clear(&e);
    expect_value(mock_get, id, 5);
    will_return(mock_get, ERR_OK);
    assert_int_equal(product_service_get(&svc, 5, &p, &e), ERR_OK);
    assert_int_equal(p.id, 5);
    assert_string_equal(p.name, "Keyboard");
    assert_int_equal(p.price, 39000);
    assert_int_equal(p.stock, 7);
}

static void get__id_not_positive__product_not_found_and_repo_untouched(void **state)
{
    (void)state;
    const int64_t ids[] = {0, -1, -3, INT64_MIN};
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        struct product p;
        struct err e;
        err_clear(&e);
        assert_int_equal(product_service_get(&svc, ids[i], &p, &e), ERR_PRODUCT_NOT_FOUND);
        assert_int_equal(e.code, ERR_PRODUCT_NOT_FOUND);
        assert_true(e.detail[0] != '\0');
    }
}

static void get__repo_error__propagates_unchanged(void **state)
{
    (void)state;
    const enum err_code codes[] = {ERR_PRODUCT_NOT_FOUND, ERR_UNAVAILABLE, ERR_INTERNAL};
    for (size_t i = 0; i < 3; i++) {
        struct product p;
        struct err e;
        err_clear(&e);
        expect_value(mock_get, id, 9);
        will_return(mock_get, codes[i]);
        assert_int_equal(product_service_get(&svc, 9, &p, &e), codes[i]);
        assert_int_equal(e.code, codes[i]);
        assert_string_equal(e.detail, "repo: product 9 failed");
        assert_int_equal(e.product_id, 9);
    }
}

/* ---- list ---- */

static void list__limit_outside_1_to_100__invalid_request_and_repo_untouched(void **state)
{
    (void)state;
    const int64_t limits[] = {0, -1, 101, 1000, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
        struct product_page page;
        struct err e;
        err_clear(&e);
        assert_int_equal(product_service_list(&svc, 0, limits[i], &page, &e), ERR_INVALID_REQUEST);
        assert_string_equal(e.field, "limit");
        assert_null(page.items);
        assert_int_equal(page.n, 0);
    }
}

static void list__after_negative__invalid_request_and_repo_untouched(void **state)
{
    (void)state;
    const int64_t afters[] = {-1, INT64_MIN};
    for (size_t i = 0; i < 2; i++) {
        struct product_page page;
        struct err e;
        err_clear(&e);
        assert_int_equal(product_service_list(&svc, afters[i], 10, &page, &e), ERR_INVALID_REQUEST);
        assert_string_equal(e.field, "after");
        assert_null(page.items);
    }
}

static void list__limit_ends__repo_asked_for_one_row_more(void **state)
{
    (void)state;
    struct product_page page;
    struct err e;
    err_clear(&e);
    expect_list(0, 2, 1, ERR_OK);
    assert_int_equal(product_service_list(&svc, 0, 1, &page, &e), ERR_OK);
    assert_int_equal(page.n, 1);
    product_page_cleanup(&page);

    expect_list(500, 101, 0, ERR_OK);
    assert_int_equal(product_service_list(&svc, 500, 100, &page, &e), ERR_OK);
    assert_int_equal(page.n, 0);
    assert_false(page.has_more);
    product_page_cleanup(&page);
}

static void list__extra_row_returned__has_more_and_next_after_is_the_last_shown_id(void **state)
{
    (void)state;
    struct product_page page;
    struct err e;
    err_clear(&e);
    expect_list(10, 4, 4, ERR_OK); /* ids 20, 30, 40 shown; 50 only proves more exist */
    assert_int_equal(product_service_list(&svc, 10, 3, &page, &e), ERR_OK);
    assert_int_equal(page.n, 3);
    assert_true(page.has_more);
    assert_int_equal(page.items[0].id, 20);
    assert_int_equal(page.items[2].id, 40);
    assert_int_equal(page.next_after, 40);
    product_page_cleanup(&page);
    assert_null(page.items);
}

static void list__exactly_limit_rows__last_page_without_next(void **state)
{
    (void)state;
    struct product_page page;
    struct err e;
    err_clear(&e);
    expect_list(0, 21, 20, ERR_OK);
    assert_int_equal(product_service_list(&svc, 0, 20, &page, &e), ERR_OK);
    assert_int_equal(page.n, 20);
    assert_false(page.has_more);
    assert_int_equal(page.items[19].id, 200);
    product_page_cleanup(&page);
}

static void list__no_rows__empty_page(void **state)
{
    (void)state;
    struct product_page page;
    struct err e;
    err_clear(&e);
    expect_list(INT64_MAX - 1, 21, 0, ERR_OK);
    assert_int_equal(product_service_list(&svc, INT64_MAX - 1, 20, &page, &e), ERR_OK);
    assert_int_equal(page.n, 0);
    assert_false(page.has_more);
    product_page_cleanup(&page);
}

static void list__repo_error__propagates_unchanged_and_frees_the_page(void **state)
{
    (void)state;
    struct product_page page;
    struct err e;
    err_clear(&e);
    expect_list(0, 11, 0, ERR_UNAVAILABLE);
    assert_int_equal(product_service_list(&svc, 0, 10, &page, &e), ERR_UNAVAILABLE);
    assert_string_equal(e.detail, "repo: list failed");
    assert_null(page.items); /* ASan: nothing leaked */
    assert_int_equal(page.n, 0);
}

/* ---- create ---- */

static void create__valid__fields_to_repo_and_stored_row_back(void **state)
{
    (void)state;
    struct product p;
    struct err e;
    err_clear(&e);
    expect_create("Keyboard", 39000, 100, ERR_OK);
    assert_int_equal(product_service_create(&svc, "Keyboard", 39000, 100, &p, &e), ERR_OK);
    assert_int_equal(p.id, 42);
    assert_string_equal(p.name, "Keyboard");
    assert_int_equal(p.price, 39000);
    assert_int_equal(p.stock, 100);
}

static void create__200_multibyte_characters__accepted(void **state)
{
    (void)state;
    static char hangul[200 * 3 + 1], emoji[200 * 4 + 1];
    hangul[0] = emoji[0] = '\0';
    for (int i = 0; i < 200; i++) {
        strcat(hangul, HANGUL);
        strcat(emoji, EMOJI); /* 800 bytes: the largest name that fits */
    }
    struct product p;
    struct err e;
    err_clear(&e);
    expect_create(hangul, 0, PRODUCT_STOCK_MAX, ERR_OK);
    assert_int_equal(product_service_create(&svc, hangul, 0, PRODUCT_STOCK_MAX, &p, &e), ERR_OK);
    assert_string_equal(p.name, hangul);
    expect_create(emoji, PRODUCT_PRICE_MAX, 0, ERR_OK);
    assert_int_equal(product_service_create(&svc, emoji, PRODUCT_PRICE_MAX, 0, &p, &e), ERR_OK);
    assert_string_equal(p.name, emoji);
    expect_create("x", 1, 1, ERR_OK);
    assert_int_equal(product_service_create(&svc, "x", 1, 1, &p, &e), ERR_OK);
    expect_create(" padded ", 1, 1, ERR_OK); /* spaces inside a name are the name's */
    assert_int_equal(product_service_create(&svc, " padded ", 1, 1, &p, &e), ERR_OK);
}

/* Asserts create refuses (name, price, stock) naming field, without the repository. */
static void assert_create_refused(const char *name, int64_t price, int64_t stock, const char *field)
{
    struct product p;
    struct err e;
    err_clear(&e);
    enum err_code rc = product_service_create(&svc, name, price, stock, &p, &e);
    if (rc != ERR_INVALID_REQUEST)
        fail_msg("price %lld stock %lld: expected INVALID_REQUEST, got %s", (long long)price,
                 (long long)stock, err_code_str(rc));
    assert_string_equal(e.field, field);
}

static void create__name_blank_or_too_long__invalid_request_and_repo_untouched(void **state)
{
    (void)state;
    static char ascii201[202], hangul201[201 * 3 + 1], bytes_beyond[1 + 900 + 1];
    memset(ascii201, 'a', 201);
    ascii201[201] = '\0';
    hangul201[0] = '\0';
    for (int i = 0; i < 201; i++)
        strcat(hangul201, HANGUL);
    /* one "character" followed by 900 continuation bytes: short in characters, long in bytes */
    bytes_beyond[0] = 'a';
    memset(bytes_beyond + 1, 0x80, 900);
    bytes_beyond[901] = '\0';
    const char *names[] = {"", " ", " \t\n\r\f\v", ascii201, hangul201, bytes_beyond};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        assert_create_refused(names[i], 1, 1, "name");
}

static void create__price_outside_0_to_max__invalid_request_and_repo_untouched(void **state)
{
    (void)state;
    const int64_t prices[] = {-1, PRODUCT_PRICE_MAX + 1, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(prices) / sizeof(prices[0]); i++)
        assert_create_refused("ok", prices[i], 1, "price");
}

static void create__stock_outside_0_to_max__invalid_request_and_repo_untouched(void **state)
{
    (void)state;
    const int64_t stocks[] = {-1, PRODUCT_STOCK_MAX + 1, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(stocks) / sizeof(stocks[0]); i++)
        assert_create_refused("ok", 1, stocks[i], "stock");
}

static void create__several_invalid__the_first_in_name_price_stock_order(void **state)
{
    (void)state;
    assert_create_refused("", -1, -1, "name");
    assert_create_refused("ok", -1, -1, "price");
}

static void create__repo_error__propagates_unchanged(void **state)
{
    (void)state;
    struct product p;
    struct err e;
    err_clear(&e);
    expect_create("x", 1, 1, ERR_UNAVAILABLE);
    assert_int_equal(product_service_create(&svc, "x", 1, 1, &p, &e), ERR_UNAVAILABLE);
    assert_int_equal(e.code, ERR_UNAVAILABLE);
    assert_string_equal(e.detail, "repo: insert failed");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(get__existing_id__the_repository_row),
        cmocka_unit_test(get__id_not_positive__product_not_found_and_repo_untouched),
        cmocka_unit_test(get__repo_error__propagates_unchanged),
        cmocka_unit_test(list__limit_outside_1_to_100__invalid_request_and_repo_untouched),
        cmocka_unit_test(list__after_negative__invalid_request_and_repo_untouched),
        cmocka_unit_test(list__limit_ends__repo_asked_for_one_row_more),
        cmocka_unit_test(list__extra_row_returned__has_more_and_next_after_is_the_last_shown_id),
        cmocka_unit_test(list__exactly_limit_rows__last_page_without_next),
        cmocka_unit_test(list__no_rows__empty_page),
        cmocka_unit_test(list__repo_error__propagates_unchanged_and_frees_the_page),
        cmocka_unit_test(create__valid__fields_to_repo_and_stored_row_back),
        cmocka_unit_test(create__200_multibyte_characters__accepted),
        cmocka_unit_test(create__name_blank_or_too_long__invalid_request_and_repo_untouched),
        cmocka_unit_test(create__price_outside_0_to_max__invalid_request_and_repo_untouched),
        cmocka_unit_test(create__stock_outside_0_to_max__invalid_request_and_repo_untouched),
        cmocka_unit_test(create__several_invalid__the_first_in_name_price_stock_order),
        cmocka_unit_test(create__repo_error__propagates_unchanged),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
