/*
 * test_place_order.c — the order use cases with EVERY port mocked (cmocka).
 * Only the use cases' own logic is under test: the order of steps, what runs
 * after a failure (nothing), rollback, what is recorded for replay, and that
 * the event is announced only after commit. expect_function_call() makes
 * cmocka fail on any call out of order or not expected.
 *
 * The ports are pipelined (ports.h): QUEUED calls only send work and their
 * outputs are valid after the next tx.flush/tx.commit. The mocks fill their
 * outputs at once, as if that flush had already run; tx.flush and tx.commit
 * answer the err_code the test gives (will_return), and so does
 * tx.last_failure_retryable (a bool). The use case must not read an output
 * before the flush that fills it: the enforced call order checks that.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "order/app/cancel_order.h"
#include "order/app/place_order.h"
#include "order/app/read_orders.h"

enum { USER = 7, ORDER_ID = 42, COUPON = 17 };
static const int64_t CREATED_AT = 1700000000;
static const char KEY[] = "key-1";
static const char LOCK_KEY[] = "user:7";
static const char LOCK_TOKEN[] = "tok-1";

/* ---- tx: flush, commit and last_failure_retryable answer what the test says ---- */
static enum err_code tx_begin(void *self, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    return ERR_OK;
}
static enum err_code tx_flush(void *self, struct err *e)
{
    (void)self;
    function_called();
    enum err_code rc = mock_type(enum err_code);
    return rc ? err_set(e, rc, "flush failed") : ERR_OK;
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
static const struct tx_port_ops tx_ops = {
    .begin = tx_begin,
    .flush = tx_flush,
    .commit = tx_commit,
    .rollback = tx_rollback,
    .last_failure_retryable = tx_retryable,
};

/* ---- stock: quote prices each line at (price per id) × product id, names it "product <id>" ----
 */
static enum err_code stock_quote(void *self, struct order_line *lines, size_t n,
                                 struct err *refusal, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    check_expected(n);
    int64_t price_per_id = mock_type(int64_t);
    for (size_t i = 0; i < n; i++) {
        check_expected(lines[i].product_id);
        check_expected(lines[i].quantity);
        lines[i].unit_price = price_per_id * lines[i].product_id;
        snprintf(lines[i].name, sizeof(lines[i].name), "product %lld",
                 (long long)lines[i].product_id);
    }
    err_clear(refusal);
    enum err_code code = mock_type(enum err_code);
    if (code != ERR_OK) {
        err_set(refusal, code, "product refused");
        refusal->product_id = mock_type(int64_t);
    }
    return ERR_OK;
}
/* In a stock mock: checks n and each line's product and quantity against what the test expects
 * of that mock (a macro: check_expected names the function it stands in). */
#define CHECK_EXPECTED_LINES(lines, n)                                                             \
    do {                                                                                           \
        check_expected(n);                                                                         \
        for (size_t i = 0; i < (n); i++) {                                                         \
            check_expected(lines[i].product_id);                                                   \
            check_expected(lines[i].quantity);                                                     \
        }                                                                                          \
    } while (0)

static enum err_code stock_take(void *self, const struct order_line *lines, size_t n, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    CHECK_EXPECTED_LINES(lines, n);
    for (size_t i = 0; i < n; i++)
        check_expected(lines[i].unit_price);
    return ERR_OK;
}
static enum err_code stock_give_back(void *self, const struct order_line *lines, size_t n,
                                     int64_t sold_at, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    CHECK_EXPECTED_LINES(lines, n);
    check_expected(sold_at);
    return ERR_OK;
}
static const struct stock_port_ops stock_ops = {
    .quote = stock_quote,
    .take = stock_take,
    .give_back = stock_give_back,
};

/* ---- balance: pay can fail at once (a QUEUED call that cannot even be sent) ---- */
static enum err_code balance_read(void *self, int64_t user_id, bool *exists, int64_t *balance,
                                  struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    check_expected(user_id);
    *exists = mock_type(bool);
    *balance = mock_type(int64_t);
    return ERR_OK;
}
static enum err_code balance_pay(void *self, int64_t user_id, int64_t amount, int64_t order_id,
                                 struct err *e)
{
    (void)self;
    function_called();
    check_expected(user_id);
    check_expected(amount);
    check_expected(order_id);
    enum err_code rc = mock_type(enum err_code);
    return rc ? err_set(e, rc, "pay could not be queued") : ERR_OK;
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
static const struct balance_port_ops balance_ops = {
    .read = balance_read,
    .pay = balance_pay,
    .refund = balance_refund,
};

/* ---- coupons ---- */
static enum err_code coupon_quote(void *self, int64_t user_id, int64_t coupon_id, bool *usable,
                                  struct coupon_discount *out, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    check_expected(user_id);
    check_expected(coupon_id);
    *usable = mock_type(bool);
    if (*usable) {
        out->type = mock_type(enum order_discount_type);
        out->value = mock_type(int64_t);
    }
    return ERR_OK;
}
static enum err_code coupon_use(void *self, int64_t user_id, int64_t coupon_id, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    check_expected(user_id);
    check_expected(coupon_id);
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
static const struct coupon_port_ops coupon_ops = {
    .quote = coupon_quote,
    .use = coupon_use,
    .release = coupon_release,
};

/* ---- orders ---- */
static enum err_code orders_reserve(void *self, struct order *o, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    o->id = mock_type(int64_t);
    o->created_at = CREATED_AT;
    return ERR_OK;
}
static enum err_code orders_save(void *self, const struct order *o, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    check_expected(o->id);
    check_expected(o->user_id);
    check_expected(o->status);
    check_expected(o->coupon_id);
    check_expected(o->created_at);
    check_expected(o->n_lines);
    check_expected(o->subtotal);
    check_expected(o->discount);
    check_expected(o->total);
    return ERR_OK;
}
/* A stored order: one line of product 3 × 2 at 3000, total 6000 less its discount. */
static void fill_stored_order(struct order *o, int64_t id, int64_t coupon_id, int64_t total)
{
    assert_true(order_reserve_lines(o, 1));
    o->n_lines = 1;
    o->lines[0] = (struct order_line){
        .product_id = 3, .name = "product 3", .unit_price = 3000, .quantity = 2, .amount = 6000};
    o->id = id;
    o->user_id = USER;
    o->status = ORDER_PAID;
    o->subtotal = 6000;
    o->discount = 6000 - total;
    o->total = total;
    o->coupon_id = coupon_id;
    o->created_at = CREATED_AT;
}
static enum err_code orders_cancel(void *self, int64_t id, struct order *out, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    check_expected(id);
    int64_t coupon_id = mock_type(int64_t);
    fill_stored_order(out, id, coupon_id, coupon_id ? 5000 : 6000);
    out->status = ORDER_CANCELLED;
    return ERR_OK;
}
/* read outside any transaction: fills nothing when it fails */
static enum err_code orders_get(void *self, int64_t id, struct order *out, struct err *e)
{
    (void)self;
    function_called();
    check_expected(id);
    enum err_code rc = mock_type(enum err_code);
    if (rc)
        return err_set(e, rc, "no such order");
    fill_stored_order(out, id, 0, 6000);
    return ERR_OK;
}
/* fills `filled` orders (ids 100, 99, ...) with their lines, then answers rc */
static enum err_code orders_list(void *self, int64_t user_id, size_t limit, struct order *out,
                                 size_t *n, struct err *e)
{
    (void)self;
    function_called();
    check_expected(user_id);
    check_expected(limit);
    size_t filled = mock_type(size_t);
    for (size_t i = 0; i < filled; i++)
        fill_stored_order(&out[i], 100 - (int64_t)i, 0, 6000);
    *n = filled;
    enum err_code rc = mock_type(enum err_code);
    return rc ? err_set(e, rc, "list failed") : ERR_OK;
}
static const struct order_repo_ops orders_ops = {
    .reserve = orders_reserve,
    .save = orders_save,
    .cancel = orders_cancel,
    .get = orders_get,
    .list_by_user = orders_list,
};

/* ---- idempotency ---- */
enum claim_kind { CLAIM_NEW, CLAIM_BUSY, CLAIM_REUSED, CLAIM_REPLAY };

/* In an idempotency mock: checks the user, scope and key it was called with (a macro:
 * check_expected names the function it stands in). */
#define CHECK_EXPECTED_KEY()                                                                       \
    do {                                                                                           \
        check_expected(user_id);                                                                   \
        check_expected(scope);                                                                     \
        check_expected(key);                                                                       \
    } while (0)

static enum err_code idem_claim(void *self, int64_t user_id, const char *scope, const char *key,
                                struct idempotency_claim *claim, struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    CHECK_EXPECTED_KEY();
    check_expected(claim->fingerprint);
    enum claim_kind kind = mock_type(enum claim_kind);
    claim->locked = kind != CLAIM_BUSY;
    claim->found = kind == CLAIM_REUSED || kind == CLAIM_REPLAY;
    claim->same_request = kind == CLAIM_REPLAY;
    if (kind == CLAIM_REPLAY) {
        claim->stored.status = mock_type(int);
        claim->stored.body = strdup(mock_ptr_type(const char *));
        assert_non_null(claim->stored.body);
    }
    return ERR_OK;
}
static enum err_code idem_record(void *self, int64_t user_id, const char *scope, const char *key,
                                 const char *fingerprint, const struct recorded_outcome *outcome,
                                 struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    CHECK_EXPECTED_KEY();
    check_expected(fingerprint);
    check_expected(outcome->status);
    check_expected(outcome->body);
    return ERR_OK;
}
static const struct idempotency_port_ops idem_ops = {
    .claim = idem_claim,
    .record = idem_record,
};

/* ---- events ---- */
static enum err_code events_publish(void *self, const char *type, const struct order *o,
                                    struct err *e)
{
    (void)self;
    (void)e;
    function_called();
    check_expected(type);
    check_expected(o->id);
    return ERR_OK;
}
static const struct event_port_ops events_ops = {
    .publish = events_publish,
};

/* ---- after commit ---- */
static void events_committed(void *self, const char *type, const struct order *o)
{
    (void)self;
    function_called();
    check_expected(type);
    check_expected(o->id);
}
static const struct order_notify_ops notify_ops = {
    .committed = events_committed,
};

/* ---- presenter: placed → 201 "placed <id>" (or OOM); refused → status and code string ---- */
static bool presenter_placed(void *self, const struct order *o, struct recorded_outcome *out)
{
    (void)self;
    function_called();
    check_expected(o->id);
    check_expected(o->total);
    if (!mock_type(bool))
        return false;
    out->status = 201;
    out->body = malloc(32);
    assert_non_null(out->body);
    snprintf(out->body, 32, "placed %lld", (long long)o->id);
    return true;
}
static bool presenter_refused(void *self, const struct err *e, struct recorded_outcome *out)
{
    (void)self;
    function_called();
    check_expected(e->code);
    check_expected(e->product_id);
    out->status = err_http_status(e->code);
    out->body = strdup(err_code_str(e->code));
    return out->body != NULL;
}
static const struct order_presenter_ops presenter_ops = {
    .placed = presenter_placed,
    .refused = presenter_refused,
};

/* ---- per-user lock ---- */
static enum err_code lock_acquire(void *self, const char *key, char token[LOCK_TOKEN_LEN],
                                  bool *held, struct err *e)
{
    (void)self;
    function_called();
    check_expected(key);
    strcpy(token, LOCK_TOKEN);
    enum err_code rc = mock_type(enum err_code);
    *held = mock_type(bool);
    return rc ? err_set(e, rc, "lock busy") : ERR_OK;
}
static void lock_release(void *self, const char *key, const char *token)
{
    (void)self;
    function_called();
    check_expected(key);
    check_expected(token);
}
static const struct lock_port_ops lock_ops = {.acquire = lock_acquire, .release = lock_release};

/* A lock port that can also take the lock in two halves (overlapped with the reads). */
static void lock_start(void *self, const char *key, char token[LOCK_TOKEN_LEN])
{
    (void)self;
    function_called();
    check_expected(key);
    strcpy(token, LOCK_TOKEN);
}
static void lock_finish(void *self, const char *key, const char *token, bool *held, bool *contended)
{
    (void)self;
    function_called();
    check_expected(key);
    check_expected(token);
    *held = mock_type(bool);
    *contended = mock_type(bool);
}
static const struct lock_port_ops split_lock_ops = {.acquire = lock_acquire,
                                                    .release = lock_release,
                                                    .acquire_start = lock_start,
                                                    .acquire_finish = lock_finish};

/* No lock port (locks.ops NULL): no lock calls at all. */
static const struct order_deps deps = {
    .tx = {&tx_ops, NULL},
    .stock = {&stock_ops, NULL},
    .balance = {&balance_ops, NULL},
    .coupons = {&coupon_ops, NULL},
    .orders = {&orders_ops, NULL},
    .idempotency = {&idem_ops, NULL},
    .events = {&events_ops, NULL},
    .notify = {&notify_ops, NULL},
    .presenter = {&presenter_ops, NULL},
    .max_attempts = 3,
};

static struct order_deps deps_with_lock(void)
{
    struct order_deps d = deps;
    d.locks = (struct lock_port){&lock_ops, NULL};
    return d;
}

static struct order_deps deps_with_split_lock(void)
{
    struct order_deps d = deps;
    d.locks = (struct lock_port){&split_lock_ops, NULL};
    return d;
}

/* ---- what one attempt reads ---- */

static const struct order_item one_item[] = {{3, 2}}; /* 2 × 3000 = 6000 */

struct reads {
    int64_t coupon_id;              /* 0: no coupon quoted */
    const struct order_item *lines; /* the merged lines the stock port sees, ascending */
    size_t n_lines;
    const char *fingerprint;
    int64_t price_per_id; /* unit price = price_per_id × product id */
    enum err_code stock_refusal;
    int64_t refused_product;
    bool coupon_usable;
    struct coupon_discount coupon;
    bool user_exists;
    int64_t balance;
    int64_t order_id; /* what reserve hands out */
};

/* One line (3 × 2 at 3000 = 6000), no coupon, a user with 10000. */
static struct reads plain_reads(void)
{
    return (struct reads){.lines = one_item,
                          .n_lines = 1,
                          .fingerprint = "u=7;c=0;i=3x2",
                          .price_per_id = 1000,
                          .user_exists = true,
                          .balance = 10000,
                          .order_id = ORDER_ID};
}

/* The same with coupon 17, usable, FIXED value off. */
static struct reads coupon_reads(int64_t value)
{
    struct reads r = plain_reads();
    r.coupon_id = COUPON;
    r.fingerprint = "u=7;c=17;i=3x2";
    r.coupon_usable = true;
    r.coupon = (struct coupon_discount){ORDER_DISCOUNT_FIXED, value};
    return r;
}

static struct place_order_cmd cmd_of(const struct order_item *items, size_t n, int64_t coupon)
{
    return (struct place_order_cmd){
        .user_id = USER, .items = items, .n_items = n, .coupon_id = coupon, .idempotency_key = KEY};
}

static void expect_lock(enum err_code rc, bool held)
{
    expect_function_call(lock_acquire);
    expect_string(lock_acquire, key, LOCK_KEY);
    will_return(lock_acquire, rc);
    will_return(lock_acquire, held);
}

static void expect_unlock(void)
{
    expect_function_call(lock_release);
    expect_string(lock_release, key, LOCK_KEY);
    expect_string(lock_release, token, LOCK_TOKEN);
}

static void expect_claim(const struct reads *r, enum claim_kind kind)
{
    expect_function_call(idem_claim);
    expect_value(idem_claim, user_id, USER);
    expect_string(idem_claim, scope, "order");
    expect_string(idem_claim, key, KEY);
    expect_string(idem_claim, claim->fingerprint, r->fingerprint);
    will_return(idem_claim, kind);
}

/* The first exchange, queued: begin, claim, stock quote, (coupon quote), balance read, reserve. */
static void expect_reads_claiming(const struct reads *r, enum claim_kind kind)
{
    expect_function_call(tx_begin);
    expect_claim(r, kind);
    if (kind == CLAIM_REPLAY) {
        will_return(idem_claim, 201);
        will_return(idem_claim, "{\"first\":true}");
    }
    expect_function_call(stock_quote);
    expect_value(stock_quote, n, r->n_lines);
    will_return(stock_quote, r->price_per_id);
    for (size_t i = 0; i < r->n_lines; i++) {
        expect_value(stock_quote, lines[i].product_id, r->lines[i].product_id);
        expect_value(stock_quote, lines[i].quantity, r->lines[i].quantity);
    }
    will_return(stock_quote, r->stock_refusal);
    if (r->stock_refusal != ERR_OK)
        will_return(stock_quote, r->refused_product);
    if (r->coupon_id) {
        expect_function_call(coupon_quote);
        expect_value(coupon_quote, user_id, USER);
        expect_value(coupon_quote, coupon_id, r->coupon_id);
        will_return(coupon_quote, r->coupon_usable);
        if (r->coupon_usable) {
            will_return(coupon_quote, r->coupon.type);
            will_return(coupon_quote, r->coupon.value);
        }
    }
    expect_function_call(balance_read);
    expect_value(balance_read, user_id, USER);
    will_return(balance_read, r->user_exists);
    will_return(balance_read, r->balance);
    expect_function_call(orders_reserve);
    will_return(orders_reserve, r->order_id);
}

static void expect_reads(const struct reads *r)
{
    expect_reads_claiming(r, CLAIM_NEW);
}

static void expect_flush(enum err_code rc)
{
    expect_function_call(tx_flush);
    will_return(tx_flush, rc);
}

static void expect_commit(enum err_code rc)
{
    expect_function_call(tx_commit);
    will_return(tx_commit, rc);
}

/* A failure: the use case asks whether it is worth a retry, then rolls back. */
static void expect_rolled_back(bool retryable)
{
    expect_function_call(tx_retryable);
    will_return(tx_retryable, retryable);
    expect_function_call(tx_rollback);
}

/* A failure that is not the store's (a key conflict, a bad total): rolled back, never retried. */
static void expect_rolled_back_unasked(void)
{
    expect_function_call(tx_rollback);
}

static int is_placed_body(const LargestIntegralType value, const LargestIntegralType order_id)
{
    char want[32];
    snprintf(want, sizeof(want), "placed %lld", (long long)order_id);
    const char *body = (const char *)(uintptr_t)value;
    if (body && strcmp(body, want) == 0)
        return 1;
    print_error("recorded body \"%s\" is not \"%s\"\n", body ? body : "(null)", want);
    return 0;
}

static void expect_record(const struct reads *r, int status)
{
    expect_function_call(idem_record);
    expect_value(idem_record, user_id, USER);
    expect_string(idem_record, scope, "order");
    expect_string(idem_record, key, KEY);
    expect_string(idem_record, fingerprint, r->fingerprint);
    expect_value(idem_record, outcome->status, status);
}

struct totals {
    int64_t subtotal;
    int64_t discount;
    int64_t total;
};

/* The order's presentation, then every write queued up to (not including) pay. */
static void expect_writes_before_pay(const struct reads *r, struct totals t)
{
    expect_function_call(presenter_placed);
    expect_value(presenter_placed, o->id, r->order_id);
    expect_value(presenter_placed, o->total, t.total);
    will_return(presenter_placed, true);
    expect_function_call(stock_take);
    expect_value(stock_take, n, r->n_lines);
    for (size_t i = 0; i < r->n_lines; i++) {
        expect_value(stock_take, lines[i].product_id, r->lines[i].product_id);
        expect_value(stock_take, lines[i].quantity, r->lines[i].quantity);
        /* at the price quoted in this attempt */
        expect_value(stock_take, lines[i].unit_price, r->price_per_id * r->lines[i].product_id);
    }
    if (r->coupon_id) {
        expect_function_call(coupon_use);
        expect_value(coupon_use, user_id, USER);
        expect_value(coupon_use, coupon_id, r->coupon_id);
    }
    expect_function_call(orders_save);
    expect_value(orders_save, o->id, r->order_id);
    expect_value(orders_save, o->user_id, USER);
    expect_value(orders_save, o->status, ORDER_PAID);
    expect_value(orders_save, o->coupon_id, r->coupon_id);
    expect_value(orders_save, o->created_at, CREATED_AT);
    expect_value(orders_save, o->n_lines, r->n_lines);
    expect_value(orders_save, o->subtotal, t.subtotal);
    expect_value(orders_save, o->discount, t.discount);
    expect_value(orders_save, o->total, t.total);
}

static void expect_pay(const struct reads *r, int64_t amount, enum err_code rc)
{
    expect_function_call(balance_pay);
    expect_value(balance_pay, user_id, USER);
    expect_value(balance_pay, amount, amount);
    expect_value(balance_pay, order_id, r->order_id);
    will_return(balance_pay, rc);
}

/* The second exchange, up to the commit (answering commit_rc). */
static void expect_writes_then_commit(const struct reads *r, struct totals t,
                                      enum err_code commit_rc)
{
    expect_writes_before_pay(r, t);
    expect_pay(r, t.total, ERR_OK);
    expect_function_call(events_publish);
    expect_string(events_publish, type, "ORDER_PAID");
    expect_value(events_publish, o->id, r->order_id);
    expect_record(r, 201);
    expect_check(idem_record, outcome->body, is_placed_body, r->order_id);
    expect_commit(commit_rc);
}

/* ... a commit that succeeds, after which (only) the event is announced. */
static void expect_placed(const struct reads *r, struct totals t)
{
    expect_writes_then_commit(r, t, ERR_OK);
    expect_function_call(events_committed);
    expect_string(events_committed, type, "ORDER_PAID");
    expect_value(events_committed, o->id, r->order_id);
}

/* The reads, their flush, then the order placed with totals t. */
static void expect_reads_then_placed(const struct reads *r, struct totals t)
{
    expect_reads(r);
    expect_flush(ERR_OK);
    expect_placed(r, t);
}

/* One whole attempt of the one-line order (6000, no coupon) whose commit a concurrent writer makes
 * fail (retryable): reads, flush, every write, the failed commit, the rollback. */
static void expect_attempt_lost_at_commit(const struct reads *r)
{
    expect_reads(r);
    expect_flush(ERR_OK);
    expect_writes_then_commit(r, (struct totals){6000, 0, 6000}, ERR_UNAVAILABLE);
    expect_rolled_back(true);
}

/* A refusal: presented, recorded under the key, committed (answering commit_rc); nothing taken. */
static void expect_refusal_recorded(const struct reads *r, enum err_code code, int64_t product_id,
                                    enum err_code commit_rc)
{
    expect_function_call(presenter_refused);
    expect_value(presenter_refused, e->code, code);
    expect_value(presenter_refused, e->product_id, product_id);
    expect_record(r, err_http_status(code));
    expect_string(idem_record, outcome->body, err_code_str(code));
    expect_commit(commit_rc);
}

static void assert_nothing_out(const struct place_order_outcome *out)
{
    assert_false(out->replayed);
    assert_null(out->order.lines);
    assert_int_equal(out->order.id, 0);
    assert_null(out->recorded.body);
}

/* order_place of cmd through d must return want and set e->code to want (e: NULL when the caller
 * does not look at it); on a failure nothing is handed out in *out. The caller owns *out on
 * ERR_OK (place_order_outcome_cleanup). */
static void place_expecting(const struct order_deps *d, struct place_order_cmd cmd,
                            enum err_code want, struct place_order_outcome *out, struct err *e)
{
    struct err local;
    if (!e)
        e = &local;
    err_clear(e);
    assert_int_equal(order_place(d, &cmd, out, e), want);
    assert_int_equal(e->code, want);
    if (want != ERR_OK)
        assert_nothing_out(out);
}

/* ================================ place_order ================================ */

static void place__success__steps_in_order_and_event_announced_after_commit(void **state)
{
    (void)state;
    struct reads r = plain_reads();
    expect_reads_then_placed(&r, (struct totals){6000, 0, 6000});

    struct place_order_outcome out;
    place_expecting(&deps, cmd_of(one_item, 1, 0), ERR_OK, &out, NULL);
    assert_false(out.replayed);
    /* what was recorded under the key is what the first answer sends */
    assert_int_equal(out.recorded.status, 201);
    char want[32];
    snprintf(want, sizeof(want), "placed %lld", (long long)ORDER_ID);
    assert_string_equal(out.recorded.body, want);
    assert_int_equal(out.order.id, ORDER_ID);
    assert_int_equal(out.order.user_id, USER);
    assert_int_equal(out.order.status, ORDER_PAID);
    assert_int_equal(out.order.created_at, CREATED_AT);
    assert_int_equal(out.order.coupon_id, 0);
    assert_int_equal(out.order.subtotal, 6000);
    assert_int_equal(out.order.discount, 0);
    assert_int_equal(out.order.total, 6000);
    assert_int_equal(out.order.n_lines, 1);
    assert_non_null(out.order.lines);
    assert_int_equal(out.order.lines[0].product_id, 3);
    assert_string_equal(out.order.lines[0].name, "product 3");
    assert_int_equal(out.order.lines[0].unit_price, 3000);
    assert_int_equal(out.order.lines[0].quantity, 2);
    assert_int_equal(out.order.lines[0].amount, 6000);
    place_order_outcome_cleanup(&out);
}

static void expect_lock_start(void)
{
    expect_function_call(lock_start);
    expect_string(lock_start, key, LOCK_KEY);
}

static void expect_lock_finish(bool held, bool contended)
{
    expect_function_call(lock_finish);
    expect_string(lock_finish, key, LOCK_KEY);
    expect_string(lock_finish, token, LOCK_TOKEN);
    will_return(lock_finish, held);
    will_return(lock_finish, contended);
}

static void place__repeated_products__merged_and_sorted_for_stock(void **state)
{
    (void)state;
    const struct order_item items[] = {{9, 1}, {3, 2}, {9, 4}};
    static const struct order_item merged[] = {{3, 2}, {9, 5}};
    struct reads r = plain_reads();
    r.lines = merged;
    r.n_lines = 2;
    r.fingerprint = "u=7;c=0;i=9x1,3x2,9x4"; /* the request as sent, not merged */
    r.balance = 51000;                       /* exactly the total: enough */
    /* prices are the stock port's (catalogue), never the client's: 2×3000 + 5×9000 */
    expect_reads_then_placed(&r, (struct totals){51000, 0, 51000});

    struct place_order_outcome out;
    place_expecting(&deps, cmd_of(items, 3, 0), ERR_OK, &out, NULL);
    assert_int_equal(out.order.n_lines, 2);
    assert_int_equal(out.order.lines[0].product_id, 3);
    assert_int_equal(out.order.lines[1].product_id, 9);
    assert_int_equal(out.order.lines[1].quantity, 5);
    assert_int_equal(out.order.lines[1].amount, 45000);
    assert_int_equal(out.order.total, 51000);
    place_order_outcome_cleanup(&out);
}

static void place__coupon__quoted_used_and_charged_total_reduced(void **state)
{
    (void)state;
    struct reads r = coupon_reads(2500);
    r.balance = 3500; /* exactly the discounted total */
    expect_reads_then_placed(&r, (struct totals){6000, 2500, 3500});

    struct place_order_outcome out;
    place_expecting(&deps, cmd_of(one_item, 1, COUPON), ERR_OK, &out, NULL);
    assert_int_equal(out.order.coupon_id, COUPON);
    assert_int_equal(out.order.subtotal, 6000);
    assert_int_equal(out.order.discount, 2500);
    assert_int_equal(out.order.total, 3500);
    place_order_outcome_cleanup(&out);
}

static void place__replay__first_outcome_and_nothing_written(void **state)
{
    (void)state;
    struct order_deps locked = deps_with_lock();
    struct reads r = plain_reads();
    expect_lock(ERR_OK, true);
    expect_reads_claiming(&r, CLAIM_REPLAY);
    expect_flush(ERR_OK);
    expect_function_call(tx_rollback); /* nothing to keep: not even the claim */
    expect_unlock();

    struct place_order_outcome out;
    place_expecting(&locked, cmd_of(one_item, 1, 0), ERR_OK, &out, NULL);
    assert_true(out.replayed);
    assert_int_equal(out.recorded.status, 201);
    assert_string_equal(out.recorded.body, "{\"first\":true}");
    assert_null(out.order.lines);
    place_order_outcome_cleanup(&out);
    assert_null(out.recorded.body);
}

/* The reads, then a refusal presented, recorded and committed . */
static void expect_refused(const struct reads *r, enum err_code code, int64_t product_id)
{
    expect_reads(r);
    expect_flush(ERR_OK);
    expect_refusal_recorded(r, code, product_id, ERR_OK);
}

/* Runs order_place on r's request expecting the refusal code (recorded and committed). */
static void place_refused(const struct reads *r, const struct place_order_cmd *cmd,
                          enum err_code code, int64_t product_id)
{
    expect_refused(r, code, product_id);
    struct place_order_outcome out;
    struct err e;
    place_expecting(&deps, *cmd, code, &out, &e);
    assert_int_equal(e.product_id, product_id);
}

static void place__out_of_stock__refusal_recorded_and_nothing_taken(void **state)
{
    (void)state;
    const struct order_item items[] = {{3, 2}, {9, 1}};
    struct reads r = plain_reads();
    r.lines = items;
    r.n_lines = 2;
    r.fingerprint = "u=7;c=0;i=3x2,9x1";
    r.stock_refusal = ERR_OUT_OF_STOCK;
    r.refused_product = 9;
    struct place_order_cmd cmd = cmd_of(items, 2, 0);
    place_refused(&r, &cmd, ERR_OUT_OF_STOCK, 9);
}

static void place__insufficient_balance__refusal_recorded_and_nothing_taken(void **state)
{
    (void)state;
    struct reads r = plain_reads();
    r.balance = 5999; /* one short of 6000 */
    struct place_order_cmd cmd = cmd_of(one_item, 1, 0);
    place_refused(&r, &cmd, ERR_INSUFFICIENT_BALANCE, 0);

    /* the balance is compared with the discounted total, not the subtotal */
    r = coupon_reads(1000);
    r.balance = 4999;
    cmd = cmd_of(one_item, 1, COUPON);
    place_refused(&r, &cmd, ERR_INSUFFICIENT_BALANCE, 0);
}

/* stock before coupon before user before balance, whatever else is wrong too */
static void place__refusals__stock_then_coupon_then_user_then_balance(void **state)
{
    (void)state;
    struct place_order_cmd cmd = cmd_of(one_item, 1, COUPON);
    struct reads r = coupon_reads(0);
    r.stock_refusal = ERR_OUT_OF_STOCK;
    r.refused_product = 3;
    r.coupon_usable = false;
    r.user_exists = false;
    r.balance = 0;
    place_refused(&r, &cmd, ERR_OUT_OF_STOCK, 3);

    r.stock_refusal = ERR_OK;
    place_refused(&r, &cmd, ERR_COUPON_NOT_USABLE, 0);

    r.coupon_usable = true;
    r.coupon = (struct coupon_discount){ORDER_DISCOUNT_FIXED, 100};
    place_refused(&r, &cmd, ERR_USER_NOT_FOUND, 0);

    r.user_exists = true;
    place_refused(&r, &cmd, ERR_INSUFFICIENT_BALANCE, 0);
}

/* A total that does not fit in int64: invalid, not a refusal, so nothing recorded. */
static void place__total_overflows__invalid_and_nothing_recorded(void **state)
{
    (void)state;
    static const struct order_item item[] = {{1, 2}};
    struct reads r = plain_reads();
    r.lines = item;
    r.fingerprint = "u=7;c=0;i=1x2";
    r.price_per_id = INT64_MAX / 2 + 1;
    expect_reads(&r);
    expect_flush(ERR_OK);
    expect_rolled_back_unasked();

    struct place_order_outcome out;
    struct err e;
    place_expecting(&deps, cmd_of(item, 1, 0), ERR_INVALID_REQUEST, &out, &e);
    assert_string_equal(e.field, "items");
}

static void place__race_at_commit__whole_attempt_runs_again_on_fresh_reads(void **state)
{
    (void)state;
    /* first attempt: a concurrent writer changed what was read, so the commit fails */
    struct reads first = plain_reads();
    expect_attempt_lost_at_commit(&first);
    /* second attempt, from begin: a new price, a new order id; decided on those */
    struct reads second = plain_reads();
    second.price_per_id = 1500;
    second.order_id = ORDER_ID + 1;
    expect_reads_then_placed(&second, (struct totals){9000, 0, 9000});

    struct place_order_outcome out;
    place_expecting(&deps, cmd_of(one_item, 1, 0), ERR_OK, &out, NULL);
    assert_int_equal(out.order.id, ORDER_ID + 1);
    assert_int_equal(out.order.total, 9000);
    assert_int_equal(out.order.lines[0].unit_price, 4500);
    place_order_outcome_cleanup(&out);
}

static void place__retries_stop_after_max_attempts(void **state)
{
    (void)state;
    struct order_deps two = deps;
    two.max_attempts = 2;
    struct reads r = plain_reads();
    for (int i = 0; i < 2; i++)
        expect_attempt_lost_at_commit(&r);

    struct place_order_outcome out;
    place_expecting(&two, cmd_of(one_item, 1, 0), ERR_UNAVAILABLE, &out, NULL);

    /* max_attempts below 1 still makes one attempt */
    two.max_attempts = 0;
    expect_reads(&r);
    expect_flush(ERR_UNAVAILABLE);
    expect_rolled_back(true);
    place_expecting(&two, cmd_of(one_item, 1, 0), ERR_UNAVAILABLE, &out, NULL);
}

static void place__invalid_requests__no_port_touched(void **state)
{
    (void)state;
    struct order_deps locked = deps_with_lock(); /* not even the lock */
    struct place_order_outcome out;
    struct err e;
    struct place_order_cmd cmd = cmd_of(one_item, 1, 0);

    cmd.idempotency_key = NULL;
    assert_int_equal(order_place(&locked, &cmd, &out, &e), ERR_IDEMPOTENCY_KEY_REQUIRED);
    assert_nothing_out(&out);
    cmd.idempotency_key = "";
    assert_int_equal(order_place(&locked, &cmd, &out, &e), ERR_IDEMPOTENCY_KEY_REQUIRED);
    cmd.idempotency_key = "bad\nkey";
    assert_int_equal(order_place(&locked, &cmd, &out, &e), ERR_IDEMPOTENCY_KEY_REQUIRED);
    char long_key[ORDER_KEY_MAX + 2];
    memset(long_key, 'k', sizeof(long_key) - 1);
    long_key[sizeof(long_key) - 1] = '\0';
    cmd.idempotency_key = long_key;
    assert_int_equal(order_place(&locked, &cmd, &out, &e), ERR_IDEMPOTENCY_KEY_REQUIRED);

    cmd = cmd_of(one_item, 1, 0);
    cmd.user_id = 0;
    assert_int_equal(order_place(&locked, &cmd, &out, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "user_id");
    cmd.user_id = -1;
    assert_int_equal(order_place(&locked, &cmd, &out, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "user_id");

    cmd = cmd_of(one_item, 1, -1);
    assert_int_equal(order_place(&locked, &cmd, &out, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "coupon_id");

    cmd = cmd_of(one_item, 0, 0);
    assert_int_equal(order_place(&locked, &cmd, &out, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "items");
    const struct order_item zero_quantity[] = {{3, 0}};
    cmd = cmd_of(zero_quantity, 1, 0);
    assert_int_equal(order_place(&locked, &cmd, &out, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "items");
    const struct order_item too_many_units[] = {{3, ORDER_MAX_LINE_QUANTITY + 1}};
    cmd = cmd_of(too_many_units, 1, 0);
    assert_int_equal(order_place(&locked, &cmd, &out, &e), ERR_INVALID_REQUEST);
    const struct order_item no_product[] = {{3, 1}, {0, 1}};
    cmd = cmd_of(no_product, 2, 0);
    assert_int_equal(order_place(&locked, &cmd, &out, &e), ERR_INVALID_REQUEST);
    struct order_item too_many_lines[ORDER_MAX_LINES + 1];
    for (size_t i = 0; i < ORDER_MAX_LINES + 1; i++)
        too_many_lines[i] = (struct order_item){(int64_t)i + 1, 1};
    cmd = cmd_of(too_many_lines, ORDER_MAX_LINES + 1, 0);
    assert_int_equal(order_place(&locked, &cmd, &out, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "items");
    assert_nothing_out(&out);
}

/* ---- the cases that differ only in their script and their outcome: one table, one runner ---- */

static void expect_user_lock_around_the_whole_transaction(void)
{
    struct reads r = plain_reads();
    expect_lock(ERR_OK, true);
    expect_reads_then_placed(&r, (struct totals){6000, 0, 6000});
    expect_unlock();
}

static void expect_lock_service_down_proceeds_and_releases_nothing(void)
{
    struct reads r = plain_reads();
    expect_lock(ERR_OK, false); /* fail open: not held, so nothing to release */
    expect_reads_then_placed(&r, (struct totals){6000, 0, 6000});
}

static void expect_lock_wait_times_out_nothing_else_runs(void)
{
    expect_lock(ERR_UNAVAILABLE, false);
}

/* The split lock sent, the reads (their flush answering flush_rc), then the lock's answer read
 * (held, contended). */
static void expect_split_lock_reads(const struct reads *r, enum err_code flush_rc, bool held,
                                    bool contended)
{
    expect_lock_start();
    expect_reads(r);
    expect_flush(flush_rc);
    expect_lock_finish(held, contended);
}

/* The lock's round trip rides with the reads: sent before BEGIN, its answer read before any write.
 */
static void expect_split_lock_sent_before_the_reads_answered_before_the_writes(void)
{
    struct reads r = plain_reads();
    expect_split_lock_reads(&r, ERR_OK, true, false);
    expect_placed(&r, (struct totals){6000, 0, 6000});
    expect_unlock();
}

/* Another request holds the lock: the reads are rolled back, the lock waited for, all again. */
static void expect_split_lock_contended_rolls_back_waits_and_starts_over(void)
{
    struct reads r = plain_reads();
    expect_split_lock_reads(&r, ERR_OK, false, true);
    expect_function_call(tx_rollback); /* nothing written, nothing asked of the store */
    expect_lock(ERR_OK, true);         /* the waiting acquire */
    expect_reads_then_placed(&r, (struct totals){6000, 0, 6000});
    expect_unlock();
}

/* ... and when that wait times out: 503, nothing written, nothing to release. */
static void expect_split_lock_contended_wait_times_out_nothing_written(void)
{
    struct reads r = plain_reads();
    expect_split_lock_reads(&r, ERR_OK, false, true);
    expect_function_call(tx_rollback);
    expect_lock(ERR_UNAVAILABLE, false);
}

/* The lock service does not answer: fail open, no release. */
static void expect_split_lock_unreachable_proceeds_and_releases_nothing(void)
{
    struct reads r = plain_reads();
    expect_split_lock_reads(&r, ERR_OK, false, false);
    expect_placed(&r, (struct totals){6000, 0, 6000});
}

/* The reads fail: the lock's answer is still read (never left behind), then released. */
static void expect_split_lock_reads_fail_answer_read_and_lock_released(void)
{
    struct reads r = plain_reads();
    expect_split_lock_reads(&r, ERR_UNAVAILABLE, true, false);
    expect_rolled_back(false);
    expect_unlock();
}

/* What place_order.c does: pay is queued with amount 0 (the port writes nothing for 0). */
static void expect_coupon_covers_everything_pay_still_called_with_zero(void)
{
    struct reads r = coupon_reads(10000); /* FIXED above the subtotal: capped at 6000 */
    r.balance = 0;
    expect_reads_then_placed(&r, (struct totals){6000, 6000, 0});
}

/* The reads with the key's claim answering kind, then a rollback without asking the store. */
static void expect_claim_refused(enum claim_kind kind)
{
    struct reads r = plain_reads();
    expect_reads_claiming(&r, kind);
    expect_flush(ERR_OK);
    expect_rolled_back_unasked();
}

static void expect_key_in_progress_refused_and_nothing_recorded(void)
{
    expect_claim_refused(CLAIM_BUSY);
}

static void expect_key_reused_for_another_request_refused_and_nothing_recorded(void)
{
    expect_claim_refused(CLAIM_REUSED);
}

static void expect_race_then_fresh_reads_refuse_refusal_recorded(void)
{
    struct reads first = plain_reads();
    expect_attempt_lost_at_commit(&first);
    /* the concurrent order took the last units */
    struct reads second = plain_reads();
    second.stock_refusal = ERR_OUT_OF_STOCK;
    second.refused_product = 3;
    expect_reads(&second);
    expect_flush(ERR_OK);
    expect_refusal_recorded(&second, ERR_OUT_OF_STOCK, 3, ERR_OK);
}

static void expect_retryable_failure_of_the_reads_retried(void)
{
    struct reads r = plain_reads();
    expect_reads(&r);
    expect_flush(ERR_UNAVAILABLE); /* deadlock on the key claim */
    expect_rolled_back(true);
    expect_reads_then_placed(&r, (struct totals){6000, 0, 6000});
}

static void expect_flush_fails_rolled_back_nothing_decided_or_recorded(void)
{
    struct reads r = plain_reads();
    expect_reads(&r);
    expect_flush(ERR_UNAVAILABLE);
    expect_rolled_back(false);
}

static void expect_commit_fails_rolled_back_and_nothing_announced(void)
{
    struct reads r = plain_reads();
    expect_reads(&r);
    expect_flush(ERR_OK);
    expect_writes_then_commit(&r, (struct totals){6000, 0, 6000}, ERR_UNAVAILABLE);
    expect_rolled_back(false);
}

static void expect_write_cannot_be_queued_nothing_after_it_runs(void)
{
    struct reads r = plain_reads();
    expect_reads(&r);
    expect_flush(ERR_OK);
    expect_writes_before_pay(&r, (struct totals){6000, 0, 6000});
    expect_pay(&r, 6000, ERR_UNAVAILABLE); /* connection gone while queueing */
    expect_rolled_back(false);
}

static void expect_outcome_cannot_be_presented_nothing_written(void)
{
    struct reads r = plain_reads();
    expect_reads(&r);
    expect_flush(ERR_OK);
    expect_function_call(presenter_placed);
    expect_value(presenter_placed, o->id, ORDER_ID);
    expect_value(presenter_placed, o->total, 6000);
    will_return(presenter_placed, false);
    expect_rolled_back(false);
}

static void expect_refusal_commit_fails_rolled_back_and_commit_error_returned(void)
{
    struct reads r = plain_reads();
    r.user_exists = false;
    expect_reads(&r);
    expect_flush(ERR_OK);
    expect_refusal_recorded(&r, ERR_USER_NOT_FOUND, 0, ERR_UNAVAILABLE);
    expect_rolled_back(false);
}

static void expect_refusal_commit_races_retried_and_decided_again(void)
{
    struct reads first = plain_reads();
    first.balance = 0;
    expect_reads(&first);
    expect_flush(ERR_OK);
    expect_refusal_recorded(&first, ERR_INSUFFICIENT_BALANCE, 0, ERR_UNAVAILABLE);
    expect_rolled_back(true);
    /* meanwhile the user was credited */
    struct reads second = plain_reads();
    expect_reads_then_placed(&second, (struct totals){6000, 0, 6000});
}

static void expect_product_not_found_refusal_recorded_with_its_product(void)
{
    struct reads r = plain_reads();
    r.stock_refusal = ERR_PRODUCT_NOT_FOUND;
    r.refused_product = 3;
    expect_refused(&r, ERR_PRODUCT_NOT_FOUND, 3);
}

static void expect_coupon_not_usable_refusal_recorded_and_nothing_taken(void)
{
    struct reads r = coupon_reads(0);
    r.coupon_usable = false;
    expect_refused(&r, ERR_COUPON_NOT_USABLE, 0);
}

static void expect_user_not_found_refusal_recorded_and_nothing_taken(void)
{
    struct reads r = plain_reads();
    r.user_exists = false;
    r.balance = 0;
    expect_refused(&r, ERR_USER_NOT_FOUND, 0);
}

enum lock_kind { NO_LOCK, WITH_LOCK, SPLIT_LOCK };

/*
 * One order_place run of the one-line request (cmd_of(one_item, 1, coupon)):
 * its script sets the port calls expected in order; then order_place must
 * return want (and e.code be want). ERR_OK: the order placed is order_id,
 * not replayed, with total. Otherwise e.product_id is refused_product and
 * nothing is handed out. Each row is its own cmocka test, named name.
 */
struct place_case {
    const char *name;
    enum lock_kind lock;
    void (*script)(void);
    int64_t coupon;
    enum err_code want;
    int64_t order_id, total, refused_product;
};

static const struct place_case place_cases[] = {
    {"place__user_lock_around_the_whole_transaction", WITH_LOCK,
     expect_user_lock_around_the_whole_transaction, 0, ERR_OK, ORDER_ID, 6000, 0},
    {"place__lock_service_down__proceeds_and_releases_nothing", WITH_LOCK,
     expect_lock_service_down_proceeds_and_releases_nothing, 0, ERR_OK, ORDER_ID, 6000, 0},
    {"place__lock_wait_times_out__nothing_else_runs", WITH_LOCK,
     expect_lock_wait_times_out_nothing_else_runs, 0, ERR_UNAVAILABLE, 0, 0, 0},
    {"place__split_lock__sent_before_the_reads_answered_before_the_writes", SPLIT_LOCK,
     expect_split_lock_sent_before_the_reads_answered_before_the_writes, 0, ERR_OK, ORDER_ID, 6000,
     0},
    {"place__split_lock_contended__rolls_back_waits_and_starts_over", SPLIT_LOCK,
     expect_split_lock_contended_rolls_back_waits_and_starts_over, 0, ERR_OK, ORDER_ID, 6000, 0},
    {"place__split_lock_contended_wait_times_out__nothing_written", SPLIT_LOCK,
     expect_split_lock_contended_wait_times_out_nothing_written, 0, ERR_UNAVAILABLE, 0, 0, 0},
    {"place__split_lock_unreachable__proceeds_and_releases_nothing", SPLIT_LOCK,
     expect_split_lock_unreachable_proceeds_and_releases_nothing, 0, ERR_OK, ORDER_ID, 6000, 0},
    {"place__split_lock_reads_fail__answer_read_and_lock_released", SPLIT_LOCK,
     expect_split_lock_reads_fail_answer_read_and_lock_released, 0, ERR_UNAVAILABLE, 0, 0, 0},
    {"place__coupon_covers_everything__pay_still_called_with_zero", NO_LOCK,
     expect_coupon_covers_everything_pay_still_called_with_zero, COUPON, ERR_OK, ORDER_ID, 0, 0},
    {"place__key_in_progress__refused_and_nothing_recorded", NO_LOCK,
     expect_key_in_progress_refused_and_nothing_recorded, 0, ERR_REQUEST_IN_PROGRESS, 0, 0, 0},
    {"place__key_reused_for_another_request__refused_and_nothing_recorded", NO_LOCK,
     expect_key_reused_for_another_request_refused_and_nothing_recorded, 0,
     ERR_IDEMPOTENCY_KEY_REUSED, 0, 0, 0},
    {"place__race_then_fresh_reads_refuse__refusal_recorded", NO_LOCK,
     expect_race_then_fresh_reads_refuse_refusal_recorded, 0, ERR_OUT_OF_STOCK, 0, 0, 3},
    {"place__retryable_failure_of_the_reads__retried", NO_LOCK,
     expect_retryable_failure_of_the_reads_retried, 0, ERR_OK, ORDER_ID, 6000, 0},
    {"place__flush_fails__rolled_back_nothing_decided_or_recorded", NO_LOCK,
     expect_flush_fails_rolled_back_nothing_decided_or_recorded, 0, ERR_UNAVAILABLE, 0, 0, 0},
    {"place__commit_fails__rolled_back_and_nothing_announced", NO_LOCK,
     expect_commit_fails_rolled_back_and_nothing_announced, 0, ERR_UNAVAILABLE, 0, 0, 0},
    {"place__write_cannot_be_queued__nothing_after_it_runs", NO_LOCK,
     expect_write_cannot_be_queued_nothing_after_it_runs, 0, ERR_UNAVAILABLE, 0, 0, 0},
    {"place__outcome_cannot_be_presented__nothing_written", NO_LOCK,
     expect_outcome_cannot_be_presented_nothing_written, 0, ERR_INTERNAL, 0, 0, 0},
    {"place__refusal_commit_fails__rolled_back_and_commit_error_returned", NO_LOCK,
     expect_refusal_commit_fails_rolled_back_and_commit_error_returned, 0, ERR_UNAVAILABLE, 0, 0,
     0},
    {"place__refusal_commit_races__retried_and_decided_again", NO_LOCK,
     expect_refusal_commit_races_retried_and_decided_again, 0, ERR_OK, ORDER_ID, 6000, 0},
    {"place__product_not_found__refusal_recorded_with_its_product", NO_LOCK,
     expect_product_not_found_refusal_recorded_with_its_product, 0, ERR_PRODUCT_NOT_FOUND, 0, 0, 3},
    {"place__coupon_not_usable__refusal_recorded_and_nothing_taken", NO_LOCK,
     expect_coupon_not_usable_refusal_recorded_and_nothing_taken, COUPON, ERR_COUPON_NOT_USABLE, 0,
     0, 0},
    {"place__user_not_found__refusal_recorded_and_nothing_taken", NO_LOCK,
     expect_user_not_found_refusal_recorded_and_nothing_taken, 0, ERR_USER_NOT_FOUND, 0, 0, 0},
};

static void run_place_case(void **state)
{
    const struct place_case *c = *state;
    struct order_deps d = c->lock == WITH_LOCK    ? deps_with_lock()
                          : c->lock == SPLIT_LOCK ? deps_with_split_lock()
                                                  : deps;
    c->script();
    struct place_order_outcome out;
    struct err e;
    place_expecting(&d, cmd_of(one_item, 1, c->coupon), c->want, &out, &e);
    if (c->want != ERR_OK) {
        assert_int_equal(e.product_id, c->refused_product);
        return;
    }
    assert_false(out.replayed);
    assert_int_equal(out.order.id, c->order_id);
    assert_int_equal(out.order.total, c->total);
    place_order_outcome_cleanup(&out);
}

/* ================================ cancel_order ================================ */

static void expect_order_read(enum err_code rc)
{
    expect_function_call(orders_get);
    expect_value(orders_get, id, ORDER_ID);
    will_return(orders_get, rc);
}

/* begin, the cancel with its read, the flush answering flush_rc */
static void expect_cancel_exchange(int64_t coupon_id, enum err_code flush_rc)
{
    expect_function_call(tx_begin);
    expect_function_call(orders_cancel);
    expect_value(orders_cancel, id, ORDER_ID);
    will_return(orders_cancel, coupon_id);
    expect_flush(flush_rc);
}

/* everything given back, in lock order, the event, the commit answering commit_rc */
static void expect_given_back(int64_t coupon_id, int64_t total, enum err_code commit_rc)
{
    expect_function_call(stock_give_back);
    expect_value(stock_give_back, n, 1);
    expect_value(stock_give_back, lines[i].product_id, 3);
    expect_value(stock_give_back, lines[i].quantity, 2);
    expect_value(stock_give_back, sold_at, CREATED_AT); /* out of that day's sales */
    if (coupon_id) {
        expect_function_call(coupon_release);
        expect_value(coupon_release, coupon_id, coupon_id);
    }
    expect_function_call(balance_refund);
    expect_value(balance_refund, user_id, USER);
    expect_value(balance_refund, amount, total);
    expect_value(balance_refund, order_id, ORDER_ID);
    expect_function_call(events_publish);
    expect_string(events_publish, type, "ORDER_CANCELLED");
    expect_value(events_publish, o->id, ORDER_ID);
    expect_commit(commit_rc);
}

/* One whole cancel attempt (coupon_id: the order's coupon, 0 for none) whose commit answers
 * commit_rc; on ERR_OK the event is announced after it, otherwise the rollback asks whether
 * it is worth a retry (retryable). */
static void expect_cancel_attempt(int64_t coupon_id, enum err_code commit_rc, bool retryable)
{
    expect_cancel_exchange(coupon_id, ERR_OK);
    expect_given_back(coupon_id, coupon_id ? 5000 : 6000, commit_rc);
    if (commit_rc != ERR_OK) {
        expect_rolled_back(retryable);
        return;
    }
    expect_function_call(events_committed);
    expect_string(events_committed, type, "ORDER_CANCELLED");
    expect_value(events_committed, o->id, ORDER_ID);
}

/* order_cancel of id through d must return want and set e.code to want; on a failure nothing is
 * handed out in *out. On ERR_OK the caller owns *out (order_cleanup). */
static void cancel_expecting(const struct order_deps *d, int64_t id, enum err_code want,
                             struct order *out)
{
    struct err e;
    err_clear(&e);
    assert_int_equal(order_cancel(d, id, 0, out, &e), want);
    assert_int_equal(e.code, want);
    if (want != ERR_OK)
        assert_null(out->lines);
}

/* A cancel that must succeed: the order handed out is ORDER_ID, cancelled; then freed. */
static void cancel_succeeds(const struct order_deps *d, int64_t coupon_id)
{
    struct order out;
    cancel_expecting(d, ORDER_ID, ERR_OK, &out);
    assert_int_equal(out.id, ORDER_ID);
    assert_int_equal(out.status, ORDER_CANCELLED);
    assert_int_equal(out.total, coupon_id ? 5000 : 6000);
    assert_int_equal(out.coupon_id, coupon_id);
    assert_int_equal(out.n_lines, 1);
    order_cleanup(&out);
}

static void cancel__gives_everything_back_then_announces(void **state)
{
    (void)state;
    struct order_deps locked = deps_with_lock();
    expect_order_read(ERR_OK); /* outside the transaction, to know whose lock */
    expect_lock(ERR_OK, true);
    expect_cancel_attempt(COUPON, ERR_OK, false);
    expect_unlock();
    cancel_succeeds(&locked, COUPON);
}

static void cancel__without_coupon__nothing_released(void **state)
{
    (void)state;
    expect_order_read(ERR_OK);
    expect_cancel_attempt(0, ERR_OK, false);
    cancel_succeeds(&deps, 0);
}

static void cancel__refused_at_flush__rolled_back_nothing_given_back(void **state)
{
    (void)state;
    struct order_deps locked = deps_with_lock();
    const enum err_code refusals[] = {ERR_ORDER_NOT_FOUND, ERR_ORDER_NOT_CANCELLABLE};
    for (size_t i = 0; i < 2; i++) {
        expect_order_read(ERR_OK);
        expect_lock(ERR_OK, true);
        expect_cancel_exchange(COUPON, refusals[i]); /* another cancel won */
        expect_rolled_back(false);
        expect_unlock();
        struct order out;
        cancel_expecting(&locked, ORDER_ID, refusals[i], &out);
    }
}

static void cancel__unknown_order__nothing_else_not_even_a_lock(void **state)
{
    (void)state;
    struct order_deps locked = deps_with_lock();
    struct order out;
    cancel_expecting(&locked, 0, ERR_ORDER_NOT_FOUND, &out);
    cancel_expecting(&locked, -3, ERR_ORDER_NOT_FOUND, &out);
    expect_order_read(ERR_ORDER_NOT_FOUND);
    cancel_expecting(&locked, ORDER_ID, ERR_ORDER_NOT_FOUND, &out);
}

static void cancel__lock_wait_times_out__no_transaction(void **state)
{
    (void)state;
    struct order_deps locked = deps_with_lock();
    expect_order_read(ERR_OK);
    expect_lock(ERR_UNAVAILABLE, false);
    struct order out;
    cancel_expecting(&locked, ORDER_ID, ERR_UNAVAILABLE, &out); /* the order read is freed */
}

static void cancel__race_at_commit__whole_cancel_runs_again(void **state)
{
    (void)state;
    expect_order_read(ERR_OK);
    expect_cancel_attempt(COUPON, ERR_UNAVAILABLE, true);
    expect_cancel_attempt(COUPON, ERR_OK, false);
    cancel_succeeds(&deps, COUPON);
}

static void cancel__commit_fails__nothing_announced_and_retries_bounded(void **state)
{
    (void)state;
    struct order out;
    /* not worth a retry */
    expect_order_read(ERR_OK);
    expect_cancel_attempt(0, ERR_UNAVAILABLE, false);
    cancel_expecting(&deps, ORDER_ID, ERR_UNAVAILABLE, &out);

    /* always worth a retry: max_attempts (3) attempts, then the error */
    expect_order_read(ERR_OK);
    for (int i = 0; i < deps.max_attempts; i++)
        expect_cancel_attempt(0, ERR_UNAVAILABLE, true);
    cancel_expecting(&deps, ORDER_ID, ERR_UNAVAILABLE, &out);
}

/* ================================ reads ================================ */

/* order_get of id must return want; on a failure nothing is handed out in *out. */
static void get_expecting(int64_t id, enum err_code want, struct order *out)
{
    struct err e;
    err_clear(&e);
    assert_int_equal(order_get(&deps, id, 0, out, &e), want);
    assert_int_equal(e.code, want);
    if (want != ERR_OK)
        assert_null(out->lines);
}

static void get_order__returns_the_repository_order(void **state)
{
    (void)state;
    struct order out;
    expect_order_read(ERR_OK);
    get_expecting(ORDER_ID, ERR_OK, &out);
    assert_int_equal(out.id, ORDER_ID);
    assert_int_equal(out.user_id, USER);
    assert_int_equal(out.total, 6000);
    assert_int_equal(out.n_lines, 1);
    assert_string_equal(out.lines[0].name, "product 3");
    order_cleanup(&out);

    expect_order_read(ERR_ORDER_NOT_FOUND);
    get_expecting(ORDER_ID, ERR_ORDER_NOT_FOUND, &out);
}

static void get_order__invalid_id__no_port_touched(void **state)
{
    (void)state;
    struct order out;
    get_expecting(0, ERR_ORDER_NOT_FOUND, &out);
    get_expecting(-1, ERR_ORDER_NOT_FOUND, &out);
}

static void expect_list(size_t limit, size_t filled, enum err_code rc)
{
    expect_function_call(orders_list);
    expect_value(orders_list, user_id, USER);
    expect_value(orders_list, limit, limit);
    will_return(orders_list, filled);
    will_return(orders_list, rc);
}

/* order_list_by_user(user, limit) must return want into *e; on a failure nothing is handed out
 * in *out. The caller owns *out on ERR_OK (order_list_cleanup). */
static void list_expecting(int64_t user, int64_t limit, enum err_code want, struct order_list *out,
                           struct err *e)
{
    err_clear(e);
    assert_int_equal(order_list_by_user(&deps, user, limit, out, e), want);
    assert_int_equal(e->code, want);
    if (want != ERR_OK) {
        assert_null(out->items);
        assert_int_equal(out->n, 0);
    }
}

static void list_user_orders__returns_the_repository_orders(void **state)
{
    (void)state;
    struct order_list out;
    struct err e;
    expect_list(5, 2, ERR_OK);
    list_expecting(USER, 5, ERR_OK, &out, &e);
    assert_int_equal(out.n, 2);
    assert_int_equal(out.items[0].id, 100);
    assert_int_equal(out.items[1].id, 99);
    assert_int_equal(out.items[1].n_lines, 1);
    order_list_cleanup(&out);
    assert_null(out.items);

    /* the bounds themselves are allowed */
    const struct {
        int64_t limit;
        size_t filled;
    } bounds[] = {{1, 1}, {ORDER_LIST_MAX, 0}};
    for (size_t i = 0; i < 2; i++) {
        expect_list((size_t)bounds[i].limit, bounds[i].filled, ERR_OK);
        list_expecting(USER, bounds[i].limit, ERR_OK, &out, &e);
        assert_int_equal(out.n, bounds[i].filled);
        order_list_cleanup(&out);
    }
}

static void list_user_orders__repository_error__returned_and_everything_freed(void **state)
{
    (void)state;
    struct order_list out;
    struct err e;
    expect_list(5, 1, ERR_UNAVAILABLE); /* failed after filling one order */
    list_expecting(USER, 5, ERR_UNAVAILABLE, &out, &e);
}

static void list_user_orders__invalid__no_port_touched(void **state)
{
    (void)state;
    /* the limit is checked first: (0, 0) is a bad limit, not an unknown user */
    const struct {
        int64_t user, limit;
        enum err_code want;
        const char *field; /* NULL: not checked */
    } cases[] = {
        {USER, 0, ERR_INVALID_REQUEST, "limit"},
        {USER, ORDER_LIST_MAX + 1, ERR_INVALID_REQUEST, "limit"},
        {USER, -1, ERR_INVALID_REQUEST, NULL},
        {0, 10, ERR_USER_NOT_FOUND, NULL},
        {-7, 10, ERR_USER_NOT_FOUND, NULL},
        {0, 0, ERR_INVALID_REQUEST, NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct order_list out;
        struct err e;
        list_expecting(cases[i].user, cases[i].limit, cases[i].want, &out, &e);
        if (cases[i].field)
            assert_string_equal(e.field, cases[i].field);
    }
}

int main(void)
{
    const struct CMUnitTest named[] = {
        cmocka_unit_test(place__success__steps_in_order_and_event_announced_after_commit),
        cmocka_unit_test(place__repeated_products__merged_and_sorted_for_stock),
        cmocka_unit_test(place__coupon__quoted_used_and_charged_total_reduced),
        cmocka_unit_test(place__replay__first_outcome_and_nothing_written),
        cmocka_unit_test(place__out_of_stock__refusal_recorded_and_nothing_taken),
        cmocka_unit_test(place__insufficient_balance__refusal_recorded_and_nothing_taken),
        cmocka_unit_test(place__refusals__stock_then_coupon_then_user_then_balance),
        cmocka_unit_test(place__total_overflows__invalid_and_nothing_recorded),
        cmocka_unit_test(place__race_at_commit__whole_attempt_runs_again_on_fresh_reads),
        cmocka_unit_test(place__retries_stop_after_max_attempts),
        cmocka_unit_test(place__invalid_requests__no_port_touched),
        cmocka_unit_test(cancel__gives_everything_back_then_announces),
        cmocka_unit_test(cancel__without_coupon__nothing_released),
        cmocka_unit_test(cancel__refused_at_flush__rolled_back_nothing_given_back),
        cmocka_unit_test(cancel__unknown_order__nothing_else_not_even_a_lock),
        cmocka_unit_test(cancel__lock_wait_times_out__no_transaction),
        cmocka_unit_test(cancel__race_at_commit__whole_cancel_runs_again),
        cmocka_unit_test(cancel__commit_fails__nothing_announced_and_retries_bounded),
        cmocka_unit_test(get_order__returns_the_repository_order),
        cmocka_unit_test(get_order__invalid_id__no_port_touched),
        cmocka_unit_test(list_user_orders__returns_the_repository_orders),
        cmocka_unit_test(list_user_orders__repository_error__returned_and_everything_freed),
        cmocka_unit_test(list_user_orders__invalid__no_port_touched),
    };
    enum { N_NAMED = sizeof(named) / sizeof(named[0]) };
    enum { N_CASES = sizeof(place_cases) / sizeof(place_cases[0]) };
    struct CMUnitTest tests[N_NAMED + N_CASES];
    memcpy(tests, named, sizeof(named));
    for (size_t i = 0; i < N_CASES; i++)
        tests[N_NAMED + i] = (struct CMUnitTest){.name = place_cases[i].name,
                                                 .test_func = run_place_case,
                                                 .initial_state = (void *)&place_cases[i]};
    return _cmocka_run_group_tests("test_place_order", tests, N_NAMED + N_CASES, NULL, NULL);
}
