/*
 * test_auth_service.c — the login policy (auth/auth_service.c) with every
 * port mocked: throttled before any hashing; unknown user and wrong
 * password answer alike and both count as failures; a success clears the
 * user's failures and signs a token that verifies; Redis or the store down
 * fails closed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "auth/auth_service.h"

static char call_log[256];

static void log_call(const char *what)
{
    size_t used = strlen(call_log);
    snprintf(call_log + used, sizeof(call_log) - used, "%s%s", used ? " " : "", what);
}

static int reset(void **state)
{
    (void)state;
    call_log[0] = '\0';
    return 0;
}

/* ---- mocked ports ---- */

static char stored_hash[PASSWORD_HASH_MAX]; /* user 7's; set up in main */

static enum err_code mock_get_hash(void *self, int64_t user_id, char *hash, bool *found,
                                   struct err *e)
{
    (void)self;
    log_call("get_hash");
    enum err_code rc = mock_type(enum err_code);
    if (rc != ERR_OK)
        return err_set(e, rc, "store down");
    *found = user_id == 7;
    if (*found)
        snprintf(hash, PASSWORD_HASH_MAX, "%s", stored_hash);
    return ERR_OK;
}

static enum err_code mock_set_hash(void *self, int64_t user_id, const char *hash, struct err *e)
{
    (void)self;
    (void)hash;
    log_call("set_hash");
    if (user_id != 7)
        return err_set(e, ERR_USER_NOT_FOUND, "no such user");
    return ERR_OK;
}

static enum err_code mock_check(void *self, int64_t user_id, const char *address,
                                int64_t *retry_after_s, struct err *e)
{
    (void)self;
    (void)user_id;
    log_call("check");
    check_expected_ptr(address);
    enum err_code rc = mock_type(enum err_code);
    if (rc != ERR_OK)
        return err_set(e, rc, "redis down");
    *retry_after_s = mock_type(int64_t);
    return ERR_OK;
}

static enum err_code mock_failed(void *self, int64_t user_id, const char *address, struct err *e)
{
    (void)self;
    (void)address;
    (void)e;
    log_call("failed");
    check_expected(user_id);
    return ERR_OK;
}

static void mock_succeeded(void *self, int64_t user_id)
{
    (void)self;
    log_call("succeeded");
    check_expected(user_id);
}

static int64_t fixed_now(void)
{
    return 1800000000;
}

static const struct auth_credentials_ops cred_ops = {mock_get_hash, mock_set_hash};
static const struct auth_throttle_ops throttle_ops = {mock_check, mock_failed, mock_succeeded};
static struct password_hasher hasher;
static struct token_keys keys;
static struct auth_service svc;

static void expect_throttle_check(const char *address, enum err_code rc, int64_t retry_after)
{
    expect_string(mock_check, address, address);
    will_return(mock_check, rc);
    if (rc == ERR_OK)
        will_return(mock_check, retry_after);
}

/* ---- tests ---- */

static void login__right_password__token_for_the_user_and_failures_cleared(void **state)
{
    (void)state;
    struct auth_token t;
    int64_t retry = -1;
    struct err e;
    err_clear(&e);
    expect_throttle_check("10.0.0.1", ERR_OK, 0);
    will_return(mock_get_hash, ERR_OK);
    expect_value(mock_succeeded, user_id, 7);
    assert_int_equal(auth_service_login(&svc, 7, "correct horse 42", "10.0.0.1", &t, &retry, &e),
                     ERR_OK);
    assert_string_equal(call_log, "check get_hash succeeded");
    assert_int_equal(retry, 0);
    assert_int_equal(t.user_id, 7);
    assert_int_equal(t.expires_in, 3600);
    struct token_claims c;
    assert_int_equal(token_verify(&keys, t.access_token, strlen(t.access_token), fixed_now(), &c),
                     TOKEN_OK);
    assert_int_equal(c.user_id, 7);
    assert_int_equal(c.expires_at, fixed_now() + 3600);
}

static void login__wrong_password_or_unknown_user__same_answer_and_counted(void **state)
{
    (void)state;
    struct auth_token t;
    int64_t retry;
    struct err wrong, unknown;
    err_clear(&wrong);
    err_clear(&unknown);
    expect_throttle_check("", ERR_OK, 0);
    will_return(mock_get_hash, ERR_OK);
    expect_value(mock_failed, user_id, 7);
    assert_int_equal(auth_service_login(&svc, 7, "correct horse 43", "", &t, &retry, &wrong),
                     ERR_INVALID_CREDENTIALS);
    expect_throttle_check("", ERR_OK, 0);
    will_return(mock_get_hash, ERR_OK);
    expect_value(mock_failed, user_id, 99);
    assert_int_equal(auth_service_login(&svc, 99, "correct horse 42", "", &t, &retry, &unknown),
                     ERR_INVALID_CREDENTIALS);
    assert_string_equal(wrong.detail, unknown.detail);
    assert_string_equal(call_log, "check get_hash failed check get_hash failed");
}

static void login__throttled__429_with_retry_after_and_no_hashing(void **state)
{
    (void)state;
    struct auth_token t;
    int64_t retry = 0;
    struct err e;
    err_clear(&e);
    expect_throttle_check("10.0.0.2", ERR_OK, 42);
    assert_int_equal(auth_service_login(&svc, 7, "correct horse 42", "10.0.0.2", &t, &retry, &e),
                     ERR_TOO_MANY_ATTEMPTS);
    assert_int_equal(retry, 42);
    assert_string_equal(call_log, "check"); /* not even the right password is looked at */
}

static void login__throttle_or_store_down__fails_closed(void **state)
{
    (void)state;
    struct auth_token t;
    int64_t retry;
    struct err e;
    err_clear(&e);
    expect_throttle_check("", ERR_UNAVAILABLE, 0);
    assert_int_equal(auth_service_login(&svc, 7, "correct horse 42", "", &t, &retry, &e),
                     ERR_UNAVAILABLE);
    expect_throttle_check("", ERR_OK, 0);
    will_return(mock_get_hash, ERR_UNAVAILABLE);
    assert_int_equal(auth_service_login(&svc, 7, "correct horse 42", "", &t, &retry, &e),
                     ERR_UNAVAILABLE);
    assert_string_equal(call_log, "check check get_hash");
}

static void login__empty_password__invalid_credentials_without_any_call(void **state)
{
    (void)state;
    struct auth_token t;
    int64_t retry;
    struct err e;
    err_clear(&e);
    assert_int_equal(auth_service_login(&svc, 7, "", "", &t, &retry, &e), ERR_INVALID_CREDENTIALS);
    assert_string_equal(call_log, "");
}

static void set_password__rules_then_hash_then_store(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(auth_service_set_password(&svc, 7, "short", &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "password");
    assert_string_equal(call_log, "");
    assert_int_equal(auth_service_set_password(&svc, 7, "long enough", &e), ERR_OK);
    assert_int_equal(auth_service_set_password(&svc, 8, "long enough", &e), ERR_USER_NOT_FOUND);
    assert_string_equal(call_log, "set_hash set_hash");
}

int main(void)
{
    struct err e;
    err_clear(&e);
    if (!token_crypto_init() || password_hasher_init(&hasher, 1, 8, 2, 1000, &e) != ERR_OK ||
        token_keys_init(&keys, "unit-test-secret-0123456789abcdef0123", NULL, &e) != ERR_OK ||
        password_hash(&hasher, "correct horse 42", stored_hash, &e) != ERR_OK) {
        fprintf(stderr, "set-up failed: %s\n", e.detail);
        return 1;
    }
    svc = (struct auth_service){.credentials = {&cred_ops, NULL},
                                .throttle = {&throttle_ops, NULL},
                                .hasher = &hasher,
                                .keys = &keys,
                                .token_ttl_s = 3600,
                                .now = fixed_now};
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(login__right_password__token_for_the_user_and_failures_cleared,
                               reset),
        cmocka_unit_test_setup(login__wrong_password_or_unknown_user__same_answer_and_counted,
                               reset),
        cmocka_unit_test_setup(login__throttled__429_with_retry_after_and_no_hashing, reset),
        cmocka_unit_test_setup(login__throttle_or_store_down__fails_closed, reset),
        cmocka_unit_test_setup(login__empty_password__invalid_credentials_without_any_call, reset),
        cmocka_unit_test_setup(set_password__rules_then_hash_then_store, reset),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    password_hasher_cleanup(&hasher);
    return failed;
}
