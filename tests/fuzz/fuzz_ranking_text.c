/*
 * fuzz_ranking_text.c — libFuzzer harness for ranking_text_parse and
 * ranking_text_encode. The input is the cached text (any bytes). Properties:
 * a parse that succeeds yields at most max_items entries that are ranked
 * (positive ids and sold counts, sold not increasing, ids increasing on a
 * tie), and encoding them reproduces the input bytes exactly (the text
 * form is canonical); a parse that fails leaves *items NULL and *n 0 with
 * INVALID_REQUEST.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_check.h"
#include "ranking/ranking_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

enum { MAX_ITEMS = 100 };

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size ? size : 1); /* exact size, no NUL: ASan sees a read past it */
    memcpy(text, data, size);
    struct ranking_entry *items = (struct ranking_entry *)&items; /* must be overwritten */
    size_t n = 12345;
    struct err e = {0};
    enum err_code rc = ranking_text_parse(text, size, MAX_ITEMS, &items, &n, &e);
    if (rc != ERR_OK) {
        FUZZ_CHECK(rc == ERR_INVALID_REQUEST && e.code == rc, "code %s", err_code_str(rc));
        FUZZ_CHECK(items == NULL && n == 0, "outputs not reset on failure");
        free(text);
        return 0;
    }
    FUZZ_CHECK(items != NULL && n <= MAX_ITEMS, "%zu entries", n);
    for (size_t i = 0; i < n; i++) {
        FUZZ_CHECK(items[i].id > 0 && items[i].sold > 0, "entry %zu not positive", i);
        if (i > 0)
            FUZZ_CHECK(items[i].sold < items[i - 1].sold ||
                           (items[i].sold == items[i - 1].sold && items[i].id > items[i - 1].id),
                       "entry %zu out of rank", i);
    }
    size_t len = 0;
    char *again = ranking_text_encode(items, n, &len);
    FUZZ_CHECK(again != NULL, "encode failed");
    FUZZ_CHECK(len == size && memcmp(again, text, size) == 0 && again[len] == '\0',
               "\"%.*s\" encodes as \"%s\"", (int)size, text, again);
    free(again);
    free(items);
    free(text);
    return 0;
}
