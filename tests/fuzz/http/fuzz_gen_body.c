/*
 * fuzz_gen_body.c — hostile JSON bodies (malformed, deep, huge, wrong types,
 * int64 extremes, invalid UTF-8, \u0000, odd timestamps) with a correct
 * Content-Length, sent to a random POST route.
 */
#include <string.h>

#include "fuzz_gen.h"

static const char *const whole_bodies[] = {
    "",
    "{",
    "}",
    "{\"amount\":}",
    "{\"amount\":1,}",
    "{\"amount\":1}garbage",
    "{\"amount\":1}{\"amount\":2}",
    "{\"amount\":1,\"amount\":2}",
    "{'amount':1}",
    "{amount:1}",
    "[1]",
    "5",
    "\"x\"",
    "null",
    "true",
    "[]",
    "{}",
    "\xef\xbb\xbf{\"amount\":1}",
    "{\"amount\":NaN}",
    "{\"amount\":Infinity}",
    "{\"amount\":1e999}",
    "{\"amount\":-0}",
    "{\"amount\":1.0}",
    "{\"amount\":1e2}",
    "{\"amount\":\"5\"}",
    "{\"amount\":[5]}",
    "{\"amount\":{\"v\":5}}",
    "{\"amount\":null}",
    "{\"amount\":true}",
    "{\"amount\":9223372036854775807}",
    "{\"amount\":9223372036854775808}",
    "{\"amount\":-9223372036854775808}",
    "{\"amount\":-9223372036854775809}",
    "{\"amount\":99999999999999999999999999999999}",
    "{\"amount\":0}",
    "{\"amount\":1000001}",
    "{\"name\":\"\\u0000\"}",
    "{\"name\":\"a\\u0000b\"}",
    "{\"name\":\"\\ud800\"}",
    "{\"name\":\"\\udc00\\ud800\"}",
    "{\"name\":\"\\uD83D\\uDE00\"}",
    "{\"name\":\"\xff\xfe\"}",
    "{\"name\":\"\xc0\xaf\"}",
    "{\"name\":\"\xed\xa0\x80\"}",
    "{\"name\":\"\xf4\x90\x80\x80\"}",
    "{\"name\":\"caf\xc3\xa9\"}",
    "{\"name\":\"   \"}",
    "{\"name\":\"\\t\\n\"}",
    "{\"name\":\"\"}",
    "{\"name\":\"x\",\"password\":\"y\"}",
    "{\"user_id\":1,\"items\":[]}",
    "{\"user_id\":1,\"items\":[{\"product_id\":1,\"quantity\":0}]}",
    "{\"user_id\":1,\"items\":[{\"product_id\":1,\"quantity\":1001}]}",
    "{\"user_id\":1,\"items\":[{\"product_id\":1,\"quantity\":1,\"price\":1}]}",
    "{\"user_id\":1,\"items\":[{\"product_id\":9223372036854775807,\"quantity\":1000}]}",
    "{\"user_id\":-1,\"items\":[{\"product_id\":1,\"quantity\":1}]}",
    "{\"user_id\":1,\"items\":[{\"product_id\":1,\"quantity\":1}],\"coupon_id\":null}",
    "{\"user_id\":1,\"items\":[{\"product_id\":1,\"quantity\":1}],\"coupon_id\":0}",
    "{\"user_id\":1,\"items\":[{\"product_id\":1,\"quantity\":1}],\"coupon_id\":\"1\"}",
    "{\"user_id\":1,\"items\":{\"product_id\":1,\"quantity\":1}}",
    "{\"user_id\":1,\"items\":[1,2,3]}",
    "{\"user_id\":1,\"items\":[null]}",
    "{\"name\":\"p\",\"price\":1000000000001,\"stock\":1}",
    "{\"name\":\"p\",\"price\":-1,\"stock\":1}",
    "{\"name\":\"p\",\"price\":1,\"stock\":1000000001}",
    "{\"name\":\"p\",\"price\":9223372036854775807,\"stock\":9223372036854775807}",
    "{\"name\":\"p\",\"price\":1}",
    "{\"name\":\"c\",\"discount_type\":\"FIXED\",\"discount_value\":1,\"total_quantity\":1,"
    "\"expires_at\":\"9999-12-31T23:59:59-23:59\"}",
    "{\"name\":\"c\",\"discount_type\":\"FIXED\",\"discount_value\":1,\"total_quantity\":1,"
    "\"expires_at\":\"0000-01-01T00:00:00Z\"}",
    "{\"name\":\"c\",\"discount_type\":\"FIXED\",\"discount_value\":1,\"total_quantity\":1,"
    "\"expires_at\":\"9999-12-31T23:59:59+23:59\"}",
    "{\"name\":\"c\",\"discount_type\":\"FIXED\",\"discount_value\":1,\"total_quantity\":1,"
    "\"expires_at\":\"2099-12-31T23:59:59.99999999999999999999Z\"}",
    "{\"name\":\"c\",\"discount_type\":\"FIXED\",\"discount_value\":1,\"total_quantity\":1,"
    "\"expires_at\":\"+12345-01-01T00:00:00Z\"}",
    "{\"name\":\"c\",\"discount_type\":\"FIXED\",\"discount_value\":1,\"total_quantity\":1,"
    "\"expires_at\":\"2099-12-31T23:59:59+99:99\"}",
    "{\"name\":\"c\",\"discount_type\":\"FIXED\",\"discount_value\":1,\"total_quantity\":1,"
    "\"expires_at\":\"2099-13-01T00:00:00Z\"}",
    "{\"name\":\"c\",\"discount_type\":\"FIXED\",\"discount_value\":1,\"total_quantity\":1,"
    "\"expires_at\":\"\\u0032099-01-01T00:00:00Z\"}",
    "{\"name\":\"c\",\"discount_type\":\"FIXED\",\"discount_value\":1,\"total_quantity\":1,"
    "\"expires_at\":2099}",
    "{\"name\":\"c\",\"discount_type\":\"fixed\",\"discount_value\":1,\"total_quantity\":1,"
    "\"expires_at\":\"2099-01-01T00:00:00Z\"}",
    "{\"name\":\"c\",\"discount_type\":\"RATE\",\"discount_value\":101,\"total_quantity\":1,"
    "\"expires_at\":\"2099-01-01T00:00:00Z\"}",
    "{\"name\":\"c\",\"discount_type\":\"FIXED\",\"discount_value\":9223372036854775807,"
    "\"total_quantity\":100000001,\"expires_at\":\"2099-01-01T00:00:00Z\"}",
};

/* A generated body that needs building: deep, huge or long. */
static void built_body(struct fuzz_rng *r, struct fuzz_buf *b)
{
    switch (fuzz_rng_below(r, 6)) {
    case 0: { /* deep nesting */
        size_t depth = (size_t)fuzz_rng_range(r, 100, 30000);
        fuzz_buf_puts(b, "{\"amount\":");
        fuzz_buf_fill(b, '[', depth);
        fuzz_buf_fill(b, ']', fuzz_rng_chance(r, 50) ? depth : depth / 2);
        fuzz_buf_puts(b, "}");
        break;
    }
    case 1: { /* deep objects */
        size_t depth = (size_t)fuzz_rng_range(r, 100, 8000);
        for (size_t i = 0; i < depth; i++)
            fuzz_buf_puts(b, "{\"a\":");
        fuzz_buf_puts(b, "1");
        fuzz_buf_fill(b, '}', depth);
        break;
    }
    case 2: { /* a long name of multi-byte characters around the 100/200 limits */
        size_t n = (size_t)fuzz_rng_range(r, 95, 205);
        fuzz_buf_puts(b, "{\"name\":\"");
        for (size_t i = 0; i < n; i++)
            fuzz_buf_puts(b, fuzz_rng_chance(r, 50) ? "\xea\xb0\x80" : "\xf0\x9f\x98\x80");
        fuzz_buf_puts(b, "\"}");
        break;
    }
    case 3: { /* many items */
        int n = (int)fuzz_rng_range(r, 90, 2000);
        fuzz_buf_puts(b, "{\"user_id\":1,\"items\":[");
        for (int i = 0; i < n; i++)
            fuzz_buf_printf(b, "%s{\"product_id\":%d,\"quantity\":1}", i ? "," : "", 1 + i % 7);
        fuzz_buf_puts(b, "]}");
        break;
    }
    case 4: { /* huge whitespace or string up to the 64 KiB limit */
        size_t n = (size_t)fuzz_rng_range(r, 60000, 70000);
        fuzz_buf_puts(b, "{\"name\":\"");
        fuzz_buf_fill(b, 'x', n);
        fuzz_buf_puts(b, "\"}");
        break;
    }
    default: { /* many members */
        int n = (int)fuzz_rng_range(r, 10, 3000);
        fuzz_buf_puts(b, "{");
        for (int i = 0; i < n; i++)
            fuzz_buf_printf(b, "%s\"k%d\":%d", i ? "," : "", i, i);
        fuzz_buf_puts(b, "}");
        break;
    }
    }
}

void fuzz_gen_body(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_req *out)
{
    struct fuzz_buf t = {0}, h = {0}, b = {0};
    fuzz_gen_post_route(r, cfg, &t, &h);
    if (fuzz_rng_chance(r, 75))
        fuzz_buf_puts(&b, FUZZ_PICK(r, whole_bodies));
    else
        built_body(r, &b);
    fuzz_gen_build(out, "POST", t.p, h.p, b.p ? b.p : "", b.len);
    out->gen = "hostile-body";
    out->known = true;
    fuzz_buf_free(&t);
    fuzz_buf_free(&h);
    fuzz_buf_free(&b);
}
