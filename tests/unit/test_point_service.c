/*
 * test_point_service.c — users and points use cases with the repository
 * mocked (cmocka): limits are enforced before any storage call, the cap is
 * handed to the repository's atomic charge, errors pass through.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "point/point_service.h"

static enum err_code mock_create_user(void *self, const char *name, struct point_user *out,
                                      struct err *e)
{
    (void)self;
    (void)e;
    check_expected_ptr(name);
    out->id = 1;
    strcpy(out->name, name);
    out->balance = 0;
    return mock_type(enum err_code);
}

static enum err_code mock_balance(void *self, int64_t user_id, int64_t *balance, struct err *e)
{
    (void)self;
    check_expected(user_id);
    enum err_code rc = mock_type(enum err_code);
    if (rc != ERR_OK)
        return err_set(e, rc, "mock failure");
    *balance = 5000;
    return ERR_OK;
}

static enum err_code mock_charge(void *self, int64_t user_id, int64_t amount, int64_t cap,
                                 int64_t *balance_after, struct err *e)
{
    (void)self;
    check_expected(user_id);
    check_expected(amount);
    check_expected(cap);
    enum err_code rc = mock_type(enum err_code);
    if (rc != ERR_OK)
        return err_set(e, rc, "mock failure");
    *balance_after = amount + 100;
    return ERR_OK;
}

static enum err_code mock_history(void *self, int64_t user_id, int64_t before, size_t limit,
                                  struct point_entry *out, size_t *n, struct err *e)
{
    (void)self;
    check_expected(user_id);
    check_expected(before);
    check_expected(limit);
    size_t rows = mock_type(size_t);
    enum err_code rc = mock_type(enum err_code);
    if (rc != ERR_OK)
        return err_set(e, rc, "mock failure");
    for (size_t i = 0; i < rows; i++)
        out[i] = (struct point_entry){.id = 100 - (int64_t)i, .type = POINT_CHARGE, .amount = 10};
    *n = rows;
    return ERR_OK;
}

static enum err_code mock_charge_once(void *self, int64_t user_id, int64_t amount, int64_t cap,
                                      const char *key, const char *fingerprint,
                                      const struct point_charge_renderer *render,
                                      struct point_charge_outcome *out, struct err *e)
{
    (void)self;
    (void)user_id;
    (void)cap;
    (void)render;
    (void)e;
    check_expected(amount);
    check_expected_ptr(key);
    check_expected_ptr(fingerprint);
    out->status = 200;
    return ERR_OK;
}

static const struct point_repo_ops mock_ops = {
    .charge_once = mock_charge_once,
    .create_user = mock_create_user,
    .balance = mock_balance,
    .charge = mock_charge,
    .history = mock_history,
};
static const struct point_service svc = {
    .repo = {.ops = &mock_ops, .self = NULL},
    .charge_max = 1000000,
    .balance_max = 100000000,
};

static void create_user__valid_name__stored(void **state)
{
    (void)state;
    struct point_user u;
    struct err e;
    err_clear(&e);
    expect_string(mock_create_user, name, "kim");
    will_return(mock_create_user, ERR_OK);
    assert_int_equal(point_service_create_user(&svc, "kim", &u, &e), ERR_OK);
    assert_int_equal(u.balance, 0);
}

static void create_user__blank_or_long_name__invalid_without_repo(void **state)
{
    (void)state;
    char long_name[102];
    memset(long_name, 'k', 101);
    long_name[101] = '\0';
    const char *names[] = {"", "   ", long_name};
    for (size_t i = 0; i < 3; i++) {
        struct point_user u;
        struct err e;
        err_clear(&e);
        assert_int_equal(point_service_create_user(&svc, names[i], &u, &e), ERR_INVALID_REQUEST);
        assert_string_equal(e.field, "name");
    }
}

static void charge__amount_out_of_range__invalid_amount_and_repo_untouched(void **state)
{
    (void)state;
    const int64_t amounts[] = {0, -1, -1000000, 1000001, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++) {
        int64_t after = -1;
        struct err e;
        err_clear(&e);
        assert_int_equal(point_service_charge(&svc, 1, amounts[i], &after, &e), ERR_INVALID_AMOUNT);
        assert_string_equal(e.field, "amount");
        assert_int_equal(after, -1);
    }
}

static void charge__limits_inclusive__repo_gets_amount_and_cap(void **state)
{
    (void)state;
    const int64_t amounts[] = {1, 1000000};
    for (size_t i = 0; i < 2; i++) {
        int64_t after = 0;
        struct err e;
        err_clear(&e);
        expect_value(mock_charge, user_id, 7);
        expect_value(mock_charge, amount, amounts[i]);
        expect_value(mock_charge, cap, 100000000);
        will_return(mock_charge, ERR_OK);
        assert_int_equal(point_service_charge(&svc, 7, amounts[i], &after, &e), ERR_OK);
        assert_int_equal(after, amounts[i] + 100);
    }
}

static void charge__repo_refusals__propagate(void **state)
{
    (void)state;
    const enum err_code codes[] = {ERR_BALANCE_LIMIT_EXCEEDED, ERR_USER_NOT_FOUND, ERR_UNAVAILABLE};
    for (size_t i = 0; i < 3; i++) {
        int64_t after = 0;
        struct err e;
        err_clear(&e);
        expect_value(mock_charge, user_id, 7);
        expect_value(mock_charge, amount, 10);
        expect_value(mock_charge, cap, 100000000);
        will_return(mock_charge, codes[i]);
        assert_int_equal(point_service_charge(&svc, 7, 10, &after, &e), codes[i]);
        assert_int_equal(e.code, codes[i]);
    }
}

static void non_positive_user__not_found_without_repo(void **state)
{
    (void)state;
    int64_t v;
    struct point_history h;
    struct err e;
    err_clear(&e);
    assert_int_equal(point_service_balance(&svc, 0, &v, &e), ERR_USER_NOT_FOUND);
    assert_int_equal(point_service_charge(&svc, -1, 10, &v, &e), ERR_USER_NOT_FOUND);
    assert_int_equal(point_service_history(&svc, 0, 0, 20, &h, &e), ERR_USER_NOT_FOUND);
    assert_null(h.items);
}

static void balance__reads_repo(void **state)
{
    (void)state;
    int64_t v = 0;
    struct err e;
    err_clear(&e);
    expect_value(mock_balance, user_id, 3);
    will_return(mock_balance, ERR_OK);
    assert_int_equal(point_service_balance(&svc, 3, &v, &e), ERR_OK);
    assert_int_equal(v, 5000);
    expect_value(mock_balance, user_id, 4);
    will_return(mock_balance, ERR_USER_NOT_FOUND);
    assert_int_equal(point_service_balance(&svc, 4, &v, &e), ERR_USER_NOT_FOUND);
}

static void history__asks_one_extra_and_sets_next_before(void **state)
{
    (void)state;
    struct point_history h;
    struct err e;
    err_clear(&e);
    expect_value(mock_history, user_id, 3);
    expect_value(mock_history, before, 0);
    expect_value(mock_history, limit, 3);
    will_return(mock_history, (size_t)3);
    will_return(mock_history, ERR_OK);
    assert_int_equal(point_service_history(&svc, 3, 0, 2, &h, &e), ERR_OK);
    assert_int_equal(h.n, 2);
    assert_true(h.has_more);
    assert_int_equal(h.next_before, 99);
    point_history_cleanup(&h);

    expect_value(mock_history, user_id, 3);
    expect_value(mock_history, before, 99);
    expect_value(mock_history, limit, 3);
    will_return(mock_history, (size_t)1);
    will_return(mock_history, ERR_OK);
    assert_int_equal(point_service_history(&svc, 3, 99, 2, &h, &e), ERR_OK);
    assert_int_equal(h.n, 1);
    assert_false(h.has_more);
    point_history_cleanup(&h);
}

static void history__bad_paging__invalid_without_repo(void **state)
{
    (void)state;
    struct point_history h;
    struct err e;
    err_clear(&e);
    assert_int_equal(point_service_history(&svc, 3, 0, 0, &h, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "limit");
    assert_int_equal(point_service_history(&svc, 3, 0, 101, &h, &e), ERR_INVALID_REQUEST);
    err_clear(&e);
    assert_int_equal(point_service_history(&svc, 3, -1, 10, &h, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "before");
}

static void history__repo_error__propagates_and_frees(void **state)
{
    (void)state;
    struct point_history h;
    struct err e;
    err_clear(&e);
    expect_value(mock_history, user_id, 3);
    expect_value(mock_history, before, 0);
    expect_value(mock_history, limit, 21);
    will_return(mock_history, (size_t)0);
    will_return(mock_history, ERR_USER_NOT_FOUND);
    assert_int_equal(point_service_history(&svc, 3, 0, 20, &h, &e), ERR_USER_NOT_FOUND);
    assert_null(h.items);
}

static void entry_type__names_round_trip(void **state)
{
    (void)state;
    const enum point_entry_type all[] = {POINT_CHARGE, POINT_USE, POINT_REFUND};
    const char *names[] = {"CHARGE", "USE", "REFUND"};
    for (size_t i = 0; i < 3; i++) {
        enum point_entry_type t;
        assert_string_equal(point_entry_type_name(all[i]), names[i]);
        assert_true(point_entry_type_parse(names[i], &t));
        assert_int_equal(t, all[i]);
    }
    enum point_entry_type t;
    assert_false(point_entry_type_parse("charge", &t));
    assert_false(point_entry_type_parse("", &t));
}

static void charge_once__checks_before_the_repo_and_fingerprints_the_amount(void **state)
{
    (void)state;
    struct point_charge_outcome out;
    struct err e;
    err_clear(&e);
    const struct point_charge_renderer render = {NULL, NULL};
    assert_int_equal(point_service_charge_once(&svc, 7, 10, "", &render, &out, &e),
                     ERR_IDEMPOTENCY_KEY_REQUIRED);
    assert_int_equal(point_service_charge_once(&svc, 7, 10, "new\nline", &render, &out, &e),
                     ERR_IDEMPOTENCY_KEY_REQUIRED);
    assert_int_equal(point_service_charge_once(&svc, 7, 0, "k", &render, &out, &e),
                     ERR_INVALID_AMOUNT);
    assert_int_equal(point_service_charge_once(&svc, 0, 10, "k", &render, &out, &e),
                     ERR_USER_NOT_FOUND);
    expect_value(mock_charge_once, amount, 10);
    expect_string(mock_charge_once, key, "k");
    expect_string(mock_charge_once, fingerprint, "amount=10");
    assert_int_equal(point_service_charge_once(&svc, 7, 10, "k", &render, &out, &e), ERR_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_user__valid_name__stored),
        cmocka_unit_test(create_user__blank_or_long_name__invalid_without_repo),
        cmocka_unit_test(charge__amount_out_of_range__invalid_amount_and_repo_untouched),
        cmocka_unit_test(charge__limits_inclusive__repo_gets_amount_and_cap),
        cmocka_unit_test(charge__repo_refusals__propagate),
        cmocka_unit_test(non_positive_user__not_found_without_repo),
        cmocka_unit_test(balance__reads_repo),
        cmocka_unit_test(history__asks_one_extra_and_sets_next_before),
        cmocka_unit_test(history__bad_paging__invalid_without_repo),
        cmocka_unit_test(history__repo_error__propagates_and_frees),
        cmocka_unit_test(entry_type__names_round_trip),
        cmocka_unit_test(charge_once__checks_before_the_repo_and_fingerprints_the_amount),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
