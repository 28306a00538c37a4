/* problem.c — problem+json rendering. */
#include "http/problem.h"

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

json_t *problem_new(const struct err *e)
{
    json_t *doc = json_object();
    if (!doc)
        return NULL;
    json_object_set_new(doc, "type", json_string("about:blank"));
    json_object_set_new(doc, "title", json_string(err_title(e->code)));
    json_object_set_new(doc, "status", json_integer(err_http_status(e->code)));
    json_object_set_new(doc, "detail", text_json(e->detail[0] ? e->detail : err_title(e->code)));
    json_object_set_new(doc, "code", json_string(err_code_str(e->code)));
    if (e->field[0])
        json_object_set_new(doc, "field", text_json(e->field));
    if (e->product_id > 0)
        json_object_set_new(doc, "product_id", json_integer(e->product_id));
    return doc;
}

void problem_respond(struct http_resp *resp, const struct err *e)
{
    http_resp_json(resp, err_http_status(e->code), problem_new(e));
    resp->content_type = "application/problem+json";
}
