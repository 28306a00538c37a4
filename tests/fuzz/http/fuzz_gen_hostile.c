/*
 * fuzz_gen_hostile.c — well-framed hostile requests: paths, ids, query
 * strings, header fields and protocol versions. Each owes exactly one answer.
 */
#include <stdint.h>
#include <string.h>

#include "fuzz_gen.h"

static const char *const hostile_ids[] = {
    "0",
    "-1",
    "00001",
    "9223372036854775807",
    "9223372036854775808",
    "18446744073709551616",
    "99999999999999999999",
    "12345678901234567890123456789012",
    "123456789012345678901234567890123",
    "1e3",
    "0x10",
    "+1",
    "%31",
    "1%00",
    "%zz",
    "%ff",
    "%",
    "%4",
    "..",
    "%2e%2e",
    "1;x=y",
    "%e2%82%ac",
    "%c0%af",
    "1/",
    "",
};

static const char *const id_routes[] = {
    "/api/v1/products/{}",
    "/api/v1/users/{}/points",
    "/api/v1/users/{}/points/charge",
    "/api/v1/users/{}/points/history",
    "/api/v1/coupons/{}",
    "/api/v1/coupons/{}/issue",
    "/api/v1/users/{}/coupons",
    "/api/v1/orders/{}",
    "/api/v1/orders/{}/cancel",
    "/api/v1/users/{}/orders",
};

static const char *const hostile_paths[] = {
    "/api/v1/products/../users/1",
    "/api/v1/../../../etc/passwd",
    "//api/v1/products",
    "/api/v1//products",
    "/api/v1/products/",
    "/API/V1/PRODUCTS",
    "/api/v1/products/popular/",
    "/api/v1/products%2f1",
    "/healthz%00",
    "/healthz?",
    "/healthz#frag",
    "/healthz?#",
    "/readyz/..",
    "/metrics?x=%zz",
    "*",
    "http://evil.example/api/v1/products/1",
    "https://x",
    "http://",
    "HTTP://X?limit=5",
    "http://a/?limit=0",
    "/%e2%82%ac",
    "/\x7e\x21\x24\x27\x28\x29",
    "example.com:443",
};

static const char *const query_values[] = {
    "0",
    "101",
    "-1",
    "abc",
    "",
    "2147483648",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "1%20",
    "%201",
    "+1",
    "1.5",
    "1e2",
    "%00",
    "%ff",
    "%zz",
    "1&limit=2",
    "18446744073709551616",
    "00000000000000000000000000000000000000000000000000000000000001",
};

static const char *const query_names[] = {"limit", "after", "before", "days", "status", "x", ""};

static const char *const query_routes[] = {
    "/api/v1/products",        "/api/v1/products/popular", "/api/v1/users/1/points/history",
    "/api/v1/users/2/coupons", "/api/v1/users/1/orders",   "/healthz",
};

/* Appends pattern with each "{}" replaced by value. */
static void fuzz_gen_subst(struct fuzz_buf *b, const char *pattern, const char *value)
{
    const char *p = pattern, *hole;
    while ((hole = strstr(p, "{}")) != NULL) {
        fuzz_buf_put(b, p, (size_t)(hole - p));
        fuzz_buf_puts(b, value);
        p = hole + 2;
    }
    fuzz_buf_puts(b, p);
}

static void hostile_target(struct fuzz_rng *r, struct fuzz_buf *t)
{
    switch (fuzz_rng_below(r, 6)) {
    case 0:
    case 1:
        fuzz_gen_subst(t, FUZZ_PICK(r, id_routes), FUZZ_PICK(r, hostile_ids));
        break;
    case 2:
        fuzz_buf_puts(t, FUZZ_PICK(r, hostile_paths));
        break;
    case 3: { /* very long, or many segments */
        size_t n = (size_t)fuzz_rng_range(r, 7000, 9000);
        fuzz_buf_puts(t, "/api/v1/products/");
        if (fuzz_rng_chance(r, 50))
            fuzz_buf_fill(t, '1', n);
        else
            while (t->len < n)
                fuzz_buf_puts(t, fuzz_rng_chance(r, 50) ? "/a" : "/..");
        break;
    }
    case 4: { /* query values */
        fuzz_buf_puts(t, FUZZ_PICK(r, query_routes));
        int n = (int)fuzz_rng_range(r, 1, 3);
        for (int i = 0; i < n; i++)
            fuzz_buf_printf(t, "%c%s=%s", i ? '&' : '?', FUZZ_PICK(r, query_names),
                            FUZZ_PICK(r, query_values));
        break;
    }
    default: { /* thousands of parameters, or a huge value */
        fuzz_buf_puts(t, FUZZ_PICK(r, query_routes));
        size_t n = (size_t)fuzz_rng_range(r, 100, 8200);
        if (fuzz_rng_chance(r, 50)) {
            fuzz_buf_puts(t, "?");
            for (unsigned i = 0; t->len < n; i++)
                fuzz_buf_printf(t, "%sp%u=%u", i ? "&" : "", i, i);
        } else {
            fuzz_buf_puts(t, "?limit=");
            fuzz_buf_fill(t, fuzz_rng_chance(r, 50) ? '0' : '9', n);
        }
        break;
    }
    }
}

/* A GET with a hostile target; the target is sent as is. */
static void gen_target(struct fuzz_rng *r, struct fuzz_req *out)
{
    struct fuzz_buf t = {0};
    hostile_target(r, &t);
    const char *method =
        FUZZ_PICK(r, ((const char *const[]){"GET", "GET", "POST", "HEAD", "DELETE", "OPTIONS"}));
    fuzz_gen_build(out, method, t.p, NULL, strcmp(method, "POST") == 0 ? "{}" : NULL, 2);
    out->gen = "hostile-target";
    fuzz_buf_free(&t);
}

/* A head with hostile header fields. */
static void gen_headers(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_req *out)
{
    struct fuzz_buf *b = &out->bytes;
    const char *body = "{\"amount\":5}";
    size_t blen = strlen(body);
    fuzz_buf_puts(b, "POST /api/v1/users/1/points/charge HTTP/1.1\r\n");
    fuzz_buf_printf(b, "Authorization: Bearer %s\r\n", cfg->admin_token); /* past the auth check */
    bool host = true, length = true;
    out->gen = "hostile-headers";
    switch (fuzz_rng_below(r, 22)) {
    case 0: { /* many fields */
        int n = (int)fuzz_rng_range(r, 40, 80);
        for (int i = 0; i < n; i++)
            fuzz_buf_printf(b, "X-Fuzz-%d: %d\r\n", i, i);
        break;
    }
    case 1: /* one huge value */
        fuzz_buf_puts(b, "X-Big: ");
        fuzz_buf_fill(b, 'a', (size_t)fuzz_rng_range(r, 8000, 20000));
        fuzz_buf_puts(b, "\r\n");
        break;
    case 2:
        fuzz_buf_printf(b, "Content-Length: %zu\r\n", blen);
        break; /* duplicate, same value */
    case 3:
        fuzz_buf_puts(b, "Content-Length: 3\r\n");
        break;
    case 4:
        fuzz_buf_printf(b, "Content-Length: %zu, %zu\r\n", blen, blen);
        length = false;
        break;
    case 5:
        fuzz_buf_printf(b, "Content-Length: %s\r\n",
                        FUZZ_PICK(r, ((const char *const[]){
                                         "abc", "-1", "+12", "0x0c", "1 2", "18446744073709551616",
                                         "18446744073709551615", "99999999999999999999999", ""})));
        length = false;
        break;
    case 6: /* trailing and leading whitespace is trimmed: valid */
        fuzz_buf_printf(b, "Content-Length: \t%zu \r\n", blen);
        length = false;
        break;
    case 7:
        fuzz_buf_puts(
            b, FUZZ_PICK(r, ((const char *const[]){
                                "Transfer-Encoding: gzip\r\n",
                                "Transfer-Encoding: chunked\r\n",
                                "Transfer-Encoding: gzip, chunked\r\n",
                                "Transfer-Encoding: identity\r\n",
                                "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n",
                            })));
        break; /* with Content-Length too: refused */
    case 8:
        fuzz_buf_puts(b, FUZZ_PICK(r, ((const char *const[]){"Expect: 100-continue\r\n",
                                                             "Expect: 100-Continue\r\n",
                                                             "Expect: 200-ok\r\n", "Expect:\r\n",
                                                             "Expect: 100-continue, foo\r\n"})));
        out->expect_continue = true;
        break;
    case 9:
        host = false;
        break;
    case 10:
        fuzz_buf_puts(b, "Host: evil.example\r\n");
        break; /* two Hosts */
    case 11:
        fuzz_buf_puts(b, "X-Folded: a\r\n  folded continuation\r\n");
        break;
    case 12:
        fuzz_buf_puts(b, "X-Bare: lf\nX-Next: 1\r\n");
        break;
    case 13:
        fuzz_buf_put(b, "X-Nul: a\0b\r\n", 12);
        break;
    case 14:
        fuzz_buf_puts(b, "X-Bytes: \xff\xfe\xc0\xaf\x80 caf\xc3\xa9\r\n");
        break;
    case 15:
        fuzz_buf_puts(b, FUZZ_PICK(r, ((const char *const[]){
                                          "Idempotency-Key: \xff\xfe\r\n", "Idempotency-Key:\r\n",
                                          "Idempotency-Key: a\x01"
                                          "b\r\n",
                                          "Idempotency-Key: k1\r\nIdempotency-Key: k2\r\n",
                                          "Idempotency-Key: has space\r\n"})));
        break;
    case 16:
        fuzz_buf_puts(
            b, FUZZ_PICK(r, ((const char *const[]){
                                "Bad Header: x\r\n", ": novalue\r\n", "NoColon\r\n", "Host : x\r\n",
                                "X-Ctl\x01: x\r\n", "X-Bare-CR: a\rb\r\n", "\xff\xfe: x\r\n"})));
        break;
    case 17: { /* admin route with hostile Authorization */
        fuzz_buf_clear(b);
        fuzz_buf_puts(b, "POST /api/v1/products HTTP/1.1\r\n");
        const char *auth = FUZZ_PICK(
            r,
            ((const char *const[]){"Authorization: bearer {}\r\n", "Authorization: Bearer  {}\r\n",
                                   "Authorization: Bearer {} \r\n", "Authorization: Bearer {}X\r\n",
                                   "Authorization: Bearer\r\n", "Authorization: {}\r\n",
                                   "Authorization: Bearer {}\r\nAuthorization: Bearer x\r\n",
                                   "Authorization: Bearer \xff{}\r\n"}));
        fuzz_gen_subst(b, auth, cfg->admin_token);
        body = "{\"name\":\"fz-auth\",\"price\":1,\"stock\":1}";
        blen = strlen(body);
        break;
    }
    case 18:
        fuzz_buf_puts(b, FUZZ_PICK(r, ((const char *const[]){
                                          "Connection: close\r\n", "Connection: keep-alive\r\n",
                                          "Connection: Upgrade\r\nUpgrade: h2c\r\n",
                                          "Connection: close, close, keep-alive\r\n",
                                          "Upgrade: websocket\r\n"})));
        break;
    case 19: /* header near the 16 KiB head limit */
        fuzz_buf_puts(b, "X-Edge: ");
        fuzz_buf_fill(b, 'e', (size_t)fuzz_rng_range(r, 16 * 1024 - 200, 16 * 1024 + 10));
        fuzz_buf_puts(b, "\r\n");
        break;
    case 20: /* a body of exactly 64 KiB, or one byte more */
        fuzz_buf_clear(b);
        fuzz_buf_puts(b, "POST /api/v1/users HTTP/1.1\r\nHost: x\r\n");
        blen = fuzz_rng_chance(r, 50) ? 65536 : 65537;
        fuzz_buf_printf(b, "Content-Length: %zu\r\n\r\n{\"name\":\"", blen);
        fuzz_buf_fill(b, 'n', blen - 11);
        fuzz_buf_puts(b, "\"}");
        out->known = true;
        return;
    default:
        fuzz_buf_puts(b, "Content-Type: text/plain; charset=\xff\r\nAccept: */*\r\n");
        break;
    }
    if (host)
        fuzz_buf_puts(b, "Host: 127.0.0.1\r\n");
    if (length)
        fuzz_buf_printf(b, "Content-Length: %zu\r\n", blen);
    fuzz_buf_puts(b, "\r\n");
    fuzz_buf_put(b, body, blen);
    out->known = true;
}

/* Other protocols and versions, and odd request lines. */
static void gen_version(struct fuzz_rng *r, struct fuzz_req *out)
{
    static const char *const lines[] = {
        "GET /healthz\r\n\r\n",
        "GET /healthz HTTP/0.9\r\n\r\n",
        "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/3\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.2\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.10\r\nHost: x\r\n\r\n",
        "GET /healthz http/1.1\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.1 \r\nHost: x\r\n\r\n",
        "GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET\t/healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.0\r\n\r\n",
        "GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n",
        "POST /api/v1/users HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
        "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        "\x16\x03\x01\x00\xa5\x01\x00\x00\xa1\x03\x03\x00\x01\x02\x03\x04\x05\x06\x07\x08",
        "\x80\x2e\x01\x03\x01\x00\x15\x00\x00\x00\x10",
        "\r\n\r\nGET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "get /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "FOO /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n\r\n",
        "OPTIONS * HTTP/1.1\r\nHost: x\r\n\r\n",
        "TRACE /api/v1/products HTTP/1.1\r\nHost: x\r\n\r\n",
        "PUT /api/v1/products/1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}",
        "DELETE /api/v1/orders/1 HTTP/1.1\r\nHost: x\r\n\r\n",
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        " GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /he\x01lthz HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /h\xc3\xa9 HTTP/1.1\r\nHost: x\r\n\r\n",
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\n",
        "GET /healthz HTTP/1.1\nHost: x\n\n",
    };
    size_t i = fuzz_rng_below(r, sizeof(lines) / sizeof(lines[0]));
    size_t n = i == 14 ? 20 : i == 15 ? 11 : strlen(lines[i]);
    fuzz_buf_put(&out->bytes, lines[i], n);
    out->gen = "hostile-version";
    out->known = true;
    out->head = false;
}

void fuzz_gen_hostile(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_req *out)
{
    switch (fuzz_rng_below(r, 4)) {
    case 0:
        gen_target(r, out);
        out->known = true;
        break;
    case 1:
        gen_headers(r, cfg, out);
        break;
    case 2:
        gen_version(r, out);
        break;
    default:
        fuzz_gen_body(r, cfg, out);
        break;
    }
}
