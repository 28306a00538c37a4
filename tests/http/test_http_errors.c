/*
 * test_http_errors.c — the error contract of api.md over a real socket: the
 * real route table on a port-0 server whose database is unreachable, so any
 * answer here comes from the HTTP core, never from PostgreSQL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "auth/token.h"
#include "support/test_http.h"
#include "support/test_server.h"

static struct test_server srv;

/* A problem+json answer with the given status and code, and all RFC 9457 members. */
static void assert_problem(const struct test_resp *r, long status, const char *code)
{
    char ct[128];
    assert_int_equal(r->status, status);
    assert_non_null(test_resp_header(r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/problem+json");
    assert_non_null(r->json);
    assert_string_equal(json_string_value(json_object_get(r->json, "type")), "about:blank");
    assert_non_null(json_string_value(json_object_get(r->json, "title")));
    assert_non_null(json_string_value(json_object_get(r->json, "detail")));
    assert_int_equal(json_integer_value(json_object_get(r->json, "status")), status);
    assert_string_equal(test_resp_code(r), code);
}

/* 401 UNAUTHORIZED asking for a bearer token. */
static void assert_unauthorized(const struct test_resp *r)
{
    assert_problem(r, 401, "UNAUTHORIZED");
    char www[64];
    assert_non_null(test_resp_header(r, "WWW-Authenticate", www, sizeof(www)));
    assert_string_equal(www, "Bearer");
}

static void malformed_json__400_invalid_json(void **state)
{
    (void)state;
    const char *bodies[] = {"{\"name\":", "nonsense", "", "{\"name\":\"a\",\"name\":\"b\"}"};
    for (size_t i = 0; i < 4; i++) {
        struct test_resp r;
        test_call(srv.base, "POST", "/api/v1/users", bodies[i], 0, &r);
        assert_problem(&r, 400, "INVALID_JSON");
        test_resp_free(&r);
    }
}

static void wrong_types_unknown_and_missing_fields__400_naming_the_field(void **state)
{
    (void)state;
    /* sign-up is public; a charge is sent as its user (a token: the body is what is judged) */
#define PW ",\"password\":\"" TEST_PASSWORD "\""
    const struct {
        const char *path, *body, *field;
        long long as;
    } cases[] = {
        {"/api/v1/users", "{\"name\":42" PW "}", "name", 0},
        {"/api/v1/users", "{\"nick\":\"x\",\"name\":\"y\"" PW "}", "nick", 0},
        {"/api/v1/users", "{}", "name", 0},
        {"/api/v1/users", "{\"password\":\"" TEST_PASSWORD "\"}", "name", 0},
        {"/api/v1/users", "{\"name\":\"y\"}", "password", 0},
        {"/api/v1/users", "{\"name\":\"y\",\"password\":\"7-chars\"}", "password", 0},
        {"/api/v1/users", "{\"name\":\"y\",\"password\":12345678}", "password", 0},
        {"/api/v1/users/1/points/charge", "{\"amount\":\"100\"}", "amount", 1},
        {"/api/v1/users/1/points/charge", "{\"amount\":100.0}", "amount", 1},
        {"/api/v1/users/1/points/charge", "{\"amount\":true}", "amount", 1},
        {"/api/v1/users/1/points/charge", "{\"amount\":null}", "amount", 1},
    };
#undef PW
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct test_resp r;
        test_call_as(srv.base, "POST", cases[i].path, cases[i].body, cases[i].as, &r);
        assert_problem(&r, 400, "INVALID_REQUEST");
        assert_string_equal(json_string_value(json_object_get(r.json, "field")), cases[i].field);
        test_resp_free(&r);
    }
    struct test_resp r;
    test_call(srv.base, "POST", "/api/v1/users", "[1,2]", 0, &r);
    assert_problem(&r, 400, "INVALID_REQUEST");
    test_resp_free(&r);
    test_call_as(srv.base, "POST", "/api/v1/users/1/points/charge",
                 "{\"amount\":99999999999999999999999}", 1, &r);
    assert_problem(&r, 400, "INVALID_REQUEST");
    test_resp_free(&r);
    /* without a token the same requests never reach the body check */
    test_call(srv.base, "POST", "/api/v1/users/1/points/charge", "{\"amount\":\"100\"}", 0, &r);
    assert_unauthorized(&r);
    test_resp_free(&r);
    test_call(srv.base, "POST", "/api/v1/orders", "{\"user_id\":\"1\",\"items\":7}", 0, &r);
    assert_unauthorized(&r);
    test_resp_free(&r);
    /* a token with a body that names no user: past the check, the handler's own 400 */
    test_call_as(srv.base, "POST", "/api/v1/orders", "{\"items\":[]}", 1, &r);
    assert_problem(&r, 400, "IDEMPOTENCY_KEY_REQUIRED");
    test_resp_free(&r);
}

static void unknown_route__404_not_found(void **state)
{
    (void)state;
    const char *paths[] = {"/", "/api/v1/nothing", "/api/v1/products/abc", "/api/v1/products/1/x",
                           "/api/v2/products"};
    for (size_t i = 0; i < 5; i++) {
        struct test_resp r;
        test_call(srv.base, "GET", paths[i], NULL, 0, &r);
        assert_problem(&r, 404, "NOT_FOUND");
        test_resp_free(&r);
    }
}

static void known_path_wrong_method__405_with_allow(void **state)
{
    (void)state;
    const struct {
        const char *method, *path, *allow;
    } cases[] = {
        {"DELETE", "/api/v1/products/1", "GET"},
        {"PUT", "/api/v1/products", "GET, POST"},
        {"GET", "/api/v1/users/1/points/charge", "POST"},
        {"POST", "/healthz", "GET"},
    };
    for (size_t i = 0; i < 4; i++) {
        struct test_resp r;
        test_call(srv.base, cases[i].method, cases[i].path, NULL, 0, &r);
        assert_problem(&r, 405, "METHOD_NOT_ALLOWED");
        char allow[64];
        assert_non_null(test_resp_header(&r, "Allow", allow, sizeof(allow)));
        assert_string_equal(allow, cases[i].allow);
        test_resp_free(&r);
    }
}

static char *body_of_size(size_t size)
{
    /* {"password":"…","name":"xxxx…"} padded to exactly size bytes */
    static const char head[] = "{\"password\":\"" TEST_PASSWORD "\",\"name\":\"";
    char *body = malloc(size + 1);
    memset(body, 'x', size);
    memcpy(body, head, sizeof(head) - 1);
    body[size - 2] = '"';
    body[size - 1] = '}';
    body[size] = '\0';
    return body;
}

static void body_over_64_kib__413_and_exactly_64_kib_is_read(void **state)
{
    (void)state;
    char *big = body_of_size(64 * 1024 + 1);
    struct test_resp r;
    test_call(srv.base, "POST", "/api/v1/users", big, 0, &r);
    assert_problem(&r, 413, "PAYLOAD_TOO_LARGE");
    test_resp_free(&r);
    free(big);

    /* exactly the limit is read and judged on its content (a name far too long) */
    char *limit = body_of_size(64 * 1024);
    test_call(srv.base, "POST", "/api/v1/users", limit, 0, &r);
    assert_problem(&r, 400, "INVALID_REQUEST");
    test_resp_free(&r);
    free(limit);
}

struct upload {
    const char *data;
    size_t left;
};

static size_t read_upload(char *buf, size_t size, size_t n, void *ud)
{
    struct upload *u = ud;
    size_t take = size * n < u->left ? size * n : u->left;
    if (take > 1000)
        take = 1000; /* many small chunks */
    memcpy(buf, u->data, take);
    u->data += take;
    u->left -= take;
    return take;
}

static size_t discard(char *p, size_t s, size_t n, void *ud)
{
    (void)p;
    (void)ud;
    return s * n;
}

static void chunked_body_over_64_kib__413(void **state)
{
    (void)state;
    char *big = body_of_size(100 * 1024);
    struct upload u = {big, strlen(big)};
    CURL *curl = curl_easy_init();
    char url[128];
    snprintf(url, sizeof(url), "%s/api/v1/users", srv.base);
    struct curl_slist *h = curl_slist_append(NULL, "Transfer-Encoding: chunked");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, read_upload);
    curl_easy_setopt(curl, CURLOPT_READDATA, &u);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, discard);
    assert_int_equal(curl_easy_perform(curl), CURLE_OK);
    long status = 0;
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    assert_int_equal(status, 413);
    curl_slist_free_all(h);
    curl_easy_cleanup(curl);
    free(big);
}

static void admin_endpoint__401_without_token_403_with_wrong_one(void **state)
{
    (void)state;
    const char *body = "{\"name\":\"Keyboard\",\"price\":39000,\"stock\":100}";
    char url[128];
    snprintf(url, sizeof(url), "%s/api/v1/products", srv.base);
    struct test_resp r;
    assert_int_equal(test_http("POST", url, body, NULL, &r), 0);
    assert_problem(&r, 401, "UNAUTHORIZED");
    char www[64];
    assert_non_null(test_resp_header(&r, "WWW-Authenticate", www, sizeof(www)));
    test_resp_free(&r);

    const char *basic[] = {"Authorization: Basic dGVzdDp0ZXN0", NULL};
    assert_int_equal(test_http("POST", url, body, basic, &r), 0);
    assert_problem(&r, 401, "UNAUTHORIZED");
    test_resp_free(&r);

    const char *wrong[] = {"Authorization: Bearer not-the-token", NULL};
    assert_int_equal(test_http("POST", url, body, wrong, &r), 0);
    assert_problem(&r, 403, "FORBIDDEN");
    test_resp_free(&r);

    const char *prefix[] = {"Authorization: Bearer " TEST_ADMIN_TOKEN "x", NULL};
    assert_int_equal(test_http("POST", url, body, prefix, &r), 0);
    assert_problem(&r, 403, "FORBIDDEN");
    test_resp_free(&r);

    /* the right token passes the check; the database being down is then a 503 */
    test_call(srv.base, "POST", "/api/v1/products", body, 1, &r);
    assert_problem(&r, 503, "SERVICE_UNAVAILABLE");
    test_resp_free(&r);
}

static void database_down__503_never_a_crash(void **state)
{
    (void)state;
    /* public reads need no token; user 1's reads carry user 1's */
    const struct {
        const char *path;
        long long as;
    } cases[] = {{"/api/v1/products/1", 0},
                 {"/api/v1/products", 0},
                 {"/api/v1/users/1/points", 1},
                 {"/api/v1/users/1/points/history", 1}};
    for (size_t i = 0; i < 4; i++) {
        struct test_resp r;
        test_call_as(srv.base, "GET", cases[i].path, NULL, cases[i].as, &r);
        assert_problem(&r, 503, "SERVICE_UNAVAILABLE");
        test_resp_free(&r);
    }
    struct test_resp r;
    test_call_as(srv.base, "POST", "/api/v1/users/1/points/charge", "{\"amount\":100}", 1, &r);
    assert_problem(&r, 503, "SERVICE_UNAVAILABLE");
    test_resp_free(&r);
}

/* User-scoped routes: 401 without a usable token, 403 for another user, before any database. */
static void user_endpoint__401_without_token_403_for_another_user(void **state)
{
    (void)state;
    struct test_resp r;
    const struct {
        const char *method, *path, *body;
    } cases[] = {
        {"GET", "/api/v1/users/1/points", NULL},
        {"POST", "/api/v1/users/1/points/charge", "{\"amount\":100}"},
        {"GET", "/api/v1/users/1/orders", NULL},
        {"POST", "/api/v1/orders", "{\"user_id\":1,\"items\":[{\"product_id\":1,\"quantity\":1}]}"},
        {"GET", "/api/v1/orders/1", NULL},
        {"POST", "/api/v1/orders/1/cancel", NULL},
        {"POST", "/api/v1/coupons/1/issue", "{\"user_id\":1}"},
        {"GET", "/api/v1/coupon-issue-requests/1", NULL},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        test_call(srv.base, cases[i].method, cases[i].path, cases[i].body, 0, &r);
        assert_unauthorized(&r);
        test_resp_free(&r);
    }
    /* another scheme, a malformed token, an expired one (issued two hours ago for one hour),
       one that expires before it was issued, one whose signature was altered */
    char url[128], expired[640], backwards[640], token[TOKEN_MAX], forged[640];
    snprintf(url, sizeof(url), "%s/api/v1/users/1/points", srv.base);
    struct token_keys keys;
    struct err e;
    err_clear(&e);
    assert_true(token_crypto_init());
    assert_int_equal(token_keys_init(&keys, TEST_TOKEN_SECRET, NULL, &e), ERR_OK);
    assert_true(token_sign(&keys, 1, (int64_t)time(NULL) - 7200, 3600, token, sizeof(token)) > 0);
    token_keys_wipe(&keys);
    snprintf(expired, sizeof(expired), "Authorization: Bearer %s", token);
    snprintf(backwards, sizeof(backwards), "Authorization: Bearer %s",
             test_user_token(1, -60, token, sizeof(token)));
    test_user_token(1, 3600, token, sizeof(token));
    token[strlen(token) - 2] = token[strlen(token) - 2] == 'A' ? 'B' : 'A'; /* signature altered */
    snprintf(forged, sizeof(forged), "Authorization: Bearer %s", token);
    const char *bad[] = {"Authorization: Basic dGVzdDp0ZXN0",
                         "Authorization: Bearer not-a-token",
                         "Authorization: Bearer ",
                         expired,
                         backwards,
                         forged};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        const char *headers[] = {bad[i], NULL};
        assert_int_equal(test_http("GET", url, NULL, headers, &r), 0);
        assert_unauthorized(&r);
        test_resp_free(&r);
    }
    /* a valid token acting for another user */
    test_call_as(srv.base, "GET", "/api/v1/users/1/points", NULL, 2, &r);
    assert_problem(&r, 403, "FORBIDDEN");
    test_resp_free(&r);
    test_call_as(srv.base, "POST", "/api/v1/coupons/1/issue", "{\"user_id\":1}", 2, &r);
    assert_problem(&r, 403, "FORBIDDEN");
    test_resp_free(&r);
    /* the admin acts for anyone: past the check, the database being down is then a 503 */
    test_call(srv.base, "GET", "/api/v1/users/1/points", NULL, 1, &r);
    assert_problem(&r, 503, "SERVICE_UNAVAILABLE");
    test_resp_free(&r);
}

static void ops_endpoints__healthz_readyz_metrics(void **state)
{
    (void)state;
    struct test_resp r;
    test_call(srv.base, "GET", "/healthz", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    assert_string_equal(json_string_value(json_object_get(r.json, "status")), "ok");
    test_resp_free(&r);

    test_call(srv.base, "GET", "/readyz", NULL, 0, &r);
    assert_problem(&r, 503, "SERVICE_UNAVAILABLE");
    test_resp_free(&r);

    test_call(srv.base, "GET", "/metrics", NULL, 0, &r);
    assert_int_equal(r.status, 200);
    char ct[128];
    test_resp_header(&r, "Content-Type", ct, sizeof(ct));
    assert_non_null(strstr(ct, "text/plain"));
    assert_non_null(strstr(r.body, "# TYPE shopd_http_requests_total counter"));
    assert_non_null(
        strstr(r.body, "shopd_http_requests_total{route=\"GET /healthz\",status=\"200\"}"));
    assert_non_null(
        strstr(r.body, "shopd_http_requests_total{route=\"GET /readyz\",status=\"503\"}"));
    assert_non_null(strstr(r.body, "shopd_http_request_duration_seconds_bucket{route=\"GET "
                                   "/healthz\",status=\"200\",le=\"+Inf\"}"));
    assert_non_null(strstr(r.body, "shopd_pg_connections_open"));
    assert_non_null(strstr(r.body, "shopd_outbox_backlog -1\n")); /* the database is down */
    test_resp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malformed_json__400_invalid_json),
        cmocka_unit_test(wrong_types_unknown_and_missing_fields__400_naming_the_field),
        cmocka_unit_test(unknown_route__404_not_found),
        cmocka_unit_test(known_path_wrong_method__405_with_allow),
        cmocka_unit_test(body_over_64_kib__413_and_exactly_64_kib_is_read),
        cmocka_unit_test(chunked_body_over_64_kib__413),
        cmocka_unit_test(admin_endpoint__401_without_token_403_with_wrong_one),
        cmocka_unit_test(database_down__503_never_a_crash),
        cmocka_unit_test(user_endpoint__401_without_token_403_for_another_user),
        cmocka_unit_test(ops_endpoints__healthz_readyz_metrics),
    };
    return TEST_SERVER_RUN_WITHOUT_DB(tests, &srv, "http_errors");
}
