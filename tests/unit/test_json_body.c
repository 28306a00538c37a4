/*
 * test_json_body.c — strict request-body decoding (http/json_body.c) as
 * docs/api.md states it: one JSON object; unknown, missing, mistyped or
 * out-of-range members are INVALID_REQUEST naming the member; valid JSON
 * that is not an object is INVALID_REQUEST; text that is not JSON or has a
 * duplicated key is INVALID_JSON; numbers beyond int64 are INVALID_REQUEST;
 * strings are NUL-free and measured in characters.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/json_body.h"

/* "가" (U+AC00): three bytes, one character. "😀" (U+1F600): four bytes. */
#define HANGUL "\xea\xb0\x80"
#define EMOJI "\xf0\x9f\x98\x80"

/* The decoded members of the test schema. */
struct decoded {
    const char *name;
    int64_t amount;
    bool flag;
    json_t *tags;
    bool name_given, amount_given, flag_given, tags_given;
};

/*
 * Schema: name string 1..5 characters (required), amount int -10..1000,
 * flag bool, tags array of 1..3 elements (all optional).
 */
static enum err_code decode_n(const char *body, size_t len, struct decoded *d, struct arena *a,
                              struct err *e)
{
    memset(d, 0, sizeof(*d));
    err_clear(e);
    const struct body_field fields[] = {
        {"name", BODY_FIELD_STRING, true, 1, 5, &d->name, &d->name_given},
        {"amount", BODY_FIELD_INT, false, -10, 1000, &d->amount, &d->amount_given},
        {"flag", BODY_FIELD_BOOL, false, 0, 0, &d->flag, &d->flag_given},
        {"tags", BODY_FIELD_ARRAY, false, 1, 3, &d->tags, &d->tags_given},
    };
    return body_decode(body, len, fields, sizeof(fields) / sizeof(fields[0]), a, e);
}

static enum err_code decode(const char *body, struct decoded *d, struct arena *a, struct err *e)
{
    return decode_n(body, strlen(body), d, a, e);
}

/* Decodes body expecting failure with code (and field, when not NULL). */
static void assert_decode_fails(const char *body, enum err_code code, const char *field)
{
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    enum err_code rc = decode(body, &d, &a, &e);
    json_decref(d.tags); /* a partially decoded array is the caller's to release */
    arena_cleanup(&a);
    if (rc != code)
        fail_msg("%s: expected %s, got %s (%s)", body, err_code_str(code), err_code_str(rc),
                 e.detail);
    assert_int_equal(e.code, code);
    if (field && strcmp(e.field, field) != 0)
        fail_msg("%s: expected field \"%s\", got \"%s\"", body, field, e.field);
}

/* ---- accepted bodies ---- */

static void valid_object__every_member_decoded_and_marked_present(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    const char *body = "{\"name\":\"kim\",\"amount\":-10,\"flag\":true,\"tags\":[1,\"x\"]}";
    assert_int_equal(decode(body, &d, &a, &e), ERR_OK);
    assert_string_equal(d.name, "kim");
    assert_int_equal(d.amount, -10);
    assert_true(d.flag);
    assert_true(json_is_array(d.tags));
    assert_int_equal(json_array_size(d.tags), 2);
    assert_true(d.name_given && d.amount_given && d.flag_given && d.tags_given);
    json_decref(d.tags);
    arena_cleanup(&a);
}

static void string_member__copied_into_the_arena_not_borrowed_from_the_text(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    char body[] = "{\"name\":\"abc\"}";
    assert_int_equal(decode(body, &d, &a, &e), ERR_OK);
    memset(body, 'z', sizeof(body) - 1); /* the request text may be gone; the copy stays */
    assert_string_equal(d.name, "abc");
    arena_cleanup(&a);
}

static void array_member__outlives_the_document_until_the_caller_releases_it(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    assert_int_equal(decode("{\"name\":\"a\",\"tags\":[{\"k\":1},2,3]}", &d, &a, &e), ERR_OK);
    /* the document is freed inside body_decode; the array is ours (ASan would see) */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(d.tags, 0), "k")), 1);
    json_decref(d.tags);
    arena_cleanup(&a);
}

static void optional_members__absent_or_null__not_present_and_untouched(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    assert_int_equal(decode("{\"name\":\"a\"}", &d, &a, &e), ERR_OK);
    assert_true(d.name_given);
    assert_false(d.amount_given || d.flag_given || d.tags_given);
    assert_int_equal(
        decode("{\"name\":\"a\",\"amount\":null,\"flag\":null,\"tags\":null}", &d, &a, &e), ERR_OK);
    assert_false(d.amount_given || d.flag_given || d.tags_given);
    assert_int_equal(d.amount, 0);
    assert_null(d.tags);
    arena_cleanup(&a);
}

static void integer_range__both_ends_accepted(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    assert_int_equal(decode("{\"name\":\"a\",\"amount\":1000}", &d, &a, &e), ERR_OK);
    assert_int_equal(d.amount, 1000);
    assert_int_equal(decode("{\"name\":\"a\",\"amount\":-10}", &d, &a, &e), ERR_OK);
    assert_int_equal(d.amount, -10);
    assert_int_equal(decode("{\"name\":\"a\",\"amount\":-0}", &d, &a, &e), ERR_OK);
    assert_int_equal(d.amount, 0);
    arena_cleanup(&a);
}

static void int64_extremes__decoded_exactly(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    int64_t v = 0;
    struct err e;
    const struct body_field f[] = {{"v", BODY_FIELD_INT, true, INT64_MIN, INT64_MAX, &v, NULL}};
    const char *max = "{\"v\":9223372036854775807}";
    const char *min = "{\"v\":-9223372036854775808}";
    err_clear(&e);
    assert_int_equal(body_decode(max, strlen(max), f, 1, &a, &e), ERR_OK);
    assert_true(v == INT64_MAX);
    assert_int_equal(body_decode(min, strlen(min), f, 1, &a, &e), ERR_OK);
    assert_true(v == INT64_MIN);
    arena_cleanup(&a);
}

static void whitespace_around_the_object__accepted(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    assert_int_equal(decode(" \r\n\t{ \"name\" : \"a\" }\n", &d, &a, &e), ERR_OK);
    arena_cleanup(&a);
}

static void body_length__only_len_bytes_are_read(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    const char *body = "{\"name\":\"a\"}GARBAGE";
    assert_int_equal(decode_n(body, strlen("{\"name\":\"a\"}"), &d, &a, &e), ERR_OK);
    arena_cleanup(&a);
}

/* ---- string lengths: characters, not bytes ---- */

static void string_of_max_multibyte_characters__accepted(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    /* five three-byte characters: 15 bytes, 5 characters */
    assert_int_equal(decode("{\"name\":\"" HANGUL HANGUL HANGUL HANGUL HANGUL "\"}", &d, &a, &e),
                     ERR_OK);
    assert_int_equal(strlen(d.name), 15);
    assert_string_equal(d.name, HANGUL HANGUL HANGUL HANGUL HANGUL);
    /* five four-byte characters: 20 bytes */
    assert_int_equal(decode("{\"name\":\"" EMOJI EMOJI EMOJI EMOJI EMOJI "\"}", &d, &a, &e),
                     ERR_OK);
    assert_int_equal(strlen(d.name), 20);
    /* \u escapes are characters too: five of them, one a surrogate pair */
    assert_int_equal(decode("{\"name\":\"\\uac00\\u00e9\\ud83d\\ude00ab\"}", &d, &a, &e), ERR_OK);
    assert_string_equal(d.name, HANGUL "\xc3\xa9" EMOJI "ab");
    arena_cleanup(&a);
}

static void string_of_max_plus_one_characters__invalid_request(void **state)
{
    (void)state;
    assert_decode_fails("{\"name\":\"" HANGUL HANGUL HANGUL HANGUL HANGUL HANGUL "\"}",
                        ERR_INVALID_REQUEST, "name");
    assert_decode_fails("{\"name\":\"" EMOJI EMOJI EMOJI EMOJI EMOJI "a\"}", ERR_INVALID_REQUEST,
                        "name");
    assert_decode_fails("{\"name\":\"abcdef\"}", ERR_INVALID_REQUEST, "name");
    assert_decode_fails("{\"name\":\"\"}", ERR_INVALID_REQUEST, "name");
}

static void string_with_embedded_nul__invalid_request_naming_the_member(void **state)
{
    (void)state;
    assert_decode_fails("{\"name\":\"a\\u0000b\"}", ERR_INVALID_REQUEST, "name");
    assert_decode_fails("{\"name\":\"\\u0000\"}", ERR_INVALID_REQUEST, "name");
    assert_decode_fails("{\"name\":\"ab\\u0000\"}", ERR_INVALID_REQUEST, "name");
}

/* ---- refused: not JSON ---- */

static void malformed_text__invalid_json(void **state)
{
    (void)state;
    const char *bodies[] = {
        "{",
        "}",
        "{\"name\":}",
        "{\"name\":\"a\",}",
        "{'name':'a'}",
        "{name:\"a\"}",
        "nonsense",
        "{\"name\":\"a\"} x",
        "{\"name\":\"a\"}{}",
        "{\"name\":\"a\" /* comment */}",
        "{\"name\":\"unterminated}",
        "{\"name\":\"\xff\"}",    /* not UTF-8 */
        "{\"name\":\"\\ud800\"}", /* lone surrogate */
        "{\"name\":\"a\",\"amount\":NaN}",
        "{\"name\":\"a\",\"amount\":01}",
        "\xef\xbb\xbf{\"name\":\"a\"}", /* byte order mark */
    };
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++)
        assert_decode_fails(bodies[i], ERR_INVALID_JSON, NULL);
}

static void empty_body__invalid_json(void **state)
{
    (void)state;
    assert_decode_fails("", ERR_INVALID_JSON, NULL);
    assert_decode_fails("   ", ERR_INVALID_JSON, NULL);
}

static void duplicate_key__invalid_json(void **state)
{
    (void)state;
    assert_decode_fails("{\"name\":\"a\",\"name\":\"b\"}", ERR_INVALID_JSON, NULL);
    assert_decode_fails("{\"name\":\"a\",\"amount\":1,\"amount\":1}", ERR_INVALID_JSON, NULL);
}

static void nul_byte_in_the_text__invalid_json(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    const char body[] = "{\"name\":\"a\"}\0";
    assert_int_equal(decode_n(body, sizeof(body) - 1, &d, &a, &e), ERR_INVALID_JSON);
    arena_cleanup(&a);
}

/* ---- refused: JSON of the wrong shape ---- */

/*
 * docs/api.md: "The body must be one JSON object". A number, a string, true
 * or null is JSON text (RFC 8259 section 2) of the wrong shape, exactly like
 * an array: all of them get the same answer, INVALID_REQUEST.
 */
static void root_not_an_object__invalid_request_whatever_its_type(void **state)
{
    (void)state;
    const char *roots[] = {"[]", "[{\"name\":\"a\"}]", "5", "\"name\"", "true", "null"};
    for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++)
        assert_decode_fails(roots[i], ERR_INVALID_REQUEST, NULL);
}

static void unknown_member__invalid_request_naming_it(void **state)
{
    (void)state;
    assert_decode_fails("{\"name\":\"a\",\"extra\":1}", ERR_INVALID_REQUEST, "extra");
    assert_decode_fails("{\"extra\":null,\"name\":\"a\"}", ERR_INVALID_REQUEST, "extra");
    assert_decode_fails("{\"Name\":\"a\"}", ERR_INVALID_REQUEST, "Name"); /* case matters */
}

static void missing_required_member__invalid_request_naming_it(void **state)
{
    (void)state;
    assert_decode_fails("{}", ERR_INVALID_REQUEST, "name");
    assert_decode_fails("{\"amount\":5}", ERR_INVALID_REQUEST, "name");
    /* null is not a value for a required member */
    assert_decode_fails("{\"name\":null}", ERR_INVALID_REQUEST, "name");
}

static void wrong_json_type__invalid_request_naming_the_member(void **state)
{
    (void)state;
    const struct {
        const char *body, *field;
    } cases[] = {
        {"{\"name\":7}", "name"},
        {"{\"name\":true}", "name"},
        {"{\"name\":[\"a\"]}", "name"},
        {"{\"name\":{}}", "name"},
        {"{\"name\":\"a\",\"amount\":\"5\"}", "amount"}, /* string for int */
        {"{\"name\":\"a\",\"amount\":1.0}", "amount"},   /* real for int */
        {"{\"name\":\"a\",\"amount\":5.5}", "amount"},
        {"{\"name\":\"a\",\"amount\":1e3}", "amount"},
        {"{\"name\":\"a\",\"amount\":1E2}", "amount"},
        {"{\"name\":\"a\",\"amount\":true}", "amount"}, /* bool for int */
        {"{\"name\":\"a\",\"amount\":[1]}", "amount"},
        {"{\"name\":\"a\",\"flag\":1}", "flag"},
        {"{\"name\":\"a\",\"flag\":\"true\"}", "flag"},
        {"{\"name\":\"a\",\"tags\":{}}", "tags"},
        {"{\"name\":\"a\",\"tags\":\"x\"}", "tags"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        assert_decode_fails(cases[i].body, ERR_INVALID_REQUEST, cases[i].field);
}

static void out_of_range__invalid_request_naming_the_member(void **state)
{
    (void)state;
    assert_decode_fails("{\"name\":\"a\",\"amount\":1001}", ERR_INVALID_REQUEST, "amount");
    assert_decode_fails("{\"name\":\"a\",\"amount\":-11}", ERR_INVALID_REQUEST, "amount");
    assert_decode_fails("{\"name\":\"a\",\"tags\":[]}", ERR_INVALID_REQUEST, "tags");
    assert_decode_fails("{\"name\":\"a\",\"tags\":[1,2,3,4]}", ERR_INVALID_REQUEST, "tags");
}

static void integer_beyond_int64__invalid_request_naming_the_member(void **state)
{
    (void)state;
    assert_decode_fails("{\"name\":\"a\",\"amount\":9223372036854775808}", ERR_INVALID_REQUEST,
                        "amount");
    assert_decode_fails("{\"name\":\"a\",\"amount\":-9223372036854775809}", ERR_INVALID_REQUEST,
                        "amount");
    assert_decode_fails("{\"name\":\"a\",\"amount\":99999999999999999999999999}",
                        ERR_INVALID_REQUEST, "amount");
    /* inside an array: the top-level member that holds it */
    assert_decode_fails("{\"name\":\"a\",\"tags\":[1,99999999999999999999]}", ERR_INVALID_REQUEST,
                        "tags");
    /* a number too large even as a real names nothing; broken JSON after it is INVALID_JSON */
    assert_decode_fails("{\"name\":\"a\",\"amount\":1e999}", ERR_INVALID_REQUEST, NULL);
    assert_decode_fails("{\"amount\":99999999999999999999,", ERR_INVALID_JSON, NULL);
}

/* A member named "" is named too: the problem document carries "field":"" (has_field). */
static void unknown_member_with_an_empty_name__named(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    assert_int_equal(decode("{\"\":1,\"name\":\"a\",\"amount\":5}", &d, &a, &e),
                     ERR_INVALID_REQUEST);
    assert_true(e.has_field);
    assert_string_equal(e.field, "");
    arena_cleanup(&a);
}

static void error_detail__names_the_member(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    struct decoded d;
    struct err e;
    assert_int_equal(decode("{\"name\":\"a\",\"amount\":\"5\"}", &d, &a, &e), ERR_INVALID_REQUEST);
    assert_non_null(strstr(e.detail, "amount"));
    assert_int_equal(decode("{\"name\":\"a\",\"bogus\":1}", &d, &a, &e), ERR_INVALID_REQUEST);
    assert_non_null(strstr(e.detail, "bogus"));
    arena_cleanup(&a);
}

/* ---- body_object_decode: the same rules on a parsed element ---- */

static void object_decode__element_checked_like_a_body(void **state)
{
    (void)state;
    struct arena a;
    arena_init(&a);
    int64_t id = 0, qty = 0;
    struct err e;
    const struct body_field f[] = {
        {"product_id", BODY_FIELD_INT, true, 1, INT64_MAX, &id, NULL},
        {"quantity", BODY_FIELD_INT, true, 1, 1000, &qty, NULL},
    };
    json_t *good = json_pack("{s:I,s:I}", "product_id", (json_int_t)3, "quantity", (json_int_t)2);
    err_clear(&e);
    assert_int_equal(body_object_decode(good, f, 2, &a, &e), ERR_OK);
    assert_int_equal(id, 3);
    assert_int_equal(qty, 2);

    json_t *zero_qty = json_pack("{s:I,s:I}", "product_id", (json_int_t)3, "quantity", 0);
    err_clear(&e);
    assert_int_equal(body_object_decode(zero_qty, f, 2, &a, &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "quantity");

    json_t *not_object = json_integer(3);
    err_clear(&e);
    assert_int_equal(body_object_decode(not_object, f, 2, &a, &e), ERR_INVALID_REQUEST);

    json_decref(good);
    json_decref(zero_qty);
    json_decref(not_object);
    arena_cleanup(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(valid_object__every_member_decoded_and_marked_present),
        cmocka_unit_test(string_member__copied_into_the_arena_not_borrowed_from_the_text),
        cmocka_unit_test(array_member__outlives_the_document_until_the_caller_releases_it),
        cmocka_unit_test(optional_members__absent_or_null__not_present_and_untouched),
        cmocka_unit_test(integer_range__both_ends_accepted),
        cmocka_unit_test(int64_extremes__decoded_exactly),
        cmocka_unit_test(whitespace_around_the_object__accepted),
        cmocka_unit_test(body_length__only_len_bytes_are_read),
        cmocka_unit_test(string_of_max_multibyte_characters__accepted),
        cmocka_unit_test(string_of_max_plus_one_characters__invalid_request),
        cmocka_unit_test(string_with_embedded_nul__invalid_request_naming_the_member),
        cmocka_unit_test(malformed_text__invalid_json),
        cmocka_unit_test(empty_body__invalid_json),
        cmocka_unit_test(duplicate_key__invalid_json),
        cmocka_unit_test(nul_byte_in_the_text__invalid_json),
        cmocka_unit_test(root_not_an_object__invalid_request_whatever_its_type),
        cmocka_unit_test(unknown_member__invalid_request_naming_it),
        cmocka_unit_test(missing_required_member__invalid_request_naming_it),
        cmocka_unit_test(wrong_json_type__invalid_request_naming_the_member),
        cmocka_unit_test(out_of_range__invalid_request_naming_the_member),
        cmocka_unit_test(integer_beyond_int64__invalid_request_naming_the_member),
        cmocka_unit_test(unknown_member_with_an_empty_name__named),
        cmocka_unit_test(error_detail__names_the_member),
        cmocka_unit_test(object_decode__element_checked_like_a_body),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
