/* test_order_domain.c — order rules without any I/O: merging, pricing, discounts, keys. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "order/domain/order.h"

static void merge__sums_repeats_and_sorts(void **state)
{
    (void)state;
    const struct order_item items[] = {{5, 1}, {2, 3}, {5, 2}, {9, 1000}, {2, 1}};
    struct order_line out[5];
    size_t n;
    struct err e;
    err_clear(&e);
    assert_int_equal(order_merge_items(items, 5, out, &n, &e), ERR_OK);
    assert_int_equal(n, 3);
    assert_int_equal(out[0].product_id, 2);
    assert_int_equal(out[0].quantity, 4);
    assert_int_equal(out[1].product_id, 5);
    assert_int_equal(out[1].quantity, 3);
    assert_int_equal(out[2].product_id, 9);
    assert_int_equal(out[2].quantity, 1000);
}

static void lines_ascending__strictly_by_product_id(void **state)
{
    (void)state;
    struct order_line l[3] = {{.product_id = 2}, {.product_id = 5}, {.product_id = 9}};
    assert_true(order_lines_ascending(l, 0));
    assert_true(order_lines_ascending(l, 3));
    l[1].product_id = 2; /* a repeat is not ascending: merge removes repeats */
    assert_false(order_lines_ascending(l, 3));
    l[1].product_id = 10;
    assert_false(order_lines_ascending(l, 3));
    assert_true(order_lines_ascending(l, 2));
}

static void merge__limits(void **state)
{
    (void)state;
    struct order_line out[ORDER_MAX_LINES + 1];
    struct order_item many[ORDER_MAX_LINES + 1];
    for (int i = 0; i <= ORDER_MAX_LINES; i++)
        many[i] = (struct order_item){i + 1, 1};
    size_t n;
    struct err e;
    err_clear(&e);
    assert_int_equal(order_merge_items(many, ORDER_MAX_LINES, out, &n, &e), ERR_OK);
    assert_int_equal(n, ORDER_MAX_LINES);
    assert_int_equal(order_merge_items(many, ORDER_MAX_LINES + 1, out, &n, &e),
                     ERR_INVALID_REQUEST);
    assert_int_equal(order_merge_items(many, 0, out, &n, &e), ERR_INVALID_REQUEST);
    const struct order_item bad[][1] = {{{0, 1}}, {{-4, 1}}, {{1, 0}}, {{1, 1001}}, {{1, -1}}};
    for (size_t i = 0; i < 5; i++) {
        err_clear(&e);
        assert_int_equal(order_merge_items(bad[i], 1, out, &n, &e), ERR_INVALID_REQUEST);
        assert_string_equal(e.field, "items");
    }
}

static void discount__fixed_is_capped_at_the_subtotal(void **state)
{
    (void)state;
    struct coupon_discount fixed = {ORDER_DISCOUNT_FIXED, 5000};
    assert_int_equal(order_discount(&fixed, 73000), 5000);
    assert_int_equal(order_discount(&fixed, 5000), 5000);
    assert_int_equal(order_discount(&fixed, 3000), 3000);
    assert_int_equal(order_discount(&fixed, 0), 0);
    assert_int_equal(order_discount(NULL, 1000), 0);
}

static void discount__rate_rounds_down_to_the_won(void **state)
{
    (void)state;
    struct coupon_discount rate = {ORDER_DISCOUNT_RATE, 15};
    assert_int_equal(order_discount(&rate, 1000), 150);
    assert_int_equal(order_discount(&rate, 999), 149); /* 149.85 */
    assert_int_equal(order_discount(&rate, 1), 0);
    struct coupon_discount all = {ORDER_DISCOUNT_RATE, 100};
    assert_int_equal(order_discount(&all, 12345), 12345);
    struct coupon_discount one = {ORDER_DISCOUNT_RATE, 1};
    assert_int_equal(order_discount(&one, 199), 1);
    /* no overflow near the int64 limit */
    assert_int_equal(order_discount(&all, INT64_MAX), INT64_MAX);
    struct coupon_discount half = {ORDER_DISCOUNT_RATE, 50};
    assert_int_equal(order_discount(&half, INT64_MAX), INT64_MAX / 2);
}

static void price__amounts_subtotal_total(void **state)
{
    (void)state;
    struct order o;
    memset(&o, 0, sizeof(o));
    assert_true(order_reserve_lines(&o, 2));
    o.n_lines = 2;
    o.lines[0] = (struct order_line){.product_id = 1, .unit_price = 39000, .quantity = 2};
    o.lines[1] = (struct order_line){.product_id = 2, .unit_price = 500, .quantity = 3};
    struct coupon_discount c = {ORDER_DISCOUNT_FIXED, 5000};
    struct err e;
    err_clear(&e);
    assert_int_equal(order_price(&o, &c, &e), ERR_OK);
    assert_int_equal(o.lines[0].amount, 78000);
    assert_int_equal(o.lines[1].amount, 1500);
    assert_int_equal(o.subtotal, 79500);
    assert_int_equal(o.discount, 5000);
    assert_int_equal(o.total, 74500);

    o.lines[0].unit_price = INT64_MAX / 2; /* × 2 fits, + 1500 does not */
    assert_int_equal(order_price(&o, NULL, &e), ERR_INVALID_REQUEST);
    o.lines[0].unit_price = INT64_MAX;
    assert_int_equal(order_price(&o, NULL, &e), ERR_INVALID_REQUEST);
    order_cleanup(&o);
}

static void fingerprint__equal_requests_equal_text(void **state)
{
    (void)state;
    const struct order_item a[] = {{1, 2}, {3, 4}};
    const struct order_item b[] = {{1, 2}, {3, 5}};
    char fa[128], fb[128], fc[128];
    assert_true(order_request_fingerprint(7, a, 2, 0, fa, sizeof(fa)));
    assert_true(order_request_fingerprint(7, b, 2, 0, fb, sizeof(fb)));
    assert_string_not_equal(fa, fb);
    assert_true(order_request_fingerprint(7, a, 2, 9, fc, sizeof(fc)));
    assert_string_not_equal(fa, fc);
    assert_true(order_request_fingerprint(7, a, 2, 0, fb, sizeof(fb)));
    assert_string_equal(fa, fb);
    assert_false(order_request_fingerprint(7, a, 2, 0, fc, 8));
}

static void idempotency_key__printable_ascii_1_to_255(void **state)
{
    (void)state;
    char max[256];
    memset(max, 'k', 255);
    max[255] = '\0';
    assert_true(order_idempotency_key_valid("a"));
    assert_true(order_idempotency_key_valid("8e0f5c1e-6f1a-4a8b-9b2e-1f7c2d3e4a5b"));
    assert_true(order_idempotency_key_valid(max));
    max[254] = '\0';
    assert_true(order_idempotency_key_valid(max));
    char over[257];
    memset(over, 'k', 256);
    over[256] = '\0';
    assert_false(order_idempotency_key_valid(over));
    assert_false(order_idempotency_key_valid(""));
    assert_false(order_idempotency_key_valid("tab\there"));
    assert_false(order_idempotency_key_valid("\xea\xb0\x80"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(merge__sums_repeats_and_sorts),
        cmocka_unit_test(lines_ascending__strictly_by_product_id),
        cmocka_unit_test(merge__limits),
        cmocka_unit_test(discount__fixed_is_capped_at_the_subtotal),
        cmocka_unit_test(discount__rate_rounds_down_to_the_won),
        cmocka_unit_test(price__amounts_subtotal_total),
        cmocka_unit_test(fingerprint__equal_requests_equal_text),
        cmocka_unit_test(idempotency_key__printable_ascii_1_to_255),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
