/*
 * ranking_text.c — encode and strictly parse the cached text of a ranking.
 * The parser is fed whatever a cache returned (possibly truncated, written
 * by another version, or corrupted), so it trusts nothing: it checks every
 * byte against the grammar, bounds every write by the count it allocated
 * for, and rejects numbers that overflow int64.
 */
#include "ranking/ranking_text.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

char *ranking_text_encode(const struct ranking_entry *items, size_t n, size_t *len)
{
    if (n > (SIZE_MAX - 2) / RANKING_TEXT_ENTRY_MAX)
        return NULL;
    size_t cap = n * RANKING_TEXT_ENTRY_MAX + 2;
    char *out = malloc(cap);
    if (!out)
        return NULL;
    size_t used = 0;
    if (n == 0)
        out[used++] = '-'; /* an empty ranking is a value too */
    for (size_t i = 0; i < n; i++) {
        int w = snprintf(out + used, cap - used, "%s%lld:%lld", i ? "," : "",
                         (long long)items[i].id, (long long)items[i].sold);
        if (w < 0 || (size_t)w >= cap - used) {
            free(out);
            return NULL;
        }
        used += (size_t)w;
    }
    out[used] = '\0';
    if (len)
        *len = used;
    return out;
}

/* A positive int64 without sign or leading zero at text[*at]; advances *at. */
static bool parse_number(const char *text, size_t len, size_t *at, int64_t *out)
{
    size_t i = *at;
    if (i >= len || text[i] < '1' || text[i] > '9')
        return false;
    int64_t v = 0;
    for (; i < len && text[i] >= '0' && text[i] <= '9'; i++) {
        int digit = text[i] - '0';
        if (v > (INT64_MAX - digit) / 10)
            return false; /* overflows int64 */
        v = v * 10 + digit;
    }
    *at = i;
    *out = v;
    return true;
}

enum err_code ranking_text_parse(const char *text, size_t len, size_t max_items,
                                 struct ranking_entry **items, size_t *n, struct err *e)
{
    *items = NULL;
    *n = 0;
    if (!text || len == 0)
        return err_set(e, ERR_INVALID_REQUEST, "malformed ranking text: empty");
    if (len == 1 && text[0] == '-') {
        *items = calloc(1, sizeof(**items));
        return *items ? ERR_OK : err_set(e, ERR_INTERNAL, "out of memory");
    }
    /* the entry count is bounded by the separators; every write below is checked against it */
    size_t cap = 1;
    for (size_t i = 0; i < len; i++)
        cap += text[i] == ',';
    if (cap > max_items)
        return err_set(e, ERR_INVALID_REQUEST, "malformed ranking text: more than %zu entries",
                       max_items);
    struct ranking_entry *out = calloc(cap, sizeof(*out));
    if (!out)
        return err_set(e, ERR_INTERNAL, "out of memory");
    size_t at = 0, k = 0;
    for (;;) {
        struct ranking_entry it;
        if (k >= cap || !parse_number(text, len, &at, &it.id) || at >= len || text[at] != ':')
            goto out_malformed;
        at++;
        if (!parse_number(text, len, &at, &it.sold))
            goto out_malformed;
        if (k > 0) {
            const struct ranking_entry *prev = &out[k - 1];
            if (it.sold > prev->sold || (it.sold == prev->sold && it.id <= prev->id))
                goto out_malformed; /* not in ranking order */
        }
        out[k++] = it;
        if (at == len)
            break;
        if (text[at] != ',')
            goto out_malformed;
        at++;
    }
    *items = out;
    *n = k;
    return ERR_OK;

out_malformed:
    free(out);
    return err_set(e, ERR_INVALID_REQUEST, "malformed ranking text at byte %zu", at);
}
