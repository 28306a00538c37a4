/* fuzz_gen_valid.c — valid requests for every route of src/composition/app.c's route table. */
#include <string.h>

#include "fuzz_gen.h"

void fuzz_gen_build(struct fuzz_req *out, const char *method, const char *target,
                    const char *headers, const char *body, size_t body_len)
{
    fuzz_buf_printf(&out->bytes, "%s %s HTTP/1.1\r\nHost: 127.0.0.1\r\n", method, target);
    if (headers)
        fuzz_buf_puts(&out->bytes, headers);
    if (body)
        fuzz_buf_printf(&out->bytes, "Content-Type: application/json\r\nContent-Length: %zu\r\n",
                        body_len);
    fuzz_buf_puts(&out->bytes, "\r\n");
    if (body)
        fuzz_buf_put(&out->bytes, body, body_len);
    out->head = strcmp(method, "HEAD") == 0;
    out->text_ok = strncmp(target, "/metrics", 8) == 0;
}

long long fuzz_gen_id(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg)
{
    if (fuzz_rng_chance(r, 90))
        return fuzz_rng_range(r, 1, cfg->id_max);
    return fuzz_rng_range(r, 0, cfg->id_max + 20);
}

/* Authorization for an admin route: mostly right, sometimes missing or wrong. */
static void admin_header(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_buf *h)
{
    unsigned x = (unsigned)fuzz_rng_below(r, 100);
    if (x < 80)
        fuzz_buf_printf(h, "Authorization: Bearer %s\r\n", cfg->admin_token);
    else if (x < 90)
        fuzz_buf_puts(h, "Authorization: Bearer wrong-token\r\n");
    else if (x < 95)
        fuzz_buf_printf(h, "Authorization: Basic %s\r\n", cfg->admin_token);
}

/*
 * Authorization for a user-scoped route: mostly the admin token (which acts
 * for any user, so the handlers behind the check are reached; the fuzzer
 * cannot sign user tokens), sometimes a wrong, JWT-shaped or missing one.
 */
static void user_header(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_buf *h)
{
    unsigned x = (unsigned)fuzz_rng_below(r, 100);
    if (x < 85)
        fuzz_buf_printf(h, "Authorization: Bearer %s\r\n", cfg->admin_token);
    else if (x < 90)
        fuzz_buf_puts(h, "Authorization: Bearer wrong-token\r\n");
    else if (x < 95)
        fuzz_buf_puts(h, "Authorization: Bearer "
                         "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl\r\n");
}

/* A sign-up body: mostly valid (password 8..128 characters), sometimes not. */
static void signup_body(struct fuzz_rng *r, struct fuzz_buf *b)
{
    unsigned name = (unsigned)fuzz_rng_below(r, 1000);
    switch (fuzz_rng_below(r, 10)) {
    case 0:
        fuzz_buf_printf(b, "{\"name\":\"fz-user-%u\"}", name);
        break;
    case 1:
        fuzz_buf_printf(b, "{\"name\":\"fz-user-%u\",\"password\":\"short\"}", name);
        break;
    case 2:
        fuzz_buf_printf(b, "{\"name\":\"fz-user-%u\",\"password\":\"", name);
        fuzz_buf_fill(b, 'p', (size_t)fuzz_rng_range(r, 126, 131));
        fuzz_buf_puts(b, "\"}");
        break;
    default:
        fuzz_buf_printf(b, "{\"name\":\"fz-user-%u\",\"password\":\"fz-password-%u\"}", name,
                        (unsigned)fuzz_rng_below(r, 1000));
        break;
    }
}

static void idem_header(struct fuzz_rng *r, struct fuzz_buf *h)
{
    fuzz_buf_printf(h, "Idempotency-Key: fz-%u\r\n", (unsigned)fuzz_rng_below(r, 400));
}

static void order_body(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_buf *b)
{
    fuzz_buf_printf(b, "{\"user_id\":%lld,\"items\":[", fuzz_gen_id(r, cfg));
    int n = (int)fuzz_rng_range(r, 1, 3);
    for (int i = 0; i < n; i++)
        fuzz_buf_printf(b, "%s{\"product_id\":%lld,\"quantity\":%d}", i ? "," : "",
                        fuzz_gen_id(r, cfg), (int)fuzz_rng_range(r, 1, 4));
    fuzz_buf_puts(b, "]");
    if (fuzz_rng_chance(r, 30))
        fuzz_buf_printf(b, ",\"coupon_id\":%lld", fuzz_gen_id(r, cfg));
    fuzz_buf_puts(b, "}");
}

void fuzz_gen_post_route(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_buf *tbuf,
                         struct fuzz_buf *hbuf)
{
    switch (fuzz_rng_below(r, 6)) {
    case 0:
        fuzz_buf_puts(tbuf, "/api/v1/products");
        admin_header(r, cfg, hbuf);
        break;
    case 1:
        fuzz_buf_puts(tbuf, "/api/v1/users");
        break;
    case 2:
        fuzz_buf_printf(tbuf, "/api/v1/users/%lld/points/charge", fuzz_gen_id(r, cfg));
        user_header(r, cfg, hbuf);
        if (fuzz_rng_chance(r, 50))
            idem_header(r, hbuf);
        break;
    case 3:
        fuzz_buf_puts(tbuf, "/api/v1/coupons");
        admin_header(r, cfg, hbuf);
        break;
    case 4:
        fuzz_buf_printf(tbuf, "/api/v1/coupons/%lld/issue", fuzz_gen_id(r, cfg));
        user_header(r, cfg, hbuf);
        break;
    default:
        fuzz_buf_puts(tbuf, "/api/v1/orders");
        user_header(r, cfg, hbuf);
        idem_header(r, hbuf);
        break;
    }
}

static const char *const expiries[] = {
    "2099-12-31T23:59:59Z", "2030-01-01T00:00:00+09:00", "2098-06-01T12:00:00.123456Z",
    "2000-01-01T00:00:00Z", "9999-12-31T23:59:59Z",      "9999-12-31T23:59:59-23:59",
    "0000-01-01T00:00:00Z", "2099-02-30T00:00:00Z",      "2099-12-31T24:00:00Z",
    "2099-12-31T23:59:60Z", "2099-12-31 23:59:59Z",      "2099-12-31T23:59:59",
};

/* Fills target, headers and (for POST) body of a random route. Returns the method. */
static const char *valid_route(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg,
                               struct fuzz_buf *t, struct fuzz_buf *h, struct fuzz_buf *b,
                               bool *has_body)
{
    *has_body = false;
    long long id = fuzz_gen_id(r, cfg);
    switch (fuzz_rng_below(r, 20)) {
    case 0:
        fuzz_buf_puts(t, FUZZ_PICK(r, ((const char *const[]){"/healthz", "/readyz", "/metrics"})));
        return "GET";
    case 1:
        if (fuzz_rng_chance(r, 50))
            fuzz_buf_printf(t, "/api/v1/products?limit=%d&after=%lld",
                            (int)fuzz_rng_range(r, 1, 100), fuzz_gen_id(r, cfg) - 1);
        else
            fuzz_buf_puts(t, "/api/v1/products");
        return "GET";
    case 2:
    case 3:
        fuzz_buf_printf(t, "/api/v1/products/%lld", id);
        return fuzz_rng_chance(r, 10) ? "HEAD" : "GET";
    case 4:
        fuzz_buf_printf(t, "/api/v1/products/popular?days=%d&limit=%d",
                        (int)fuzz_rng_range(r, 1, 30), (int)fuzz_rng_range(r, 1, 100));
        return "GET";
    case 5:
        fuzz_buf_puts(t, "/api/v1/products");
        admin_header(r, cfg, h);
        fuzz_buf_printf(b, "{\"name\":\"fz-%u\",\"price\":%lld,\"stock\":%lld}",
                        (unsigned)fuzz_rng_below(r, 1000), (long long)fuzz_rng_range(r, 0, 90000),
                        (long long)fuzz_rng_range(r, 0, 500));
        *has_body = true;
        return "POST";
    case 6:
        fuzz_buf_puts(t, "/api/v1/users");
        signup_body(r, b);
        *has_body = true;
        return "POST";
    case 7:
        fuzz_buf_printf(t, "/api/v1/users/%lld/points", id);
        user_header(r, cfg, h);
        return "GET";
    case 8:
    case 9:
        fuzz_buf_printf(t, "/api/v1/users/%lld/points/charge", id);
        user_header(r, cfg, h);
        if (fuzz_rng_chance(r, 50))
            idem_header(r, h);
        fuzz_buf_printf(b, "{\"amount\":%lld}",
                        fuzz_rng_chance(r, 90) ? (long long)fuzz_rng_range(r, 1, 1000000)
                                               : (long long)fuzz_rng_range(r, -5, 2000000));
        *has_body = true;
        return "POST";
    case 10:
        fuzz_buf_printf(t, "/api/v1/users/%lld/points/history?limit=%d", id,
                        (int)fuzz_rng_range(r, 1, 100));
        if (fuzz_rng_chance(r, 50))
            fuzz_buf_printf(t, "&before=%lld", (long long)fuzz_rng_range(r, 0, 5000));
        user_header(r, cfg, h);
        return "GET";
    case 11:
        fuzz_buf_puts(t, "/api/v1/coupons");
        admin_header(r, cfg, h);
        if (fuzz_rng_chance(r, 50))
            fuzz_buf_printf(b,
                            "{\"name\":\"fz-fixed\",\"discount_type\":\"FIXED\","
                            "\"discount_value\":%lld,\"total_quantity\":%d,\"expires_at\":\"%s\"}",
                            (long long)fuzz_rng_range(r, 1, 20000), (int)fuzz_rng_range(r, 1, 20),
                            FUZZ_PICK(r, expiries));
        else
            fuzz_buf_printf(b,
                            "{\"name\":\"fz-rate\",\"discount_type\":\"RATE\","
                            "\"discount_value\":%d,\"total_quantity\":%d,\"expires_at\":\"%s\"}",
                            (int)fuzz_rng_range(r, 0, 101), (int)fuzz_rng_range(r, 1, 20),
                            FUZZ_PICK(r, expiries));
        *has_body = true;
        return "POST";
    case 12:
        fuzz_buf_printf(t, "/api/v1/coupons/%lld", id);
        return "GET";
    case 13:
        fuzz_buf_printf(t, "/api/v1/coupons/%lld/issue", id);
        user_header(r, cfg, h);
        fuzz_buf_printf(b, "{\"user_id\":%lld}", fuzz_gen_id(r, cfg));
        *has_body = true;
        return "POST";
    case 14:
        fuzz_buf_printf(t, "/api/v1/users/%lld/coupons", id);
        if (fuzz_rng_chance(r, 60))
            fuzz_buf_printf(t, "?status=%s",
                            FUZZ_PICK(r, ((const char *const[]){"AVAILABLE", "USED", "EXPIRED"})));
        user_header(r, cfg, h);
        return "GET";
    case 15:
    case 16:
        fuzz_buf_puts(t, "/api/v1/orders");
        user_header(r, cfg, h);
        if (fuzz_rng_chance(r, 95))
            idem_header(r, h);
        order_body(r, cfg, b);
        *has_body = true;
        return "POST";
    case 17:
        fuzz_buf_printf(t, "/api/v1/orders/%lld", id);
        user_header(r, cfg, h);
        return "GET";
    case 18:
        fuzz_buf_printf(t, "/api/v1/orders/%lld/cancel", id);
        user_header(r, cfg, h);
        if (fuzz_rng_chance(r, 30)) {
            fuzz_buf_puts(b, "{}");
            *has_body = true;
        }
        return "POST";
    default:
        fuzz_buf_printf(t, "/api/v1/users/%lld/orders?limit=%d", id,
                        (int)fuzz_rng_range(r, 1, 100));
        user_header(r, cfg, h);
        return "GET";
    }
}

void fuzz_gen_valid(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_req *out)
{
    struct fuzz_buf t = {0}, h = {0}, b = {0};
    bool has_body;
    const char *method = valid_route(r, cfg, &t, &h, &b, &has_body);
    fuzz_gen_build(out, method, t.p, h.p, has_body ? (b.p ? b.p : "") : NULL, b.len);
    out->gen = "valid";
    out->known = true;
    fuzz_buf_free(&t);
    fuzz_buf_free(&h);
    fuzz_buf_free(&b);
}
