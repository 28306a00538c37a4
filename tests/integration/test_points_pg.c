/* test_points_pg.c — users and points against real PostgreSQL, over HTTP. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "support/test_db.h"
#include "support/test_fixtures.h"
#include "support/test_http.h"
#include "support/test_server.h"

static struct test_db db;
static struct test_server srv;

static void tweak(struct config *cfg)
{
    cfg->balance_max = 100000; /* small cap so the limit is reachable */
    cfg->charge_max = 60000;
}

static long long create_user(const char *name)
{
    char body[256];
    struct test_resp r;
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"password\":\"%s\"}", name, TEST_PASSWORD);
    test_call(srv.base, "POST", "/api/v1/users", body, 0, &r);
    assert_int_equal(r.status, 201);
    long long id = test_resp_int(&r, "id");
    assert_true(id > 0);
    assert_int_equal(test_resp_int(&r, "balance"), 0);
    assert_string_equal(json_string_value(json_object_get(r.json, "name")), name);
    test_resp_free(&r);
    return id;
}

static long charge(long long user, const char *body, struct test_resp *r)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/points/charge", user);
    test_call_as(srv.base, "POST", path, body, user, r);
    return r->status;
}

/* A charge of body by user must answer status (and code when not NULL). */
static void charge_expecting(long long user, const char *body, long status, const char *code)
{
    struct test_resp r;
    charge(user, body, &r);
    test_resp_expect(&r, status, code);
}

/* POST /api/v1/users with body must answer status (and code when not NULL). */
static void sign_up_expecting(const char *body, long status, const char *code)
{
    struct test_resp r;
    test_call(srv.base, "POST", "/api/v1/users", body, 0, &r);
    test_resp_expect(&r, status, code);
}

/* GET user's points history with query ("" for none) as user into *r; returns the status. */
static long history(long long user, const char *query, struct test_resp *r)
{
    char path[160];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/points/history%s%s", user, *query ? "?" : "",
             query);
    test_call_as(srv.base, "GET", path, NULL, user, r);
    return r->status;
}

/* n times c, NUL-terminated, in buf (n + 1 bytes at least); returns buf. */
static char *repeated(char *buf, char c, size_t n)
{
    memset(buf, c, n);
    buf[n] = '\0';
    return buf;
}

/* Every user's balance equals the sum of its ledger, and its newest balance_after. */
static void assert_ledger_consistent(void)
{
    assert_int_equal(test_db_scalar(&db, "SELECT count(*) FROM users u WHERE balance <>"
                                         " (SELECT coalesce(sum(amount), 0) FROM point_ledger l"
                                         "   WHERE l.user_id = u.id)"),
                     0);
    assert_int_equal(test_db_scalar(&db, "SELECT count(*) FROM users u WHERE EXISTS"
                                         " (SELECT 1 FROM point_ledger WHERE user_id = u.id) AND"
                                         " balance <> (SELECT balance_after FROM point_ledger"
                                         "   WHERE user_id = u.id ORDER BY id DESC LIMIT 1)"),
                     0);
}

static void create_user__returns_201_with_zero_balance(void **state)
{
    (void)state;
    long long id = create_user("kim");
    struct test_resp r;
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/points", id);
    test_call_as(srv.base, "GET", path, NULL, id, &r);
    assert_int_equal(r.status, 200);
    assert_int_equal(test_resp_int(&r, "user_id"), id);
    assert_int_equal(test_resp_int(&r, "balance"), 0);
    test_resp_free(&r);
}

static void create_user__invalid_names__400_and_nothing_written(void **state)
{
    (void)state;
    int64_t before = test_db_scalar(&db, "SELECT count(*) FROM users");
    /* a good password each time: the name alone is what is refused */
#define PW ",\"password\":\"" TEST_PASSWORD "\""
    const char *bodies[] = {"{\"name\":\"\"" PW "}",
                            "{\"name\":\"   \"" PW "}",
                            "{\"name\":5" PW "}",
                            "{}",
                            "{\"password\":\"" TEST_PASSWORD "\"}",
                            "{\"name\":\"a\",\"admin\":true" PW "}",
                            "not json"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        sign_up_expecting(bodies[i], 400, NULL);
    char long_name[200], body[256];
    snprintf(body, sizeof(body), "{\"name\":\"%s\"" PW "}", repeated(long_name, 'x', 101));
#undef PW
    sign_up_expecting(body, 400, "INVALID_REQUEST");
    assert_int_equal(test_db_scalar(&db, "SELECT count(*) FROM users"), before);
}

/* Sign-up needs a password of 8..128 characters; otherwise 400 and nothing is written. */
static void create_user__missing_or_bad_password__400_and_nothing_written(void **state)
{
    (void)state;
    int64_t before = test_db_scalar(&db, "SELECT count(*) FROM users");
    int64_t creds = test_db_scalar(&db, "SELECT count(*) FROM user_credentials");
    char long_pw[140], too_long[200];
    snprintf(too_long, sizeof(too_long), "{\"name\":\"pw\",\"password\":\"%s\"}",
             repeated(long_pw, 'p', 129));
    const char *bodies[] = {"{\"name\":\"pw\"}", "{\"name\":\"pw\",\"password\":\"1234567\"}",
                            "{\"name\":\"pw\",\"password\":12345678}", too_long};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        sign_up_expecting(bodies[i], 400, "INVALID_REQUEST");
    assert_int_equal(test_db_scalar(&db, "SELECT count(*) FROM users"), before);
    assert_int_equal(test_db_scalar(&db, "SELECT count(*) FROM user_credentials"), creds);
    /* 8 and 128 characters are accepted */
    long_pw[128] = '\0';
    snprintf(too_long, sizeof(too_long), "{\"name\":\"pw\",\"password\":\"%s\"}", long_pw);
    const char *good[] = {"{\"name\":\"pw\",\"password\":\"12345678\"}", too_long};
    for (size_t i = 0; i < 2; i++)
        sign_up_expecting(good[i], 201, NULL);
    assert_int_equal(test_db_scalar(&db, "SELECT count(*) FROM users"), before + 2);
    assert_int_equal(test_db_scalar(&db, "SELECT count(*) FROM user_credentials"), creds + 2);
}

static void charge__adds_to_balance_and_writes_charge_row(void **state)
{
    (void)state;
    long long id = create_user("lee");
    struct test_resp r;
    assert_int_equal(charge(id, "{\"amount\":5000}", &r), 200);
    assert_int_equal(test_resp_int(&r, "balance"), 5000);
    test_resp_free(&r);
    assert_int_equal(charge(id, "{\"amount\":2500}", &r), 200);
    assert_int_equal(test_resp_int(&r, "balance"), 7500);
    assert_int_equal(test_resp_int(&r, "user_id"), id);
    test_resp_free(&r);
    assert_int_equal(test_db_scalar(&db, "SELECT balance FROM users WHERE id = %lld", id), 7500);
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT count(*) FROM point_ledger WHERE user_id = %lld"
                                    " AND type = 'CHARGE'",
                                    id),
                     2);
    assert_ledger_consistent();
}

static void charge__invalid_amounts__400_invalid_amount_and_nothing_written(void **state)
{
    (void)state;
    long long id = create_user("park");
    const char *bodies[] = {"{\"amount\":0}", "{\"amount\":-5}", "{\"amount\":60001}"};
    for (size_t i = 0; i < 3; i++)
        charge_expecting(id, bodies[i], 400, "INVALID_AMOUNT");
    const char *malformed[] = {"{\"amount\":\"5\"}", "{\"amount\":1.5}", "{}", "{\"amount\":1,"};
    for (size_t i = 0; i < 4; i++)
        charge_expecting(id, malformed[i], 400, NULL);
    assert_int_equal(test_db_scalar(&db, "SELECT balance FROM users WHERE id = %lld", id), 0);
    assert_int_equal(
        test_db_scalar(&db, "SELECT count(*) FROM point_ledger WHERE user_id = %lld", id), 0);
}

static void charge__past_the_cap__409_and_nothing_written(void **state)
{
    (void)state;
    long long id = create_user("choi");
    charge_expecting(id, "{\"amount\":60000}", 200, NULL);
    struct test_resp r;
    assert_int_equal(charge(id, "{\"amount\":40000}", &r), 200); /* exactly the cap */
    assert_int_equal(test_resp_int(&r, "balance"), 100000);
    test_resp_free(&r);
    charge_expecting(id, "{\"amount\":1}", 409, "BALANCE_LIMIT_EXCEEDED");
    assert_int_equal(test_db_scalar(&db, "SELECT balance FROM users WHERE id = %lld", id), 100000);
    assert_int_equal(
        test_db_scalar(&db, "SELECT count(*) FROM point_ledger WHERE user_id = %lld", id), 2);
    assert_ledger_consistent();
}

static void unknown_user__404_on_balance_charge_and_history(void **state)
{
    (void)state;
    /* no user holds a token for user 0: a user's token is refused, the admin's reaches 404 */
    const struct {
        const char *method, *path;
        long long as; /* a user, or TEST_AS_ADMIN */
        long status;
        const char *code; /* NULL: not checked */
    } calls[] = {
        {"GET", "/api/v1/users/987654/points", 987654, 404, "USER_NOT_FOUND"},
        {"POST", "/api/v1/users/987654/points/charge", 987654, 404, "USER_NOT_FOUND"},
        {"GET", "/api/v1/users/987654/points/history", 987654, 404, "USER_NOT_FOUND"},
        {"GET", "/api/v1/users/0/points", 987654, 403, "FORBIDDEN"},
        {"GET", "/api/v1/users/0/points", TEST_AS_ADMIN, 404, NULL},
    };
    for (size_t i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
        const char *body = strcmp(calls[i].method, "POST") == 0 ? "{\"amount\":10}" : NULL;
        test_call_expect(srv.base, calls[i].method, calls[i].path, body, calls[i].as,
                         calls[i].status, calls[i].code);
    }
    assert_int_equal(
        test_db_scalar(&db, "SELECT count(*) FROM point_ledger WHERE user_id = 987654"), 0);
}

static void history__newest_first_with_paging(void **state)
{
    (void)state;
    long long id = create_user("jung");
    struct test_resp r;
    assert_int_equal(history(id, "", &r), 200);
    assert_int_equal(json_array_size(json_object_get(r.json, "items")), 0);
    assert_true(json_is_null(json_object_get(r.json, "next_before")));
    test_resp_free(&r);

    for (int i = 1; i <= 5; i++) {
        char body[64];
        snprintf(body, sizeof(body), "{\"amount\":%d}", i * 100);
        charge_expecting(id, body, 200, NULL);
    }
    /* page 1: the two newest */
    assert_int_equal(history(id, "limit=2", &r), 200);
    json_t *items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    json_t *first = json_array_get(items, 0);
    assert_string_equal(json_string_value(json_object_get(first, "type")), "CHARGE");
    assert_int_equal(json_integer_value(json_object_get(first, "amount")), 500);
    assert_int_equal(json_integer_value(json_object_get(first, "balance_after")), 1500);
    assert_true(json_is_null(json_object_get(first, "order_id")));
    const char *created = json_string_value(json_object_get(first, "created_at"));
    assert_non_null(created);
    assert_int_equal(strlen(created), 20);
    assert_int_equal(created[10], 'T');
    assert_int_equal(created[19], 'Z');
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "amount")), 400);
    long long next = test_resp_int(&r, "next_before");
    assert_int_equal(next, json_integer_value(json_object_get(json_array_get(items, 1), "id")));
    test_resp_free(&r);

    /* pages 2 and 3 */
    char query[96];
    snprintf(query, sizeof(query), "limit=2&before=%lld", next);
    assert_int_equal(history(id, query, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 2);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "amount")), 300);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 1), "amount")), 200);
    next = test_resp_int(&r, "next_before");
    test_resp_free(&r);
    snprintf(query, sizeof(query), "limit=2&before=%lld", next);
    assert_int_equal(history(id, query, &r), 200);
    items = json_object_get(r.json, "items");
    assert_int_equal(json_array_size(items), 1);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "amount")), 100);
    assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "balance_after")),
                     100);
    assert_true(json_is_null(json_object_get(r.json, "next_before")));
    test_resp_free(&r);

    const char *bad[] = {"limit=0", "limit=101", "limit=abc", "before=-1", "limit="};
    for (size_t i = 0; i < 5; i++) {
        history(id, bad[i], &r);
        test_resp_expect(&r, 400, "INVALID_REQUEST");
    }
    assert_ledger_consistent();
}
/*
 * Any int64 `before` works: the statement once let PostgreSQL type it as a 32-bit
 * integer, and before=2147483648 answered 500.
 */
static void history__before_beyond_32_bits__200_with_every_older_row(void **state)
{
    (void)state;
    long long id = create_user("wide");
    charge_expecting(id, "{\"amount\":10}", 200, NULL);
    charge_expecting(id, "{\"amount\":20}", 200, NULL);
    const char *befores[] = {"2147483647", "2147483648", "4294967296", "9223372036854775807"};
    struct test_resp r;
    for (size_t i = 0; i < 4; i++) {
        char query[64];
        snprintf(query, sizeof(query), "before=%s", befores[i]);
        assert_int_equal(history(id, query, &r), 200);
        json_t *items = json_object_get(r.json, "items");
        assert_int_equal(json_array_size(items), 2);
        assert_int_equal(json_integer_value(json_object_get(json_array_get(items, 0), "amount")),
                         20);
        assert_true(json_is_null(json_object_get(r.json, "next_before")));
        test_resp_free(&r);
    }
    /* beyond int64: refused by the decoder, not by the database */
    history(id, "before=9223372036854775808", &r);
    test_resp_expect(&r, 400, "INVALID_REQUEST");
}

/* POST charge with an Idempotency-Key. */
static long keyed_charge(long long user, const char *key, const char *body, struct test_resp *r)
{
    char url[160], header[300], auth[640];
    snprintf(url, sizeof(url), "%s/api/v1/users/%lld/points/charge", srv.base, user);
    snprintf(header, sizeof(header), "Idempotency-Key: %s", key);
    const char *headers[] = {header, test_user_auth_header(user, auth, sizeof(auth)), NULL};
    assert_int_equal(test_http("POST", url, body, headers, r), 0);
    return r->status;
}

static void charge_with_key__applied_once_and_replayed(void **state)
{
    (void)state;
    long long id = create_user("keyed");
    struct test_resp a, b;
    assert_int_equal(keyed_charge(id, "c-1", "{\"amount\":700}", &a), 200);
    assert_int_equal(keyed_charge(id, "c-1", "{\"amount\":700}", &b), 200);
    assert_string_equal(a.body, b.body);
    char h[16];
    assert_null(test_resp_header(&a, "Idempotent-Replayed", h, sizeof(h)));
    assert_non_null(test_resp_header(&b, "Idempotent-Replayed", h, sizeof(h)));
    test_resp_free(&a);
    test_resp_free(&b);
    assert_int_equal(test_db_scalar(&db, "SELECT balance FROM users WHERE id = %lld", id), 700);
    assert_int_equal(
        test_db_scalar(&db, "SELECT count(*) FROM point_ledger WHERE user_id = %lld", id), 1);
    /* same key, other amount */
    /* then: same key, other amount; a malformed key; an invalid amount, not recorded (the key
     * stays usable); a refusal at the cap, recorded (and replayed below) */
    const struct {
        const char *key, *body;
        long status;
        const char *code; /* NULL: not checked */
    } then[] = {
        {"c-1", "{\"amount\":800}", 422, "IDEMPOTENCY_KEY_REUSED"},
        {"bad\x01key", "{\"amount\":1}", 400, "IDEMPOTENCY_KEY_REQUIRED"},
        {"c-2", "{\"amount\":0}", 400, NULL},
        {"c-2", "{\"amount\":5}", 200, NULL},
        {"c-3", "{\"amount\":60000}", 200, NULL},
        {"c-4", "{\"amount\":60000}", 409, "BALANCE_LIMIT_EXCEEDED"},
    };
    for (size_t i = 0; i < sizeof(then) / sizeof(then[0]); i++) {
        keyed_charge(id, then[i].key, then[i].body, &a);
        test_resp_expect(&a, then[i].status, then[i].code);
    }
    assert_int_equal(keyed_charge(id, "c-4", "{\"amount\":60000}", &a), 409);
    assert_non_null(test_resp_header(&a, "Idempotent-Replayed", h, sizeof(h)));
    test_resp_free(&a);
    assert_int_equal(test_db_scalar(&db, "SELECT balance FROM users WHERE id = %lld", id), 60705);
    assert_ledger_consistent();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_user__returns_201_with_zero_balance),
        cmocka_unit_test(create_user__invalid_names__400_and_nothing_written),
        cmocka_unit_test(create_user__missing_or_bad_password__400_and_nothing_written),
        cmocka_unit_test(charge__adds_to_balance_and_writes_charge_row),
        cmocka_unit_test(charge__invalid_amounts__400_invalid_amount_and_nothing_written),
        cmocka_unit_test(charge__past_the_cap__409_and_nothing_written),
        cmocka_unit_test(unknown_user__404_on_balance_charge_and_history),
        cmocka_unit_test(history__newest_first_with_paging),
        cmocka_unit_test(history__before_beyond_32_bits__200_with_every_older_row),
        cmocka_unit_test(charge_with_key__applied_once_and_replayed),
    };
    return TEST_ENV_RUN(tests, &db, &srv, "points", tweak);
}
