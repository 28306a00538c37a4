/*
 * fuzz_json_body.c — libFuzzer harness for body_decode and
 * body_object_decode with the field tables of every request body shopd
 * reads (copied from src/product/product_http.c, src/point/point_http.c,
 * src/coupon/coupon_http.c, src/order/adapters/order_http.c). The first
 * input byte picks the table; the rest is the body. Properties: on ERR_OK
 * every required member is present, every present output holds exactly the
 * member's value (read again here with jansson) within the table's bounds
 * (strings: NUL-free, length in characters), and no member is unknown; on
 * error the code is INVALID_JSON or INVALID_REQUEST, and INVALID_REQUEST
 * names a field. Order bodies also decode each items[] object like
 * order_http.c does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "http/json_body.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_FIELDS = 5 };

struct table {
    const char *what;
    size_t n;
    struct body_field f[MAX_FIELDS]; /* out and present are filled per input */
};

static const struct table tables[] = {
    {"product create",
     3,
     {{"name", BODY_FIELD_STRING, true, 1, 200, NULL, NULL},
      {"price", BODY_FIELD_INT, true, 0, INT64_C(1000000000000), NULL, NULL},
      {"stock", BODY_FIELD_INT, true, 0, INT64_C(1000000000), NULL, NULL}}},
    {"user create", 1, {{"name", BODY_FIELD_STRING, true, 1, 100, NULL, NULL}}},
    {"charge", 1, {{"amount", BODY_FIELD_INT, true, INT64_MIN, INT64_MAX, NULL, NULL}}},
    {"coupon create",
     5,
     {{"name", BODY_FIELD_STRING, true, 1, 100, NULL, NULL},
      {"discount_type", BODY_FIELD_STRING, true, 1, 16, NULL, NULL},
      {"discount_value", BODY_FIELD_INT, true, INT64_MIN, INT64_MAX, NULL, NULL},
      {"total_quantity", BODY_FIELD_INT, true, INT64_MIN, INT64_MAX, NULL, NULL},
      {"expires_at", BODY_FIELD_STRING, true, 1, 64, NULL, NULL}}},
    {"coupon issue", 1, {{"user_id", BODY_FIELD_INT, true, 1, INT64_MAX, NULL, NULL}}},
    {"order place",
     3,
     {{"user_id", BODY_FIELD_INT, true, 1, INT64_MAX, NULL, NULL},
      {"items", BODY_FIELD_ARRAY, true, 1, 100, NULL, NULL},
      {"coupon_id", BODY_FIELD_INT, false, 1, INT64_MAX, NULL, NULL}}},
};
enum { N_TABLES = sizeof(tables) / sizeof(tables[0]) };

/* Where one decode writes: every field gets a slot of each kind. */
struct outputs {
    const char *s[MAX_FIELDS];
    int64_t i[MAX_FIELDS];
    json_t *a[MAX_FIELDS];
    bool b[MAX_FIELDS];
    bool present[MAX_FIELDS];
};

static void bind(struct body_field *f, size_t n, struct outputs *o)
{
    for (size_t k = 0; k < n; k++) {
        f[k].present = &o->present[k];
        f[k].out = f[k].type == BODY_FIELD_STRING ? (void *)&o->s[k]
                   : f[k].type == BODY_FIELD_INT  ? (void *)&o->i[k]
                   : f[k].type == BODY_FIELD_BOOL ? (void *)&o->b[k]
                                                  : (void *)&o->a[k];
    }
}

/* Characters of valid UTF-8 (bytes that are not continuation bytes). */
static int64_t utf8_chars(const char *s)
{
    int64_t n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xc0) != 0x80;
    return n;
}

/*
 * The INVALID_REQUESTs that name no member, by design: the body is not an
 * object ("[]"), or a number too large even for a double (1e999) that
 * jansson cannot place. Every other one names its member (maybe "").
 */
static bool fieldless_by_design(const char *detail)
{
    return strcmp(detail, "body must be a JSON object") == 0 ||
           strcmp(detail, "a number is outside the 64-bit integer range") == 0;
}

static void check_error(enum err_code rc, const struct err *e, const char *what)
{
    FUZZ_CHECK(rc == ERR_INVALID_JSON || rc == ERR_INVALID_REQUEST, "%s: %s (%s)", what,
               err_code_str(rc), e->detail);
    FUZZ_CHECK(e->code == rc, "%s: e.code", what);
    FUZZ_CHECK(rc != ERR_INVALID_REQUEST || e->has_field || fieldless_by_design(e->detail),
               "%s: INVALID_REQUEST without a field (%s)", what, e->detail);
}

/* The outputs of a successful decode of obj against f[0..n). */
static void check_ok(const struct body_field *f, size_t n, const struct outputs *o, json_t *obj,
                     const char *what)
{
    FUZZ_CHECK(json_is_object(obj), "%s: accepted a body that is not an object", what);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v)
    {
        size_t k = 0;
        while (k < n && strcmp(f[k].name, key) != 0)
            k++;
        FUZZ_CHECK(k < n, "%s: unknown member \"%s\" accepted", what, key);
    }
    for (size_t k = 0; k < n; k++) {
        v = json_object_get(obj, f[k].name);
        bool given = v && !(json_is_null(v) && !f[k].required);
        FUZZ_CHECK(o->present[k] == given, "%s: %s present flag", what, f[k].name);
        FUZZ_CHECK(given || !f[k].required, "%s: required %s missing", what, f[k].name);
        if (!given)
            continue;
        switch (f[k].type) {
        case BODY_FIELD_STRING:
            FUZZ_CHECK(o->s[k] && json_is_string(v), "%s: %s not set", what, f[k].name);
            FUZZ_CHECK(strlen(o->s[k]) == json_string_length(v) &&
                           memcmp(o->s[k], json_string_value(v), json_string_length(v)) == 0,
                       "%s: %s is not the member's text", what, f[k].name);
            FUZZ_CHECK(utf8_chars(o->s[k]) >= f[k].min && utf8_chars(o->s[k]) <= f[k].max,
                       "%s: %s has %lld characters", what, f[k].name,
                       (long long)utf8_chars(o->s[k]));
            break;
        case BODY_FIELD_INT:
            FUZZ_CHECK(json_is_integer(v) && o->i[k] == json_integer_value(v),
                       "%s: %s is not the member's value", what, f[k].name);
            FUZZ_CHECK(o->i[k] >= f[k].min && o->i[k] <= f[k].max, "%s: %s = %lld out of range",
                       what, f[k].name, (long long)o->i[k]);
            break;
        case BODY_FIELD_ARRAY:
            FUZZ_CHECK(o->a[k] && json_is_array(o->a[k]) && json_equal(o->a[k], v),
                       "%s: %s is not the member's array", what, f[k].name);
            FUZZ_CHECK((int64_t)json_array_size(v) >= f[k].min &&
                           (int64_t)json_array_size(v) <= f[k].max,
                       "%s: %s has %zu elements", what, f[k].name, json_array_size(v));
            break;
        case BODY_FIELD_BOOL:
            FUZZ_CHECK(json_is_boolean(v) && o->b[k] == json_is_true(v), "%s: %s", what, f[k].name);
            break;
        }
    }
}

/* Each items[] object as order_http.c decodes it: {product_id >= 1, quantity 1..1000}. */
static void check_items(json_t *items, struct arena *a)
{
    for (size_t i = 0; i < json_array_size(items); i++) {
        json_t *item = json_array_get(items, i);
        if (!json_is_object(item)) /* order_http.c refuses it before decoding */
            continue;
        struct body_field f[] = {
            {"product_id", BODY_FIELD_INT, true, 1, INT64_MAX, NULL, NULL},
            {"quantity", BODY_FIELD_INT, true, 1, 1000, NULL, NULL},
        };
        struct outputs o = {0};
        bind(f, 2, &o);
        struct err e = {0};
        enum err_code rc = body_object_decode(item, f, 2, a, &e);
        if (rc == ERR_OK)
            check_ok(f, 2, &o, item, "order item");
        else
            check_error(rc, &e, "order item");
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const struct table *t = &tables[data[0] % N_TABLES];
    char *body = malloc(size > 1 ? size - 1 : 1); /* exact, no NUL: the decoder gets a length */
    memcpy(body, data + 1, size - 1);

    struct body_field f[MAX_FIELDS];
    memcpy(f, t->f, sizeof(f));
    struct outputs o = {0};
    bind(f, t->n, &o);
    struct arena a;
    arena_init(&a);
    struct err e = {0};
    enum err_code rc = body_decode(body, size - 1, f, t->n, &a, &e);
    if (rc == ERR_OK) {
        json_t *root = json_loadb(body, size - 1, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
        FUZZ_CHECK(root, "%s: accepted text jansson cannot read", t->what);
        check_ok(f, t->n, &o, root, t->what);
        json_decref(root);
        for (size_t k = 0; k < t->n; k++)
            if (f[k].type == BODY_FIELD_ARRAY && strcmp(f[k].name, "items") == 0)
                check_items(o.a[k], &a);
    } else {
        check_error(rc, &e, t->what);
    }
    for (size_t k = 0; k < t->n; k++)
        json_decref(o.a[k]); /* also set when a later member failed */
    arena_cleanup(&a);
    free(body);
    return 0;
}
