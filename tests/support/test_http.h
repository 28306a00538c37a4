/* test_http.h — a small libcurl client for HTTP-level tests. */
#ifndef SHOPD_TESTS_TEST_HTTP_H
#define SHOPD_TESTS_TEST_HTTP_H

#include <stddef.h>

#include <jansson.h>

struct test_resp {
    long status;
    char *body; /* NUL-terminated (owned) */
    size_t body_len;
    char *headers; /* raw response header block (owned) */
    json_t *json;  /* parsed body or NULL (owned) */
};

/*
 * Sends method to url with optional body (NULL = none) and extra request
 * headers (NULL-terminated array of "Name: value", may be NULL). Fills *out;
 * returns 0, or -1 when the transfer failed (connection refused…). Each call
 * uses its own curl handle: thread-safe once test_http_global_init ran.
 * When the environment names a file in SHOPD_TEST_CAPTURE, every response
 * received is appended to it as one JSON line (method, path, status,
 * content type, headers, body) for tests/openapi's schema check.
 */
int test_http(const char *method, const char *url, const char *body, const char *const *headers,
              struct test_resp *out);

/* Value of response header name (case-insensitive) copied into buf, or NULL when absent. */
const char *test_resp_header(const struct test_resp *r, const char *name, char *buf, size_t cap);

/* The "code" member of a problem+json body, or "" when absent. Borrowed from r->json. */
const char *test_resp_code(const struct test_resp *r);

/* Frees what r owns. */
void test_resp_free(struct test_resp *r);

/* curl_global_init; call once at the start of main, before threads. */
void test_http_global_init(void);

/*
 * Convenience: method base+path with optional JSON body and, when admin is
 * true, the test admin bearer token. Aborts the test on transport failure.
 */
void test_call(const char *base, const char *method, const char *path, const char *body, int admin,
               struct test_resp *out);

/*
 * Like test_call, acting as user_id with an access token signed with
 * TEST_TOKEN_SECRET (what every test server verifies with; minted here,
 * no login round trip). user_id 0: no token at all.
 */
void test_call_as(const char *base, const char *method, const char *path, const char *body,
                  long long user_id, struct test_resp *out);

/*
 * Writes "Authorization: Bearer <token for user_id>" into buf (cap >= 640)
 * and returns buf: for callers that build their own header lists.
 */
const char *test_user_auth_header(long long user_id, char *buf, size_t cap);

/* A token for user_id valid for ttl_s from now (TEST_TOKEN_SECRET) into buf (>= 512). */
const char *test_user_token(long long user_id, long long ttl_s, char *buf, size_t cap);

/*
 * Signs up a user named name with TEST_PASSWORD (POST /api/v1/users) and
 * returns its id; aborts unless the answer is 201.
 */
long long test_new_user(const char *base, const char *name);

/* The value of metric line "name value" in GET base/metrics (-1 when absent). */
long long test_metric(const char *base, const char *name);

/* Integer member name of r->json (0 when absent). */
long long test_resp_int(const struct test_resp *r, const char *name);
#endif
