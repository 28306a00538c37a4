/* json_body.c — strict JSON object decoding with jansson. */
#include "http/json_body.h"

#include <string.h>

#include <jansson.h>

#include "core/text.h"

static enum err_code decode_member(const struct body_field *f, json_t *v, struct arena *a,
                                   struct err *e)
{
    switch (f->type) {
    case BODY_FIELD_STRING: {
        if (!json_is_string(v))
            return err_set_field(e, ERR_INVALID_REQUEST, f->name, "%s must be a string", f->name);
        const char *s = json_string_value(v);
        size_t bytes = json_string_length(v);
        if (memchr(s, '\0', bytes))
            return err_set_field(e, ERR_INVALID_REQUEST, f->name,
                                 "%s must not contain NUL characters", f->name);
        size_t chars = text_utf8_length(s); /* jansson has validated the UTF-8 */
        if ((int64_t)chars < f->min || (int64_t)chars > f->max)
            return err_set_field(e, ERR_INVALID_REQUEST, f->name,
                                 "%s must be %lld to %lld characters long", f->name,
                                 (long long)f->min, (long long)f->max);
        const char *copy = arena_strndup(a, s, bytes);
        if (!copy)
            return err_set(e, ERR_INTERNAL, "out of memory");
        *(const char **)f->out = copy;
        return ERR_OK;
    }
    case BODY_FIELD_INT: {
        if (!json_is_integer(v))
            return err_set_field(e, ERR_INVALID_REQUEST, f->name, "%s must be an integer", f->name);
        json_int_t n = json_integer_value(v);
        if (n < f->min || n > f->max)
            return err_set_field(e, ERR_INVALID_REQUEST, f->name,
                                 "%s must be from %lld to %lld, got %lld", f->name,
                                 (long long)f->min, (long long)f->max, (long long)n);
        *(int64_t *)f->out = n;
        return ERR_OK;
    }
    case BODY_FIELD_ARRAY:
        if (!json_is_array(v))
            return err_set_field(e, ERR_INVALID_REQUEST, f->name, "%s must be an array", f->name);
        if ((int64_t)json_array_size(v) < f->min || (int64_t)json_array_size(v) > f->max)
            return err_set_field(e, ERR_INVALID_REQUEST, f->name,
                                 "%s must hold %lld to %lld elements", f->name, (long long)f->min,
                                 (long long)f->max);
        *(json_t **)f->out = json_incref(v);
        return ERR_OK;
    case BODY_FIELD_BOOL:
        if (!json_is_boolean(v))
            return err_set_field(e, ERR_INVALID_REQUEST, f->name, "%s must be true or false",
                                 f->name);
        *(bool *)f->out = json_is_true(v);
        return ERR_OK;
    }
    return err_set(e, ERR_INTERNAL, "unknown field type");
}

enum err_code body_object_decode(json_t *root, const struct body_field *fields, size_t n_fields,
                                 struct arena *a, struct err *e)
{
    if (!json_is_object(root))
        return err_set(e, ERR_INVALID_REQUEST, "body must be a JSON object");
    const char *key;
    json_t *value;
    json_object_foreach(root, key, value)
    {
        size_t i = 0;
        while (i < n_fields && strcmp(fields[i].name, key) != 0)
            i++;
        if (i == n_fields)
            return err_set_field(e, ERR_INVALID_REQUEST, key, "unknown field \"%.64s\"", key);
    }
    for (size_t i = 0; i < n_fields; i++) {
        const struct body_field *f = &fields[i];
        json_t *v = json_object_get(root, f->name);
        bool given = v && !(json_is_null(v) && !f->required);
        if (f->present)
            *f->present = given;
        if (!given) {
            if (f->required)
                return err_set_field(e, ERR_INVALID_REQUEST, f->name, "%s is required", f->name);
            continue;
        }
        enum err_code rc = decode_member(f, v, a, e);
        if (rc != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

/* True when v is, or holds at any depth, a number outside the int64 range (decoded as a real). */
static bool holds_overflow(json_t *v)
{
    if (json_is_real(v)) {
        double d = json_real_value(v);
        return d >= 9223372036854775808.0 || d <= -9223372036854775808.0; /* ±2^63 */
    }
    size_t i;
    json_t *item;
    const char *key;
    if (json_is_array(v)) {
        json_array_foreach(v, i, item) if (holds_overflow(item)) return true;
    } else if (json_is_object(v)) {
        json_object_foreach(v, key, item) if (holds_overflow(item)) return true;
    }
    return false;
}

/*
 * A number past int64: jansson does not say where, so the body is read again
 * with every number as a real and the top-level member holding the
 * offending one is named (an order line's quantity names "items").
 */
static enum err_code overflow_error(const char *body, size_t len, struct err *e)
{
    json_error_t jerr;
    json_t *root =
        json_loadb(body, len, JSON_DECODE_INT_AS_REAL | JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    if (!root && json_error_code(&jerr) != json_error_numeric_overflow) /* broken later on */
        return err_set(e, ERR_INVALID_JSON, "body is not valid JSON: %s at line %d column %d",
                       jerr.text, jerr.line, jerr.column);
    const char *key;
    json_t *value;
    if (json_is_object(root)) {
        json_object_foreach(root, key, value)
        {
            if (holds_overflow(value)) {
                err_set_field(e, ERR_INVALID_REQUEST, key,
                              "%.64s holds a number outside the 64-bit integer range", key);
                json_decref(root);
                return e->code;
            }
        }
    }
    json_decref(root);
    return err_set(e, ERR_INVALID_REQUEST, "a number is outside the 64-bit integer range");
}

enum err_code body_decode(const char *body, size_t len, const struct body_field *fields,
                          size_t n_fields, struct arena *a, struct err *e)
{
    json_error_t jerr;
    enum err_code rc = ERR_OK;
    json_t *root =
        json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL | JSON_DECODE_ANY, &jerr);
    if (!root) {
        if (json_error_code(&jerr) == json_error_numeric_overflow)
            return overflow_error(body, len, e);
        return err_set(e, ERR_INVALID_JSON, "body is not valid JSON: %s at line %d column %d",
                       jerr.text, jerr.line, jerr.column);
    }
    rc = body_object_decode(root, fields, n_fields, a, e);
    json_decref(root);
    return rc;
}
