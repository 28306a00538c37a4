/* test_http.c — libcurl request helper (and the response capture for the OpenAPI check). */
#include "support/test_http.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fcntl.h>
#include <pthread.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "auth/token.h"

#include "support/test_server.h"

struct growbuf {
    char *data;
    size_t len;
};

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct growbuf *b = ud;
    size_t n = size * nmemb;
    char *p = realloc(b->data, b->len + n + 1);
    if (!p)
        return 0;
    memcpy(p + b->len, ptr, n);
    b->data = p;
    b->len += n;
    b->data[b->len] = '\0';
    return n;
}

/* The path and query of url ("http://host:port/a?b" → "/a?b"; "/" when it has none). */
static const char *url_target(const char *url)
{
    const char *host = strstr(url, "://");
    const char *slash = strchr(host ? host + 3 : url, '/');
    return slash ? slash : "/";
}

/*
 * The fields of the last response head in block as {"lower-case name": value}
 * (a repeated field keeps its last value), or NULL when out of memory.
 */
static json_t *headers_json(const char *block)
{
    json_t *out = json_object();
    for (const char *line = block; out && line && *line;) {
        const char *eol = strstr(line, "\r\n");
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        const char *colon = memchr(line, ':', len);
        if (len > 5 && strncmp(line, "HTTP/", 5) == 0) {
            json_object_clear(out); /* a new head (after 100 Continue): only the last counts */
        } else if (colon && colon > line) {
            char name[128];
            size_t nlen =
                (size_t)(colon - line) < sizeof(name) ? (size_t)(colon - line) : sizeof(name) - 1;
            for (size_t i = 0; i < nlen; i++)
                name[i] = (char)tolower((unsigned char)line[i]);
            name[nlen] = '\0';
            const char *v = colon + 1, *end = line + len;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == ' ' || end[-1] == '\t'))
                end--;
            json_t *value = json_stringn(v, (size_t)(end - v));
            if (value)
                json_object_set_new(out, name, value);
        }
        line = eol ? eol + 2 : NULL;
    }
    return out;
}

/*
 * With SHOPD_TEST_CAPTURE set: appends the exchange to that file as one JSON
 * line {"method","path","status","content_type","headers","body"} (body null
 * when it is not UTF-8), for tests/openapi/validate-responses.mjs. One write() on an
 * O_APPEND descriptor per line, so concurrent tests and threads never
 * interleave. A capture that cannot be written aborts: a silently short
 * capture would validate less than it claims.
 */
static void capture(const char *method, const char *url, const struct test_resp *r)
{
    const char *file = getenv("SHOPD_TEST_CAPTURE");
    if (!file || !*file || r->status == 0)
        return;
    char ct[256];
    const char *type = test_resp_header(r, "Content-Type", ct, sizeof(ct));
    json_t *line = json_pack("{s:s, s:s, s:i, s:s?, s:o, s:o}", "method", method, "path",
                             url_target(url), "status", (int)r->status, "content_type", type,
                             "headers", headers_json(r->headers), "body",
                             r->body ? json_stringn(r->body, r->body_len) : json_null());
    if (!line) /* a body that is not UTF-8: json_stringn failed */
        line = json_pack("{s:s, s:s, s:i, s:s?, s:o, s:n}", "method", method, "path",
                         url_target(url), "status", (int)r->status, "content_type", type, "headers",
                         headers_json(r->headers), "body");
    char *text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    json_decref(line);
    size_t len = text ? strlen(text) : 0;
    char *buf = text ? realloc(text, len + 2) : NULL;
    if (!buf) {
        fprintf(stderr, "test_http: cannot encode the capture of %s %s\n", method, url);
        abort();
    }
    buf[len] = '\n';
    buf[len + 1] = '\0';
    int fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    ssize_t n = fd >= 0 ? write(fd, buf, len + 1) : -1;
    if (fd >= 0)
        close(fd);
    free(buf);
    if (n != (ssize_t)(len + 1)) {
        fprintf(stderr, "test_http: cannot append to SHOPD_TEST_CAPTURE=%s\n", file);
        abort();
    }
}

void test_http_global_init(void)
{
    curl_global_init(CURL_GLOBAL_ALL);
}

int test_http(const char *method, const char *url, const char *body, const char *const *headers,
              struct test_resp *out)
{
    memset(out, 0, sizeof(*out));
    CURL *curl = curl_easy_init();
    if (!curl)
        return -1;
    struct growbuf b = {0}, h = {0};
    struct curl_slist *hl = NULL;
    for (const char *const *p = headers; p && *p; p++)
        hl = curl_slist_append(hl, *p);
    if (body)
        hl = curl_slist_append(hl, "Content-Type: application/json");
    hl = curl_slist_append(hl, "Expect:");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &b);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_data);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &h);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, 60L);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    if (body) {
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
    }
    if (strcmp(method, "HEAD") == 0)
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    CURLcode rc = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &out->status);
    curl_slist_free_all(hl);
    curl_easy_cleanup(curl);
    out->body = b.data ? b.data : calloc(1, 1);
    out->body_len = b.len;
    out->headers = h.data ? h.data : calloc(1, 1);
    out->json = b.len ? json_loadb(b.data, b.len, 0, NULL) : NULL;
    if (rc == CURLE_OK)
        capture(method, url, out);
    return rc == CURLE_OK ? 0 : -1;
}

const char *test_resp_header(const struct test_resp *r, const char *name, char *buf, size_t cap)
{
    size_t nlen = strlen(name);
    for (const char *line = r->headers; line && *line;) {
        const char *eol = strstr(line, "\r\n");
        size_t len = eol ? (size_t)(eol - line) : strlen(line);
        if (len > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
            const char *v = line + nlen + 1;
            while (*v == ' ')
                v++;
            size_t vlen = len - (size_t)(v - line);
            if (vlen >= cap)
                vlen = cap - 1;
            memcpy(buf, v, vlen);
            buf[vlen] = '\0';
            return buf;
        }
        line = eol ? eol + 2 : NULL;
    }
    return NULL;
}

const char *test_resp_code(const struct test_resp *r)
{
    const char *c = json_string_value(json_object_get(r->json, "code"));
    return c ? c : "";
}

void test_resp_free(struct test_resp *r)
{
    free(r->body);
    free(r->headers);
    json_decref(r->json);
    memset(r, 0, sizeof(*r));
}

void test_call(const char *base, const char *method, const char *path, const char *body, int admin,
               struct test_resp *out)
{
    char url[512];
    snprintf(url, sizeof(url), "%s%s", base, path);
    const char *headers[] = {admin ? "Authorization: Bearer " TEST_ADMIN_TOKEN : NULL, NULL};
    if (test_http(method, url, body, headers, out) != 0) {
        fprintf(stderr, "test_call: %s %s failed to transfer\n", method, url);
        abort();
    }
}

static struct token_keys test_keys;
static bool test_keys_ok;

static void test_keys_init(void)
{
    struct err e;
    err_clear(&e);
    test_keys_ok =
        token_crypto_init() && token_keys_init(&test_keys, TEST_TOKEN_SECRET, NULL, &e) == ERR_OK;
}

const char *test_user_token(long long user_id, long long ttl_s, char *buf, size_t cap)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, test_keys_init);
    if (!test_keys_ok || !token_sign(&test_keys, user_id, (long long)time(NULL), ttl_s, buf, cap)) {
        fprintf(stderr, "test_user_token: cannot sign a token\n");
        abort();
    }
    return buf;
}

const char *test_user_auth_header(long long user_id, char *buf, size_t cap)
{
    char token[TOKEN_MAX];
    test_user_token(user_id, 3600, token, sizeof(token));
    snprintf(buf, cap, "Authorization: Bearer %s", token);
    return buf;
}

void test_call_as(const char *base, const char *method, const char *path, const char *body,
                  long long user_id, struct test_resp *out)
{
    char url[512], auth[640];
    snprintf(url, sizeof(url), "%s%s", base, path);
    const char *headers[] = {user_id ? test_user_auth_header(user_id, auth, sizeof(auth)) : NULL,
                             NULL};
    if (test_http(method, url, body, headers, out) != 0) {
        fprintf(stderr, "test_call_as: %s %s failed to transfer\n", method, url);
        abort();
    }
}

long long test_new_user(const char *base, const char *name)
{
    char body[256];
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"password\":\"%s\"}", name, TEST_PASSWORD);
    struct test_resp r;
    test_call(base, "POST", "/api/v1/users", body, 0, &r);
    if (r.status != 201) {
        fprintf(stderr, "test_new_user: %ld %s\n", r.status, r.body ? r.body : "");
        abort();
    }
    long long id = test_resp_int(&r, "id");
    test_resp_free(&r);
    return id;
}

long long test_resp_int(const struct test_resp *r, const char *name)
{
    return json_integer_value(json_object_get(r->json, name));
}

long long test_metric(const char *base, const char *name)
{
    struct test_resp r;
    test_call(base, "GET", "/metrics", NULL, 0, &r);
    char needle[160];
    snprintf(needle, sizeof(needle), "\n%s ", name);
    const char *at = r.body ? strstr(r.body, needle) : NULL;
    long long v = at ? atoll(at + strlen(needle)) : -1;
    test_resp_free(&r);
    return v;
}
