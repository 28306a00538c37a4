/* http.c — request accessors and response builders. */
#include "http/http.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const method_names[HTTP_METHOD_COUNT] = {
    "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS", "OTHER",
};

const char *http_req_header(const struct http_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_headers; i++)
        if (strcasecmp(req->headers[i].name, name) == 0)
            return req->headers[i].value;
    return NULL;
}

const char *http_req_query(const struct http_req *req, const char *name)
{
    for (size_t i = 0; i < req->n_query; i++)
        if (strcmp(req->query[i].name, name) == 0)
            return req->query[i].value;
    return NULL;
}

enum err_code http_req_query_int(const struct http_req *req, const char *name, int64_t def,
                                 int64_t min, int64_t max, int64_t *out, struct err *e)
{
    const char *v = http_req_query(req, name);
    if (!v) {
        *out = def;
        return ERR_OK;
    }
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    /* digits only: no sign, no spaces, no empty value */
    bool digits = v[0] >= '0' && v[0] <= '9';
    if (!digits || *end != '\0' || errno == ERANGE || n < min || n > max)
        return err_set_field(e, ERR_INVALID_REQUEST, name,
                             "query parameter %s must be an integer from %lld to %lld", name,
                             (long long)min, (long long)max);
    *out = n;
    return ERR_OK;
}

void http_resp_json(struct http_resp *resp, int status, json_t *body)
{
    json_decref(resp->json);
    resp->status = status;
    resp->json = body;
    resp->content_type = "application/json";
}

enum err_code http_resp_json_built(struct http_resp *resp, int status, json_t *body,
                                   const char *what, struct err *e)
{
    if (!body)
        return err_set(e, ERR_INTERNAL, "failed to build the %s response", what);
    http_resp_json(resp, status, body);
    return ERR_OK;
}

void http_resp_raw(struct http_resp *resp, int status, const char *content_type, char *body,
                   size_t len)
{
    free(resp->raw);
    resp->status = status;
    resp->raw = body;
    resp->raw_len = len;
    resp->content_type = content_type;
}

bool http_resp_header(struct http_resp *resp, const char *name, const char *value)
{
    if (resp->n_headers >= HTTP_MAX_RESP_HEADERS)
        return false;
    resp->headers[resp->n_headers].name = name;
    resp->headers[resp->n_headers].value = value;
    resp->n_headers++;
    return true;
}

void http_resp_cleanup(struct http_resp *resp)
{
    json_decref(resp->json);
    free(resp->raw);
    memset(resp, 0, sizeof(*resp));
}

enum http_method http_method_parse(const char *name)
{
    for (int i = 0; i < HTTP_METHOD_OTHER; i++)
        if (strcmp(name, method_names[i]) == 0)
            return (enum http_method)i;
    return HTTP_METHOD_OTHER;
}

const char *http_method_name(enum http_method m)
{
    return ((int)m >= 0 && m < HTTP_METHOD_COUNT) ? method_names[m] : "OTHER";
}
