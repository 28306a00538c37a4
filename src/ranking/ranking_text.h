/* ranking_text.h — the text form of a ranked window ("id:sold,id:sold" or "-"), as cached. */
#ifndef SHOPD_RANKING_RANKING_TEXT_H
#define SHOPD_RANKING_RANKING_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "ranking/ranking.h"

enum {
    /* the longest text of one entry: two int64 in decimal, ':' and ',' */
    RANKING_TEXT_ENTRY_MAX = 20 + 1 + 20 + 1,
};

/*
 * The canonical text of n entries: "-" when n == 0, else "id:sold" pairs
 * joined by ',' in decimal. The entries are written as given (the caller
 * ranks them). Returns a malloc'd NUL-terminated string (caller frees) and
 * its length in *len (len may be NULL), or NULL on OOM or when n is too
 * large to size. Pure: no I/O, no globals; thread-safe.
 */
char *ranking_text_encode(const struct ranking_entry *items, size_t n, size_t *len);

/*
 * Parses exactly len bytes of text (NUL-termination not needed; any byte
 * values accepted as input). The grammar is strict:
 *   text  = "-" | entry *("," entry)
 *   entry = number ":" number
 *   number = a positive decimal int64 without sign, spaces or leading zeros
 * with at most max_items entries, ranked (sold not increasing; on equal
 * sold, ids strictly increasing — so no id twice in a tie). Anything else is
 * ERR_INVALID_REQUEST ("malformed ranking text at byte N"); OOM is
 * ERR_INTERNAL. On success *items is malloc'd (caller frees; non-NULL even
 * when *n == 0) and *n is the count; on failure *items = NULL, *n = 0.
 * Never reads outside [text, text + len) nor writes past *items' size.
 * Pure: no I/O, no globals; thread-safe.
 */
enum err_code ranking_text_parse(const char *text, size_t len, size_t max_items,
                                 struct ranking_entry **items, size_t *n, struct err *e);

#endif
