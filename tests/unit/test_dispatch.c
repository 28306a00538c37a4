/*
 * test_dispatch.c — the request pipeline without a socket (http/dispatch.c):
 * routing errors, the admin bearer check, handler outcomes turned into
 * problem documents; and the request/response accessors handlers use
 * (http/http.c). Requests are built by hand; handlers are fakes.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/dispatch.h"
#include "http/json_body.h"

/* ---- fake handlers ---- */

static int things_ctx; /* the address is the admin route's ctx */
static int handler_calls;

static struct http_principal seen; /* what the last user-scoped handler was given */

static enum err_code user_scoped(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)e;
    handler_calls++;
    seen = req->principal;
    http_resp_json(resp, 200, json_pack("{s:I}", "acting", (json_int_t)http_req_acting_user(req)));
    return ERR_OK;
}

static enum err_code create_thing(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)e;
    handler_calls++;
    assert_ptr_equal(req->ctx, &things_ctx);
    assert_int_equal(req->n_path_ids, 1);
    http_resp_json(resp, 201, json_pack("{s:I}", "id", (json_int_t)req->path_ids[0]));
    return ERR_OK;
}

static enum err_code nested_ids(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)e;
    handler_calls++;
    assert_null(req->ctx);
    http_resp_json(resp, 200,
                   json_pack("{s:I,s:I,s:I}", "n", (json_int_t)req->n_path_ids, "a",
                             (json_int_t)req->path_ids[0], "b", (json_int_t)req->path_ids[1]));
    return ERR_OK;
}

static enum err_code out_of_stock(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    (void)resp;
    e->product_id = 3;
    return err_set(e, ERR_OUT_OF_STOCK, "product 3 has 1 left, 2 requested");
}

static enum err_code bad_field(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    (void)resp;
    return err_set_field(e, ERR_INVALID_REQUEST, "price", "price must be an integer");
}

static enum err_code internal(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    (void)resp;
    return err_set(e, ERR_INTERNAL, "relation \"secret_table\" does not exist (42P01)");
}

static enum err_code unavailable(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    (void)resp;
    return err_set(e, ERR_UNAVAILABLE, "database is not answering");
}

static enum err_code forgot_err(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    (void)resp;
    (void)e;
    return ERR_USER_NOT_FOUND; /* without filling e */
}

static enum err_code silent(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    (void)resp;
    (void)e;
    return ERR_OK; /* forgot to answer */
}

static enum err_code half_answer_then_fail(struct http_req *req, struct http_resp *resp,
                                           struct err *e)
{
    (void)req;
    http_resp_json(resp, 201, json_pack("{s:i}", "id", 1));
    return err_set(e, ERR_INSUFFICIENT_BALANCE, "balance 10 is less than the total 20");
}

static enum err_code no_content(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    (void)e;
    resp->status = 204;
    return ERR_OK;
}

/* Decodes {"name": string} like a real handler would. */
static enum err_code decode_name(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const char *name = NULL;
    const struct body_field f[] = {{"name", BODY_FIELD_STRING, true, 1, 10, &name, NULL}};
    if (body_decode(req->body, req->body_len, f, 1, req->arena, e))
        return e->code;
    http_resp_json(resp, 200, json_pack("{s:s}", "name", name));
    return ERR_OK;
}

static const struct route routes[] = {
    {HTTP_POST, "/things/{id}", create_thing, &things_ctx, true}, /* 0: admin */
    {HTTP_GET, "/things/{id}/parts/{id}", nested_ids, NULL, false},
    {HTTP_GET, "/stock", out_of_stock, NULL, false},
    {HTTP_POST, "/stock", bad_field, NULL, false},
    {HTTP_GET, "/internal", internal, NULL, false},
    {HTTP_GET, "/unavailable", unavailable, NULL, false},
    {HTTP_GET, "/forgot", forgot_err, NULL, false},
    {HTTP_GET, "/silent", silent, NULL, false},
    {HTTP_GET, "/half", half_answer_then_fail, NULL, false},
    {HTTP_DELETE, "/things/{id}", no_content, NULL, false},
    {HTTP_POST, "/names", decode_name, NULL, false},
    {HTTP_GET, "/users/{id}/points", user_scoped, NULL, ROUTE_USER_PATH},
    {HTTP_POST, "/orders", user_scoped, NULL, ROUTE_USER_BODY},
    {HTTP_GET, "/orders/{id}", user_scoped, NULL, ROUTE_OWNER},
    {HTTP_GET, "/public/{id}", user_scoped, NULL, ROUTE_PUBLIC},
};
enum { N_ROUTES = sizeof(routes) / sizeof(routes[0]) };
static const struct router router = {routes, N_ROUTES};
/* User tokens in these tests: "user-<id>" is valid for <id>; anything else is not. */
static bool verify_stub(void *self, const char *token, size_t len, int64_t *user_id)
{
    (void)self;
    if (len < 6 || strncmp(token, "user-", 5) != 0)
        return false;
    *user_id = strtoll(token + 5, NULL, 10);
    return *user_id > 0;
}
static const struct http_auth tokens = {"t0ken", verify_stub, NULL};

/* ---- running one request ---- */

struct outcome {
    struct http_resp resp;
    size_t route;
    char allow[64];
    struct arena arena;
};

static void run_full(enum http_method m, const char *path, const char *auth_name, const char *auth,
                     const char *body, struct outcome *o)
{
    struct http_req req;
    memset(&req, 0, sizeof(req));
    memset(o, 0, sizeof(*o));
    arena_init(&o->arena);
    req.method = m;
    req.path = path;
    req.body = body ? body : "";
    req.body_len = strlen(req.body);
    req.arena = &o->arena;
    req.headers[req.n_headers++] = (struct http_kv){"Host", "localhost"};
    if (auth)
        req.headers[req.n_headers++] = (struct http_kv){auth_name, auth};
    o->route = (size_t)-1;
    http_dispatch(&router, &tokens, &req, &o->resp, &o->route, o->allow, sizeof(o->allow));
}

static void run(enum http_method m, const char *path, const char *auth, struct outcome *o)
{
    run_full(m, path, "Authorization", auth, NULL, o);
}

static void done(struct outcome *o)
{
    http_resp_cleanup(&o->resp);
    arena_cleanup(&o->arena);
}

static const char *resp_str(const struct outcome *o, const char *member)
{
    return json_string_value(json_object_get(o->resp.json, member));
}

static long long resp_int(const struct outcome *o, const char *member)
{
    return json_integer_value(json_object_get(o->resp.json, member));
}

static const char *resp_header(const struct outcome *o, const char *name)
{
    for (size_t i = 0; i < o->resp.n_headers; i++)
        if (strcmp(o->resp.headers[i].name, name) == 0)
            return o->resp.headers[i].value;
    return NULL;
}

/* Asserts resp is a problem document with status and code. */
static void assert_problem(const struct outcome *o, int status, const char *code)
{
    assert_int_equal(o->resp.status, status);
    assert_string_equal(o->resp.content_type, "application/problem+json");
    assert_non_null(o->resp.json);
    assert_string_equal(resp_str(o, "type"), "about:blank");
    assert_int_equal(json_integer_value(json_object_get(o->resp.json, "status")), status);
    assert_string_equal(resp_str(o, "code"), code);
    assert_non_null(resp_str(o, "title"));
}

/* ---- routing outcomes ---- */

static void unknown_path__404_not_found_problem_unmatched_route(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_GET, "/nope", NULL, &o);
    assert_problem(&o, 404, "NOT_FOUND");
    assert_non_null(strstr(resp_str(&o, "detail"), "/nope"));
    assert_int_equal(o.route, N_ROUTES); /* "unmatched" for the metrics */
    assert_int_equal(o.resp.n_headers, 0);
    done(&o);
}

static void unknown_path_with_bytes_not_utf8__404_problem_keeps_its_detail(void **state)
{
    (void)state;
    /* the server hands over the percent-decoded path: "/%ff" arrives as "/\xff" */
    struct outcome o;
    run(HTTP_GET, "/\xff", NULL, &o);
    bool has_detail = json_is_string(json_object_get(o.resp.json, "detail"));
    int status = o.resp.status;
    done(&o);
    assert_int_equal(status, 404);
    if (!has_detail)
        fail_msg("404 for a path that is not UTF-8 has no \"detail\" member");
}

static void known_path_other_method__405_with_allow_header(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_DELETE, "/stock", NULL, &o);
    assert_problem(&o, 405, "METHOD_NOT_ALLOWED");
    assert_string_equal(resp_header(&o, "Allow"), "GET, POST");
    assert_non_null(strstr(resp_str(&o, "detail"), "GET, POST"));
    assert_int_equal(o.route, N_ROUTES);
    done(&o);
}

static void public_route__runs_without_authorization_with_path_ids(void **state)
{
    (void)state;
    handler_calls = 0;
    struct outcome o;
    run(HTTP_GET, "/things/12/parts/34", NULL, &o);
    assert_int_equal(handler_calls, 1);
    assert_int_equal(o.resp.status, 200);
    assert_int_equal(json_integer_value(json_object_get(o.resp.json, "n")), 2);
    assert_int_equal(json_integer_value(json_object_get(o.resp.json, "a")), 12);
    assert_int_equal(json_integer_value(json_object_get(o.resp.json, "b")), 34);
    assert_int_equal(o.route, 1);
    done(&o);
}

/* ---- the admin check ---- */

static void admin_route__no_or_non_bearer_authorization__401_with_www_authenticate(void **state)
{
    (void)state;
    const char *auths[] = {NULL,          "",      "Basic dDp0b2tlbg==", "Basic x", "Bearer",
                           "Bearert0ken", "t0ken", "Token t0ken"};
    for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++) {
        handler_calls = 0;
        struct outcome o;
        run(HTTP_POST, "/things/5", auths[i], &o);
        assert_problem(&o, 401, "UNAUTHORIZED");
        assert_string_equal(resp_header(&o, "WWW-Authenticate"), "Bearer");
        assert_int_equal(handler_calls, 0);
        assert_int_equal(o.route, 0); /* the route was found; only the caller was refused */
        done(&o);
    }
}

static void admin_route__wrong_bearer_token__403_without_running_the_handler(void **state)
{
    (void)state;
    const char *auths[] = {"Bearer wrong", "Bearer t0ke",   "Bearer t0kenn", "Bearer T0KEN",
                           "Bearer ",      "Bearer t0ken ", "Bearer x t0ken"};
    for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++) {
        handler_calls = 0;
        struct outcome o;
        run(HTTP_POST, "/things/5", auths[i], &o);
        if (o.resp.status != 403) {
            int status = o.resp.status;
            done(&o);
            fail_msg("Authorization \"%s\": expected 403, got %d", auths[i], status);
        }
        assert_problem(&o, 403, "FORBIDDEN");
        assert_null(resp_header(&o, "WWW-Authenticate"));
        assert_int_equal(handler_calls, 0);
        done(&o);
    }
}

static void admin_route__right_token__handler_runs_with_route_ctx_and_ids(void **state)
{
    (void)state;
    const char *auths[] = {"Bearer t0ken", "bearer t0ken", "BEARER t0ken", "Bearer   t0ken"};
    for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++) {
        handler_calls = 0;
        struct outcome o;
        run(HTTP_POST, "/things/5", auths[i], &o);
        assert_int_equal(handler_calls, 1);
        assert_int_equal(o.resp.status, 201);
        assert_string_equal(o.resp.content_type, "application/json");
        assert_int_equal(json_integer_value(json_object_get(o.resp.json, "id")), 5);
        assert_int_equal(o.route, 0);
        done(&o);
    }
}

static void admin_route__header_name_in_any_case__accepted(void **state)
{
    (void)state;
    handler_calls = 0;
    struct outcome o;
    run_full(HTTP_POST, "/things/8", "AUTHORIZATION", "Bearer t0ken", NULL, &o);
    assert_int_equal(handler_calls, 1);
    assert_int_equal(o.resp.status, 201);
    done(&o);
}

/* ---- handler outcomes ---- */

static void handler_error__problem_with_its_status_code_detail_and_extras(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_GET, "/stock", NULL, &o);
    assert_problem(&o, 409, "OUT_OF_STOCK");
    assert_string_equal(resp_str(&o, "detail"), "product 3 has 1 left, 2 requested");
    assert_int_equal(json_integer_value(json_object_get(o.resp.json, "product_id")), 3);
    done(&o);

    run(HTTP_POST, "/stock", NULL, &o);
    assert_problem(&o, 400, "INVALID_REQUEST");
    assert_string_equal(resp_str(&o, "field"), "price");
    done(&o);
}

static void handler_internal_error__generic_detail_never_the_handlers_text(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_GET, "/internal", NULL, &o);
    assert_problem(&o, 500, "INTERNAL_ERROR");
    assert_string_equal(resp_str(&o, "detail"), "internal error");
    char *text = json_dumps(o.resp.json, JSON_COMPACT);
    bool leaked = strstr(text, "secret_table") || strstr(text, "42P01");
    free(text);
    done(&o);
    assert_false(leaked);
}

static void handler_unavailable__503_with_retry_after(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_GET, "/unavailable", NULL, &o);
    assert_problem(&o, 503, "SERVICE_UNAVAILABLE");
    assert_string_equal(resp_header(&o, "Retry-After"), "1");
    done(&o);
}

static void handler_error_without_err_filled__problem_for_the_returned_code(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_GET, "/forgot", NULL, &o);
    assert_problem(&o, 404, "USER_NOT_FOUND");
    assert_string_equal(resp_str(&o, "detail"), "User not found");
    done(&o);
}

static void handler_ok_without_status__500_problem(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_GET, "/silent", NULL, &o);
    assert_problem(&o, 500, "INTERNAL_ERROR");
    done(&o);
}

static void handler_fails_after_writing_a_body__problem_replaces_it(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_GET, "/half", NULL, &o);
    assert_problem(&o, 409, "INSUFFICIENT_BALANCE");
    assert_null(json_object_get(o.resp.json, "id"));
    done(&o);
}

static void handler_status_without_body__kept_as_is(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_DELETE, "/things/3", NULL, &o);
    assert_int_equal(o.resp.status, 204);
    assert_null(o.resp.json);
    assert_int_equal(o.route, 9);
    done(&o);
}

static void decoding_handler__bad_body__400_problem_names_the_member(void **state)
{
    (void)state;
    struct outcome o;
    run_full(HTTP_POST, "/names", NULL, NULL, "{\"name\":5}", &o);
    assert_problem(&o, 400, "INVALID_REQUEST");
    assert_string_equal(resp_str(&o, "field"), "name");
    done(&o);

    run_full(HTTP_POST, "/names", NULL, NULL, "{\"name\":", &o);
    assert_problem(&o, 400, "INVALID_JSON");
    done(&o);

    run_full(HTTP_POST, "/names", NULL, NULL, "{\"name\":\"kim\"}", &o);
    assert_int_equal(o.resp.status, 200);
    assert_string_equal(resp_str(&o, "name"), "kim");
    done(&o);
}

/*
 * An unknown member with a long Korean name: the decoder quotes it in the
 * detail ("%.64s", bytes) and copies it into field (63 bytes); both cuts can
 * fall inside a character. The answer must still carry "detail" and "field".
 */
static void
decoding_handler__long_multibyte_unknown_member__problem_keeps_detail_and_field(void **state)
{
    (void)state;
    char body[256] = "{\"";
    for (int i = 0; i < 22; i++) /* 22 characters, 66 bytes */
        strcat(body, "\xea\xb0\x80");
    strcat(body, "\":1}");
    struct outcome o;
    run_full(HTTP_POST, "/names", NULL, NULL, body, &o);
    int status = o.resp.status;
    const char *code = resp_str(&o, "code");
    bool code_ok = code && strcmp(code, "INVALID_REQUEST") == 0;
    bool has_detail = json_is_string(json_object_get(o.resp.json, "detail"));
    bool has_field = json_is_string(json_object_get(o.resp.json, "field"));
    done(&o);
    assert_int_equal(status, 400);
    assert_true(code_ok);
    if (!has_detail || !has_field)
        fail_msg("400 for an unknown multi-byte member lost%s%s", has_detail ? "" : " \"detail\"",
                 has_field ? "" : " \"field\"");
}

/* ---- request accessors ---- */

static void query_int__absent__the_default(void **state)
{
    (void)state;
    struct http_req req;
    memset(&req, 0, sizeof(req));
    int64_t v = -7;
    struct err e;
    err_clear(&e);
    assert_int_equal(http_req_query_int(&req, "limit", 20, 1, 100, &v, &e), ERR_OK);
    assert_int_equal(v, 20);
    assert_int_equal(e.code, ERR_OK);
}

static void query_int__decimal_digits_within_bounds__parsed(void **state)
{
    (void)state;
    struct http_req req;
    memset(&req, 0, sizeof(req));
    const struct http_kv q[] = {{"limit", "42"},   {"lo", "1"},   {"hi", "100"},
                                {"zeros", "0042"}, {"zero", "0"}, {"big", "9223372036854775807"},
                                {"limit", "99"}}; /* a repeated parameter: the first counts */
    memcpy(req.query, q, sizeof(q));
    req.n_query = sizeof(q) / sizeof(q[0]);
    int64_t v = 0;
    struct err e;
    err_clear(&e);
    assert_int_equal(http_req_query_int(&req, "limit", 20, 1, 100, &v, &e), ERR_OK);
    assert_int_equal(v, 42);
    assert_int_equal(http_req_query_int(&req, "lo", 20, 1, 100, &v, &e), ERR_OK);
    assert_int_equal(v, 1);
    assert_int_equal(http_req_query_int(&req, "hi", 20, 1, 100, &v, &e), ERR_OK);
    assert_int_equal(v, 100);
    assert_int_equal(http_req_query_int(&req, "zeros", 20, 1, 100, &v, &e), ERR_OK);
    assert_int_equal(v, 42);
    assert_int_equal(http_req_query_int(&req, "zero", 5, 0, INT64_MAX, &v, &e), ERR_OK);
    assert_int_equal(v, 0);
    assert_int_equal(http_req_query_int(&req, "big", 0, 0, INT64_MAX, &v, &e), ERR_OK);
    assert_true(v == INT64_MAX);
}

static void query_int__not_plain_digits_or_out_of_bounds__invalid_request_naming_it(void **state)
{
    (void)state;
    struct http_req req;
    memset(&req, 0, sizeof(req));
    const struct http_kv q[] = {
        {"abc", "abc"},
        {"neg", "-1"},
        {"empty", ""},
        {"tail", "1x"},
        {"huge", "99999999999999999999"},
        {"over", "9223372036854775808"},
        {"space", " 5"},
        {"trail", "5 "},
        {"plus", "+5"},
        {"real", "5.0"},
        {"exp", "1e2"},
        {"hex", "0x10"},
        {"below", "0"},
        {"above", "101"},
    };
    memcpy(req.query, q, sizeof(q));
    req.n_query = sizeof(q) / sizeof(q[0]);
    for (size_t i = 0; i < req.n_query; i++) {
        int64_t v = -7;
        struct err e;
        err_clear(&e);
        enum err_code rc = http_req_query_int(&req, q[i].name, 20, 1, 100, &v, &e);
        if (rc != ERR_INVALID_REQUEST)
            fail_msg("%s=\"%s\": expected INVALID_REQUEST, got %s", q[i].name, q[i].value,
                     err_code_str(rc));
        assert_string_equal(e.field, q[i].name);
        assert_non_null(strstr(e.detail, q[i].name));
        assert_int_equal(v, -7); /* untouched on error */
    }
}

static void query_lookup__names_are_case_sensitive(void **state)
{
    (void)state;
    struct http_req req;
    memset(&req, 0, sizeof(req));
    req.query[0] = (struct http_kv){"limit", "5"};
    req.n_query = 1;
    assert_string_equal(http_req_query(&req, "limit"), "5");
    assert_null(http_req_query(&req, "LIMIT"));
    assert_null(http_req_query(&req, "lim"));
}

static void header_lookup__case_insensitive_first_occurrence(void **state)
{
    (void)state;
    struct http_req req;
    memset(&req, 0, sizeof(req));
    req.headers[0] = (struct http_kv){"Idempotency-Key", "abc"};
    req.headers[1] = (struct http_kv){"idempotency-key", "second"};
    req.n_headers = 2;
    assert_string_equal(http_req_header(&req, "idempotency-key"), "abc");
    assert_string_equal(http_req_header(&req, "IDEMPOTENCY-KEY"), "abc");
    assert_string_equal(http_req_header(&req, "Idempotency-Key"), "abc");
    assert_null(http_req_header(&req, "Idempotency"));
    assert_null(http_req_header(&req, "Idempotency-Keys"));
}

/* ---- response builders and methods ---- */

static void resp_header__up_to_the_capacity_then_refused(void **state)
{
    (void)state;
    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    for (int i = 0; i < HTTP_MAX_RESP_HEADERS; i++)
        assert_true(http_resp_header(&resp, "X-N", "v"));
    assert_false(http_resp_header(&resp, "X-Over", "v"));
    assert_int_equal(resp.n_headers, HTTP_MAX_RESP_HEADERS);
    http_resp_cleanup(&resp);
}

static void resp_bodies__replacing_one_releases_the_previous(void **state)
{
    (void)state;
    struct http_resp resp;
    memset(&resp, 0, sizeof(resp));
    http_resp_json(&resp, 200, json_pack("{s:i}", "a", 1));
    http_resp_json(&resp, 201, json_pack("{s:i}", "b", 2));
    assert_int_equal(resp.status, 201);
    assert_string_equal(resp.content_type, "application/json");
    http_resp_raw(&resp, 200, "text/plain", strdup("one"), 3);
    http_resp_raw(&resp, 202, "text/plain", strdup("two"), 3);
    assert_int_equal(resp.status, 202);
    assert_int_equal(resp.raw_len, 3);
    http_resp_cleanup(&resp); /* ASan: nothing leaked, nothing freed twice */
    assert_int_equal(resp.status, 0);
    assert_null(resp.json);
    assert_null(resp.raw);
}

static void method_names__round_trip_and_unknown_is_other(void **state)
{
    (void)state;
    for (int m = 0; m < HTTP_METHOD_OTHER; m++)
        assert_int_equal(http_method_parse(http_method_name((enum http_method)m)), m);
    assert_int_equal(http_method_parse("get"), HTTP_METHOD_OTHER);
    assert_int_equal(http_method_parse("BREW"), HTTP_METHOD_OTHER);
    assert_int_equal(http_method_parse(""), HTTP_METHOD_OTHER);
    assert_string_equal(http_method_name(HTTP_GET), "GET");
    assert_string_equal(http_method_name(HTTP_DELETE), "DELETE");
    assert_string_equal(http_method_name((enum http_method)99), "OTHER");
}

/* ---- the access policy of user-scoped routes ---- */

static void user_routes__no_or_bad_token__401_and_the_handler_never_runs(void **state)
{
    (void)state;
    const char *auths[] = {NULL,           "Basic x",     "Bearer",       "Bearer ",
                           "Bearer user-", "Bearer junk", "Bearer t0kenn"};
    const char *paths[] = {"/users/5/points", "/orders", "/orders/9"};
    const enum http_method methods[] = {HTTP_GET, HTTP_POST, HTTP_GET};
    for (size_t p = 0; p < 3; p++) {
        for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++) {
            handler_calls = 0;
            struct outcome o;
            run_full(methods[p], paths[p], "Authorization", auths[i], "{\"user_id\":5}", &o);
            assert_problem(&o, 401, "UNAUTHORIZED");
            assert_string_equal(resp_header(&o, "WWW-Authenticate"), "Bearer");
            assert_int_equal(handler_calls, 0);
            done(&o);
        }
    }
}

static void user_path__own_token_runs_another_users_403_admin_runs(void **state)
{
    (void)state;
    struct outcome o;
    handler_calls = 0;
    run(HTTP_GET, "/users/5/points", "Bearer user-5", &o);
    assert_int_equal(o.resp.status, 200);
    assert_int_equal(seen.actor, HTTP_ACTOR_USER);
    assert_int_equal(seen.user_id, 5);
    done(&o);
    run(HTTP_GET, "/users/5/points", "Bearer user-6", &o);
    assert_problem(&o, 403, "FORBIDDEN");
    assert_null(resp_header(&o, "WWW-Authenticate"));
    done(&o);
    run(HTTP_GET, "/users/5/points", "Bearer t0ken", &o);
    assert_int_equal(o.resp.status, 200);
    assert_int_equal(seen.actor, HTTP_ACTOR_ADMIN);
    done(&o);
    assert_int_equal(handler_calls, 2);
}

static void user_body__the_bodys_user_decides(void **state)
{
    (void)state;
    struct outcome o;
    handler_calls = 0;
    run_full(HTTP_POST, "/orders", "Authorization", "Bearer user-5", "{\"user_id\":5,\"x\":[1]}",
             &o);
    assert_int_equal(o.resp.status, 200);
    done(&o);
    run_full(HTTP_POST, "/orders", "Authorization", "Bearer user-5", "{\"x\":1,\"user_id\":6}", &o);
    assert_problem(&o, 403, "FORBIDDEN");
    done(&o);
    run_full(HTTP_POST, "/orders", "Authorization", "Bearer t0ken", "{\"user_id\":6}", &o);
    assert_int_equal(o.resp.status, 200);
    done(&o);
    /* no readable user_id: the handler runs and its validation answers (400 in the real ones) */
    const char *unreadable[] = {"", "{", "[5]", "{\"user_id\":\"5\"}", "{\"user_id\":null}"};
    for (size_t i = 0; i < sizeof(unreadable) / sizeof(unreadable[0]); i++) {
        run_full(HTTP_POST, "/orders", "Authorization", "Bearer user-5", unreadable[i], &o);
        assert_int_equal(o.resp.status, 200);
        done(&o);
    }
    assert_int_equal(handler_calls, 2 + 5);
}

static void owner_route__any_user_token_runs_scoped_to_that_user(void **state)
{
    (void)state;
    struct outcome o;
    run(HTTP_GET, "/orders/9", "Bearer user-6", &o);
    assert_int_equal(o.resp.status, 200);
    assert_int_equal(resp_int(&o, "acting"), 6);
    done(&o);
    run(HTTP_GET, "/orders/9", "Bearer t0ken", &o);
    assert_int_equal(o.resp.status, 200);
    assert_int_equal(resp_int(&o, "acting"), 0); /* the admin acts for anyone */
    done(&o);
}

static void admin_route__a_valid_user_token__403(void **state)
{
    (void)state;
    handler_calls = 0;
    struct outcome o;
    run(HTTP_POST, "/things/5", "Bearer user-5", &o);
    assert_problem(&o, 403, "FORBIDDEN");
    assert_int_equal(handler_calls, 0);
    done(&o);
}

static void public_route__runs_with_or_without_any_token(void **state)
{
    (void)state;
    const char *auths[] = {NULL, "Bearer junk", "Basic x", "Bearer user-5", "Bearer t0ken"};
    handler_calls = 0;
    for (size_t i = 0; i < sizeof(auths) / sizeof(auths[0]); i++) {
        struct outcome o;
        run(HTTP_GET, "/public/1", auths[i], &o);
        assert_int_equal(o.resp.status, 200);
        done(&o);
    }
    assert_int_equal(handler_calls, 5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unknown_path__404_not_found_problem_unmatched_route),
        cmocka_unit_test(unknown_path_with_bytes_not_utf8__404_problem_keeps_its_detail),
        cmocka_unit_test(known_path_other_method__405_with_allow_header),
        cmocka_unit_test(public_route__runs_without_authorization_with_path_ids),
        cmocka_unit_test(admin_route__no_or_non_bearer_authorization__401_with_www_authenticate),
        cmocka_unit_test(admin_route__wrong_bearer_token__403_without_running_the_handler),
        cmocka_unit_test(user_routes__no_or_bad_token__401_and_the_handler_never_runs),
        cmocka_unit_test(user_path__own_token_runs_another_users_403_admin_runs),
        cmocka_unit_test(user_body__the_bodys_user_decides),
        cmocka_unit_test(owner_route__any_user_token_runs_scoped_to_that_user),
        cmocka_unit_test(admin_route__a_valid_user_token__403),
        cmocka_unit_test(public_route__runs_with_or_without_any_token),
        cmocka_unit_test(admin_route__right_token__handler_runs_with_route_ctx_and_ids),
        cmocka_unit_test(admin_route__header_name_in_any_case__accepted),
        cmocka_unit_test(handler_error__problem_with_its_status_code_detail_and_extras),
        cmocka_unit_test(handler_internal_error__generic_detail_never_the_handlers_text),
        cmocka_unit_test(handler_unavailable__503_with_retry_after),
        cmocka_unit_test(handler_error_without_err_filled__problem_for_the_returned_code),
        cmocka_unit_test(handler_ok_without_status__500_problem),
        cmocka_unit_test(handler_fails_after_writing_a_body__problem_replaces_it),
        cmocka_unit_test(handler_status_without_body__kept_as_is),
        cmocka_unit_test(decoding_handler__bad_body__400_problem_names_the_member),
        cmocka_unit_test(
            decoding_handler__long_multibyte_unknown_member__problem_keeps_detail_and_field),
        cmocka_unit_test(query_int__absent__the_default),
        cmocka_unit_test(query_int__decimal_digits_within_bounds__parsed),
        cmocka_unit_test(query_int__not_plain_digits_or_out_of_bounds__invalid_request_naming_it),
        cmocka_unit_test(query_lookup__names_are_case_sensitive),
        cmocka_unit_test(header_lookup__case_insensitive_first_occurrence),
        cmocka_unit_test(resp_header__up_to_the_capacity_then_refused),
        cmocka_unit_test(resp_bodies__replacing_one_releases_the_previous),
        cmocka_unit_test(method_names__round_trip_and_unknown_is_other),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
