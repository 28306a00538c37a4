/*
 * test_dispatch.c — the request pipeline without a socket: routing errors,
 * the admin check, handler errors turned into problem documents, and the
 * request accessors handlers use.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/dispatch.h"

static int admin_ctx_marker;

static enum err_code ok_handler(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)e;
    assert_ptr_equal(req->ctx, &admin_ctx_marker);
    http_resp_json(resp, 201, json_pack("{s:I}", "id", (json_int_t)req->path_ids[0]));
    return ERR_OK;
}

static enum err_code failing_handler(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    (void)resp;
    return err_set(e, ERR_OUT_OF_STOCK, "product 3 has 1 left, 2 requested");
}

static enum err_code internal_handler(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    (void)resp;
    return err_set(e, ERR_INTERNAL, "database error 42P01 in secret_table");
}

static enum err_code silent_handler(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    (void)resp;
    (void)e;
    return ERR_OK; /* forgot to answer */
}

static const struct route routes[] = {
    {HTTP_POST, "/things/{id}", ok_handler, &admin_ctx_marker, true},
    {HTTP_GET, "/fail", failing_handler, NULL, false},
    {HTTP_GET, "/internal", internal_handler, NULL, false},
    {HTTP_GET, "/silent", silent_handler, NULL, false},
};
static const struct router router = {routes, 4};

struct outcome {
    struct http_resp resp;
    size_t route;
    char allow[64];
};

static void run(enum http_method m, const char *path, const char *auth, struct outcome *o)
{
    struct http_req req;
    memset(&req, 0, sizeof(req));
    memset(o, 0, sizeof(*o));
    req.method = m;
    req.path = path;
    req.body = "";
    if (auth) {
        req.headers[0] = (struct http_kv){"authorization", auth};
        req.n_headers = 1;
    }
    http_dispatch(&router, "t0ken", &req, &o->resp, &o->route, o->allow, sizeof(o->allow));
}

static const char *resp_code(const struct outcome *o)
{
    return json_string_value(json_object_get(o->resp.json, "code"));
}

static const char *resp_header(const struct outcome *o, const char *name)
{
    for (size_t i = 0; i < o->resp.n_headers; i++)
        if (strcmp(o->resp.headers[i].name, name) == 0)
            return o->resp.headers[i].value;
    return NULL;
}

static void unknown_path__404_problem(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_GET, "/nope", NULL, &o);
    assert_int_equal(o.resp.status, 404);
    assert_string_equal(resp_code(&o), "NOT_FOUND");
    assert_string_equal(o.resp.content_type, "application/problem+json");
    assert_int_equal(o.route, 4); /* "unmatched" for the metrics */
    http_resp_cleanup(&o.resp);
}

static void other_method__405_with_allow_header(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_DELETE, "/fail", NULL, &o);
    assert_int_equal(o.resp.status, 405);
    assert_string_equal(resp_code(&o), "METHOD_NOT_ALLOWED");
    assert_string_equal(resp_header(&o, "Allow"), "GET");
    http_resp_cleanup(&o.resp);
}

static void admin_route__token_checks(void **state)
{
    (void)state;
    const struct {
        const char *auth;
        int status;
        const char *code;
    } cases[] = {
        {NULL, 401, "UNAUTHORIZED"},         {"", 401, "UNAUTHORIZED"},
        {"Basic dDp0", 401, "UNAUTHORIZED"}, {"Bearer", 401, "UNAUTHORIZED"},
        {"Bearer wrong", 403, "FORBIDDEN"},  {"Bearer t0ke", 403, "FORBIDDEN"},
        {"Bearer t0kenn", 403, "FORBIDDEN"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct outcome o;
        run(HTTP_POST, "/things/5", cases[i].auth, &o);
        assert_int_equal(o.resp.status, cases[i].status);
        assert_string_equal(resp_code(&o), cases[i].code);
        if (cases[i].status == 401)
            assert_string_equal(resp_header(&o, "WWW-Authenticate"), "Bearer");
        http_resp_cleanup(&o.resp);
    }
    struct outcome o;
    run(HTTP_POST, "/things/5", "bearer t0ken", &o); /* the scheme is case-insensitive */
    assert_int_equal(o.resp.status, 201);
    assert_int_equal(json_integer_value(json_object_get(o.resp.json, "id")), 5);
    assert_int_equal(o.route, 0);
    http_resp_cleanup(&o.resp);
}

static void handler_error__problem_with_its_code(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_GET, "/fail", NULL, &o);
    assert_int_equal(o.resp.status, 409);
    assert_string_equal(resp_code(&o), "OUT_OF_STOCK");
    assert_string_equal(json_string_value(json_object_get(o.resp.json, "detail")),
                        "product 3 has 1 left, 2 requested");
    http_resp_cleanup(&o.resp);
}

static void internal_error__generic_detail_only(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_GET, "/internal", NULL, &o);
    assert_int_equal(o.resp.status, 500);
    assert_string_equal(resp_code(&o), "INTERNAL_ERROR");
    const char *detail = json_string_value(json_object_get(o.resp.json, "detail"));
    assert_null(strstr(detail, "secret_table"));
    assert_string_equal(detail, "internal error");
    http_resp_cleanup(&o.resp);
}

static void handler_without_answer__500(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_GET, "/silent", NULL, &o);
    assert_int_equal(o.resp.status, 500);
    http_resp_cleanup(&o.resp);
}

static void query_int__absent_default_and_strict_parsing(void **state)
{
    (void)state;
    struct http_req req;
    memset(&req, 0, sizeof(req));
    const struct http_kv q[] = {{"ok", "42"},    {"abc", "abc"}, {"neg", "-1"},
                                {"empty", ""},   {"tail", "1x"}, {"huge", "99999999999999999999"},
                                {"space", " 5"}, {"plus", "+5"}, {"low", "0"}};
    memcpy(req.query, q, sizeof(q));
    req.n_query = sizeof(q) / sizeof(q[0]);
    int64_t v = 0;
    struct err e;
    err_clear(&e);
    assert_int_equal(http_req_query_int(&req, "absent", 20, 1, 100, &v, &e), ERR_OK);
    assert_int_equal(v, 20);
    assert_int_equal(http_req_query_int(&req, "ok", 20, 1, 100, &v, &e), ERR_OK);
    assert_int_equal(v, 42);
    const char *bad[] = {"abc", "neg", "empty", "tail", "huge", "space", "plus", "low"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        err_clear(&e);
        assert_int_equal(http_req_query_int(&req, bad[i], 20, 1, 100, &v, &e), ERR_INVALID_REQUEST);
        assert_string_equal(e.field, bad[i]);
    }
    assert_int_equal(http_req_query_int(&req, "ok", 0, 1, 41, &v, &e), ERR_INVALID_REQUEST);
}

static void header_lookup__case_insensitive(void **state)
{
    (void)state;
    struct http_req req;
    memset(&req, 0, sizeof(req));
    req.headers[0] = (struct http_kv){"Idempotency-Key", "abc"};
    req.n_headers = 1;
    assert_string_equal(http_req_header(&req, "idempotency-key"), "abc");
    assert_string_equal(http_req_header(&req, "IDEMPOTENCY-KEY"), "abc");
    assert_null(http_req_header(&req, "Idempotency"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unknown_path__404_problem),
        cmocka_unit_test(other_method__405_with_allow_header),
        cmocka_unit_test(admin_route__token_checks),
        cmocka_unit_test(handler_error__problem_with_its_code),
        cmocka_unit_test(internal_error__generic_detail_only),
        cmocka_unit_test(handler_without_answer__500),
        cmocka_unit_test(query_int__absent_default_and_strict_parsing),
        cmocka_unit_test(header_lookup__case_insensitive),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
