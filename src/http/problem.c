/* problem.c — problem+json rendering. */
#include "http/problem.h"

#include <stdio.h>
#include <string.h>

/*
 * A JSON string of text even when text is not valid UTF-8 (a detail cut in
 * the middle of a character, a request path with raw bytes): invalid bytes
 * become '?', so the member is never silently dropped.
 */
static json_t *text_json(const char *text)
{
    json_t *s = json_string(text);
    if (s)
        return s;
    char safe[512];
    size_t i = 0;
    for (const unsigned char *p = (const unsigned char *)text; *p && i < sizeof(safe) - 1; p++)
        safe[i++] = *p < 0x80 ? (char)*p : '?';
    safe[i] = '\0';
    return json_string(safe);
}

/* Sets key to value (stolen); false when value is NULL or the object could not take it. */
static bool set_member(json_t *doc, const char *key, json_t *value)
{
    return value && json_object_set_new(doc, key, value) == 0;
}

json_t *problem_new(const struct err *e)
{
    json_t *doc = json_object();
    if (!doc)
        return NULL;
    bool ok = set_member(doc, "type", json_string("about:blank")) &&
              set_member(doc, "title", json_string(err_title(e->code))) &&
              set_member(doc, "status", json_integer(err_http_status(e->code))) &&
              set_member(doc, "detail", text_json(e->detail[0] ? e->detail : err_title(e->code))) &&
              set_member(doc, "code", json_string(err_code_str(e->code)));
    if (ok && (e->has_field || e->field[0]))
        ok = set_member(doc, "field", text_json(e->field));
    if (ok && e->product_id > 0)
        ok = set_member(doc, "product_id", json_integer(e->product_id));
    if (!ok) { /* never a document with members missing */
        json_decref(doc);
        return NULL;
    }
    return doc;
}

void problem_respond(struct http_resp *resp, const struct err *e)
{
    json_t *doc = problem_new(e);
    if (doc) {
        http_resp_json(resp, err_http_status(e->code), doc);
    } else { /* out of memory: the members every problem has, without jansson */
        char text[256];
        int n = snprintf(text, sizeof(text),
                         "{\"type\":\"about:blank\",\"title\":\"%s\",\"status\":%d,"
                         "\"detail\":\"%s\",\"code\":\"%s\"}",
                         err_title(e->code), err_http_status(e->code), err_title(e->code),
                         err_code_str(e->code));
        char *body = n > 0 && (size_t)n < sizeof(text) ? strdup(text) : NULL;
        http_resp_raw(resp, err_http_status(e->code), NULL, body, body ? (size_t)n : 0);
    }
    resp->content_type = "application/problem+json";
}
