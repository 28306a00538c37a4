/*
 * test_place_order.c — the order use cases with EVERY port mocked (cmocka).
 * Only the use cases' own logic is under test: the order of steps, what runs
 * after a failure (nothing), rollback, what is recorded for replay, and that
 * the event is announced only after commit. expect_function_call() makes
 * cmocka fail on any call out of order or not expected.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "order/app/cancel_order.h"
#include "order/app/place_order.h"

/* ---- tx ---- */
static enum err_code tx_begin(void *self, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    return ERR_OK;
}
static enum err_code tx_savepoint(void *self, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    return ERR_OK;
}
static enum err_code tx_rollback_to_savepoint(void *self, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    return ERR_OK;
}
static enum err_code tx_commit(void *self, struct err *e)
{
    (void)self;
    function_called();
    enum err_code rc = mock_type(enum err_code);
    return rc ? err_set(e, rc, "commit failed") : ERR_OK;
}
static void tx_rollback(void *self)
{
    (void)self;
    function_called();
}
static bool tx_retryable(void *self)
{
    (void)self;
    function_called();
    return mock_type(bool);
}
static const struct tx_port_ops tx_ops = {tx_begin,  tx_savepoint, tx_rollback_to_savepoint,
                                          tx_commit, tx_rollback,  tx_retryable};

/* ---- stock: sets catalogue prices (1000 × product id) and names ---- */
static enum err_code stock_take(void *self, struct order_line *lines, size_t n, struct err *e)
{
    (void)self;
    function_called();
    check_expected(n);
    for (size_t i = 0; i < n; i++) {
        check_expected(lines[i].product_id);
        check_expected(lines[i].quantity);
        lines[i].unit_price = 1000 * lines[i].product_id;
        strcpy(lines[i].name, "thing");
    }
    enum err_code rc = mock_type(enum err_code);
    if (rc) {
        err_set(e, rc, "stock refused");
        e->product_id = lines[n - 1].product_id;
    }
    return rc;
}
static enum err_code stock_give_back(void *self, const struct order_line *lines, size_t n,
                                     int64_t sold_at, struct err *e)
{
    (void)self;
    (void)lines;
    (void)sold_at;
    (void)e;
    function_called();
    check_expected(n);
    return ERR_OK;
}
static const struct stock_port_ops stock_ops = {stock_take, stock_give_back};

/* ---- balance ---- */
static enum err_code balance_pay(void *self, int64_t user_id, int64_t amount, int64_t order_id,
                                 struct err *e)
{
    (void)self;
    function_called();
    check_expected(user_id);
    check_expected(amount);
    check_expected(order_id);
    enum err_code rc = mock_type(enum err_code);
    return rc ? err_set(e, rc, "pay refused") : ERR_OK;
}
static enum err_code balance_refund(void *self, int64_t user_id, int64_t amount, int64_t order_id,
                                    struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    check_expected(user_id);
    check_expected(amount);
    check_expected(order_id);
    return ERR_OK;
}
static const struct balance_port_ops balance_ops = {balance_pay, balance_refund};

/* ---- coupons ---- */
static enum err_code coupon_use(void *self, int64_t user_id, int64_t coupon_id,
                                struct coupon_discount *out, struct err *e)
{
    (void)self;
    (void)user_id;
    function_called();
    check_expected(coupon_id);
    enum err_code rc = mock_type(enum err_code);
    if (rc)
        return err_set(e, rc, "coupon refused");
    out->type = COUPON_FIXED;
    out->value = mock_type(int64_t);
    return ERR_OK;
}
static enum err_code coupon_release(void *self, int64_t coupon_id, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    check_expected(coupon_id);
    return ERR_OK;
}
static const struct coupon_port_ops coupon_ops = {coupon_use, coupon_release};

/* ---- orders ---- */
static enum err_code orders_save(void *self, struct order *o, struct err *e)
{
    (void)self;
    function_called();
    check_expected(o->total);
    enum err_code rc = mock_type(enum err_code);
    if (rc)
        return err_set(e, rc, "save failed");
    o->id = 42;
    return ERR_OK;
}
/* cancel reads the order first, to know whose lock to take */
static enum err_code orders_get(void *self, int64_t id, struct order *out, struct err *e)
{
    (void)self;
    function_called();
    check_expected(id);
    enum err_code rc = mock_type(enum err_code);
    if (rc)
        return err_set(e, rc, "no such order");
    out->id = id;
    out->user_id = 7;
    return ERR_OK;
}
static enum err_code orders_list(void *self, int64_t user_id, size_t limit, struct order *out,
                                 size_t *n, struct err *e)
{
    (void)self;
    (void)user_id;
    (void)limit;
    (void)out;
    (void)n;
    (void)e;
    fail_msg("list is not part of these use cases");
    return ERR_INTERNAL;
}
static enum err_code orders_cancel(void *self, int64_t id, struct order *out, struct err *e)
{
    (void)self;
    function_called();
    check_expected(id);
    enum err_code rc = mock_type(enum err_code);
    if (rc)
        return err_set(e, rc, "cancel refused");
    order_reserve_lines(out, 1);
    out->n_lines = 1;
    out->lines[0] = (struct order_line){.product_id = 3, .quantity = 2};
    out->id = id;
    out->user_id = 7;
    out->total = 5000;
    out->coupon_id = mock_type(int64_t);
    out->status = ORDER_CANCELLED;
    return ERR_OK;
}
static const struct order_repo_ops orders_ops = {orders_save, orders_get, orders_list,
                                                 orders_cancel};

/* ---- idempotency ---- */
static enum err_code idem_claim(void *self, int64_t user_id, const char *scope, const char *key,
                                const char *fingerprint, bool *replay,
                                struct idempotency_outcome *stored, struct err *e)
{
    (void)self;
    (void)user_id;
    (void)scope;
    (void)fingerprint;
    function_called();
    check_expected(key);
    enum err_code rc = mock_type(enum err_code);
    if (rc)
        return err_set(e, rc, "claim refused");
    *replay = mock_type(bool);
    if (*replay) {
        stored->status = 201;
        stored->body = strdup("{\"stored\":true}");
    }
    return ERR_OK;
}
static enum err_code idem_record(void *self, int64_t user_id, const char *scope, const char *key,
                                 const char *fingerprint, int status, const char *body,
                                 struct err *e)
{
    (void)self;
    (void)user_id;
    (void)scope;
    (void)key;
    (void)fingerprint;
    (void)e;
    function_called();
    check_expected(status);
    check_expected(body);
    return ERR_OK;
}
static const struct idempotency_port_ops idem_ops = {idem_claim, idem_record};

/* ---- events ---- */
static enum err_code events_publish(void *self, const char *type, const struct order *o,
                                    struct err *e)
{
    (void)self;
    (void)o;
    (void)e;
    function_called();
    check_expected(type);
    return ERR_OK;
}
static void events_committed(void *self, const char *type, const struct order *o)
{
    (void)self;
    (void)o;
    function_called();
    check_expected(type);
}
static const struct event_port_ops events_ops = {events_publish, events_committed};

/* ---- presenter (pure: not part of the step order) ---- */
static char *present_order(void *self, const struct order *o)
{
    (void)self;
    (void)o;
    return strdup("ORDER");
}
static char *present_list(void *self, const struct order *orders, size_t n)
{
    (void)self;
    (void)orders;
    (void)n;
    return strdup("LIST");
}
static char *present_error(void *self, const struct err *e)
{
    (void)self;
    return strdup(err_code_str(e->code));
}
static const struct order_presenter_ops presenter_ops = {present_order, present_list,
                                                         present_error};

/* ---- per-user lock ---- */
static enum err_code lock_acquire(void *self, const char *key, char token[LOCK_TOKEN_LEN],
                                  bool *held, struct err *e)
{
    (void)self;
    function_called();
    check_expected(key);
    strcpy(token, "tok");
    enum err_code rc = mock_type(enum err_code);
    *held = rc == ERR_OK;
    return rc ? err_set(e, rc, "lock busy") : ERR_OK;
}
static void lock_release(void *self, const char *key, const char *token)
{
    (void)self;
    (void)token;
    function_called();
    check_expected(key);
}
static const struct lock_port_ops lock_ops = {lock_acquire, lock_release};

static const struct order_deps deps = {
    .tx = {&tx_ops, NULL},
    .stock = {&stock_ops, NULL},
    .balance = {&balance_ops, NULL},
    .coupons = {&coupon_ops, NULL},
    .orders = {&orders_ops, NULL},
    .idempotency = {&idem_ops, NULL},
    .events = {&events_ops, NULL},
    .presenter = {&presenter_ops, NULL},
    .max_attempts = 3,
};

static const struct order_item one_item[] = {{3, 2}}; /* 2 × 3000 = 6000 */

static struct place_order_cmd cmd_of(const struct order_item *items, size_t n, int64_t coupon)
{
    return (struct place_order_cmd){.user_id = 7,
                                    .items = items,
                                    .n_items = n,
                                    .coupon_id = coupon,
                                    .idempotency_key = "key-1"};
}

/* Expectations for: begin, claim (new), savepoint. */
static void expect_start(void)
{
    expect_function_call(tx_begin);
    expect_function_call(idem_claim);
    expect_string(idem_claim, key, "key-1");
    will_return(idem_claim, ERR_OK);
    will_return(idem_claim, false);
    expect_function_call(tx_savepoint);
}

static void expect_take_one(enum err_code rc)
{
    expect_function_call(stock_take);
    expect_value(stock_take, n, 1);
    expect_value(stock_take, lines[i].product_id, 3);
    expect_value(stock_take, lines[i].quantity, 2);
    will_return(stock_take, rc);
}

static void expect_save(int64_t total, enum err_code rc)
{
    expect_function_call(orders_save);
    expect_value(orders_save, o->total, total);
    will_return(orders_save, rc);
}

static void expect_pay(int64_t amount, enum err_code rc)
{
    expect_function_call(balance_pay);
    expect_value(balance_pay, user_id, 7);
    expect_value(balance_pay, amount, amount);
    expect_value(balance_pay, order_id, 42);
    will_return(balance_pay, rc);
}

/* A refusal: back to the savepoint, record it, commit. */
static void expect_refusal_recorded(int status, const char *code)
{
    expect_function_call(tx_rollback_to_savepoint);
    expect_function_call(idem_record);
    expect_value(idem_record, status, status);
    expect_string(idem_record, body, code);
    expect_function_call(tx_commit);
    will_return(tx_commit, ERR_OK);
}

/* After payment: event written, outcome recorded, commit (answering commit_rc). */
static void expect_paid_then_commit(enum err_code commit_rc)
{
    expect_function_call(events_publish);
    expect_string(events_publish, type, "ORDER_PAID");
    expect_function_call(idem_record);
    expect_value(idem_record, status, 201);
    expect_string(idem_record, body, "ORDER");
    expect_function_call(tx_commit);
    will_return(tx_commit, commit_rc);
}

/* ... and a successful commit, after which (only) the event is announced. */
static void expect_paid_and_committed(void)
{
    expect_paid_then_commit(ERR_OK);
    expect_function_call(events_committed);
    expect_string(events_committed, type, "ORDER_PAID");
}

static void expect_failure_rolled_back(bool retryable)
{
    expect_function_call(tx_retryable);
    will_return(tx_retryable, retryable);
    expect_function_call(tx_rollback);
}

static void place__success__steps_in_order_and_event_announced_after_commit(void **state)
{
    (void)state;
    expect_start();
    expect_take_one(ERR_OK);
    expect_save(6000, ERR_OK);
    expect_pay(6000, ERR_OK);
    expect_paid_and_committed();

    struct place_order_cmd cmd = cmd_of(one_item, 1, 0);
    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_OK);
    assert_int_equal(out.status, 201);
    assert_string_equal(out.body, "ORDER");
    assert_false(out.replayed);
    order_result_cleanup(&out);
}

static void place__repeated_products__merged_and_sorted_for_stock(void **state)
{
    (void)state;
    const struct order_item items[] = {{9, 1}, {3, 2}, {9, 4}};
    expect_start();
    expect_function_call(stock_take);
    expect_value(stock_take, n, 2);
    expect_value(stock_take, lines[i].product_id, 3);
    expect_value(stock_take, lines[i].quantity, 2);
    expect_value(stock_take, lines[i].product_id, 9);
    expect_value(stock_take, lines[i].quantity, 5);
    will_return(stock_take, ERR_OK);
    /* prices are the stock port's (catalogue), never the client's: 2×3000 + 5×9000 */
    expect_save(51000, ERR_OK);
    expect_pay(51000, ERR_OK);
    expect_paid_and_committed();

    struct place_order_cmd cmd = cmd_of(items, 3, 0);
    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_OK);
    order_result_cleanup(&out);
}

static void place__out_of_stock__nothing_after_runs_and_refusal_recorded(void **state)
{
    (void)state;
    expect_start();
    expect_take_one(ERR_OUT_OF_STOCK);
    expect_refusal_recorded(409, "OUT_OF_STOCK");

    struct place_order_cmd cmd = cmd_of(one_item, 1, 0);
    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_OUT_OF_STOCK);
    assert_int_equal(e.product_id, 3);
    assert_null(out.body);
}

static void place__coupon_not_usable__no_order_saved(void **state)
{
    (void)state;
    expect_start();
    expect_take_one(ERR_OK);
    expect_function_call(coupon_use);
    expect_value(coupon_use, coupon_id, 17);
    will_return(coupon_use, ERR_COUPON_NOT_USABLE);
    expect_refusal_recorded(409, "COUPON_NOT_USABLE");

    struct place_order_cmd cmd = cmd_of(one_item, 1, 17);
    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_COUPON_NOT_USABLE);
}

static void place__coupon_discount__charged_total_is_reduced(void **state)
{
    (void)state;
    expect_start();
    expect_take_one(ERR_OK);
    expect_function_call(coupon_use);
    expect_value(coupon_use, coupon_id, 17);
    will_return(coupon_use, ERR_OK);
    will_return(coupon_use, (int64_t)2500);
    expect_save(3500, ERR_OK);
    expect_pay(3500, ERR_OK);
    expect_paid_and_committed();

    struct place_order_cmd cmd = cmd_of(one_item, 1, 17);
    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_OK);
    order_result_cleanup(&out);
}

static void place__insufficient_balance__no_event_published(void **state)
{
    (void)state;
    expect_start();
    expect_take_one(ERR_OK);
    expect_save(6000, ERR_OK);
    expect_pay(6000, ERR_INSUFFICIENT_BALANCE);
    expect_refusal_recorded(409, "INSUFFICIENT_BALANCE");

    struct place_order_cmd cmd = cmd_of(one_item, 1, 0);
    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_INSUFFICIENT_BALANCE);
}

static void place__repository_error__rolls_back_and_records_nothing(void **state)
{
    (void)state;
    expect_start();
    expect_take_one(ERR_OK);
    expect_save(6000, ERR_UNAVAILABLE);
    expect_failure_rolled_back(false);

    struct place_order_cmd cmd = cmd_of(one_item, 1, 0);
    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_UNAVAILABLE);
}

static void place__commit_error__rolls_back_and_announces_nothing(void **state)
{
    (void)state;
    expect_start();
    expect_take_one(ERR_OK);
    expect_save(6000, ERR_OK);
    expect_pay(6000, ERR_OK);
    expect_paid_then_commit(ERR_INTERNAL);
    expect_failure_rolled_back(false);

    struct place_order_cmd cmd = cmd_of(one_item, 1, 0);
    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_INTERNAL);
    assert_null(out.body);
}

static void place__deadlock__whole_transaction_retried(void **state)
{
    (void)state;
    expect_start();
    expect_take_one(ERR_OK);
    expect_save(6000, ERR_OK);
    expect_pay(6000, ERR_UNAVAILABLE);
    expect_failure_rolled_back(true);
    /* second attempt, from the start */
    expect_start();
    expect_take_one(ERR_OK);
    expect_save(6000, ERR_OK);
    expect_pay(6000, ERR_OK);
    expect_paid_and_committed();

    struct place_order_cmd cmd = cmd_of(one_item, 1, 0);
    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_OK);
    order_result_cleanup(&out);
}

static void place__replay__first_outcome_and_nothing_taken(void **state)
{
    (void)state;
    expect_function_call(tx_begin);
    expect_function_call(idem_claim);
    expect_string(idem_claim, key, "key-1");
    will_return(idem_claim, ERR_OK);
    will_return(idem_claim, true);
    expect_function_call(tx_rollback);

    struct place_order_cmd cmd = cmd_of(one_item, 1, 0);
    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_OK);
    assert_true(out.replayed);
    assert_int_equal(out.status, 201);
    assert_string_equal(out.body, "{\"stored\":true}");
    order_result_cleanup(&out);
}

static void place__key_in_progress__refused_and_nothing_recorded(void **state)
{
    (void)state;
    expect_function_call(tx_begin);
    expect_function_call(idem_claim);
    expect_string(idem_claim, key, "key-1");
    will_return(idem_claim, ERR_REQUEST_IN_PROGRESS);
    expect_failure_rolled_back(false);

    struct place_order_cmd cmd = cmd_of(one_item, 1, 0);
    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_REQUEST_IN_PROGRESS);
}

static void place__invalid_requests__no_port_touched(void **state)
{
    (void)state;
    struct order_result out;
    struct err e;
    struct place_order_cmd cmd = cmd_of(one_item, 1, 0);
    cmd.idempotency_key = NULL;
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_IDEMPOTENCY_KEY_REQUIRED);
    cmd.idempotency_key = "bad\nkey";
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_IDEMPOTENCY_KEY_REQUIRED);
    cmd = cmd_of(one_item, 0, 0);
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_INVALID_REQUEST);
    const struct order_item zero[] = {{3, 0}};
    cmd = cmd_of(zero, 1, 0);
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_INVALID_REQUEST);
    const struct order_item too_many[] = {{3, 1001}};
    cmd = cmd_of(too_many, 1, 0);
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_INVALID_REQUEST);
    cmd = cmd_of(one_item, 1, 0);
    cmd.user_id = 0;
    assert_int_equal(place_order(&deps, &cmd, &out, &e), ERR_INVALID_REQUEST);
}

static void expect_order_read(enum err_code rc)
{
    expect_function_call(orders_get);
    expect_value(orders_get, id, 42);
    will_return(orders_get, rc);
}

static void cancel__gives_everything_back_then_announces(void **state)
{
    (void)state;
    expect_order_read(ERR_OK);
    expect_function_call(tx_begin);
    expect_function_call(orders_cancel);
    expect_value(orders_cancel, id, 42);
    will_return(orders_cancel, ERR_OK);
    will_return(orders_cancel, (int64_t)17);
    expect_function_call(stock_give_back);
    expect_value(stock_give_back, n, 1);
    expect_function_call(coupon_release);
    expect_value(coupon_release, coupon_id, 17);
    expect_function_call(balance_refund);
    expect_value(balance_refund, user_id, 7);
    expect_value(balance_refund, amount, 5000);
    expect_value(balance_refund, order_id, 42);
    expect_function_call(events_publish);
    expect_string(events_publish, type, "ORDER_CANCELLED");
    expect_function_call(tx_commit);
    will_return(tx_commit, ERR_OK);
    expect_function_call(events_committed);
    expect_string(events_committed, type, "ORDER_CANCELLED");

    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(cancel_order(&deps, 42, &out, &e), ERR_OK);
    assert_int_equal(out.status, 200);
    order_result_cleanup(&out);
}

static void cancel__not_cancellable__nothing_given_back(void **state)
{
    (void)state;
    expect_order_read(ERR_OK);
    expect_function_call(tx_begin);
    expect_function_call(orders_cancel);
    expect_value(orders_cancel, id, 42);
    will_return(orders_cancel, ERR_ORDER_NOT_CANCELLABLE);
    expect_failure_rolled_back(false);

    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(cancel_order(&deps, 42, &out, &e), ERR_ORDER_NOT_CANCELLABLE);
    assert_int_equal(cancel_order(&deps, 0, &out, &e), ERR_ORDER_NOT_FOUND);
    expect_order_read(ERR_ORDER_NOT_FOUND); /* unknown order: nothing else, not even a lock */
    assert_int_equal(cancel_order(&deps, 42, &out, &e), ERR_ORDER_NOT_FOUND);
}

static void place__user_lock_around_the_whole_transaction(void **state)
{
    (void)state;
    struct order_deps locked = deps;
    locked.locks = (struct lock_port){&lock_ops, NULL};
    expect_function_call(lock_acquire);
    expect_string(lock_acquire, key, "user:7");
    will_return(lock_acquire, ERR_OK);
    expect_start();
    expect_take_one(ERR_OK);
    expect_save(6000, ERR_OK);
    expect_pay(6000, ERR_OK);
    expect_paid_and_committed();
    expect_function_call(lock_release);
    expect_string(lock_release, key, "user:7");

    struct place_order_cmd cmd = cmd_of(one_item, 1, 0);
    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(place_order(&locked, &cmd, &out, &e), ERR_OK);
    order_result_cleanup(&out);
}

static void place__lock_wait_times_out__nothing_else_runs(void **state)
{
    (void)state;
    struct order_deps locked = deps;
    locked.locks = (struct lock_port){&lock_ops, NULL};
    expect_function_call(lock_acquire);
    expect_string(lock_acquire, key, "user:7");
    will_return(lock_acquire, ERR_UNAVAILABLE);

    struct place_order_cmd cmd = cmd_of(one_item, 1, 0);
    struct order_result out;
    struct err e;
    err_clear(&e);
    assert_int_equal(place_order(&locked, &cmd, &out, &e), ERR_UNAVAILABLE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(place__success__steps_in_order_and_event_announced_after_commit),
        cmocka_unit_test(place__repeated_products__merged_and_sorted_for_stock),
        cmocka_unit_test(place__out_of_stock__nothing_after_runs_and_refusal_recorded),
        cmocka_unit_test(place__coupon_not_usable__no_order_saved),
        cmocka_unit_test(place__coupon_discount__charged_total_is_reduced),
        cmocka_unit_test(place__insufficient_balance__no_event_published),
        cmocka_unit_test(place__repository_error__rolls_back_and_records_nothing),
        cmocka_unit_test(place__commit_error__rolls_back_and_announces_nothing),
        cmocka_unit_test(place__deadlock__whole_transaction_retried),
        cmocka_unit_test(place__replay__first_outcome_and_nothing_taken),
        cmocka_unit_test(place__key_in_progress__refused_and_nothing_recorded),
        cmocka_unit_test(place__invalid_requests__no_port_touched),
        cmocka_unit_test(place__user_lock_around_the_whole_transaction),
        cmocka_unit_test(place__lock_wait_times_out__nothing_else_runs),
        cmocka_unit_test(cancel__gives_everything_back_then_announces),
        cmocka_unit_test(cancel__not_cancellable__nothing_given_back),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
