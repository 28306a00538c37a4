/*
 * test_auth_pg.c — customers act on their own account only (issue 11),
 * against real PostgreSQL and Redis, over HTTP, with two instances on one
 * database and one Redis (the throttle is shared):
 *   sign-up → login → charge → order → cancel with one user's token;
 *   the same calls with another user's token → 403/404 and nothing changes;
 *   no token → 401 on every route the table marks user-scoped;
 *   the admin token acts for anyone; public routes stay public;
 *   unknown user and wrong password answer alike; repeated failures → 429
 *   with Retry-After on both instances, and the right password after the
 *   window → 200; expired and foreign-key tokens → 401; a user created
 *   before passwords existed logs in once the admin sets one; with Redis
 *   unreachable logins answer 503 and tokens keep working. (Sign-up
 *   password rules: test_points_pg.c.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "composition/app.h"
#include "auth/token.h"
#include "http/router.h"
#include "support/test_db.h"
#include "support/test_fixtures.h"
#include "support/test_http.h"
#include "support/test_server.h"

enum { WINDOW_S = 2, USER_FAILURES = 3 };

static struct test_db db;
static struct test_server srv, srv2; /* two instances on one database and one Redis */

static void tweak(struct config *cfg)
{
    cfg->login_window_s = WINDOW_S;
    cfg->login_user_failures = USER_FAILURES;
    cfg->login_address_failures = 1000;
}

static int setup(void **state)
{
    (void)state;
    test_env_start(&db, &srv, "auth", tweak);
    struct config cfg;
    test_server_config(&cfg, db.url);
    tweak(&cfg);
    cfg.migrate = false;
    test_server_start(&srv2, &cfg);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    test_server_stop(&srv2);
    test_env_stop(&db, &srv);
    return 0;
}

/* POST /api/v1/auth/token on base; returns the status, the token copied into token (may be NULL).
 */
static long login(const char *base, long long user, const char *password, char *token,
                  struct test_resp *out)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"user_id\":%lld,\"password\":\"%s\"}", user, password);
    test_call(base, "POST", "/api/v1/auth/token", body, 0, out);
    if (token && out->status == 200)
        snprintf(token, TOKEN_MAX, "%s",
                 json_string_value(json_object_get(out->json, "access_token")));
    return out->status;
}

/* A call with an explicit bearer token (NULL = none). */
static long call_token(const char *method, const char *path, const char *body, const char *token,
                       struct test_resp *out)
{
    char url[512], auth[TOKEN_MAX + 64];
    snprintf(url, sizeof(url), "%s%s", srv.base, path);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token ? token : "");
    const char *headers[] = {token ? auth : NULL, NULL};
    assert_int_equal(test_http(method, url, body, headers, out), 0);
    return out->status;
}

static long long balance_in_db(long long user)
{
    return test_db_scalar(&db, "SELECT balance FROM users WHERE id = %lld", user);
}

/* ---- the whole path with one user's own token ---- */

static void own_token__sign_up_login_charge_order_cancel(void **state)
{
    (void)state;
    struct test_resp r;
    test_call(srv.base, "POST", "/api/v1/users",
              "{\"name\":\"kim\",\"password\":\"correct horse 42\"}", 0, &r);
    assert_int_equal(r.status, 201);
    long long kim = test_resp_int(&r, "id");
    assert_null(json_object_get(r.json, "password"));
    test_resp_free(&r);
    /* only a hash is stored */
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT count(*) FROM user_credentials WHERE user_id = %lld "
                                    "AND password_hash LIKE '$argon2id$%%' AND password_hash NOT "
                                    "LIKE '%%correct horse%%'",
                                    kim),
                     1);

    char token[TOKEN_MAX];
    assert_int_equal(login(srv.base, kim, "correct horse 42", token, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "token_type")), "Bearer");
    assert_int_equal(test_resp_int(&r, "expires_in"), 3600);
    assert_int_equal(test_resp_int(&r, "user_id"), kim);
    char cc[64];
    assert_non_null(test_resp_header(&r, "Cache-Control", cc, sizeof(cc)));
    assert_string_equal(cc, "no-store");
    test_resp_free(&r);

    char path[128], body[256];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/points/charge", kim);
    assert_int_equal(call_token("POST", path, "{\"amount\":50000}", token, &r), 200);
    test_resp_free(&r);
    long long product = test_new_product(srv.base, "widget", 1000, 10);
    test_order_body(body, sizeof(body), kim, product, 2, 0);
    char url[512], auth[TOKEN_MAX + 64];
    snprintf(url, sizeof(url), "%s/api/v1/orders", srv.base);
    snprintf(auth, sizeof(auth), "Authorization: Bearer %s", token);
    const char *headers[] = {auth, "Idempotency-Key: own-1", NULL};
    assert_int_equal(test_http("POST", url, body, headers, &r), 0);
    assert_int_equal(r.status, 201);
    long long order = test_resp_int(&r, "id");
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/orders/%lld", order);
    assert_int_equal(call_token("GET", path, NULL, token, &r), 200);
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/orders/%lld/cancel", order);
    assert_int_equal(call_token("POST", path, NULL, token, &r), 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "CANCELLED");
    test_resp_free(&r);
    assert_int_equal(balance_in_db(kim), 50000);
    /* the same token works on the other instance: no session, no round trip */
    snprintf(url, sizeof(url), "%s/api/v1/users/%lld/points", srv2.base, kim);
    const char *h2[] = {auth, NULL};
    assert_int_equal(test_http("GET", url, NULL, h2, &r), 0);
    assert_int_equal(r.status, 200);
    test_resp_free(&r);
}

/* ---- another user's token: refused, and nothing changes ---- */

static void another_users_token__403_or_404_and_nothing_changes(void **state)
{
    (void)state;
    long long victim = test_new_user(srv.base, "victim");
    long long thief = test_new_user(srv.base, "thief");
    struct test_resp r;
    char path[128], body[256];
    test_charge_points(srv.base, victim, 10000);
    long long product = test_new_product(srv.base, "widget", 1000, 5);
    test_order_body(body, sizeof(body), victim, product, 1, 0);
    char url[512], victim_auth[640], thief_auth[640];
    snprintf(url, sizeof(url), "%s/api/v1/orders", srv.base);
    test_user_auth_header(victim, victim_auth, sizeof(victim_auth));
    test_user_auth_header(thief, thief_auth, sizeof(thief_auth));
    const char *own[] = {victim_auth, "Idempotency-Key: v-1", NULL};
    assert_int_equal(test_http("POST", url, body, own, &r), 0);
    assert_int_equal(r.status, 201);
    long long order = test_resp_int(&r, "id");
    test_resp_free(&r);
    long long ledger_rows =
        test_db_scalar(&db, "SELECT count(*) FROM point_ledger WHERE user_id = %lld", victim);
    long long stock = test_db_scalar(&db, "SELECT stock FROM products WHERE id = %lld", product);

    /* the thief spends the victim's points: 403, nothing taken */
    const char *as_thief[] = {thief_auth, "Idempotency-Key: t-1", NULL};
    assert_int_equal(test_http("POST", url, body, as_thief, &r), 0);
    assert_int_equal(r.status, 403);
    assert_string_equal(test_resp_code(&r), "FORBIDDEN");
    test_resp_free(&r);
    /* every path-scoped read and write of the victim's account: 403 */
    const char *victim_paths[][2] = {
        {"GET", "/points"}, {"POST", "/points/charge"}, {"GET", "/points/history"},
        {"GET", "/orders"}, {"GET", "/coupons"},        {"PUT", "/password"},
    };
    for (size_t i = 0; i < sizeof(victim_paths) / sizeof(victim_paths[0]); i++) {
        snprintf(path, sizeof(path), "/api/v1/users/%lld%s", victim, victim_paths[i][1]);
        const char *b = strcmp(victim_paths[i][0], "GET") == 0 ? NULL
                        : strstr(path, "password")             ? "{\"password\":\"stolen-pass\"}"
                                                               : "{\"amount\":1}";
        test_call_as(srv.base, victim_paths[i][0], path, b, thief, &r);
        if (r.status != 403)
            fail_msg("%s %s as another user: %ld, expected 403", victim_paths[i][0], path,
                     r.status);
        test_resp_free(&r);
    }
    /* the victim's order by id: 404 as if it did not exist, and the cancel changes nothing */
    snprintf(path, sizeof(path), "/api/v1/orders/%lld", order);
    test_call_as(srv.base, "GET", path, NULL, thief, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(test_resp_code(&r), "ORDER_NOT_FOUND");
    test_resp_free(&r);
    snprintf(path, sizeof(path), "/api/v1/orders/%lld/cancel", order);
    test_call_as(srv.base, "POST", path, NULL, thief, &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(test_resp_code(&r), "ORDER_NOT_FOUND");
    test_resp_free(&r);
    assert_int_equal(test_db_scalar(&db,
                                    "SELECT count(*) FROM orders WHERE id = %lld AND status "
                                    "= 'PAID'",
                                    order),
                     1);
    assert_int_equal(balance_in_db(victim), 10000 - 1000);
    assert_int_equal(
        test_db_scalar(&db, "SELECT count(*) FROM point_ledger WHERE user_id = %lld", victim),
        ledger_rows);
    assert_int_equal(test_db_scalar(&db, "SELECT stock FROM products WHERE id = %lld", product),
                     stock);
    /* the victim's password still works: the thief could not change it */
    assert_int_equal(login(srv.base, victim, TEST_PASSWORD, NULL, &r), 200);
    test_resp_free(&r);
    /* the admin acts for anyone */
    test_call(srv.base, "POST", path, NULL, 1, &r);
    assert_int_equal(r.status, 200);
    test_resp_free(&r);
    assert_int_equal(balance_in_db(victim), 10000);
}

/* ---- the route table: what each route declares, and 401 without a token ---- */

static const struct {
    const char *label;
    enum route_access access;
} expected_access[] = {
    {"GET /healthz", ROUTE_PUBLIC},
    {"GET /readyz", ROUTE_PUBLIC},
    {"GET /metrics", ROUTE_PUBLIC},
    {"GET /api/v1/products", ROUTE_PUBLIC},
    {"POST /api/v1/products", ROUTE_ADMIN},
    {"GET /api/v1/products/popular", ROUTE_PUBLIC},
    {"GET /api/v1/products/{id}", ROUTE_PUBLIC},
    {"POST /api/v1/users", ROUTE_PUBLIC},
    {"POST /api/v1/auth/token", ROUTE_PUBLIC},
    {"PUT /api/v1/users/{id}/password", ROUTE_USER_PATH},
    {"GET /api/v1/users/{id}/points", ROUTE_USER_PATH},
    {"POST /api/v1/users/{id}/points/charge", ROUTE_USER_PATH},
    {"GET /api/v1/users/{id}/points/history", ROUTE_USER_PATH},
    {"POST /api/v1/coupons", ROUTE_ADMIN},
    {"GET /api/v1/coupons/{id}", ROUTE_PUBLIC},
    {"POST /api/v1/coupons/{id}/issue", ROUTE_USER_BODY},
    {"POST /api/v1/coupons/{id}/issue-requests", ROUTE_USER_BODY},
    {"GET /api/v1/coupon-issue-requests/{id}", ROUTE_OWNER},
    {"GET /api/v1/users/{id}/coupons", ROUTE_USER_PATH},
    {"POST /api/v1/orders", ROUTE_USER_BODY},
    {"GET /api/v1/orders/{id}", ROUTE_OWNER},
    {"POST /api/v1/orders/{id}/cancel", ROUTE_OWNER},
    {"GET /api/v1/users/{id}/orders", ROUTE_USER_PATH},
    {"POST /api/v1/admin/outbox/requeue", ROUTE_ADMIN},
    {"GET /openapi.yaml", ROUTE_PUBLIC},
    {"GET /docs", ROUTE_PUBLIC},
    {"GET /docs/swagger-ui.css", ROUTE_PUBLIC},
    {"GET /docs/swagger-ui-bundle.js", ROUTE_PUBLIC},
};

static void route_table__each_route_declares_the_expected_access(void **state)
{
    (void)state;
    const struct router *router = app_router(srv.app);
    assert_int_equal(router->n_routes, sizeof(expected_access) / sizeof(expected_access[0]));
    for (size_t i = 0; i < router->n_routes; i++) {
        const struct route *rt = &router->routes[i];
        char label[128];
        snprintf(label, sizeof(label), "%s %s", http_method_name(rt->method), rt->pattern);
        size_t j = 0;
        while (j < router->n_routes && strcmp(expected_access[j].label, label) != 0)
            j++;
        if (j == router->n_routes)
            fail_msg("route %s is not in this test's table", label);
        if (rt->access != expected_access[j].access)
            fail_msg("route %s declares access %d, expected %d", label, rt->access,
                     expected_access[j].access);
    }
}

static void every_non_public_route__401_without_a_token(void **state)
{
    (void)state;
    const struct router *router = app_router(srv.app);
    for (size_t i = 0; i < router->n_routes; i++) {
        const struct route *rt = &router->routes[i];
        if (rt->access == ROUTE_PUBLIC)
            continue;
        char path[128] = "", *out = path;
        for (const char *p = rt->pattern; *p; p++) { /* {id} → 1 */
            if (strncmp(p, "{id}", 4) == 0) {
                *out++ = '1';
                p += 3;
            } else {
                *out++ = *p;
            }
        }
        *out = '\0';
        struct test_resp r;
        test_call(srv.base, http_method_name(rt->method), path, "{\"user_id\":1}", 0, &r);
        if (r.status != 401 || strcmp(test_resp_code(&r), "UNAUTHORIZED") != 0)
            fail_msg("%s %s without a token: %ld %s", http_method_name(rt->method), path, r.status,
                     test_resp_code(&r));
        char www[32];
        assert_non_null(test_resp_header(&r, "WWW-Authenticate", www, sizeof(www)));
        test_resp_free(&r);
    }
    /* and the public ones answer without one */
    const char *public_paths[] = {"/api/v1/products", "/api/v1/products/popular", "/healthz"};
    for (size_t i = 0; i < 3; i++) {
        struct test_resp r;
        test_call(srv.base, "GET", public_paths[i], NULL, 0, &r);
        assert_int_equal(r.status, 200);
        test_resp_free(&r);
    }
}

/* ---- tokens that must not work ---- */

static void expired_foreign_or_garbled_tokens__401(void **state)
{
    (void)state;
    long long lee = test_new_user(srv.base, "lee");
    struct token_keys test_keys, other_keys;
    struct err e;
    err_clear(&e);
    assert_true(token_crypto_init());
    assert_int_equal(token_keys_init(&test_keys, TEST_TOKEN_SECRET, NULL, &e), ERR_OK);
    assert_int_equal(
        token_keys_init(&other_keys, "another-secret-entirely-0123456789abcdef", NULL, &e), ERR_OK);
    char expired[TOKEN_MAX], foreign[TOKEN_MAX], good[TOKEN_MAX];
    long long now = (long long)time(NULL);
    assert_true(token_sign(&test_keys, lee, now - 7200, 3600, expired, sizeof(expired)) > 0);
    assert_true(token_sign(&other_keys, lee, now, 3600, foreign, sizeof(foreign)) > 0);
    assert_true(token_sign(&test_keys, lee, now, 3600, good, sizeof(good)) > 0);
    char garbled[TOKEN_MAX];
    snprintf(garbled, sizeof(garbled), "%s", good);
    garbled[strlen(garbled) / 2] ^= 1;
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/points", lee);
    const char *bad[] = {expired, foreign, garbled, "not-a-token"};
    struct test_resp r;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(call_token("GET", path, NULL, bad[i], &r), 401);
        assert_string_equal(test_resp_code(&r), "UNAUTHORIZED");
        test_resp_free(&r);
    }
    assert_int_equal(call_token("GET", path, NULL, good, &r), 200);
    test_resp_free(&r);
}

/* ---- logging in ---- */

static void unknown_user_and_wrong_password__the_same_401(void **state)
{
    (void)state;
    long long park = test_new_user(srv.base, "park");
    struct test_resp wrong, unknown;
    assert_int_equal(login(srv.base, park, "wrong password", NULL, &wrong), 401);
    assert_int_equal(login(srv.base, 987654321, "wrong password", NULL, &unknown), 401);
    assert_string_equal(test_resp_code(&wrong), "INVALID_CREDENTIALS");
    assert_string_equal(wrong.body, unknown.body);
    test_resp_free(&wrong);
    test_resp_free(&unknown);
    /* bad input is a 400, not a login attempt */
    struct test_resp r;
    test_call(srv.base, "POST", "/api/v1/auth/token", "{\"user_id\":\"x\",\"password\":\"p\"}", 0,
              &r);
    assert_int_equal(r.status, 400);
    test_resp_free(&r);
    test_call(srv.base, "POST", "/api/v1/auth/token", "{\"user_id\":1}", 0, &r);
    assert_int_equal(r.status, 400);
    test_resp_free(&r);
}

static void repeated_failures__429_on_both_instances_then_the_window_ends(void **state)
{
    (void)state;
    long long choi = test_new_user(srv.base, "choi");
    struct test_resp r;
    /* failures spread over the two instances count together */
    for (int i = 0; i < USER_FAILURES; i++) {
        assert_int_equal(login(i % 2 ? srv2.base : srv.base, choi, "wrong password", NULL, &r),
                         401);
        test_resp_free(&r);
    }
    const char *bases[] = {srv.base, srv2.base};
    for (size_t i = 0; i < 2; i++) {
        /* even the right password: the throttle answers before any check */
        assert_int_equal(login(bases[i], choi, TEST_PASSWORD, NULL, &r), 429);
        assert_string_equal(test_resp_code(&r), "TOO_MANY_ATTEMPTS");
        char retry[16];
        assert_non_null(test_resp_header(&r, "Retry-After", retry, sizeof(retry)));
        assert_true(atoi(retry) >= 1 && atoi(retry) <= WINDOW_S);
        test_resp_free(&r);
    }
    /* another user from the same address is not affected (per-address limit is high here) */
    long long other = test_new_user(srv.base, "other");
    assert_int_equal(login(srv.base, other, TEST_PASSWORD, NULL, &r), 200);
    test_resp_free(&r);
    sleep(WINDOW_S + 1);
    assert_int_equal(login(srv2.base, choi, TEST_PASSWORD, NULL, &r), 200);
    test_resp_free(&r);
}

static void user_without_a_password__logs_in_once_the_admin_sets_one(void **state)
{
    (void)state;
    /* as created before migration 0011: a users row, no credentials */
    long long legacy =
        test_db_scalar(&db, "INSERT INTO users (name) VALUES ('legacy') RETURNING id");
    struct test_resp r;
    assert_int_equal(login(srv.base, legacy, "whatever-it-was", NULL, &r), 401);
    test_resp_free(&r);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/password", legacy);
    test_call(srv.base, "PUT", path, "{\"password\":\"fresh start 1\"}", 1, &r);
    assert_int_equal(r.status, 200);
    test_resp_free(&r);
    assert_int_equal(login(srv.base, legacy, "fresh start 1", NULL, &r), 200);
    test_resp_free(&r);
    /* and the user changes it with their own token */
    test_call_as(srv.base, "PUT", path, "{\"password\":\"fresh start 2\"}", legacy, &r);
    assert_int_equal(r.status, 200);
    test_resp_free(&r);
    assert_int_equal(login(srv.base, legacy, "fresh start 2", NULL, &r), 200);
    test_resp_free(&r);
    test_call(srv.base, "PUT", "/api/v1/users/99999999/password", "{\"password\":\"whatever1\"}", 1,
              &r);
    assert_int_equal(r.status, 404);
    assert_string_equal(test_resp_code(&r), "USER_NOT_FOUND");
    test_resp_free(&r);
}

static void redis_unreachable__logins_fail_closed_and_tokens_keep_working(void **state)
{
    (void)state;
    long long han = test_new_user(srv.base, "han");
    /* a third instance on the same database whose Redis does not answer */
    struct config cfg;
    test_server_config(&cfg, db.url);
    cfg.migrate = false;
    snprintf(cfg.redis_url, sizeof(cfg.redis_url), "%s", "redis://127.0.0.1:1/0");
    struct test_server blind;
    test_server_start(&blind, &cfg);
    struct test_resp r;
    assert_int_equal(login(blind.base, han, TEST_PASSWORD, NULL, &r), 503);
    assert_string_equal(test_resp_code(&r), "SERVICE_UNAVAILABLE");
    test_resp_free(&r);
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/points", han);
    test_call_as(blind.base, "GET", path, NULL, han, &r);
    assert_int_equal(r.status, 200);
    test_resp_free(&r);
    test_server_stop(&blind);
}

static void start_up__refuses_a_short_token_key(void **state)
{
    (void)state;
    struct config cfg;
    test_server_config(&cfg, db.url);
    cfg.migrate = false;
    snprintf(cfg.token_secret, sizeof(cfg.token_secret), "%s", "only-31-bytes-long-0123456789ab");
    struct err e;
    err_clear(&e);
    struct app *a = app_new(&cfg, &e);
    assert_null(a);
    assert_int_equal(e.code, ERR_INVALID_REQUEST);
    assert_non_null(strstr(e.detail, "SHOPD_TOKEN_SECRET"));
    /* 32 bytes is enough */
    snprintf(cfg.token_secret, sizeof(cfg.token_secret), "%s", "exactly-32-bytes-long-0123456789");
    err_clear(&e);
    a = app_new(&cfg, &e);
    assert_non_null(a);
    app_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(own_token__sign_up_login_charge_order_cancel),
        cmocka_unit_test(another_users_token__403_or_404_and_nothing_changes),
        cmocka_unit_test(route_table__each_route_declares_the_expected_access),
        cmocka_unit_test(every_non_public_route__401_without_a_token),
        cmocka_unit_test(expired_foreign_or_garbled_tokens__401),
        cmocka_unit_test(unknown_user_and_wrong_password__the_same_401),
        cmocka_unit_test(repeated_failures__429_on_both_instances_then_the_window_ends),
        cmocka_unit_test(user_without_a_password__logs_in_once_the_admin_sets_one),
        cmocka_unit_test(redis_unreachable__logins_fail_closed_and_tokens_keep_working),
        cmocka_unit_test(start_up__refuses_a_short_token_key),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
