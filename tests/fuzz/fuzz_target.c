/*
 * fuzz_target.c — libFuzzer harness for http_target_parse and router_match.
 * The first input byte picks the method and the Allow buffer size; the
 * rest, up to its first NUL, is the request target. Properties: the result
 * is ERR_OK, BAD_REQUEST, INVALID_REQUEST or INTERNAL; on ERR_OK the path is
 * exactly what an independent percent-decoder in this file makes of the
 * target (so it starts with '/' and has no NUL inside) and n_query <= max.
 * The decoded path is then routed against shopd's route patterns (copied
 * from src/composition/app.c route_specs; stub handlers) and compared with a
 * reference matcher: same outcome and route, ids > 0 or 0 exactly when the
 * digits overflow int64 (or are all zeros), Allow NUL-terminated within its
 * buffer and listing the path's methods.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_check.h"
#include "http/router.h"
#include "http/target.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum err_code stub(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    (void)resp;
    (void)e;
    return ERR_OK;
}

/* The patterns of src/composition/app.c route_specs, in order. */
static const struct route routes[] = {
    {HTTP_GET, "/healthz", stub, NULL, false},
    {HTTP_GET, "/readyz", stub, NULL, false},
    {HTTP_GET, "/metrics", stub, NULL, false},
    {HTTP_GET, "/api/v1/products", stub, NULL, false},
    {HTTP_POST, "/api/v1/products", stub, NULL, true},
    {HTTP_GET, "/api/v1/products/popular", stub, NULL, false},
    {HTTP_GET, "/api/v1/products/{id}", stub, NULL, false},
    {HTTP_POST, "/api/v1/users", stub, NULL, false},
    {HTTP_GET, "/api/v1/users/{id}/points", stub, NULL, false},
    {HTTP_POST, "/api/v1/users/{id}/points/charge", stub, NULL, false},
    {HTTP_GET, "/api/v1/users/{id}/points/history", stub, NULL, false},
    {HTTP_POST, "/api/v1/coupons", stub, NULL, true},
    {HTTP_GET, "/api/v1/coupons/{id}", stub, NULL, false},
    {HTTP_POST, "/api/v1/coupons/{id}/issue", stub, NULL, false},
    {HTTP_GET, "/api/v1/users/{id}/coupons", stub, NULL, false},
    {HTTP_POST, "/api/v1/orders", stub, NULL, false},
    {HTTP_GET, "/api/v1/orders/{id}", stub, NULL, false},
    {HTTP_POST, "/api/v1/orders/{id}/cancel", stub, NULL, false},
    {HTTP_GET, "/api/v1/users/{id}/orders", stub, NULL, false},
};
enum { N_ROUTES = sizeof(routes) / sizeof(routes[0]) };

static int hexval(char c)
{
    static const char digits[] = "0123456789abcdefABCDEF";
    const char *p = c ? strchr(digits, c) : NULL;
    if (!p)
        return -1;
    return p - digits < 16 ? (int)(p - digits) : (int)(p - digits) - 6;
}

/* Reference: the decoded path of target into out (capacity > strlen(target)); false = invalid. */
static bool ref_path(const char *t, char *out)
{
    if (strncasecmp(t, "http://", 7) == 0 || strncasecmp(t, "https://", 8) == 0) {
        t = strstr(t, "//") + 2;
        while (*t && *t != '/' && *t != '?' && *t != '#')
            t++;
        if (*t != '/') {
            strcpy(out, "/");
            return true;
        }
    }
    if (*t != '/')
        return false;
    size_t j = 0;
    for (; *t && *t != '?' && *t != '#'; t++) {
        if (*t != '%') {
            out[j++] = *t;
            continue;
        }
        int hi = hexval(t[1]), lo = hi < 0 ? -1 : hexval(t[2]);
        if (hi < 0 || lo < 0 || hi * 16 + lo == 0)
            return false;
        out[j++] = (char)(hi * 16 + lo);
        t += 2;
    }
    out[j] = '\0';
    return true;
}

/* Reference: does path match pattern segment by segment? Collects {id} values. */
static bool ref_match(const char *pattern, const char *path, int64_t *ids, size_t *n_ids)
{
    *n_ids = 0;
    if (path[0] != '/')
        return false;
    while (*pattern) {
        if (*path != '/')
            return false;
        pattern++, path++;
        size_t plen = strcspn(pattern, "/"), slen = strcspn(path, "/");
        if (plen == 4 && strncmp(pattern, "{id}", 4) == 0) {
            if (slen < 1 || slen > 32 || strspn(path, "0123456789") < slen)
                return false;
            unsigned __int128 v = 0;
            for (size_t i = 0; i < slen; i++)
                v = v * 10 + (unsigned)(path[i] - '0');
            ids[(*n_ids)++] = v > INT64_MAX ? 0 : (int64_t)v;
        } else if (plen != slen || strncmp(pattern, path, plen) != 0) {
            return false;
        }
        pattern += plen, path += slen;
    }
    return *path == '\0';
}

static void check_route(enum http_method method, const char *path, size_t cap)
{
    const struct router r = {routes, N_ROUTES};
    size_t index = SIZE_MAX, n_ids = 0;
    int64_t ids[HTTP_MAX_PATH_IDS];
    char *allow = malloc(cap); /* exact size: ASan sees a write past it */
    enum router_result rr = router_match(&r, method, path, &index, ids, &n_ids, allow, cap);

    size_t want = SIZE_MAX, want_n = 0;
    int64_t want_ids[HTTP_MAX_PATH_IDS];
    char want_allow[128] = "";
    bool known = false;
    for (size_t i = 0; i < N_ROUTES && want == SIZE_MAX; i++) {
        int64_t tmp[HTTP_MAX_PATH_IDS];
        size_t n;
        if (!ref_match(routes[i].pattern, path, tmp, &n))
            continue;
        known = true;
        if (routes[i].method == method) {
            want = i;
            want_n = n;
            memcpy(want_ids, tmp, sizeof(tmp));
        }
    }
    for (int m = 0; m < HTTP_METHOD_COUNT && want == SIZE_MAX; m++) {
        bool listed = false;
        int64_t tmp[HTTP_MAX_PATH_IDS];
        size_t n;
        for (size_t i = 0; i < N_ROUTES; i++)
            listed = listed || (routes[i].method == (enum http_method)m &&
                                ref_match(routes[i].pattern, path, tmp, &n));
        if (listed) {
            if (want_allow[0])
                strcat(want_allow, ", ");
            strcat(want_allow, http_method_name((enum http_method)m));
        }
    }

    if (want != SIZE_MAX) {
        FUZZ_CHECK(rr == ROUTER_MATCH && index == want, "route %zu/%d, want %zu", index, rr, want);
        FUZZ_CHECK(index < N_ROUTES && routes[index].method == method, "matched route");
        FUZZ_CHECK(n_ids == want_n, "n_ids %zu, want %zu", n_ids, want_n);
        for (size_t i = 0; i < n_ids; i++)
            FUZZ_CHECK(ids[i] >= 0 && ids[i] == want_ids[i], "id %lld, want %lld",
                       (long long)ids[i], (long long)want_ids[i]);
    } else if (known) {
        FUZZ_CHECK(rr == ROUTER_METHOD_NOT_ALLOWED, "result %d, want 405", rr);
        FUZZ_CHECK(memchr(allow, '\0', cap) != NULL, "Allow not NUL-terminated in %zu", cap);
        FUZZ_CHECK(cap < sizeof(want_allow) || strcmp(allow, want_allow) == 0,
                   "Allow \"%s\", want \"%s\"", allow, want_allow);
    } else {
        FUZZ_CHECK(rr == ROUTER_NOT_FOUND, "result %d, want 404", rr);
    }
    free(allow);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    enum http_method method = (enum http_method)(data[0] % HTTP_METHOD_COUNT);
    size_t cap = data[0] / HTTP_METHOD_COUNT < 12 ? data[0] / HTTP_METHOD_COUNT + 1 : 128;
    size_t n = strnlen((const char *)data + 1, size - 1);
    char *target = malloc(n + 1);
    memcpy(target, data + 1, n);
    target[n] = '\0';

    struct arena a;
    arena_init(&a);
    const char *path = NULL;
    struct http_kv query[HTTP_MAX_QUERY];
    size_t n_query = 0;
    struct err e = {0};
    enum err_code rc = http_target_parse(target, &a, &path, query, HTTP_MAX_QUERY, &n_query, &e);
    FUZZ_CHECK(rc == ERR_OK || rc == ERR_BAD_REQUEST || rc == ERR_INVALID_REQUEST ||
                   rc == ERR_INTERNAL,
               "code %s", err_code_str(rc));
    FUZZ_CHECK(rc == ERR_OK || e.code == rc, "e.code %d vs %d", e.code, rc);
    char *want = malloc(n + 2);
    bool ok = ref_path(target, want);
    if (rc == ERR_OK) {
        FUZZ_CHECK(ok, "accepted a target the reference refuses");
        FUZZ_CHECK(path && path[0] == '/', "path must start with '/'");
        FUZZ_CHECK(strcmp(path, want) == 0, "path differs from the reference");
        FUZZ_CHECK(n_query <= HTTP_MAX_QUERY, "n_query %zu", n_query);
        for (size_t i = 0; i < n_query; i++)
            FUZZ_CHECK(query[i].name && query[i].value, "query %zu", i);
        check_route(method, path, cap);
    }
    free(want);
    arena_cleanup(&a);
    free(target);
    return 0;
}
