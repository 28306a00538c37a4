/* test_err_problem.c — every error code's status and stable string, and the problem document. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "http/problem.h"

static void codes__status_and_string_as_the_contract_lists(void **state)
{
    (void)state;
    const struct {
        enum err_code code;
        int status;
        const char *str;
    } table[] = {
        {ERR_INVALID_JSON, 400, "INVALID_JSON"},
        {ERR_INVALID_REQUEST, 400, "INVALID_REQUEST"},
        {ERR_INVALID_AMOUNT, 400, "INVALID_AMOUNT"},
        {ERR_IDEMPOTENCY_KEY_REQUIRED, 400, "IDEMPOTENCY_KEY_REQUIRED"},
        {ERR_UNAUTHORIZED, 401, "UNAUTHORIZED"},
        {ERR_FORBIDDEN, 403, "FORBIDDEN"},
        {ERR_NOT_FOUND, 404, "NOT_FOUND"},
        {ERR_PRODUCT_NOT_FOUND, 404, "PRODUCT_NOT_FOUND"},
        {ERR_USER_NOT_FOUND, 404, "USER_NOT_FOUND"},
        {ERR_ORDER_NOT_FOUND, 404, "ORDER_NOT_FOUND"},
        {ERR_COUPON_NOT_FOUND, 404, "COUPON_NOT_FOUND"},
        {ERR_METHOD_NOT_ALLOWED, 405, "METHOD_NOT_ALLOWED"},
        {ERR_OUT_OF_STOCK, 409, "OUT_OF_STOCK"},
        {ERR_INSUFFICIENT_BALANCE, 409, "INSUFFICIENT_BALANCE"},
        {ERR_BALANCE_LIMIT_EXCEEDED, 409, "BALANCE_LIMIT_EXCEEDED"},
        {ERR_COUPON_NOT_USABLE, 409, "COUPON_NOT_USABLE"},
        {ERR_COUPON_SOLD_OUT, 409, "COUPON_SOLD_OUT"},
        {ERR_COUPON_ALREADY_ISSUED, 409, "COUPON_ALREADY_ISSUED"},
        {ERR_COUPON_EXPIRED, 409, "COUPON_EXPIRED"},
        {ERR_ORDER_NOT_CANCELLABLE, 409, "ORDER_NOT_CANCELLABLE"},
        {ERR_REQUEST_IN_PROGRESS, 409, "REQUEST_IN_PROGRESS"},
        {ERR_PAYLOAD_TOO_LARGE, 413, "PAYLOAD_TOO_LARGE"},
        {ERR_IDEMPOTENCY_KEY_REUSED, 422, "IDEMPOTENCY_KEY_REUSED"},
        {ERR_INTERNAL, 500, "INTERNAL_ERROR"},
        {ERR_UNAVAILABLE, 503, "SERVICE_UNAVAILABLE"},
    };
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        assert_int_equal(err_http_status(table[i].code), table[i].status);
        assert_string_equal(err_code_str(table[i].code), table[i].str);
        assert_true(strlen(err_title(table[i].code)) > 0);
    }
    /* out-of-range values are treated as internal errors, never read past the table */
    assert_int_equal(err_http_status((enum err_code)ERR_CODE_COUNT), 500);
    assert_int_equal(err_http_status((enum err_code) - 1), 500);
}

static void err_set__long_detail_is_truncated_safely(void **state)
{
    (void)state;
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct err e;
    err_clear(&e);
    assert_int_equal(err_set(&e, ERR_INVALID_REQUEST, "%s", big), ERR_INVALID_REQUEST);
    assert_int_equal(strlen(e.detail), sizeof(e.detail) - 1);
    assert_int_equal(err_set_field(&e, ERR_INVALID_REQUEST, big, "d"), ERR_INVALID_REQUEST);
    assert_int_equal(strlen(e.field), sizeof(e.field) - 1);
    assert_int_equal(err_set(NULL, ERR_FORBIDDEN, "no target"), ERR_FORBIDDEN);
}

static void problem__rfc9457_members_plus_extras(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    err_set_field(&e, ERR_INVALID_REQUEST, "price", "price must be an integer");
    json_t *doc = problem_new(&e);
    assert_string_equal(json_string_value(json_object_get(doc, "type")), "about:blank");
    assert_string_equal(json_string_value(json_object_get(doc, "title")), "Invalid request");
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 400);
    assert_string_equal(json_string_value(json_object_get(doc, "detail")),
                        "price must be an integer");
    assert_string_equal(json_string_value(json_object_get(doc, "code")), "INVALID_REQUEST");
    assert_string_equal(json_string_value(json_object_get(doc, "field")), "price");
    assert_null(json_object_get(doc, "product_id"));
    json_decref(doc);

    err_clear(&e);
    err_set(&e, ERR_OUT_OF_STOCK, "product 7 has 2 left, 3 requested");
    e.product_id = 7;
    doc = problem_new(&e);
    assert_int_equal(json_integer_value(json_object_get(doc, "product_id")), 7);
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 409);
    assert_null(json_object_get(doc, "field"));
    json_decref(doc);

    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    problem_respond(&resp, &e);
    assert_int_equal(resp.status, 409);
    assert_string_equal(resp.content_type, "application/problem+json");
    http_resp_cleanup(&resp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(codes__status_and_string_as_the_contract_lists),
        cmocka_unit_test(err_set__long_detail_is_truncated_safely),
        cmocka_unit_test(problem__rfc9457_members_plus_extras),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
