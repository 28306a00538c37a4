/*
 * test_point_service.c — users and points use cases (point/point_service.c)
 * with the repository port mocked in cmocka (charges take no per-user lock:
 * point_service.h).
 * Links shopd_point alone.
 *
 * "repo untouched": every mock starts with check_expected()/mock_type(), so
 * a call nobody expected fails the test on the spot. The mocks also append
 * to a call log so the repository calls can be checked.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/token.h"
#include "point/point_service.h"

#define HANGUL "\xea\xb0\x80" /* 3 bytes, 1 character */

/* ---- call log ---- */

static char call_log[512];

static void log_call(const char *what)
{
    size_t used = strlen(call_log);
    snprintf(call_log + used, sizeof(call_log) - used, "%s%s", used ? " " : "", what);
}

static int reset_log(void **state)
{
    (void)state;
    call_log[0] = '\0';
    return 0;
}

/* ---- mock repository ---- */

static char last_hash[PASSWORD_HASH_MAX]; /* what the service gave the repository */

static enum err_code mock_create_user(void *self, const char *name, const char *password_hash,
                                      struct point_user *out, struct err *e)
{
    (void)self;
    log_call("create_user");
    check_expected_ptr(name);
    snprintf(last_hash, sizeof(last_hash), "%s", password_hash);
    enum err_code rc = mock_type(enum err_code);
    if (rc != ERR_OK)
        return err_set(e, rc, "repo: insert failed");
    out->id = 1;
    snprintf(out->name, sizeof(out->name), "%s", name);
    out->balance = 0;
    return ERR_OK;
}

static enum err_code mock_balance(void *self, int64_t user_id, int64_t *balance, struct err *e)
{
    (void)self;
    log_call("balance");
    check_expected(user_id);
    enum err_code rc = mock_type(enum err_code);
    if (rc != ERR_OK)
        return err_set(e, rc, "repo: user %lld failed", (long long)user_id);
    *balance = 5000;
    return ERR_OK;
}

/*
 * The repository's answer to a charge, from the code queued: ERR_OK credits
 * (balance amount + 100), ERR_BALANCE_LIMIT_EXCEEDED and ERR_USER_NOT_FOUND
 * are the database's refusals (no error: the result says so), any other
 * code is a failure to ask the database at all.
 */
static enum err_code charge_answer(enum err_code rc, int64_t amount,
                                   struct point_charge_result *out, const char *what, struct err *e)
{
    switch (rc) {
    case ERR_OK:
        *out = (struct point_charge_result){true, true, amount + 100};
        return ERR_OK;
    case ERR_BALANCE_LIMIT_EXCEEDED:
        *out = (struct point_charge_result){false, true, 19995};
        return ERR_OK;
    case ERR_USER_NOT_FOUND:
        *out = (struct point_charge_result){false, false, 0};
        return ERR_OK;
    default:
        return err_set(e, rc, "repo: %s failed", what);
    }
}

static enum err_code mock_charge(void *self, int64_t user_id, int64_t amount, int64_t cap,
                                 struct point_charge_result *out, struct err *e)
{
    (void)self;
    log_call("charge");
    check_expected(user_id);
    check_expected(amount);
    check_expected(cap);
    return charge_answer(mock_type(enum err_code), amount, out, "charge", e);
}

/* What the key's claim found (see core/idempotency.h). */
enum claim_found { CLAIM_NEW, CLAIM_REPLAY, CLAIM_IN_PROGRESS, CLAIM_OTHER_REQUEST };

static enum err_code mock_charge_keyed_begin(void *self, int64_t user_id, int64_t amount,
                                             int64_t cap, const char *key,
                                             struct idempotency_claim *claim,
                                             struct point_charge_result *out, struct err *e)
{
    (void)self;
    log_call("begin");
    check_expected(user_id);
    check_expected(amount);
    check_expected(cap);
    check_expected_ptr(key);
    const char *fingerprint = claim->fingerprint;
    check_expected_ptr(fingerprint);
    enum claim_found found = mock_type(enum claim_found);
    enum err_code rc = charge_answer(mock_type(enum err_code), amount, out, "begin", e);
    if (rc != ERR_OK)
        return rc;
    claim->locked = found != CLAIM_IN_PROGRESS;
    claim->found = found == CLAIM_REPLAY || found == CLAIM_OTHER_REQUEST;
    claim->same_request = found == CLAIM_REPLAY;
    if (found == CLAIM_REPLAY)
        claim->stored = (struct recorded_outcome){409, strdup("{\"code\":\"stored\"}")};
    return ERR_OK;
}

static enum err_code mock_charge_keyed_commit(void *self, int64_t user_id, const char *key,
                                              const char *fingerprint,
                                              const struct recorded_outcome *outcome, struct err *e)
{
    (void)self;
    (void)key;
    (void)fingerprint;
    log_call("commit");
    check_expected(user_id);
    const char *body = outcome->body;
    int status = outcome->status;
    check_expected(status);
    check_expected_ptr(body);
    enum err_code rc = mock_type(enum err_code);
    return rc == ERR_OK ? ERR_OK : err_set(e, rc, "repo: commit failed");
}

static void mock_charge_keyed_rollback(void *self)
{
    (void)self;
    log_call("rollback");
}

/* Returns the queued number of rows, ids 100, 99, 98, ... (newest first). */
static enum err_code mock_history(void *self, int64_t user_id, int64_t before, size_t limit,
                                  struct point_entry *out, size_t *n, struct err *e)
{
    (void)self;
    log_call("history");
    check_expected(user_id);
    check_expected(before);
    check_expected(limit);
    size_t rows = mock_type(size_t);
    enum err_code rc = mock_type(enum err_code);
    if (rc != ERR_OK)
        return err_set(e, rc, "repo: history failed");
    assert_true(rows <= limit);
    for (size_t i = 0; i < rows; i++)
        out[i] =
            (struct point_entry){.id = 100 - 3 * (int64_t)i, .type = POINT_CHARGE, .amount = 10};
    *n = rows;
    return ERR_OK;
}

static const struct point_repo_ops mock_ops = {
    .create_user = mock_create_user,
    .balance = mock_balance,
    .charge = mock_charge,
    .charge_keyed_begin = mock_charge_keyed_begin,
    .charge_keyed_commit = mock_charge_keyed_commit,
    .charge_keyed_rollback = mock_charge_keyed_rollback,
    .history = mock_history,
};

/* The cheapest Argon2id parameters; set up in main. */
static struct password_hasher hasher;

/* Default limits. */
static const struct point_service svc = {
    .repo = {.ops = &mock_ops, .self = NULL},
    .hasher = &hasher,
    .charge_max = 1000000,
    .balance_max = 100000000,
};

/* Unusual limits, so the service is seen to use its own. */
static const struct point_service limited_svc = {
    .repo = {.ops = &mock_ops, .self = NULL},
    .hasher = &hasher,
    .charge_max = 5000,
    .balance_max = 20000,
};

static void expect_charge(int64_t user_id, int64_t amount, int64_t cap, enum err_code rc)
{
    expect_value(mock_charge, user_id, user_id);
    expect_value(mock_charge, amount, amount);
    expect_value(mock_charge, cap, cap);
    will_return(mock_charge, rc);
}

/* The renderer the HTTP adapter would pass: status and a body naming what it rendered. */
static bool render_fails; /* set to see an allocation failure handled */

static bool test_render_ok(int64_t user_id, int64_t balance, struct recorded_outcome *out)
{
    char body[64];
    snprintf(body, sizeof(body), "ok %lld %lld", (long long)user_id, (long long)balance);
    *out = (struct recorded_outcome){200, render_fails ? NULL : strdup(body)};
    return out->body != NULL;
}

static bool test_render_refusal(const struct err *e, struct recorded_outcome *out)
{
    *out = (struct recorded_outcome){e->code == ERR_USER_NOT_FOUND ? 404 : 409,
                                     render_fails ? NULL : strdup(err_code_str(e->code))};
    return out->body != NULL;
}

static const struct point_charge_renderer renderer = {test_render_ok, test_render_refusal};

/* The first step of a keyed charge: what the claim found, what the charge did. */
static void expect_begin(int64_t user_id, int64_t amount, int64_t cap, const char *key,
                         const char *fingerprint, enum claim_found found, enum err_code charged)
{
    expect_value(mock_charge_keyed_begin, user_id, user_id);
    expect_value(mock_charge_keyed_begin, amount, amount);
    expect_value(mock_charge_keyed_begin, cap, cap);
    expect_string(mock_charge_keyed_begin, key, key);
    expect_string(mock_charge_keyed_begin, fingerprint, fingerprint);
    will_return(mock_charge_keyed_begin, found);
    will_return(mock_charge_keyed_begin, charged);
}

static void expect_commit(int64_t user_id, int status, const char *body, enum err_code rc)
{
    expect_value(mock_charge_keyed_commit, user_id, user_id);
    expect_value(mock_charge_keyed_commit, status, status);
    expect_string(mock_charge_keyed_commit, body, body);
    will_return(mock_charge_keyed_commit, rc);
}

static void expect_history(int64_t user_id, int64_t before, size_t limit, size_t rows,
                           enum err_code rc)
{
    expect_value(mock_history, user_id, user_id);
    expect_value(mock_history, before, before);
    expect_value(mock_history, limit, limit);
    will_return(mock_history, rows);
    will_return(mock_history, rc);
}

/* ---- create_user ---- */

static void create_user__valid_name__stored_with_balance_0(void **state)
{
    (void)state;
    struct point_user u;
    struct err e;
    err_clear(&e);
    expect_string(mock_create_user, name, "kim");
    will_return(mock_create_user, ERR_OK);
    assert_int_equal(point_service_create_user(&svc, "kim", "correct horse 42", &u, &e), ERR_OK);
    /* only a salted Argon2id hash reaches the repository, and it verifies the password */
    assert_non_null(strstr(last_hash, "$argon2id$"));
    assert_null(strstr(last_hash, "correct horse"));
    bool ok = false;
    assert_int_equal(password_verify(&hasher, last_hash, "correct horse 42", &ok, &e), ERR_OK);
    assert_true(ok);
    assert_int_equal(password_verify(&hasher, last_hash, "correct horse 43", &ok, &e), ERR_OK);
    assert_false(ok);
    assert_int_equal(u.id, 1);
    assert_string_equal(u.name, "kim");
    assert_int_equal(u.balance, 0);
}

static void create_user__100_multibyte_characters__accepted(void **state)
{
    (void)state;
    static char name[100 * 3 + 1];
    name[0] = '\0';
    for (int i = 0; i < 100; i++)
        strcat(name, HANGUL);
    struct point_user u;
    struct err e;
    err_clear(&e);
    expect_string(mock_create_user, name, name);
    will_return(mock_create_user, ERR_OK);
    assert_int_equal(point_service_create_user(&svc, name, "correct horse 42", &u, &e), ERR_OK);
    assert_string_equal(u.name, name);
}

static void create_user__blank_or_too_long_name__invalid_request_and_repo_untouched(void **state)
{
    (void)state;
    static char ascii101[102], hangul101[101 * 3 + 1], bytes_beyond[1 + 500 + 1];
    memset(ascii101, 'k', 101);
    ascii101[101] = '\0';
    hangul101[0] = '\0';
    for (int i = 0; i < 101; i++)
        strcat(hangul101, HANGUL);
    bytes_beyond[0] = 'k'; /* one character by count, 501 bytes */
    memset(bytes_beyond + 1, 0x80, 500);
    bytes_beyond[501] = '\0';
    const char *names[] = {"", " ", "\t\r\n", ascii101, hangul101, bytes_beyond};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        struct point_user u;
        struct err e;
        err_clear(&e);
        assert_int_equal(point_service_create_user(&svc, names[i], "correct horse 42", &u, &e),
                         ERR_INVALID_REQUEST);
        assert_string_equal(e.field, "name");
    }
    assert_string_equal(call_log, "");
}

static void create_user__password_outside_8_to_128_characters__invalid_request(void **state)
{
    (void)state;
    static char long129[130];
    memset(long129, 'p', 129);
    long129[129] = '\0';
    const char *passwords[] = {"", "seven77", long129, NULL};
    for (size_t i = 0; i < sizeof(passwords) / sizeof(passwords[0]); i++) {
        struct point_user u;
        struct err e;
        err_clear(&e);
        assert_int_equal(point_service_create_user(&svc, "kim", passwords[i], &u, &e),
                         ERR_INVALID_REQUEST);
        assert_string_equal(e.field, "password");
    }
    /* 8 characters of Hangul (24 bytes) count as 8 */
    static char hangul8[8 * 3 + 1];
    for (int i = 0; i < 8; i++)
        strcat(hangul8, HANGUL);
    struct point_user u;
    struct err e;
    err_clear(&e);
    expect_string(mock_create_user, name, "kim");
    will_return(mock_create_user, ERR_OK);
    assert_int_equal(point_service_create_user(&svc, "kim", hangul8, &u, &e), ERR_OK);
    assert_string_equal(call_log, "create_user");
}

static void create_user__repo_error__propagates_unchanged(void **state)
{
    (void)state;
    struct point_user u;
    struct err e;
    err_clear(&e);
    expect_string(mock_create_user, name, "lee");
    will_return(mock_create_user, ERR_UNAVAILABLE);
    assert_int_equal(point_service_create_user(&svc, "lee", "correct horse 42", &u, &e),
                     ERR_UNAVAILABLE);
    assert_string_equal(e.detail, "repo: insert failed");
}

/* ---- balance ---- */

static void balance__existing_user__the_repository_balance(void **state)
{
    (void)state;
    int64_t v = 0;
    struct err e;
    err_clear(&e);
    expect_value(mock_balance, user_id, 3);
    will_return(mock_balance, ERR_OK);
    assert_int_equal(point_service_balance(&svc, 3, &v, &e), ERR_OK);
    assert_int_equal(v, 5000);
}

static void balance__repo_user_not_found__propagates_unchanged(void **state)
{
    (void)state;
    int64_t v = 0;
    struct err e;
    err_clear(&e);
    expect_value(mock_balance, user_id, 4);
    will_return(mock_balance, ERR_USER_NOT_FOUND);
    assert_int_equal(point_service_balance(&svc, 4, &v, &e), ERR_USER_NOT_FOUND);
    assert_string_equal(e.detail, "repo: user 4 failed");
}

static void user_id_not_positive__user_not_found_and_repo_untouched(void **state)
{
    (void)state;
    const int64_t ids[] = {0, -1, INT64_MIN};
    for (size_t i = 0; i < 3; i++) {
        int64_t v = -7;
        struct point_history h;
        struct point_charge_outcome out;
        struct err e;
        err_clear(&e);
        assert_int_equal(point_service_balance(&svc, ids[i], &v, &e), ERR_USER_NOT_FOUND);
        err_clear(&e);
        assert_int_equal(point_service_charge(&svc, ids[i], 10, &v, &e), ERR_USER_NOT_FOUND);
        assert_int_equal(v, -7);
        err_clear(&e);
        assert_int_equal(point_service_charge(&limited_svc, ids[i], 10, &v, &e),
                         ERR_USER_NOT_FOUND);
        err_clear(&e);
        assert_int_equal(point_service_charge_once(&svc, ids[i], 10, "k", &renderer, &out, &e),
                         ERR_USER_NOT_FOUND);
        err_clear(&e);
        assert_int_equal(point_service_history(&svc, ids[i], 0, 20, &h, &e), ERR_USER_NOT_FOUND);
        assert_null(h.items);
    }
    assert_string_equal(call_log, ""); /* neither the repository nor the lock */
}

/* ---- charge ---- */

static void charge__amount_out_of_range__invalid_amount_and_repo_untouched(void **state)
{
    (void)state;
    const int64_t amounts[] = {0, -1, -1000000, 1000001, INT64_MAX, INT64_MIN};
    for (size_t i = 0; i < sizeof(amounts) / sizeof(amounts[0]); i++) {
        int64_t after = -1;
        struct err e;
        err_clear(&e);
        assert_int_equal(point_service_charge(&svc, 1, amounts[i], &after, &e), ERR_INVALID_AMOUNT);
        assert_int_equal(e.code, ERR_INVALID_AMOUNT);
        assert_string_equal(e.field, "amount");
        assert_int_equal(after, -1);
    }
    assert_string_equal(call_log, "");
}

static void
charge__amount_above_the_services_own_limit__invalid_amount_and_repo_untouched(void **state)
{
    (void)state;
    int64_t after = -1;
    struct err e;
    err_clear(&e);
    assert_int_equal(point_service_charge(&limited_svc, 1, 5001, &after, &e), ERR_INVALID_AMOUNT);
    assert_string_equal(e.field, "amount");
    assert_string_equal(call_log, "");
}

static void charge__limits_inclusive__repo_gets_amount_and_cap_balance_max(void **state)
{
    (void)state;
    const int64_t amounts[] = {1, 1000000};
    for (size_t i = 0; i < 2; i++) {
        int64_t after = 0;
        struct err e;
        err_clear(&e);
        expect_charge(7, amounts[i], 100000000, ERR_OK);
        assert_int_equal(point_service_charge(&svc, 7, amounts[i], &after, &e), ERR_OK);
        assert_int_equal(after, amounts[i] + 100);
    }
}

static void charge__refusals_and_failures__answered_with_their_codes(void **state)
{
    (void)state;
    const struct {
        enum err_code rc;
        const char *detail;
    } cases[] = {
        {ERR_BALANCE_LIMIT_EXCEEDED, "balance 19995 plus 10 would exceed the limit of 100000000"},
        {ERR_USER_NOT_FOUND, "user 7 does not exist"},
        {ERR_UNAVAILABLE, "repo: charge failed"},
        {ERR_INTERNAL, "repo: charge failed"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t after = -1;
        struct err e;
        err_clear(&e);
        expect_charge(7, 10, 100000000, cases[i].rc);
        assert_int_equal(point_service_charge(&svc, 7, 10, &after, &e), cases[i].rc);
        assert_int_equal(e.code, cases[i].rc);
        assert_string_equal(e.detail, cases[i].detail);
    }
}

/* ---- charge: the service's own limits, straight to the repository ---- */

static void charge__own_limits__charge_with_the_services_cap(void **state)
{
    (void)state;
    int64_t after = 0;
    struct err e;
    err_clear(&e);
    expect_charge(7, 5000, 20000, ERR_OK); /* charge_max exactly; cap = balance_max */
    assert_int_equal(point_service_charge(&limited_svc, 7, 5000, &after, &e), ERR_OK);
    assert_int_equal(after, 5100);
    assert_string_equal(call_log, "charge");
}

static void charge__repo_refuses__refusal_returned(void **state)
{
    (void)state;
    int64_t after = 0;
    struct err e;
    err_clear(&e);
    expect_charge(7, 10, 20000, ERR_BALANCE_LIMIT_EXCEEDED);
    assert_int_equal(point_service_charge(&limited_svc, 7, 10, &after, &e),
                     ERR_BALANCE_LIMIT_EXCEEDED);
    assert_string_equal(call_log, "charge");
}

/* ---- charge with an Idempotency-Key ---- */

static void charge_once__fresh_success__rendered_recorded_and_committed(void **state)
{
    (void)state;
    struct point_charge_outcome out;
    struct err e;
    err_clear(&e);
    expect_begin(7, 10, 100000000, "key-1", "amount=10", CLAIM_NEW, ERR_OK);
    expect_commit(7, 200, "ok 7 110", ERR_OK);
    assert_int_equal(point_service_charge_once(&svc, 7, 10, "key-1", &renderer, &out, &e), ERR_OK);
    assert_int_equal(out.status, 200);
    assert_false(out.replayed);
    assert_string_equal(out.body, "ok 7 110");
    free(out.body);
    assert_string_equal(call_log, "begin commit");
}

static void charge_once__replay__stored_outcome_and_the_charge_rolled_back(void **state)
{
    (void)state;
    struct point_charge_outcome out;
    struct err e;
    err_clear(&e);
    expect_begin(7, 10, 100000000, "key-1", "amount=10", CLAIM_REPLAY, ERR_OK);
    assert_int_equal(point_service_charge_once(&svc, 7, 10, "key-1", &renderer, &out, &e), ERR_OK);
    assert_true(out.replayed);
    assert_int_equal(out.status, 409);
    assert_string_equal(out.body, "{\"code\":\"stored\"}");
    free(out.body);
    assert_string_equal(call_log, "begin rollback");
}

static void charge_once__key_in_progress_or_reused__refused_and_rolled_back(void **state)
{
    (void)state;
    const struct {
        enum claim_found found;
        enum err_code rc;
    } cases[] = {{CLAIM_IN_PROGRESS, ERR_REQUEST_IN_PROGRESS},
                 {CLAIM_OTHER_REQUEST, ERR_IDEMPOTENCY_KEY_REUSED}};
    for (size_t i = 0; i < 2; i++) {
        reset_log(NULL);
        struct point_charge_outcome out;
        struct err e;
        err_clear(&e);
        /* the same key with another amount is another fingerprint: the claim tells them apart */
        expect_begin(7, 11, 100000000, "key-1", "amount=11", cases[i].found, ERR_OK);
        assert_int_equal(point_service_charge_once(&svc, 7, 11, "key-1", &renderer, &out, &e),
                         cases[i].rc);
        assert_null(out.body);
        assert_string_equal(call_log, "begin rollback");
    }
}

static void charge_once__fresh_refusals__recorded_committed_and_returned(void **state)
{
    (void)state;
    const struct {
        enum err_code rc;
        int status;
    } cases[] = {{ERR_BALANCE_LIMIT_EXCEEDED, 409}, {ERR_USER_NOT_FOUND, 404}};
    for (size_t i = 0; i < 2; i++) {
        reset_log(NULL);
        struct point_charge_outcome out;
        struct err e;
        err_clear(&e);
        expect_begin(7, 10, 100000000, "k", "amount=10", CLAIM_NEW, cases[i].rc);
        expect_commit(7, cases[i].status, err_code_str(cases[i].rc), ERR_OK);
        assert_int_equal(point_service_charge_once(&svc, 7, 10, "k", &renderer, &out, &e),
                         cases[i].rc);
        assert_int_equal(e.code, cases[i].rc);
        assert_null(out.body);
        assert_string_equal(call_log, "begin commit");
    }
}

static void charge_once__storage_failures__returned_nothing_left_open(void **state)
{
    (void)state;
    struct point_charge_outcome out;
    struct err e;
    err_clear(&e);
    /* the first step fails: nothing is open, nothing to roll back */
    expect_begin(7, 10, 100000000, "k", "amount=10", CLAIM_NEW, ERR_UNAVAILABLE);
    assert_int_equal(point_service_charge_once(&svc, 7, 10, "k", &renderer, &out, &e),
                     ERR_UNAVAILABLE);
    assert_string_equal(call_log, "begin");
    /* the record and commit fail: the repository rolled back, the rendered body is freed */
    reset_log(NULL);
    expect_begin(7, 10, 100000000, "k", "amount=10", CLAIM_NEW, ERR_OK);
    expect_commit(7, 200, "ok 7 110", ERR_UNAVAILABLE);
    assert_int_equal(point_service_charge_once(&svc, 7, 10, "k", &renderer, &out, &e),
                     ERR_UNAVAILABLE);
    assert_null(out.body);
    assert_string_equal(call_log, "begin commit");
    /* rendering runs out of memory: rolled back, 500, nothing recorded */
    reset_log(NULL);
    render_fails = true;
    expect_begin(7, 10, 100000000, "k", "amount=10", CLAIM_NEW, ERR_OK);
    enum err_code rc = point_service_charge_once(&svc, 7, 10, "k", &renderer, &out, &e);
    render_fails = false;
    assert_int_equal(rc, ERR_INTERNAL);
    assert_string_equal(call_log, "begin rollback");
}

static void charge_once__malformed_key__key_required_and_repo_untouched(void **state)
{
    (void)state;
    static char long_key[257];
    memset(long_key, 'k', 256);
    long_key[256] = '\0';
    const char *keys[] = {"", "new\nline", "tab\there", "\x7f", "caf\xc3\xa9", long_key};
    for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
        struct point_charge_outcome out;
        struct err e;
        err_clear(&e);
        assert_int_equal(point_service_charge_once(&svc, 7, 10, keys[i], &renderer, &out, &e),
                         ERR_IDEMPOTENCY_KEY_REQUIRED);
        assert_null(out.body);
    }
    /* the key is checked first: a bad key with a bad amount is still about the key */
    struct point_charge_outcome out;
    struct err e;
    err_clear(&e);
    assert_int_equal(point_service_charge_once(&svc, 7, 0, "", &renderer, &out, &e),
                     ERR_IDEMPOTENCY_KEY_REQUIRED);
    assert_string_equal(call_log, "");
}

static void charge_once__key_of_255_printable_characters__accepted(void **state)
{
    (void)state;
    static char key[256];
    for (int i = 0; i < 255; i++)
        key[i] = (char)(' ' + i % 95); /* every printable ASCII character, space to tilde */
    key[255] = '\0';
    struct point_charge_outcome out;
    struct err e;
    err_clear(&e);
    expect_begin(7, 10, 100000000, key, "amount=10", CLAIM_NEW, ERR_OK);
    expect_commit(7, 200, "ok 7 110", ERR_OK);
    assert_int_equal(point_service_charge_once(&svc, 7, 10, key, &renderer, &out, &e), ERR_OK);
    free(out.body);
}

static void charge_once__amount_out_of_range__invalid_amount_and_repo_untouched(void **state)
{
    (void)state;
    const int64_t amounts[] = {0, -1, 1000001};
    for (size_t i = 0; i < 3; i++) {
        struct point_charge_outcome out;
        struct err e;
        err_clear(&e);
        assert_int_equal(point_service_charge_once(&svc, 7, amounts[i], "k", &renderer, &out, &e),
                         ERR_INVALID_AMOUNT);
        assert_string_equal(e.field, "amount");
    }
    assert_string_equal(call_log, "");
}

static void charge_once__own_limits__repo_gets_the_services_cap(void **state)
{
    (void)state;
    struct point_charge_outcome out;
    struct err e;
    err_clear(&e);
    expect_begin(7, 5000, 20000, "key-1", "amount=5000", CLAIM_NEW, ERR_OK);
    expect_commit(7, 200, "ok 7 5100", ERR_OK);
    enum err_code rc =
        point_service_charge_once(&limited_svc, 7, 5000, "key-1", &renderer, &out, &e);
    free(out.body);
    assert_int_equal(rc, ERR_OK);
    assert_string_equal(call_log, "begin commit");
}

/* ---- history ---- */

static void history__limit_or_before_out_of_range__invalid_request_and_repo_untouched(void **state)
{
    (void)state;
    const struct {
        int64_t before, limit;
        const char *field;
    } cases[] = {
        {0, 0, "limit"},         {0, -1, "limit"},   {0, 101, "limit"},
        {0, INT64_MAX, "limit"}, {-1, 20, "before"}, {INT64_MIN, 20, "before"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct point_history h;
        struct err e;
        err_clear(&e);
        assert_int_equal(point_service_history(&svc, 3, cases[i].before, cases[i].limit, &h, &e),
                         ERR_INVALID_REQUEST);
        assert_string_equal(e.field, cases[i].field);
        assert_null(h.items);
    }
    assert_string_equal(call_log, "");
}

static void history__limit_ends__repo_asked_for_one_row_more(void **state)
{
    (void)state;
    struct point_history h;
    struct err e;
    err_clear(&e);
    expect_history(3, 0, 2, 1, ERR_OK);
    assert_int_equal(point_service_history(&svc, 3, 0, 1, &h, &e), ERR_OK);
    assert_int_equal(h.n, 1);
    assert_false(h.has_more);
    point_history_cleanup(&h);

    expect_history(3, 0, 101, 0, ERR_OK);
    assert_int_equal(point_service_history(&svc, 3, 0, 100, &h, &e), ERR_OK);
    assert_int_equal(h.n, 0);
    assert_false(h.has_more);
    point_history_cleanup(&h);
}

static void history__extra_row__has_more_and_next_before_is_the_last_shown_id(void **state)
{
    (void)state;
    struct point_history h;
    struct err e;
    err_clear(&e);
    expect_history(3, 0, 3, 3, ERR_OK); /* ids 100, 97 shown; 94 proves there is more */
    assert_int_equal(point_service_history(&svc, 3, 0, 2, &h, &e), ERR_OK);
    assert_int_equal(h.n, 2);
    assert_true(h.has_more);
    assert_int_equal(h.items[0].id, 100);
    assert_int_equal(h.items[1].id, 97);
    assert_int_equal(h.next_before, 97);
    point_history_cleanup(&h);
    assert_null(h.items);

    /* the next page passes next_before through */
    expect_history(3, 97, 3, 2, ERR_OK);
    assert_int_equal(point_service_history(&svc, 3, 97, 2, &h, &e), ERR_OK);
    assert_int_equal(h.n, 2);
    assert_false(h.has_more);
    point_history_cleanup(&h);
}

static void history__repo_error__propagates_unchanged_and_frees(void **state)
{
    (void)state;
    struct point_history h;
    struct err e;
    err_clear(&e);
    expect_history(3, 0, 21, 0, ERR_USER_NOT_FOUND);
    assert_int_equal(point_service_history(&svc, 3, 0, 20, &h, &e), ERR_USER_NOT_FOUND);
    assert_string_equal(e.detail, "repo: history failed");
    assert_null(h.items); /* ASan: nothing leaked */
    assert_int_equal(h.n, 0);
}

/* ---- ledger entry types ---- */

static void entry_type__names_and_parse_round_trip(void **state)
{
    (void)state;
    const enum point_entry_type all[] = {POINT_CHARGE, POINT_USE, POINT_REFUND};
    const char *names[] = {"CHARGE", "USE", "REFUND"};
    for (size_t i = 0; i < 3; i++) {
        enum point_entry_type t = (enum point_entry_type)99;
        assert_string_equal(point_entry_type_name(all[i]), names[i]);
        assert_true(point_entry_type_parse(names[i], &t));
        assert_int_equal(t, all[i]);
        assert_true(point_entry_type_parse(point_entry_type_name(all[i]), &t));
        assert_int_equal(t, all[i]);
    }
}

static void entry_type__unknown_name__refused_and_output_untouched(void **state)
{
    (void)state;
    const char *bad[] = {"charge", "", "CHARGES", "USE ", "UNKNOWN", "REFUN"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        enum point_entry_type t = POINT_REFUND;
        assert_false(point_entry_type_parse(bad[i], &t));
        assert_int_equal(t, POINT_REFUND);
    }
    assert_string_equal(point_entry_type_name((enum point_entry_type)42), "UNKNOWN");
}

#define T(f) cmocka_unit_test_setup(f, reset_log)

int main(void)
{
    struct err e;
    err_clear(&e);
    if (!token_crypto_init() || password_hasher_init(&hasher, 1, 8, 2, 1000, &e) != ERR_OK) {
        fprintf(stderr, "cannot set up the password hasher: %s\n", e.detail);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        T(create_user__valid_name__stored_with_balance_0),
        T(create_user__100_multibyte_characters__accepted),
        T(create_user__blank_or_too_long_name__invalid_request_and_repo_untouched),
        T(create_user__password_outside_8_to_128_characters__invalid_request),
        T(create_user__repo_error__propagates_unchanged),
        T(balance__existing_user__the_repository_balance),
        T(balance__repo_user_not_found__propagates_unchanged),
        T(user_id_not_positive__user_not_found_and_repo_untouched),
        T(charge__amount_out_of_range__invalid_amount_and_repo_untouched),
        T(charge__amount_above_the_services_own_limit__invalid_amount_and_repo_untouched),
        T(charge__limits_inclusive__repo_gets_amount_and_cap_balance_max),
        T(charge__refusals_and_failures__answered_with_their_codes),
        T(charge__own_limits__charge_with_the_services_cap),
        T(charge__repo_refuses__refusal_returned),
        T(charge_once__fresh_success__rendered_recorded_and_committed),
        T(charge_once__replay__stored_outcome_and_the_charge_rolled_back),
        T(charge_once__key_in_progress_or_reused__refused_and_rolled_back),
        T(charge_once__fresh_refusals__recorded_committed_and_returned),
        T(charge_once__storage_failures__returned_nothing_left_open),
        T(charge_once__malformed_key__key_required_and_repo_untouched),
        T(charge_once__key_of_255_printable_characters__accepted),
        T(charge_once__amount_out_of_range__invalid_amount_and_repo_untouched),
        T(charge_once__own_limits__repo_gets_the_services_cap),
        T(history__limit_or_before_out_of_range__invalid_request_and_repo_untouched),
        T(history__limit_ends__repo_asked_for_one_row_more),
        T(history__extra_row__has_more_and_next_before_is_the_last_shown_id),
        T(history__repo_error__propagates_unchanged_and_frees),
        T(entry_type__names_and_parse_round_trip),
        T(entry_type__unknown_name__refused_and_output_untouched),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
