/*
 * test_err_problem.c — the error table (core/err.h) against the contract's
 * statuses and codes, struct err's setters, and the RFC 9457 problem
 * document (http/problem.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/err.h"
#include "http/problem.h"

/* Every code with the status and stable string shared/api.md gives it. */
static const struct {
    enum err_code code;
    int status;
    const char *str;
} contract[] = {
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
    {ERR_ISSUE_REQUEST_NOT_FOUND, 404, "ISSUE_REQUEST_NOT_FOUND"},
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
    {ERR_BAD_REQUEST, 400, "BAD_REQUEST"}, /* HTTP framing: docs/api.md "Transport errors" */
    {ERR_REQUEST_TIMEOUT, 408, "REQUEST_TIMEOUT"},
    {ERR_PAYLOAD_TOO_LARGE, 413, "PAYLOAD_TOO_LARGE"},
    {ERR_URI_TOO_LONG, 414, "URI_TOO_LONG"},
    {ERR_EXPECTATION_FAILED, 417, "EXPECTATION_FAILED"},
    {ERR_HEADERS_TOO_LARGE, 431, "HEADERS_TOO_LARGE"},
    {ERR_IDEMPOTENCY_KEY_REUSED, 422, "IDEMPOTENCY_KEY_REUSED"},
    {ERR_INVALID_CREDENTIALS, 401, "INVALID_CREDENTIALS"}, /* api.md "Authentication" */
    {ERR_TOO_MANY_ATTEMPTS, 429, "TOO_MANY_ATTEMPTS"},
    {ERR_INTERNAL, 500, "INTERNAL_ERROR"}, /* docs/api.md: the one 500, never an HTML page */
    {ERR_NOT_IMPLEMENTED, 501, "NOT_IMPLEMENTED"},
    {ERR_UNAVAILABLE, 503, "SERVICE_UNAVAILABLE"},
    {ERR_HTTP_VERSION, 505, "HTTP_VERSION_NOT_SUPPORTED"},
};
enum { N_CONTRACT = sizeof(contract) / sizeof(contract[0]) };

/* ---- the table ---- */

static void every_code__status_and_string_as_the_contract_lists(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CONTRACT; i++) {
        if (err_http_status(contract[i].code) != contract[i].status)
            fail_msg("%s: status %d, contract says %d", contract[i].str,
                     err_http_status(contract[i].code), contract[i].status);
        assert_string_equal(err_code_str(contract[i].code), contract[i].str);
        assert_true(strlen(err_title(contract[i].code)) > 0);
    }
}

static void every_error_code__has_a_contract_row(void **state)
{
    (void)state;
    /* a code added to ERR_CODES without a row here (and in the contract) fails */
    for (int c = ERR_OK + 1; c < ERR_CODE_COUNT; c++) {
        size_t i = 0;
        while (i < N_CONTRACT && contract[i].code != (enum err_code)c)
            i++;
        if (i == N_CONTRACT)
            fail_msg("error code %s (%d) is not in the contract table", err_code_str(c), c);
    }
    assert_int_equal(ERR_CODE_COUNT - 1, N_CONTRACT);
}

static void code_strings__unique_upper_snake_case(void **state)
{
    (void)state;
    for (int a = 0; a < ERR_CODE_COUNT; a++) {
        const char *s = err_code_str(a);
        for (const char *p = s; *p; p++)
            assert_true((*p >= 'A' && *p <= 'Z') || *p == '_');
        for (int b = a + 1; b < ERR_CODE_COUNT; b++)
            assert_string_not_equal(s, err_code_str(b));
    }
}

static void ok__zero_and_status_200(void **state)
{
    (void)state;
    assert_int_equal(ERR_OK, 0);
    assert_int_equal(err_http_status(ERR_OK), 200);
}

static void out_of_range_code__internal_error_never_past_the_table(void **state)
{
    (void)state;
    const int bad[] = {ERR_CODE_COUNT, ERR_CODE_COUNT + 100, -1};
    for (size_t i = 0; i < 3; i++) {
        assert_int_equal(err_http_status((enum err_code)bad[i]), 500);
        assert_string_equal(err_code_str((enum err_code)bad[i]), "INTERNAL_ERROR");
        assert_string_equal(err_title((enum err_code)bad[i]), err_title(ERR_INTERNAL));
    }
}

/* ---- struct err ---- */

static void err_set__code_and_formatted_detail__returns_the_code(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(err_set(&e, ERR_OUT_OF_STOCK, "product %d has %d left, %d requested", 7, 2, 3),
                     ERR_OUT_OF_STOCK);
    assert_int_equal(e.code, ERR_OUT_OF_STOCK);
    assert_string_equal(e.detail, "product 7 has 2 left, 3 requested");
}

static void err_set_field__records_the_field(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(
        err_set_field(&e, ERR_INVALID_REQUEST, "price", "price must be %s", "positive"),
        ERR_INVALID_REQUEST);
    assert_int_equal(e.code, ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "price");
    assert_string_equal(e.detail, "price must be positive");
}

static void err_clear__resets_code_detail_field_and_product(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    err_set_field(&e, ERR_INVALID_REQUEST, "x", "bad");
    e.product_id = 9;
    err_clear(&e);
    assert_int_equal(e.code, ERR_OK);
    assert_string_equal(e.detail, "");
    assert_string_equal(e.field, "");
    assert_int_equal(e.product_id, 0);
    err_clear(NULL);
}

static void setters__null_err__return_the_code_without_writing(void **state)
{
    (void)state;
    assert_int_equal(err_set(NULL, ERR_FORBIDDEN, "no target"), ERR_FORBIDDEN);
    assert_int_equal(err_set_field(NULL, ERR_INVALID_REQUEST, "f", "no target"),
                     ERR_INVALID_REQUEST);
}

static void long_detail_and_field__truncated_safely(void **state)
{
    (void)state;
    char big[1000];
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    struct err e;
    memset(&e, 0x5a, sizeof(e));
    err_clear(&e);
    assert_int_equal(err_set(&e, ERR_INVALID_REQUEST, "%s", big), ERR_INVALID_REQUEST);
    assert_int_equal(strlen(e.detail), sizeof(e.detail) - 1);
    assert_int_equal(err_set_field(&e, ERR_INVALID_REQUEST, big, "%s%s", big, big),
                     ERR_INVALID_REQUEST);
    assert_int_equal(strlen(e.detail), sizeof(e.detail) - 1);
    assert_int_equal(strlen(e.field), sizeof(e.field) - 1);
    assert_int_equal(e.product_id, 0); /* the neighbour of field is untouched */
    /* a detail of exactly the capacity minus one is kept whole */
    big[sizeof(e.detail) - 1] = '\0';
    err_set(&e, ERR_INVALID_REQUEST, "%s", big);
    assert_string_equal(e.detail, big);
}

/* ---- problem documents ---- */

static const char *member_str(json_t *doc, const char *name)
{
    return json_string_value(json_object_get(doc, name));
}

static void problem__rfc9457_members_for_every_code(void **state)
{
    (void)state;
    for (size_t i = 0; i < N_CONTRACT; i++) {
        struct err e;
        err_clear(&e);
        err_set(&e, contract[i].code, "what went wrong");
        json_t *doc = problem_new(&e);
        assert_non_null(doc);
        assert_string_equal(member_str(doc, "type"), "about:blank");
        assert_string_equal(member_str(doc, "title"), err_title(contract[i].code));
        assert_int_equal(json_integer_value(json_object_get(doc, "status")), contract[i].status);
        assert_string_equal(member_str(doc, "detail"), "what went wrong");
        assert_string_equal(member_str(doc, "code"), contract[i].str);
        assert_int_equal(json_object_size(doc), 5); /* nothing else unless set */
        json_decref(doc);
    }
}

static void problem__field_when_set(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    err_set_field(&e, ERR_INVALID_REQUEST, "price", "price must be an integer");
    json_t *doc = problem_new(&e);
    assert_string_equal(member_str(doc, "title"), "Invalid request");
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 400);
    assert_string_equal(member_str(doc, "detail"), "price must be an integer");
    assert_string_equal(member_str(doc, "code"), "INVALID_REQUEST");
    assert_string_equal(member_str(doc, "field"), "price");
    assert_null(json_object_get(doc, "product_id"));
    assert_int_equal(json_object_size(doc), 6);
    json_decref(doc);
}

static void problem__product_id_when_positive(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    err_set(&e, ERR_OUT_OF_STOCK, "product 7 has 2 left, 3 requested");
    e.product_id = 7;
    json_t *doc = problem_new(&e);
    assert_true(json_is_integer(json_object_get(doc, "product_id")));
    assert_int_equal(json_integer_value(json_object_get(doc, "product_id")), 7);
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), 409);
    assert_null(json_object_get(doc, "field"));
    json_decref(doc);

    e.product_id = INT64_MAX;
    doc = problem_new(&e);
    assert_true(json_integer_value(json_object_get(doc, "product_id")) == INT64_MAX);
    json_decref(doc);

    e.product_id = -1;
    doc = problem_new(&e);
    assert_null(json_object_get(doc, "product_id"));
    json_decref(doc);
}

static void problem__empty_detail__the_title_stands_in(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    e.code = ERR_USER_NOT_FOUND;
    json_t *doc = problem_new(&e);
    assert_string_equal(member_str(doc, "detail"), "User not found");
    json_decref(doc);
}

/*
 * err_set truncates to 255 bytes, which can cut a multi-byte character in
 * half (details quote request text: member names, paths); a request can also
 * bring bytes that are not UTF-8 at all. The document must still carry
 * "detail" and "field" as strings: RFC 9457 members never vanish.
 */
static void problem__detail_cut_inside_a_character__detail_still_present(void **state)
{
    (void)state;
    /* "x" + 100 three-byte characters: byte 255 falls inside the 85th character */
    char name[301] = "";
    for (int i = 0; i < 100; i++)
        strcat(name, "\xea\xb0\x80");
    struct err e;
    err_clear(&e);
    err_set(&e, ERR_INVALID_REQUEST, "x%s", name);
    json_t *doc = problem_new(&e);
    assert_non_null(doc);
    const char *code = member_str(doc, "code");
    bool code_ok = code && strcmp(code, "INVALID_REQUEST") == 0;
    bool kept = json_is_string(json_object_get(doc, "detail"));
    json_decref(doc);
    assert_true(code_ok);
    if (!kept)
        fail_msg("problem document lost its \"detail\" member (detail not valid UTF-8 after "
                 "truncation)");
}

static void problem__field_cut_inside_a_character__field_still_present(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    /* 40 two-byte characters: the 63-byte field ends on half of the 32nd */
    char key[81] = "";
    for (int i = 0; i < 40; i++)
        strcat(key, "\xc3\xa9");
    err_set_field(&e, ERR_INVALID_REQUEST, key, "unknown field");
    json_t *doc = problem_new(&e);
    assert_non_null(doc);
    bool kept = json_is_string(json_object_get(doc, "field"));
    json_decref(doc);
    if (!kept)
        fail_msg("problem document lost its \"field\" member (field not valid UTF-8 after "
                 "truncation)");
}

static void problem__request_bytes_not_utf8_in_detail__detail_still_present(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    err_set(&e, ERR_NOT_FOUND, "no resource at %s", "/\xff\xfe");
    json_t *doc = problem_new(&e);
    assert_non_null(doc);
    bool kept = json_is_string(json_object_get(doc, "detail"));
    json_decref(doc);
    if (!kept)
        fail_msg("problem document lost its \"detail\" member (request bytes not UTF-8)");
}

static void problem_respond__problem_json_status_and_previous_body_replaced(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    err_set(&e, ERR_OUT_OF_STOCK, "product 7 has 2 left, 3 requested");
    e.product_id = 7;
    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    http_resp_json(&resp, 201, json_pack("{s:i}", "id", 1)); /* a half-written success */
    problem_respond(&resp, &e);
    assert_int_equal(resp.status, 409);
    assert_string_equal(resp.content_type, "application/problem+json");
    assert_string_equal(member_str(resp.json, "code"), "OUT_OF_STOCK");
    assert_null(json_object_get(resp.json, "id"));
    http_resp_cleanup(&resp); /* the replaced body was released: ASan sees any leak */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_code__status_and_string_as_the_contract_lists),
        cmocka_unit_test(every_error_code__has_a_contract_row),
        cmocka_unit_test(code_strings__unique_upper_snake_case),
        cmocka_unit_test(ok__zero_and_status_200),
        cmocka_unit_test(out_of_range_code__internal_error_never_past_the_table),
        cmocka_unit_test(err_set__code_and_formatted_detail__returns_the_code),
        cmocka_unit_test(err_set_field__records_the_field),
        cmocka_unit_test(err_clear__resets_code_detail_field_and_product),
        cmocka_unit_test(setters__null_err__return_the_code_without_writing),
        cmocka_unit_test(long_detail_and_field__truncated_safely),
        cmocka_unit_test(problem__rfc9457_members_for_every_code),
        cmocka_unit_test(problem__field_when_set),
        cmocka_unit_test(problem__product_id_when_positive),
        cmocka_unit_test(problem__empty_detail__the_title_stands_in),
        cmocka_unit_test(problem__detail_cut_inside_a_character__detail_still_present),
        cmocka_unit_test(problem__field_cut_inside_a_character__field_still_present),
        cmocka_unit_test(problem__request_bytes_not_utf8_in_detail__detail_still_present),
        cmocka_unit_test(problem_respond__problem_json_status_and_previous_body_replaced),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
