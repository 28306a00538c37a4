/*
 * test_http_framing.c — the transport over raw sockets: what a hostile or
 * broken client sends (issue 8, defects 5–8). Every refusal is one
 * well-formed problem+json answer, sent at once; nothing hangs; no header is
 * dropped silently. The real route table runs on a port-0 server whose
 * database is unreachable, so every answer comes from the HTTP core or a
 * handler's validation.
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
#include <jansson.h>

#include "http/server.h"
#include "support/test_http.h"
#include "support/test_raw.h"
#include "support/test_server.h"

static struct test_server srv;

static uint16_t port(void)
{
    return http_server_port(srv.http);
}

/*
 * The first response in raw is a problem+json document with this status and
 * code, it is the only status line in raw, and its body parses.
 */
static void assert_one_problem(const char *raw, size_t len, int status, const char *code)
{
    struct test_raw_resp r;
    if (!test_raw_parse(raw, len, &r))
        fail_msg("not an HTTP response: %.200s", raw);
    if (r.status != status)
        fail_msg("status %d, expected %d: %.300s", r.status, status, raw);
    assert_int_equal(test_raw_status_lines(raw, len), 1);
    char ct[64];
    assert_non_null(test_raw_header(&r, "Content-Type", ct, sizeof(ct)));
    assert_string_equal(ct, "application/problem+json");
    assert_int_equal(r.total, len); /* nothing after the body: no second head */
    json_error_t je;
    json_t *doc = json_loadb(r.body, r.body_len, 0, &je);
    if (!doc)
        fail_msg("body is not JSON: %.*s", (int)r.body_len, r.body);
    assert_int_equal(json_integer_value(json_object_get(doc, "status")), status);
    assert_string_equal(json_string_value(json_object_get(doc, "code")), code);
    assert_string_equal(json_string_value(json_object_get(doc, "type")), "about:blank");
    assert_non_null(json_string_value(json_object_get(doc, "detail")));
    json_decref(doc);
}

/* Sends text (NUL-terminated) on a new connection and checks the one problem answer. */
static void expect_problem(const char *text, int status, const char *code)
{
    size_t len;
    char *raw = test_raw_exchange(port(), text, strlen(text), 1000, &len);
    assert_one_problem(raw, len, status, code);
    free(raw);
}

static void broken_request_lines_and_versions__problem_json(void **state)
{
    (void)state;
    expect_problem("GET / HTTP/2.0\r\nHost: x\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED");
    expect_problem("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED");
    expect_problem("GET /healthz HTTP/0.9\r\n\r\n", 505, "HTTP_VERSION_NOT_SUPPORTED");
    /* HTTP/0.9's request line has no version and one CRLF: answered, not waited on */
    expect_problem("GET /\r\n", 400, "BAD_REQUEST");
    expect_problem("GARBAGE\r\n\r\n", 400, "BAD_REQUEST");
    expect_problem("GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 400, "BAD_REQUEST");
    expect_problem("GET /healthz HTTP/1.1\nHost: x\n\n", 400, "BAD_REQUEST");
    expect_problem("GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n", 400, "BAD_REQUEST");
    expect_problem("GET /healthz HTTP/1.1\r\nHost: x\r\n folded\r\n\r\n", 400, "BAD_REQUEST");
    expect_problem("GET /healthz HTTP/1.1\r\n\r\n", 400, "BAD_REQUEST"); /* no Host */
    expect_problem("GET /%zz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400, "BAD_REQUEST");
    expect_problem("GET /a%00 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", 400,
                   "BAD_REQUEST");
    expect_problem("GET /healthz HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", 417,
                   "EXPECTATION_FAILED");
    /* a TLS ClientHello on the plain port */
    size_t len;
    static const char hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
    char *raw = test_raw_exchange(port(), hello, sizeof(hello) - 1, 1000, &len);
    assert_one_problem(raw, len, 400, "BAD_REQUEST");
    free(raw);
}

static void oversized_heads__414_and_431_as_problem_json(void **state)
{
    (void)state;
    char *text = malloc(40000);
    snprintf(text, 40000, "GET /%09000d HTTP/1.1\r\nHost: x\r\n\r\n", 0);
    expect_problem(text, 414, "URI_TOO_LONG");
    snprintf(text, 40000, "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Big: %020000d\r\n\r\n", 0);
    expect_problem(text, 431, "HEADERS_TOO_LARGE");
    size_t n = (size_t)snprintf(text, 40000, "GET /healthz HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 70; i++)
        n += (size_t)snprintf(text + n, 40000 - n, "X-%d: v\r\n", i);
    snprintf(text + n, 40000 - n, "\r\n");
    expect_problem(text, 431, "HEADERS_TOO_LARGE");
    free(text);
}

/* Defect 6: for each of these the old server wrote its status line and headers twice. */
static void bad_content_length__one_problem_answer(void **state)
{
    (void)state;
    const char *body = "{\"name\":\"kim\",\"password\":\"" TEST_PASSWORD "\"}";
    const struct {
        const char *value;
        int status;
        const char *code;
    } cases[] = {
        {"abc", 400, "BAD_REQUEST"},
        {"14, 14", 400, "BAD_REQUEST"},
        {"-1", 400, "BAD_REQUEST"},
        {"0x10", 400, "BAD_REQUEST"},
        {"18446744073709551616", 413, "PAYLOAD_TOO_LARGE"}, /* 2^64 */
        {"99999999999999999999999", 413, "PAYLOAD_TOO_LARGE"},
    };
    char text[512];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        snprintf(text, sizeof(text),
                 "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: %s\r\n\r\n%s",
                 cases[i].value, body);
        expect_problem(text, cases[i].status, cases[i].code);
    }
    /* two lengths, even equal ones; a length beside chunked; codings we do not know */
    expect_problem("POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 14\r\n"
                   "Content-Length: 14\r\n\r\n{\"name\":\"kim\"}",
                   400, "BAD_REQUEST");
    expect_problem("POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
                   "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
                   400, "BAD_REQUEST");
    expect_problem("POST /api/v1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", 501,
                   "NOT_IMPLEMENTED");
    expect_problem("POST /api/v1/users HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", 400,
                   "BAD_REQUEST");
    /*
     * "5 " is 5 (the space is optional whitespace): one answer about the 5
     * bytes it framed, then one about the rest, which is not a request
     */
    snprintf(text, sizeof(text),
             "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 5 \r\n\r\n%s", body);
    size_t len;
    char *raw = test_raw_exchange(port(), text, strlen(text), 1000, &len);
    struct test_raw_resp first;
    assert_true(test_raw_parse(raw, len, &first));
    assert_non_null(strstr(first.body, "INVALID_JSON"));
    assert_one_problem(raw + first.total, len - first.total, 400, "BAD_REQUEST");
    free(raw);
}

/* Defect 8 (second half): a body past the limit is refused before it is sent. */
static void oversized_body__413_before_the_body_is_read(void **state)
{
    (void)state;
    int fd = test_raw_connect(port());
    const char *head = "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n";
    assert_true(test_raw_send(fd, head, strlen(head)));
    size_t len;
    bool closed;
    char *raw = test_raw_read(fd, 5000, &len, &closed); /* the old server waited for the body */
    assert_true(closed);
    assert_one_problem(raw, len, 413, "PAYLOAD_TOO_LARGE");
    free(raw);
    close(fd);

    /* chunked: refused as soon as the chunks pass the limit */
    fd = test_raw_connect(port());
    const char *chead =
        "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    assert_true(test_raw_send(fd, chead, strlen(chead)));
    char chunk[8192 + 16];
    int n = snprintf(chunk, sizeof(chunk), "2000\r\n");
    memset(chunk + n, 'a', 8192);
    memcpy(chunk + n + 8192, "\r\n", 2);
    for (int i = 0; i < 9; i++) /* 72 KiB > 64 KiB */
        if (!test_raw_send(fd, chunk, (size_t)n + 8194))
            break;
    raw = test_raw_read(fd, 5000, &len, &closed);
    assert_one_problem(raw, len, 413, "PAYLOAD_TOO_LARGE");
    free(raw);
    close(fd);
}

/* Defect 7: thousands of query parameters were neither answered nor closed. */
static void many_query_parameters__400_at_once_and_the_connection_lives(void **state)
{
    (void)state;
    const int counts[] = {500, 2000, 33};
    for (size_t k = 0; k < 3; k++) {
        char *text = malloc(16384);
        size_t n = (size_t)snprintf(text, 16384, "GET /api/v1/products?");
        for (int i = 0; i < counts[k]; i++)
            n += (size_t)snprintf(text + n, 16384 - n, "a&");
        n += (size_t)snprintf(text + n, 16384 - n, " HTTP/1.1\r\nHost: x\r\n\r\n");
        int fd = test_raw_connect(port());
        assert_true(test_raw_send(fd, text, n));
        size_t len;
        char *raw = test_raw_read(fd, 1000, &len, NULL);
        assert_one_problem(raw, len, 400, "INVALID_REQUEST");
        free(raw);
        /* the same connection answers the next request */
        const char *next = "GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
        assert_true(test_raw_send(fd, next, strlen(next)));
        raw = test_raw_read(fd, 1000, &len, NULL);
        struct test_raw_resp r;
        assert_true(test_raw_parse(raw, len, &r));
        assert_int_equal(r.status, 200);
        free(raw);
        close(fd);
        free(text);
    }
    /* 32 parameters are fine, and empty pieces do not count */
    char path[512];
    size_t n = (size_t)snprintf(path, sizeof(path), "/api/v1/products/popular?");
    for (int i = 0; i < 31; i++)
        n += (size_t)snprintf(path + n, sizeof(path) - n, "x%d=1&&", i);
    snprintf(path + n, sizeof(path) - n, "days=3");
    struct test_resp r;
    test_call(srv.base, "GET", path, NULL, 0, &r);
    assert_int_not_equal(r.status, 400);
    test_resp_free(&r);
}

/* Defect 8: the 49th and later headers were dropped, Authorization and Idempotency-Key with them.
 */
static void headers_after_the_48th__still_seen(void **state)
{
    (void)state;
    char *text = malloc(8192);
    size_t n = (size_t)snprintf(text, 8192, "POST /api/v1/products HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(text + n, 8192 - n, "X-Filler-%d: v\r\n", i);
    n += (size_t)snprintf(text + n, 8192 - n,
                          "Authorization: Bearer " TEST_ADMIN_TOKEN "\r\nContent-Length: 2\r\n"
                          "Connection: close\r\n\r\n{}");
    size_t len;
    char *raw = test_raw_exchange(port(), text, n, 1000, &len);
    assert_one_problem(raw, len, 400, "INVALID_REQUEST"); /* authorised, then the body is judged */
    free(raw);

    /* a user's token and the key, both past the 48th header (64 fields in all, the most
       accepted): authorised, then the key is seen */
    char auth[640];
    test_user_auth_header(1, auth, sizeof(auth));
    n = (size_t)snprintf(text, 8192, "POST /api/v1/orders HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 59; i++)
        n += (size_t)snprintf(text + n, 8192 - n, "X-Filler-%d: v\r\n", i);
    n += (size_t)snprintf(
        text + n, 8192 - n,
        "%s\r\nIdempotency-Key: k-1\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}", auth);
    raw = test_raw_exchange(port(), text, n, 1000, &len);
    struct test_raw_resp r;
    assert_true(test_raw_parse(raw, len, &r));
    assert_int_equal(r.status, 400);
    assert_null(strstr(r.body, "IDEMPOTENCY_KEY_REQUIRED"));
    assert_null(strstr(r.body, "UNAUTHORIZED"));
    free(raw);
    free(text);
}

static void keep_alive_pipelining_continue_and_head(void **state)
{
    (void)state;
    /* two pipelined requests, two answers in order on one connection */
    const char *two = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
                      "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    size_t len;
    char *raw = test_raw_exchange(port(), two, strlen(two), 1000, &len);
    struct test_raw_resp a, b;
    assert_true(test_raw_parse(raw, len, &a));
    assert_int_equal(a.status, 200);
    assert_true(test_raw_parse(raw + a.total, len - a.total, &b));
    assert_int_equal(b.status, 404);
    free(raw);

    /* Expect: 100-continue gets the interim answer before the body is sent */
    int fd = test_raw_connect(port());
    const char *head = "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n"
                       "Expect: 100-continue\r\nConnection: close\r\n\r\n";
    assert_true(test_raw_send(fd, head, strlen(head)));
    raw = test_raw_read(fd, 1000, &len, NULL);
    assert_string_equal(raw, "HTTP/1.1 100 Continue\r\n\r\n");
    free(raw);
    assert_true(test_raw_send(fd, "{}", 2));
    raw = test_raw_read(fd, 1000, &len, NULL);
    assert_one_problem(raw, len, 400, "INVALID_REQUEST"); /* the body arrived and was judged */
    free(raw);
    close(fd);

    /* HEAD: GET's status and headers, no body */
    const char *hd = "HEAD /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    raw = test_raw_exchange(port(), hd, strlen(hd), 1000, &len);
    assert_int_equal(strncmp(raw, "HTTP/1.1 200 ", 13), 0);
    assert_non_null(strstr(raw, "Content-Length: 15\r\n"));
    assert_non_null(strstr(raw, "\r\n\r\n"));
    assert_int_equal(strlen(strstr(raw, "\r\n\r\n")), 4);
    free(raw);

    /* a refused HEAD has no body either */
    const char *bad_head = "HEAD /healthz HTTP/2.0\r\nHost: x\r\n\r\n";
    raw = test_raw_exchange(port(), bad_head, strlen(bad_head), 1000, &len);
    assert_int_equal(strncmp(raw, "HTTP/1.1 505 ", 13), 0);
    assert_int_equal(strlen(strstr(raw, "\r\n\r\n")), 4);
    free(raw);

    /* a chunked body with an extension and a trailer */
    const char *chunked = "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
                          "Connection: close\r\n\r\n1;x=y\r\n{\r\n1\r\n}\r\n0\r\nX-T: 1\r\n\r\n";
    raw = test_raw_exchange(port(), chunked, strlen(chunked), 1000, &len);
    assert_one_problem(raw, len, 400, "INVALID_REQUEST"); /* "{}": name is missing */
    free(raw);
}

static void tweak_small_limits(struct config *cfg)
{
    cfg->idle_timeout_s = 1;
    cfg->max_connections = 3;
    cfg->shutdown_timeout_ms = 30000;
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/* Slow clients get 408, too many connections 503, and a stop does not wait for idle ones. */
static void slow_clients_connection_limit_and_prompt_stop(void **state)
{
    (void)state;
    struct test_server small;
    struct config cfg;
    test_server_config(&cfg, NULL);
    tweak_small_limits(&cfg);
    test_server_start(&small, &cfg);
    uint16_t p = http_server_port(small.http);

    /* a head that never ends: 408 problem within the request timeout (1 s here) */
    int slow = test_raw_connect(p);
    assert_true(test_raw_send(slow, "GET /healthz HTTP/1.1\r\nHo", 25));
    size_t len;
    bool closed;
    char *raw = test_raw_read(slow, 5000, &len, &closed);
    assert_one_problem(raw, len, 408, "REQUEST_TIMEOUT");
    assert_true(closed);
    free(raw);
    close(slow);
    usleep(300 * 1000); /* the server sees our close and drops the lingering connection */

    /* three idle connections fill the limit; the fourth is told 503 */
    int held[3];
    for (int i = 0; i < 3; i++)
        held[i] = test_raw_connect(p);
    usleep(200 * 1000); /* let the workers accept them */
    int extra = test_raw_connect(p);
    raw = test_raw_read(extra, 2000, &len, &closed);
    assert_one_problem(raw, len, 503, "SERVICE_UNAVAILABLE");
    free(raw);
    close(extra);
    for (int i = 0; i < 3; i++)
        close(held[i]);

    /* an idle keep-alive connection does not hold the stop for the drain limit (30 s) */
    usleep(200 * 1000);
    int idle = test_raw_connect(p);
    const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    assert_true(test_raw_send(idle, req, strlen(req)));
    raw = test_raw_read(idle, 500, &len, NULL);
    free(raw);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    test_server_stop(&small);
    double took = seconds_since(&t0);
    if (took > 10.0)
        fail_msg("stop waited %.1f s for an idle connection", took);
    close(idle);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(broken_request_lines_and_versions__problem_json),
        cmocka_unit_test(oversized_heads__414_and_431_as_problem_json),
        cmocka_unit_test(bad_content_length__one_problem_answer),
        cmocka_unit_test(oversized_body__413_before_the_body_is_read),
        cmocka_unit_test(many_query_parameters__400_at_once_and_the_connection_lives),
        cmocka_unit_test(headers_after_the_48th__still_seen),
        cmocka_unit_test(keep_alive_pipelining_continue_and_head),
        cmocka_unit_test(slow_clients_connection_limit_and_prompt_stop),
    };
    return TEST_SERVER_RUN_WITHOUT_DB(tests, &srv, "http_framing");
}
