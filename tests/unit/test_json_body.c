/* test_json_body.c — strict decoding: types, ranges, unknown members, malformed text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/json_body.h"

struct decoded {
    const char *name;
    int64_t amount;
    bool flag, name_given, amount_given, flag_given;
};

static enum err_code decode(const char *body, struct decoded *d, struct arena *a, struct err *e)
{
    memset(d, 0, sizeof(*d));
    err_clear(e);
    const struct json_field fields[] = {
        {"name", JSON_FIELD_STRING, true, 1, 5, &d->name, &d->name_given},
        {"amount", JSON_FIELD_INT, false, -10, 1000, &d->amount, &d->amount_given},
        {"flag", JSON_FIELD_BOOL, false, 0, 0, &d->flag, &d->flag_given},
    };
    return json_body_decode(body, strlen(body), fields, 3, a, e);
}

static void valid_object__all_members_decoded(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    assert_int_equal(decode("{\"name\":\"kim\",\"amount\":-10,\"flag\":true}", &d, &a, &e), ERR_OK);
    assert_string_equal(d.name, "kim");
    assert_int_equal(d.amount, -10);
    assert_true(d.flag);
    assert_true(d.name_given && d.amount_given && d.flag_given);
    arena_cleanup(&a);
}

static void optional_absent_or_null__not_present(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    assert_int_equal(decode("{\"name\":\"a\",\"amount\":null}", &d, &a, &e), ERR_OK);
    assert_false(d.amount_given);
    assert_false(d.flag_given);
    arena_cleanup(&a);
}

static void malformed__invalid_json(void **state)
{
    (void)state;
    const char *bodies[] = {"",
                            "{",
                            "{\"name\":}",
                            "nonsense",
                            "{\"name\":\"a\"} x",
                            "{\"name\":\"a\",\"name\":\"b\"}"};
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        struct arena a;
        arena_init(&a);
        struct decoded d;
        struct err e;
        assert_int_equal(decode(bodies[i], &d, &a, &e), ERR_INVALID_JSON);
        arena_cleanup(&a);
    }
}

static void wrong_shape__invalid_request_naming_the_member(void **state)
{
    (void)state;
    const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"name\":\"a\",\"extra\":1}", "extra"},
        {"{}", "name"},
        {"{\"name\":null}", "name"},
        {"{\"name\":7}", "name"},
        {"{\"name\":\"a\",\"amount\":\"5\"}", "amount"},
        {"{\"name\":\"a\",\"amount\":5.0}", "amount"},
        {"{\"name\":\"a\",\"amount\":1e3}", "amount"},
        {"{\"name\":\"a\",\"amount\":true}", "amount"},
        {"{\"name\":\"a\",\"amount\":1001}", "amount"},
        {"{\"name\":\"a\",\"amount\":-11}", "amount"},
        {"{\"name\":\"a\",\"flag\":1}", "flag"},
        {"{\"name\":\"\"}", "name"},
        {"{\"name\":\"abcdef\"}", "name"},
        {"{\"name\":\"a\\u0000b\"}", "name"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct arena a;
        arena_init(&a);
        struct decoded d;
        struct err e;
        assert_int_equal(decode(cases[i].body, &d, &a, &e), ERR_INVALID_REQUEST);
        assert_string_equal(e.field, cases[i].field);
        arena_cleanup(&a);
    }
}

static void non_object_root__invalid_request(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    /* valid JSON of the wrong shape is a request problem, not a syntax problem */
    const char *roots[] = {"[1,2]", "5", "\"just a string\"", "null", "true"};
    for (size_t i = 0; i < 5; i++)
        assert_int_equal(decode(roots[i], &d, &a, &e), ERR_INVALID_REQUEST);
    arena_cleanup(&a);
}

static void integer_beyond_int64__invalid_request(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    assert_int_equal(decode("{\"name\":\"a\",\"amount\":9223372036854775808}", &d, &a, &e),
                     ERR_INVALID_REQUEST);
    arena_cleanup(&a);
}

static void string_length__counted_in_characters(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    /* five three-byte characters: 15 bytes, 5 characters → accepted */
    assert_int_equal(
        decode("{\"name\":\"\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\"}", &d,
               &a, &e),
        ERR_OK);
    assert_int_equal(strlen(d.name), 15);
    /* six → refused */
    assert_int_equal(
        decode("{\"name\":"
               "\"\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\xea\xb0\x80\"}",
               &d, &a, &e),
        ERR_INVALID_REQUEST);
    arena_cleanup(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_object__all_members_decoded),
        cmocka_unit_test(optional_absent_or_null__not_present),
        cmocka_unit_test(malformed__invalid_json),
        cmocka_unit_test(wrong_shape__invalid_request_naming_the_member),
        cmocka_unit_test(non_object_root__invalid_request),
        cmocka_unit_test(integer_beyond_int64__invalid_request),
        cmocka_unit_test(string_length__counted_in_characters),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
