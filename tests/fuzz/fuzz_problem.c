/*
 * fuzz_problem.c — libFuzzer harness for problem_new and problem_respond.
 * Input: a code byte, a detail length byte, 8 bytes of product_id, then the
 * detail bytes and the field bytes (each NUL-terminated within its size in
 * struct err; any bytes, so invalid UTF-8 too). Properties: the document
 * exists, json_dumps succeeds and its text parses back with type, title,
 * status, detail and code of the error's code; detail and field are the
 * error's text (invalid UTF-8 bytes as '?'); field and product_id appear
 * exactly when set; problem_respond answers with the code's status.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "http/problem.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The member's text must be text itself, or (when jansson refuses text) text with '?' for bytes >=
 * 0x80. */
static void check_text(json_t *doc, const char *key, const char *text)
{
    const char *got = json_string_value(json_object_get(doc, key));
    FUZZ_CHECK(got != NULL, "%s missing or not a string", key);
    json_t *probe = json_string(text);
    if (probe) {
        FUZZ_CHECK(strcmp(got, text) == 0, "%s changed", key);
        json_decref(probe);
        return;
    }
    size_t n = strlen(text);
    FUZZ_CHECK(strlen(got) == n, "%s length %zu, want %zu", key, strlen(got), n);
    for (size_t i = 0; i < n; i++)
        FUZZ_CHECK(got[i] == ((unsigned char)text[i] < 0x80 ? text[i] : '?'), "%s byte %zu", key,
                   i);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 10)
        return 0;
    struct err e = {0};
    e.code = (enum err_code)(data[0] % ERR_CODE_COUNT);
    memcpy(&e.product_id, data + 2, 8);
    data += 10, size -= 10;
    size_t dlen = data[-9] < size ? data[-9] : size;
    if (dlen > sizeof(e.detail) - 1)
        dlen = sizeof(e.detail) - 1;
    memcpy(e.detail, data, dlen);
    size_t flen = size - dlen < sizeof(e.field) - 1 ? size - dlen : sizeof(e.field) - 1;
    memcpy(e.field, data + dlen, flen);

    json_t *doc = problem_new(&e);
    FUZZ_CHECK(doc != NULL, "no document");
    char *text = json_dumps(doc, JSON_COMPACT);
    FUZZ_CHECK(text != NULL, "json_dumps failed");
    json_error_t jerr;
    json_t *back = json_loads(text, 0, &jerr);
    FUZZ_CHECK(back != NULL, "dumped text does not parse: %s", jerr.text);
    FUZZ_CHECK(json_equal(doc, back), "the text is not the document");
    FUZZ_CHECK(strcmp(json_string_value(json_object_get(back, "type")), "about:blank") == 0,
               "type");
    FUZZ_CHECK(json_string_value(json_object_get(back, "title")) &&
                   strcmp(json_string_value(json_object_get(back, "title")), err_title(e.code)) ==
                       0,
               "title");
    FUZZ_CHECK(json_integer_value(json_object_get(back, "status")) == err_http_status(e.code),
               "status");
    FUZZ_CHECK(json_string_value(json_object_get(back, "code")) &&
                   strcmp(json_string_value(json_object_get(back, "code")), err_code_str(e.code)) ==
                       0,
               "code");
    check_text(back, "detail", e.detail[0] ? e.detail : err_title(e.code));
    if (e.field[0])
        check_text(back, "field", e.field);
    else
        FUZZ_CHECK(json_object_get(back, "field") == NULL, "field without a field");
    json_t *pid = json_object_get(back, "product_id");
    FUZZ_CHECK(e.product_id > 0 ? json_integer_value(pid) == e.product_id : pid == NULL,
               "product_id");
    json_decref(back);
    free(text);
    json_decref(doc);

    struct http_resp resp = {0};
    problem_respond(&resp, &e);
    FUZZ_CHECK(resp.status == err_http_status(e.code) && resp.json != NULL, "problem_respond");
    FUZZ_CHECK(strcmp(resp.content_type, "application/problem+json") == 0, "content type");
    http_resp_cleanup(&resp);
    return 0;
}
