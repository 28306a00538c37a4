/*
 * fuzz_json.h — a strict JSON (RFC 8259) validator for response bodies that
 * also lists the top-level members of an object, so the fuzzer needs no
 * JSON library. Strings must be valid UTF-8.
 */
#ifndef SHOPD_FUZZ_JSON_H
#define SHOPD_FUZZ_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum fuzz_json_type { FJ_OBJECT, FJ_ARRAY, FJ_STRING, FJ_NUMBER, FJ_TRUE, FJ_FALSE, FJ_NULL };

enum { FUZZ_JSON_MAX_MEMBERS = 32 };

/* A top-level member; key and val point into the parsed text (borrowed). */
struct fuzz_json_member {
    const char *key; /* raw bytes between the quotes (escapes not decoded) */
    size_t key_len;
    enum fuzz_json_type type;
    const char *val; /* the value's text (a string's includes its quotes) */
    size_t val_len;
};

struct fuzz_json_doc {
    enum fuzz_json_type type;                               /* of the whole document */
    struct fuzz_json_member members[FUZZ_JSON_MAX_MEMBERS]; /* first ones of a top object */
    size_t n_members;
};

/*
 * Validates p[0..n) as one JSON text (whitespace around allowed). Returns
 * true and fills doc, or false with a short reason in why. Thread-safe.
 */
bool fuzz_json_parse(const char *p, size_t n, struct fuzz_json_doc *doc, char *why, size_t why_len);

/* The top-level member named key (plain ASCII), or NULL. */
const struct fuzz_json_member *fuzz_json_get(const struct fuzz_json_doc *doc, const char *key);

/* A number member's value as int64 (integers only). Returns false otherwise. */
bool fuzz_json_int(const struct fuzz_json_member *m, int64_t *out);

#endif
