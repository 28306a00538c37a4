/*
 * docs_http.h — the API documentation in the browser: GET /docs (a Swagger UI
 * page of shopd's own), its two assets GET /docs/swagger-ui.css and
 * GET /docs/swagger-ui-bundle.js, and GET /openapi.yaml.
 *
 * The three files are read once at start-up (docs_http_load) and served from
 * memory: no request ever builds a file path. A file that could not be read
 * makes its routes (and /docs, which needs all three) answer 503 problem+json
 * saying which file and why; shopd still starts.
 */
#ifndef SHOPD_COMPOSITION_DOCS_HTTP_H
#define SHOPD_COMPOSITION_DOCS_HTTP_H

#include <stddef.h>

#include "http/http.h"

/* Files larger than this are refused at load (swagger-ui-bundle.js is ~1.5 MB). */
enum { DOCS_HTTP_MAX_FILE = 16 * 1024 * 1024 };

/* One file read at start-up. */
struct docs_file {
    char *data; /* owned (malloc), NULL when it could not be read */
    size_t len;
    char why[256]; /* data == NULL: which file and what went wrong */
};

/*
 * The ctx of the four routes: the files as read at start-up, read-only
 * afterwards, so the handlers may run on any number of threads at once.
 */
struct docs_http {
    struct docs_file openapi; /* <docs_dir>/openapi.yaml */
    struct docs_file css;     /* <ui_dir>/swagger-ui.css */
    struct docs_file js;      /* <ui_dir>/swagger-ui-bundle.js */
};

/*
 * Reads <docs_dir>/openapi.yaml and <ui_dir>/swagger-ui.css and
 * swagger-ui-bundle.js (swagger-ui-dist's folder) into d, which must be
 * zeroed or cleaned up. Regular files of 1 byte to DOCS_HTTP_MAX_FILE only.
 * A file that cannot be read is logged as a warning and left NULL with its
 * reason; nothing here is fatal. The directory strings are not kept. Call
 * before the server starts (not thread-safe with the handlers).
 */
void docs_http_load(struct docs_http *d, const char *docs_dir, const char *ui_dir);

/* Frees what d owns and zeroes it. NULL-safe; call after the server has stopped. */
void docs_http_cleanup(struct docs_http *d);

/*
 * GET /docs → 200 text/html: Swagger UI over /openapi.yaml, its assets from
 * /docs/…, nothing from elsewhere. 503 SERVICE_UNAVAILABLE naming the first
 * missing file when any of the three was not loaded. ctx: struct docs_http.
 * Thread-safe.
 */
enum err_code docs_http_page(struct http_req *req, struct http_resp *resp, struct err *e);

/*
 * GET /openapi.yaml → 200 application/yaml, the file's bytes as loaded
 * (Cache-Control: no-cache); 503 when it was not loaded. ctx: struct
 * docs_http. Thread-safe.
 */
enum err_code docs_http_openapi(struct http_req *req, struct http_resp *resp, struct err *e);

/*
 * GET /docs/swagger-ui.css → 200 text/css (cached for an hour); 503 when not
 * loaded. ctx: struct docs_http. Thread-safe.
 */
enum err_code docs_http_css(struct http_req *req, struct http_resp *resp, struct err *e);

/*
 * GET /docs/swagger-ui-bundle.js → 200 text/javascript (cached for an hour);
 * 503 when not loaded. ctx: struct docs_http. Thread-safe.
 */
enum err_code docs_http_js(struct http_req *req, struct http_resp *resp, struct err *e);

#endif
