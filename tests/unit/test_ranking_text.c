/* test_ranking_text.c — the cached text of a ranking: canonical encoding, round trips, and a
 * strict, bounds-safe parser for any malformed input (including separators other than ','). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ranking/ranking_text.h"

static enum err_code parse(const char *text, size_t max, struct ranking_entry **items, size_t *n)
{
    struct err e;
    err_clear(&e);
    return ranking_text_parse(text, strlen(text), max, items, n, &e);
}

static void encode__canonical_text(void **state)
{
    (void)state;
    struct ranking_entry items[] = {{7, 6}, {3, 5}, {9, 5}, {INT64_MAX, 1}};
    size_t len = 0;
    char *text = ranking_text_encode(items, 4, &len);
    assert_string_equal(text, "7:6,3:5,9:5,9223372036854775807:1");
    assert_int_equal(len, strlen(text));
    free(text);
    text = ranking_text_encode(NULL, 0, &len);
    assert_string_equal(text, "-"); /* an empty ranking is a value too */
    assert_int_equal(len, 1);
    free(text);
}

static void parse__round_trips_what_encode_wrote(void **state)
{
    (void)state;
    struct ranking_entry in[100];
    for (size_t i = 0; i < 100; i++)
        in[i] = (struct ranking_entry){(int64_t)(1000 + i), (int64_t)(INT64_MAX - (int64_t)i)};
    for (size_t n = 0; n <= 100; n += 33) {
        size_t len;
        char *text = ranking_text_encode(in, n, &len);
        assert_non_null(text);
        struct ranking_entry *out;
        size_t k;
        struct err e;
        err_clear(&e);
        assert_int_equal(ranking_text_parse(text, len, 100, &out, &k, &e), ERR_OK);
        assert_non_null(out);
        assert_int_equal(k, n);
        assert_memory_equal(out, in, n * sizeof(*in));
        free(out);
        free(text);
    }
}

static void parse__other_separators_never_overflow_the_buffer(void **state)
{
    (void)state;
    /* one comma-free text of many entries: sized by commas, the old parser (sscanf, which skips
     * white space) wrote past its one-entry buffer for every blank-separated pair */
    char text[4096] = "1:1";
    for (int i = 2; i < 300; i++)
        snprintf(text + strlen(text), sizeof(text) - strlen(text), " %d:1", i);
    struct ranking_entry *items = (void *)1;
    size_t n = 99;
    assert_int_equal(parse(text, 100, &items, &n), ERR_INVALID_REQUEST);
    assert_null(items);
    assert_int_equal(n, 0);
    const char *separators[] = {"1:2 3:1", "1:2\t3:1", "1:2;3:1", "1:2|3:1", "1:2:3:1", "1:2\n3:1"};
    for (size_t i = 0; i < sizeof(separators) / sizeof(*separators); i++)
        assert_int_equal(parse(separators[i], 100, &items, &n), ERR_INVALID_REQUEST);
}

static void parse__refuses_everything_but_the_grammar(void **state)
{
    (void)state;
    const char *bad[] = {"",
                         "--",
                         "-,",
                         "- ",
                         ",",
                         "1",
                         "1:",
                         ":1",
                         "1:1,",
                         ",1:1",
                         "1:1,,2:1",
                         " 1:1",
                         "1:1 ",
                         "+1:1",
                         "-1:1",
                         "1:-1",
                         "01:1",
                         "1:01",
                         "0:1",
                         "1:0",
                         "1:1x",
                         "x",
                         "1.5:1",
                         "9223372036854775808:1",  /* INT64_MAX + 1 */
                         "1:99999999999999999999", /* overflows */
                         "1:1,2:2",                /* not ranked: sold increases */
                         "2:1,1:1",                /* tie not by lower id first */
                         "1:1,1:1",                /* the same id twice */
                         "1:1:1",
                         "\xff:1",
                         "1:\x80"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
        struct ranking_entry *items = (void *)1;
        size_t n = 99;
        struct err e;
        err_clear(&e);
        if (ranking_text_parse(bad[i], strlen(bad[i]), 100, &items, &n, &e) != ERR_INVALID_REQUEST)
            fail_msg("accepted \"%s\"", bad[i]);
        assert_null(items);
        assert_int_equal(n, 0);
        assert_non_null(strstr(e.detail, "malformed ranking text"));
    }
}

static void parse__more_entries_than_allowed__refused(void **state)
{
    (void)state;
    struct ranking_entry *items;
    size_t n;
    assert_int_equal(parse("1:3,2:2,3:1", 2, &items, &n), ERR_INVALID_REQUEST);
    assert_int_equal(parse("1:3,2:2,3:1", 3, &items, &n), ERR_OK);
    assert_int_equal(n, 3);
    free(items);
    assert_int_equal(parse("-", 0, &items, &n), ERR_OK);
    assert_int_equal(n, 0);
    free(items);
}

static void parse__reads_only_len_bytes(void **state)
{
    (void)state;
    /* not NUL-terminated: the parser must stop at len (ASan would see a read past it) */
    char *heap = malloc(7);
    memcpy(heap, "5:2,6:1", 7);
    struct ranking_entry *items;
    size_t n;
    struct err e;
    err_clear(&e);
    assert_int_equal(ranking_text_parse(heap, 7, 10, &items, &n, &e), ERR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(items[1].id, 6);
    free(items);
    /* a truncated text is a shorter valid one or refused, never read beyond */
    assert_int_equal(ranking_text_parse(heap, 3, 10, &items, &n, &e), ERR_OK);
    assert_int_equal(n, 1);
    free(items);
    assert_int_equal(ranking_text_parse(heap, 6, 10, &items, &n, &e), ERR_INVALID_REQUEST);
    assert_int_equal(ranking_text_parse(heap, 4, 10, &items, &n, &e), ERR_INVALID_REQUEST);
    assert_int_equal(ranking_text_parse(heap, 0, 10, &items, &n, &e), ERR_INVALID_REQUEST);
    free(heap);
    /* a NUL inside the text is a byte like any other: refused */
    assert_int_equal(ranking_text_parse("1:1\0"
                                        "2:1",
                                        7, 10, &items, &n, &e),
                     ERR_INVALID_REQUEST);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(encode__canonical_text),
        cmocka_unit_test(parse__round_trips_what_encode_wrote),
        cmocka_unit_test(parse__other_separators_never_overflow_the_buffer),
        cmocka_unit_test(parse__refuses_everything_but_the_grammar),
        cmocka_unit_test(parse__more_entries_than_allowed__refused),
        cmocka_unit_test(parse__reads_only_len_bytes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
