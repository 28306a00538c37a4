/*
 * test_ranking_event.c — what the ranking consumer reads from an order event:
 * the sales day and product ids of ORDER_PAID / ORDER_CANCELLED, other types
 * skipped, anything malformed refused (dead-lettered by the consumer).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "ranking/ranking_consumer.h"

static enum err_code decode(const char *text, struct ranking_sale *out)
{
    struct err e;
    err_clear(&e);
    return ranking_event_decode(text, strlen(text), out, &e);
}

static void paid_and_cancelled__day_and_products(void **state)
{
    (void)state;
    static struct ranking_sale sale;
    const char *paid =
        "{\"event_id\":\"e1\",\"type\":\"ORDER_PAID\",\"occurred_at\":\"2026-01-02T03:04:05Z\","
        "\"order\":{\"id\":7,\"items\":[{\"product_id\":3,\"quantity\":1},{\"product_id\":9}],"
        "\"created_at\":\"2026-01-01T23:59:59Z\"}}";
    assert_int_equal(decode(paid, &sale), ERR_OK);
    assert_true(sale.relevant);
    assert_int_equal(sale.sold_at, 1767311999); /* the order's created_at, not occurred_at */
    assert_int_equal(sale.n, 2);
    assert_int_equal(sale.product_ids[0], 3);
    assert_int_equal(sale.product_ids[1], 9);
    const char *cancelled = "{\"type\":\"ORDER_CANCELLED\",\"order\":{\"items\":[{\"product_id\":"
                            "4}],\"created_at\":\"2026-01-01T00:00:00Z\"}}";
    assert_int_equal(decode(cancelled, &sale), ERR_OK);
    assert_true(sale.relevant);
    assert_int_equal(sale.n, 1);
    assert_int_equal(decode("{\"type\":\"ORDER_SHIPPED\"}", &sale), ERR_OK);
    assert_false(sale.relevant);
}

static void malformed__refused(void **state)
{
    (void)state;
    static struct ranking_sale sale;
    const char *bad[] = {
        "",
        "{not json",
        "[1,2]",
        "{\"type\":7}",
        "{\"order\":{}}",
        "{\"type\":\"ORDER_PAID\"}",
        "{\"type\":\"ORDER_PAID\",\"order\":{\"items\":[{\"product_id\":1}]}}",
        "{\"type\":\"ORDER_PAID\",\"order\":{\"items\":[{\"product_id\":1}],\"created_at\":\"x\"}}",
        "{\"type\":\"ORDER_PAID\",\"order\":{\"items\":[],\"created_at\":\"2026-01-01T00:00:00Z\"}"
        "}",
        "{\"type\":\"ORDER_PAID\",\"order\":{\"items\":{},\"created_at\":\"2026-01-01T00:00:00Z\"}"
        "}",
        "{\"type\":\"ORDER_PAID\",\"order\":{\"items\":[{\"product_id\":0}],"
        "\"created_at\":\"2026-01-01T00:00:00Z\"}}",
        "{\"type\":\"ORDER_PAID\",\"order\":{\"items\":[{\"product_id\":\"1\"}],"
        "\"created_at\":\"2026-01-01T00:00:00Z\"}}",
        "{\"type\":\"ORDER_PAID\",\"type\":\"ORDER_PAID\"}",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (decode(bad[i], &sale) != ERR_INVALID_JSON)
            fail_msg("accepted: %s", bad[i]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(paid_and_cancelled__day_and_products),
        cmocka_unit_test(malformed__refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
