/* http.h — transport-free request and response seen by handlers. */
#ifndef SHOPD_HTTP_HTTP_H
#define SHOPD_HTTP_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/arena.h"
#include "core/err.h"

enum http_method {
    HTTP_GET,
    HTTP_POST,
    HTTP_PUT,
    HTTP_PATCH,
    HTTP_DELETE,
    HTTP_HEAD,
    HTTP_OPTIONS,
    HTTP_METHOD_OTHER,
    HTTP_METHOD_COUNT
};

enum {
    HTTP_MAX_HEADERS = 64, /* more header fields are refused with 431 */
    HTTP_MAX_QUERY = 32,   /* more query parameters are refused with 400 */
    HTTP_MAX_PATH_IDS = 4,
    HTTP_MAX_RESP_HEADERS = 8
};

/* A name/value pair; both point into the request's arena or static storage. */
struct http_kv {
    const char *name;
    const char *value;
};

/* Who sent a request, as the dispatcher established it from its bearer token. */
enum http_actor {
    HTTP_ACTOR_NONE, /* no token (public routes only) */
    HTTP_ACTOR_USER, /* a valid user access token for user_id */
    HTTP_ACTOR_ADMIN /* the admin token: may act for any user */
};
struct http_principal {
    enum http_actor actor;
    int64_t user_id; /* HTTP_ACTOR_USER only */
};

/*
 * One request as handlers see it: no transport types (sockets, buffers of
 * http/server.c), so tests can build one by hand. Every pointer is borrowed
 * and lives until the request ends.
 */
struct http_req {
    enum http_method method;
    const char *path; /* decoded path, without the query string */
    const char *body; /* NUL-terminated body ("" when none) */
    size_t body_len;
    int64_t path_ids[HTTP_MAX_PATH_IDS]; /* {id} segments in order; 0 = not a valid id */
    size_t n_path_ids;
    struct http_kv headers[HTTP_MAX_HEADERS];
    size_t n_headers;
    struct http_kv query[HTTP_MAX_QUERY];
    size_t n_query;
    void *ctx;                       /* the matched route's ctx (borrowed) */
    struct http_principal principal; /* set by http_dispatch before the handler runs */
    const char *client_addr;         /* the peer's address ("" when unknown) */
    struct arena *arena;             /* freed when the request completes */
};

/* What a handler answers. Owned by the server, which sends then frees it. */
struct http_resp {
    int status;
    json_t *json; /* owned body, serialised compactly; NULL = none */
    char *raw;    /* owned (malloc) raw body used when json is NULL */
    size_t raw_len;
    const char *content_type;                      /* static string; defaults to application/json */
    struct http_kv headers[HTTP_MAX_RESP_HEADERS]; /* extra headers (values borrowed) */
    size_t n_headers;
};

/*
 * A handler: fills resp and returns ERR_OK, or returns an error code with e
 * filled, which the server turns into problem+json. Runs on a worker thread;
 * must be safe to run concurrently with itself.
 */
typedef enum err_code (*http_handler_fn)(struct http_req *req, struct http_resp *resp,
                                         struct err *e);

/*
 * The only user whose resources req may touch: the token's user, or 0 when
 * the admin token acts for anyone. Owner-scoped handlers (ROUTE_OWNER) pass
 * it to their use case, which answers "not found" for another user's
 * resource.
 */
static inline int64_t http_req_acting_user(const struct http_req *req)
{
    return req->principal.actor == HTTP_ACTOR_USER ? req->principal.user_id : 0;
}

/* Case-insensitive header lookup. Returns the value (borrowed) or NULL. */
const char *http_req_header(const struct http_req *req, const char *name);

/* Query parameter lookup (first occurrence). Returns the value or NULL. */
const char *http_req_query(const struct http_req *req, const char *name);

/*
 * Reads query parameter `name` as an integer in [min, max]; *out = def when
 * absent. Returns ERR_OK or ERR_INVALID_REQUEST naming the parameter.
 */
enum err_code http_req_query_int(const struct http_req *req, const char *name, int64_t def,
                                 int64_t min, int64_t max, int64_t *out, struct err *e);

/*
 * The out-of-memory policy of response bodies (docs/architecture.md): a
 * builder (product_to_json, order_json, problem_new, …) returns the whole
 * document or NULL when any jansson call failed, never a partial one; the
 * handler hands it to http_resp_json_built, so NULL becomes ERR_INTERNAL
 * and dispatch answers 500 problem+json; problem_respond falls back to a
 * fixed text without jansson; and the server answers its static 500
 * problem when json_dumps fails or a JSON answer has no body. No path
 * gives a 2xx with a partial or empty body.
 */

/*
 * Sets status and JSON body; takes ownership of body. body should not be
 * NULL (use http_resp_json_built for a builder's result); if it is, the
 * server answers 500 instead of an empty body.
 */
void http_resp_json(struct http_resp *resp, int status, json_t *body);

/*
 * Like http_resp_json for a body built by jansson calls that may have
 * failed: with body NULL nothing is set and ERR_INTERNAL is returned (e
 * naming what), so a failed builder is a 500, never a 200 without a body.
 * Returns ERR_OK otherwise.
 */
enum err_code http_resp_json_built(struct http_resp *resp, int status, json_t *body,
                                   const char *what, struct err *e);

/* Sets status and a raw body; takes ownership of body (malloc'd). */
void http_resp_raw(struct http_resp *resp, int status, const char *content_type, char *body,
                   size_t len);

/* Adds a response header; name and value must outlive the response. Returns false if full. */
bool http_resp_header(struct http_resp *resp, const char *name, const char *value);

/* Frees what resp owns and resets it. */
void http_resp_cleanup(struct http_resp *resp);

/* "GET" etc. → method; unknown → HTTP_METHOD_OTHER. */
enum http_method http_method_parse(const char *name);

/* Method name ("GET"); static storage. */
const char *http_method_name(enum http_method m);

#endif
