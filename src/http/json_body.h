/*
 * json_body.h — strict decoding of a JSON object body against a field table.
 * Its names start with body_ / BODY_: json_ and JSON_ are jansson's.
 */
#ifndef SHOPD_HTTP_JSON_BODY_H
#define SHOPD_HTTP_JSON_BODY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/err.h"

#include <jansson.h>

enum body_field_type { BODY_FIELD_STRING, BODY_FIELD_INT, BODY_FIELD_BOOL, BODY_FIELD_ARRAY };

/*
 * One expected member of the body object.
 *   BODY_FIELD_STRING: out is `const char **`, set to a NUL-free UTF-8 copy in
 *                      the arena; min/max bound its length in characters.
 *   BODY_FIELD_INT:    out is `int64_t *`; min/max bound the value. JSON reals
 *                      (1.0, 1e3) are not integers.
 *   BODY_FIELD_BOOL:   out is `bool *`.
 *   BODY_FIELD_ARRAY:  out is `json_t **`, set to a new reference to the
 *                      array (caller json_decref()s it); min/max bound its size.
 * present (may be NULL) is set to whether the member was given; an optional
 * member given as null counts as absent.
 */
struct body_field {
    const char *name;
    enum body_field_type type;
    bool required;
    int64_t min, max;
    void *out;
    bool *present;
};

/*
 * Decodes body (len bytes) as one JSON object whose members are exactly a
 * subset of fields (required ones present). Returns ERR_OK;
 * ERR_INVALID_JSON when the text is not JSON (or has duplicate keys); or
 * ERR_INVALID_REQUEST with e->field naming the member that is unknown,
 * missing, mistyped or out of range. Outputs are untouched on error except
 * possibly partially. Thread-safe; allocates only in a.
 */
enum err_code body_decode(const char *body, size_t len, const struct body_field *fields,
                          size_t n_fields, struct arena *a, struct err *e);

/*
 * The same checks on an already parsed value (which must be an object), e.g.
 * one element of an array member. Errors name the member in e->field.
 */
enum err_code body_object_decode(json_t *obj, const struct body_field *fields, size_t n_fields,
                                 struct arena *a, struct err *e);

#endif
