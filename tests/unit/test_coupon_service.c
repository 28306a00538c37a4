/*
 * test_coupon_service.c — the issue flow with the repository and the Redis
 * gate mocked: what the gate answers alone, when PostgreSQL is asked, and how
 * the gate follows PostgreSQL's decision. Plus campaign validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "coupon/coupon_service.h"

static enum err_code repo_create(void *self, struct coupon *inout, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    inout->id = 3;
    return ERR_OK;
}
static enum err_code repo_get(void *self, int64_t id, struct coupon *out, struct err *e)
{
    (void)self;
    (void)id;
    (void)out;
    (void)e;
    function_called();
    return ERR_OK;
}
static enum err_code repo_issue(void *self, int64_t coupon_id, int64_t user_id,
                                struct user_coupon *out, struct err *e)
{
    (void)self;
    (void)out;
    function_called();
    check_expected(coupon_id);
    check_expected(user_id);
    enum err_code rc = mock_type(enum err_code);
    return rc ? err_set(e, rc, "repo says no") : ERR_OK;
}
static enum err_code repo_snapshot(void *self, int64_t coupon_id, struct coupon_snapshot *out,
                                   struct err *e)
{
    (void)self;
    (void)coupon_id;
    (void)e;
    function_called();
    out->remaining = 7;
    out->expires_at = 1000;
    out->user_ids = calloc(1, sizeof(int64_t));
    out->n_users = 1;
    return ERR_OK;
}
static enum err_code repo_list(void *self, int64_t user_id, bool all, enum user_coupon_status st,
                               size_t limit, struct user_coupon *out, size_t *n, struct err *e)
{
    (void)self;
    (void)user_id;
    (void)limit;
    (void)out;
    (void)e;
    function_called();
    check_expected(all);
    check_expected(st);
    *n = 0;
    return ERR_OK;
}
static enum err_code repo_issue_batch(void *self, struct coupon_issue_item *items, size_t n,
                                      struct err *e)
{
    (void)self;
    (void)items;
    (void)n;
    (void)e;
    function_called();
    return ERR_OK;
}
static const struct coupon_repo_ops repo_ops = {repo_create,   repo_get,  repo_issue,
                                                repo_snapshot, repo_list, repo_issue_batch};

static enum coupon_gate_answer gate_reserve(void *self, int64_t coupon_id, int64_t user_id)
{
    (void)self;
    (void)coupon_id;
    (void)user_id;
    function_called();
    return mock_type(enum coupon_gate_answer);
}
static void gate_release(void *self, int64_t coupon_id, int64_t user_id)
{
    (void)self;
    (void)coupon_id;
    (void)user_id;
    function_called();
}
static void gate_release_slot(void *self, int64_t coupon_id)
{
    (void)self;
    (void)coupon_id;
    function_called();
}
static void gate_mark_sold_out(void *self, int64_t coupon_id)
{
    (void)self;
    (void)coupon_id;
    function_called();
}
static void gate_load(void *self, int64_t coupon_id, const struct coupon_snapshot *s)
{
    (void)self;
    (void)coupon_id;
    function_called();
    check_expected(s->remaining);
}
static const struct coupon_gate_ops gate_ops = {gate_reserve, gate_release, gate_release_slot,
                                                gate_mark_sold_out, gate_load};

static const struct coupon_service gated = {{&repo_ops, NULL}, {&gate_ops, NULL}};
static const struct coupon_service ungated = {{&repo_ops, NULL}, {NULL, NULL}};

static enum err_code issue(const struct coupon_service *s)
{
    struct user_coupon out;
    struct err e;
    err_clear(&e);
    return coupon_service_issue(s, 3, 9, &out, &e);
}

static enum err_code reserve(const struct coupon_service *s, int64_t now)
{
    struct err e;
    err_clear(&e);
    return coupon_service_reserve(s, 3, 9, now, &e);
}

static void expect_gate(enum coupon_gate_answer a)
{
    expect_function_call(gate_reserve);
    will_return(gate_reserve, a);
}

static void expect_repo_issue(enum err_code rc)
{
    expect_function_call(repo_issue);
    expect_value(repo_issue, coupon_id, 3);
    expect_value(repo_issue, user_id, 9);
    will_return(repo_issue, rc);
}

static void gate_sold_out__answered_without_the_database(void **state)
{
    (void)state;
    expect_gate(COUPON_GATE_SOLD_OUT);
    assert_int_equal(issue(&gated), ERR_COUPON_SOLD_OUT);
}

static void gate_duplicate__answered_without_the_database(void **state)
{
    (void)state;
    expect_gate(COUPON_GATE_DUPLICATE);
    assert_int_equal(issue(&gated), ERR_COUPON_ALREADY_ISSUED);
}

static void gate_reserved__database_writes_it(void **state)
{
    (void)state;
    expect_gate(COUPON_GATE_RESERVED);
    expect_repo_issue(ERR_OK);
    assert_int_equal(issue(&gated), ERR_OK);
}

static void gate_reserved_database_fails__slot_given_back(void **state)
{
    (void)state;
    expect_gate(COUPON_GATE_RESERVED);
    expect_repo_issue(ERR_UNAVAILABLE);
    expect_function_call(gate_release);
    assert_int_equal(issue(&gated), ERR_UNAVAILABLE);
    expect_gate(COUPON_GATE_RESERVED);
    expect_repo_issue(ERR_USER_NOT_FOUND);
    expect_function_call(gate_release);
    assert_int_equal(issue(&gated), ERR_USER_NOT_FOUND);
}

static void gate_reserved_database_says_owner__slot_back_owner_kept(void **state)
{
    (void)state;
    expect_gate(COUPON_GATE_RESERVED);
    expect_repo_issue(ERR_COUPON_ALREADY_ISSUED);
    expect_function_call(gate_release_slot);
    assert_int_equal(issue(&gated), ERR_COUPON_ALREADY_ISSUED);
}

static void gate_reserved_database_sold_out__gate_learns_it(void **state)
{
    (void)state;
    expect_gate(COUPON_GATE_RESERVED);
    expect_repo_issue(ERR_COUPON_SOLD_OUT);
    expect_function_call(gate_release);
    expect_function_call(gate_mark_sold_out);
    assert_int_equal(issue(&gated), ERR_COUPON_SOLD_OUT);
}

static void gate_without_state__database_decides_and_gate_is_rebuilt(void **state)
{
    (void)state;
    expect_gate(COUPON_GATE_UNKNOWN);
    expect_repo_issue(ERR_OK);
    expect_function_call(repo_snapshot);
    expect_function_call(gate_load);
    expect_value(gate_load, s->remaining, 7);
    assert_int_equal(issue(&gated), ERR_OK);
}

static void gate_down__database_decides(void **state)
{
    (void)state;
    expect_gate(COUPON_GATE_DOWN);
    expect_repo_issue(ERR_COUPON_SOLD_OUT);
    assert_int_equal(issue(&gated), ERR_COUPON_SOLD_OUT);
}

static void no_gate__database_only(void **state)
{
    (void)state;
    expect_repo_issue(ERR_OK);
    assert_int_equal(issue(&ungated), ERR_OK);
}

static void bad_ids__refused_before_anything(void **state)
{
    (void)state;
    struct user_coupon out;
    struct err e;
    err_clear(&e);
    assert_int_equal(coupon_service_issue(&gated, 0, 9, &out, &e), ERR_COUPON_NOT_FOUND);
    assert_int_equal(coupon_service_issue(&gated, 3, 0, &out, &e), ERR_USER_NOT_FOUND);
}

static void create__validation_names_the_field(void **state)
{
    (void)state;
    const int64_t now = 1000000;
    struct {
        struct coupon c;
        const char *field;
    } bad[] = {
        {{.name = "",
          .type = COUPON_TYPE_FIXED,
          .value = 1,
          .total_quantity = 1,
          .expires_at = now + 1},
         "name"},
        {{.name = "  ",
          .type = COUPON_TYPE_FIXED,
          .value = 1,
          .total_quantity = 1,
          .expires_at = now + 1},
         "name"},
        {{.name = "A",
          .type = COUPON_TYPE_FIXED,
          .value = 0,
          .total_quantity = 1,
          .expires_at = now + 1},
         "discount_value"},
        {{.name = "A",
          .type = COUPON_TYPE_RATE,
          .value = 101,
          .total_quantity = 1,
          .expires_at = now + 1},
         "discount_value"},
        {{.name = "A",
          .type = COUPON_TYPE_FIXED,
          .value = COUPON_FIXED_MAX + 1,
          .total_quantity = 1,
          .expires_at = now + 1},
         "discount_value"},
        {{.name = "A",
          .type = COUPON_TYPE_FIXED,
          .value = 1,
          .total_quantity = 0,
          .expires_at = now + 1},
         "total_quantity"},
        {{.name = "A",
          .type = COUPON_TYPE_FIXED,
          .value = 1,
          .total_quantity = COUPON_QUANTITY_MAX + 1,
          .expires_at = now + 1},
         "total_quantity"},
        {{.name = "A",
          .type = COUPON_TYPE_FIXED,
          .value = 1,
          .total_quantity = 1,
          .expires_at = now},
         "expires_at"},
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct err e;
        err_clear(&e);
        assert_int_equal(coupon_service_create(&gated, &bad[i].c, now, &e), ERR_INVALID_REQUEST);
        assert_string_equal(e.field, bad[i].field);
    }
    struct coupon ok = {.name = "WELCOME",
                        .type = COUPON_TYPE_RATE,
                        .value = 100,
                        .total_quantity = 100,
                        .expires_at = now + 1};
    struct err e;
    err_clear(&e);
    expect_function_call(repo_create);
    assert_int_equal(coupon_service_create(&gated, &ok, now, &e), ERR_OK);
    assert_int_equal(ok.id, 3);
}

static void list__status_filter(void **state)
{
    (void)state;
    struct user_coupon out[COUPON_LIST_MAX];
    size_t n;
    struct err e;
    err_clear(&e);
    assert_int_equal(coupon_service_list(&gated, 9, "available", out, &n, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "status");
    expect_function_call(repo_list);
    expect_value(repo_list, all, false);
    expect_value(repo_list, st, USER_COUPON_EXPIRED);
    assert_int_equal(coupon_service_list(&gated, 9, "EXPIRED", out, &n, &e), ERR_OK);
    expect_function_call(repo_list);
    expect_value(repo_list, all, true);
    expect_value(repo_list, st, USER_COUPON_AVAILABLE);
    assert_int_equal(coupon_service_list(&gated, 9, NULL, out, &n, &e), ERR_OK);
}

/* ---- admission of asynchronous requests (coupon_service_reserve) ---- */

static void reserve__gate_answers_at_once_without_the_database(void **state)
{
    (void)state;
    expect_gate(COUPON_GATE_RESERVED);
    assert_int_equal(reserve(&gated, 500), ERR_OK);
    expect_gate(COUPON_GATE_SOLD_OUT);
    assert_int_equal(reserve(&gated, 500), ERR_COUPON_SOLD_OUT);
    expect_gate(COUPON_GATE_DUPLICATE);
    assert_int_equal(reserve(&gated, 500), ERR_COUPON_ALREADY_ISSUED);
    expect_gate(COUPON_GATE_DOWN); /* the request could not be recorded either */
    assert_int_equal(reserve(&gated, 500), ERR_UNAVAILABLE);
}

static void reserve__gate_without_state__loaded_from_a_read_then_asked_again(void **state)
{
    (void)state;
    expect_gate(COUPON_GATE_UNKNOWN);
    expect_function_call(repo_snapshot);
    expect_function_call(gate_load);
    expect_value(gate_load, s->remaining, 7);
    expect_gate(COUPON_GATE_RESERVED);
    assert_int_equal(reserve(&gated, 500), ERR_OK); /* no repo_issue: no database write */
}

static void reserve__expired_campaign__refused_and_gate_not_loaded(void **state)
{
    (void)state;
    expect_gate(COUPON_GATE_UNKNOWN);
    expect_function_call(repo_snapshot);
    assert_int_equal(reserve(&gated, 2000), ERR_COUPON_EXPIRED);
}

static void gate_follow__refusals_give_the_slot_back_like_the_sync_path(void **state)
{
    (void)state;
    coupon_service_gate_follow(&gated, 3, 9, ERR_OK); /* nothing */
    expect_function_call(gate_release_slot);
    coupon_service_gate_follow(&gated, 3, 9, ERR_COUPON_ALREADY_ISSUED);
    expect_function_call(gate_release);
    expect_function_call(gate_mark_sold_out);
    coupon_service_gate_follow(&gated, 3, 9, ERR_COUPON_SOLD_OUT);
    expect_function_call(gate_release);
    coupon_service_gate_follow(&gated, 3, 9, ERR_USER_NOT_FOUND);
    coupon_service_gate_follow(&ungated, 3, 9, ERR_USER_NOT_FOUND); /* no gate: nothing */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gate_sold_out__answered_without_the_database),
        cmocka_unit_test(gate_duplicate__answered_without_the_database),
        cmocka_unit_test(gate_reserved__database_writes_it),
        cmocka_unit_test(gate_reserved_database_fails__slot_given_back),
        cmocka_unit_test(gate_reserved_database_says_owner__slot_back_owner_kept),
        cmocka_unit_test(gate_reserved_database_sold_out__gate_learns_it),
        cmocka_unit_test(gate_without_state__database_decides_and_gate_is_rebuilt),
        cmocka_unit_test(gate_down__database_decides),
        cmocka_unit_test(no_gate__database_only),
        cmocka_unit_test(bad_ids__refused_before_anything),
        cmocka_unit_test(create__validation_names_the_field),
        cmocka_unit_test(list__status_filter),
        cmocka_unit_test(reserve__gate_answers_at_once_without_the_database),
        cmocka_unit_test(reserve__gate_without_state__loaded_from_a_read_then_asked_again),
        cmocka_unit_test(reserve__expired_campaign__refused_and_gate_not_loaded),
        cmocka_unit_test(gate_follow__refusals_give_the_slot_back_like_the_sync_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
