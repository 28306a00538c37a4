/* docs_http.c — GET /docs, its Swagger UI assets and GET /openapi.yaml, served from memory. */
#include "composition/docs_http.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"

/*
 * shopd's own page: Swagger UI's bundle reads the document from this same
 * origin (so "Try it out" calls this instance), validatorUrl null keeps it
 * from asking validator.swagger.io, and the empty data: icon spares the
 * browser a /favicon.ico request.
 */
static const char page_html[] =
    "<!DOCTYPE html>\n"
    "<html lang=\"en\">\n"
    "<head>\n"
    "<meta charset=\"utf-8\">\n"
    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
    "<title>shopd API</title>\n"
    "<link rel=\"icon\" href=\"data:,\">\n"
    "<link rel=\"stylesheet\" href=\"/docs/swagger-ui.css\">\n"
    "</head>\n"
    "<body>\n"
    "<div id=\"shopd-api\"></div>\n"
    "<script src=\"/docs/swagger-ui-bundle.js\"></script>\n"
    "<script>\n"
    "\"use strict\";\n"
    "window.shopdDocs = SwaggerUIBundle({\n"
    "  url: \"/openapi.yaml\",\n"
    "  dom_id: \"#shopd-api\",\n"
    "  validatorUrl: null,\n"
    "  deepLinking: true,\n"
    "  displayRequestDuration: true,\n"
    "  persistAuthorization: false\n"
    "});\n"
    "</script>\n"
    "</body>\n"
    "</html>\n";

/* Reads dir/name into f; on failure leaves f->data NULL and says why in f->why. */
static void load_file(struct docs_file *f, const char *dir, const char *name, const char *hint)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof(path)) {
        snprintf(f->why, sizeof(f->why), "the path of %s is too long (%s)", name, hint);
        return;
    }
    /* non-blocking: a FIFO in the folder must not hang the start (it is refused below) */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(f->why, sizeof(f->why), "cannot read %.160s: %s (%s)", path, strerror(errno),
                 hint);
        if (fd >= 0)
            close(fd);
        return;
    }
    if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > DOCS_HTTP_MAX_FILE) {
        snprintf(f->why, sizeof(f->why), "%.160s is not a regular file of 1 byte to %d MiB (%s)",
                 path, DOCS_HTTP_MAX_FILE / (1024 * 1024), hint);
        close(fd);
        return;
    }
    size_t size = (size_t)st.st_size, got = 0;
    char *data = malloc(size + 1);
    while (data && got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break; /* an error, or the file shrank under us */
        got += (size_t)r;
    }
    close(fd);
    if (!data || got != size) {
        snprintf(f->why, sizeof(f->why), "cannot read %.160s: %s", path,
                 data ? "short read" : "out of memory");
        free(data);
        return;
    }
    data[size] = '\0';
    f->data = data;
    f->len = size;
}

void docs_http_load(struct docs_http *d, const char *docs_dir, const char *ui_dir)
{
    static const char ui_hint[] = "run npm ci in tools/npm, or set SHOPD_SWAGGER_UI_DIR";
    load_file(&d->openapi, docs_dir, "openapi.yaml", "set SHOPD_DOCS_DIR");
    load_file(&d->css, ui_dir, "swagger-ui.css", ui_hint);
    load_file(&d->js, ui_dir, "swagger-ui-bundle.js", ui_hint);
    const struct docs_file *files[] = {&d->openapi, &d->css, &d->js};
    bool all = true;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
        if (!files[i]->data) {
            log_warn("docs: %s; the API docs routes that need it answer 503", files[i]->why);
            all = false;
        }
    if (all)
        log_info("docs: API docs at /docs (openapi.yaml %zu bytes, Swagger UI %zu + %zu bytes)",
                 d->openapi.len, d->css.len, d->js.len);
}

void docs_http_cleanup(struct docs_http *d)
{
    if (!d)
        return;
    free(d->openapi.data);
    free(d->css.data);
    free(d->js.data);
    memset(d, 0, sizeof(*d));
}

static enum err_code unavailable(const struct docs_file *f, struct err *e)
{
    return err_set(e, ERR_UNAVAILABLE, "API docs unavailable: %s", f->why);
}

/* Answers 200 with a copy of len bytes of data (the server frees its copy after sending). */
static enum err_code send_copy(struct http_resp *resp, const char *content_type,
                               const char *cache_control, const char *data, size_t len,
                               struct err *e)
{
    char *body = malloc(len ? len : 1);
    if (!body)
        return err_set(e, ERR_INTERNAL, "out of memory copying a %zu-byte document", len);
    memcpy(body, data, len);
    http_resp_raw(resp, 200, content_type, body, len);
    http_resp_header(resp, "Cache-Control", cache_control);
    http_resp_header(resp, "X-Content-Type-Options", "nosniff");
    return ERR_OK;
}

/* Assets: their URLs carry no version, so an upgraded Swagger UI shows within the hour. */
static const char asset_cache[] = "public, max-age=3600";

enum err_code docs_http_page(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct docs_http *d = req->ctx;
    const struct docs_file *needed[] = {&d->js, &d->css, &d->openapi};
    for (size_t i = 0; i < sizeof(needed) / sizeof(needed[0]); i++)
        if (!needed[i]->data)
            return unavailable(needed[i], e);
    return send_copy(resp, "text/html; charset=utf-8", "no-cache", page_html, sizeof(page_html) - 1,
                     e);
}

enum err_code docs_http_openapi(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct docs_http *d = req->ctx;
    if (!d->openapi.data)
        return unavailable(&d->openapi, e);
    return send_copy(resp, "application/yaml", "no-cache", d->openapi.data, d->openapi.len, e);
}

enum err_code docs_http_css(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct docs_http *d = req->ctx;
    if (!d->css.data)
        return unavailable(&d->css, e);
    return send_copy(resp, "text/css; charset=utf-8", asset_cache, d->css.data, d->css.len, e);
}

enum err_code docs_http_js(struct http_req *req, struct http_resp *resp, struct err *e)
{
    const struct docs_http *d = req->ctx;
    if (!d->js.data)
        return unavailable(&d->js, e);
    return send_copy(resp, "text/javascript; charset=utf-8", asset_cache, d->js.data, d->js.len, e);
}
