/*
 * test_docs_routes.c — the API docs routes of a shopd process over HTTP:
 * GET /openapi.yaml answers the document's exact bytes as application/yaml,
 * the two Swagger UI assets answer swagger-ui-dist's files with their
 * content types and a cache lifetime, GET /docs is shopd's own page pointing
 * at those three only, SHOPD_DOCS_DIR picks the folder, nothing else under
 * /docs is served, and missing files make those routes answer 503
 * problem+json naming the file while shopd still starts.
 *
 * Runs with the repository as working directory (the default folders);
 * SHOPD_SOURCE_DIR locates the files to compare with.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/test_db.h"
#include "support/test_fixtures.h"
#include "support/test_http.h"
#include "support/test_proc.h"

static struct test_db db;
static struct proc running; /* killed after each test when a failure left it running */

/* The whole file at SHOPD_SOURCE_DIR/rel (caller frees); *len its size. Fails when unreadable. */
static char *source_file(const char *rel, size_t *len)
{
    const char *src = getenv("SHOPD_SOURCE_DIR");
    assert_non_null(src);
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s", src, rel);
    char *buf = test_read_file(path, len);
    if (!buf)
        fail_msg("cannot read %s (tools/npm: npm ci)", path);
    return buf;
}

static void get(const struct proc *p, const char *path, struct test_resp *r)
{
    char url[256];
    snprintf(url, sizeof(url), "%s%s", p->base, path);
    assert_int_equal(test_http("GET", url, NULL, NULL, r), 0);
}

/* GET path answers 200 with exactly want[0..want_len), content type ctype and cache. */
static void assert_serves(const struct proc *p, const char *path, const char *want, size_t want_len,
                          const char *ctype, const char *cache)
{
    struct test_resp r;
    get(p, path, &r);
    char buf[128];
    if (r.status != 200)
        fail_msg("GET %s: %ld %s", path, r.status, r.body);
    assert_string_equal(test_resp_header(&r, "Content-Type", buf, sizeof(buf)), ctype);
    assert_string_equal(test_resp_header(&r, "Cache-Control", buf, sizeof(buf)), cache);
    assert_string_equal(test_resp_header(&r, "X-Content-Type-Options", buf, sizeof(buf)),
                        "nosniff");
    if (r.body_len != want_len || memcmp(r.body, want, want_len) != 0)
        fail_msg("GET %s: %zu bytes, not the file's %zu", path, r.body_len, want_len);
    test_resp_free(&r);
}

/* GET path answers 503 problem+json SERVICE_UNAVAILABLE whose detail contains needle. */
static void assert_unavailable(const struct proc *p, const char *path, const char *needle)
{
    struct test_resp r;
    get(p, path, &r);
    char buf[128];
    assert_int_equal(r.status, 503);
    assert_string_equal(test_resp_header(&r, "Content-Type", buf, sizeof(buf)),
                        "application/problem+json");
    assert_string_equal(test_resp_code(&r), "SERVICE_UNAVAILABLE");
    const char *detail = json_string_value(json_object_get(r.json, "detail"));
    if (!detail || !strstr(detail, needle))
        fail_msg("GET %s: detail \"%s\" does not mention %s", path, detail ? detail : "", needle);
    test_resp_free(&r);
}

static void defaults__document_and_assets_served_byte_for_byte(void **state)
{
    (void)state;
    struct proc *p = &running;
    proc_start_ready(p, db.url, NULL);
    size_t len;
    char *doc = source_file("docs/openapi.yaml", &len);
    assert_serves(p, "/openapi.yaml", doc, len, "application/yaml", "no-cache");
    free(doc);
    char *css = source_file("tools/npm/node_modules/swagger-ui-dist/swagger-ui.css", &len);
    assert_serves(p, "/docs/swagger-ui.css", css, len, "text/css; charset=utf-8",
                  "public, max-age=3600");
    free(css);
    char *js = source_file("tools/npm/node_modules/swagger-ui-dist/swagger-ui-bundle.js", &len);
    assert_true(len > 100000); /* the real bundle, not a stub */
    assert_serves(p, "/docs/swagger-ui-bundle.js", js, len, "text/javascript; charset=utf-8",
                  "public, max-age=3600");
    free(js);

    struct test_resp r;
    get(p, "/docs", &r);
    char buf[128];
    assert_int_equal(r.status, 200);
    assert_string_equal(test_resp_header(&r, "Content-Type", buf, sizeof(buf)),
                        "text/html; charset=utf-8");
    assert_non_null(strstr(r.body, "src=\"/docs/swagger-ui-bundle.js\""));
    assert_non_null(strstr(r.body, "href=\"/docs/swagger-ui.css\""));
    assert_non_null(strstr(r.body, "url: \"/openapi.yaml\""));
    assert_non_null(strstr(r.body, "validatorUrl: null"));
    /* nothing from elsewhere */
    assert_null(strstr(r.body, "http://"));
    assert_null(strstr(r.body, "https://"));
    assert_null(strstr(r.body, "//cdn"));
    test_resp_free(&r);

    /* only the fixed routes: nothing else of swagger-ui-dist, nor of the docs folder */
    const char *absent[] = {"/docs/",
                            "/docs/index.html",
                            "/docs/swagger-initializer.js",
                            "/docs/swagger-ui.js",
                            "/docs/openapi.yaml",
                            "/docs/package.json",
                            "/openapi.yml",
                            "/docs/swagger-ui.css.map",
                            "/docs/%2e%2e/README.md"};
    for (size_t i = 0; i < sizeof(absent) / sizeof(absent[0]); i++) {
        get(p, absent[i], &r);
        if (r.status != 404)
            fail_msg("GET %s: %ld, expected 404", absent[i], r.status);
        test_resp_free(&r);
    }
    proc_kill(p);
}

static void docs_dir_set__that_folders_document_served(void **state)
{
    (void)state;
    char dir[] = "/tmp/shopd-docs-dir.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof(path), "%s/openapi.yaml", dir);
    static const char doc[] = "openapi: 3.1.0\n"
                              "info: {title: \"caf\xc3\xa9 \xe2\x9c\x93\", version: \"1\"}\n"
                              "paths: {}\n";
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(doc, 1, sizeof(doc) - 1, f), sizeof(doc) - 1);
    fclose(f);
    char setting[80];
    snprintf(setting, sizeof(setting), "SHOPD_DOCS_DIR=%s", dir);
    const char *extra[] = {setting, NULL};
    struct proc *p = &running;
    proc_start_ready(p, db.url, extra);
    assert_serves(p, "/openapi.yaml", doc, sizeof(doc) - 1, "application/yaml", "no-cache");
    /* read once at start: a later change on disk is not served */
    f = fopen(path, "wb");
    assert_non_null(f);
    fputs("changed\n", f);
    fclose(f);
    assert_serves(p, "/openapi.yaml", doc, sizeof(doc) - 1, "application/yaml", "no-cache");
    proc_kill(p);
    unlink(path);
    rmdir(dir);
}

static void files_missing__routes_answer_503_naming_the_file_and_shopd_runs(void **state)
{
    (void)state;
    char empty[] = "/tmp/shopd-docs-empty.XXXXXX";
    assert_non_null(mkdtemp(empty));
    char docs[80], ui[120];
    snprintf(docs, sizeof(docs), "SHOPD_DOCS_DIR=%s", empty);
    snprintf(ui, sizeof(ui), "SHOPD_SWAGGER_UI_DIR=%s/no-such-folder", empty);
    const char *extra[] = {docs, ui, NULL};
    struct proc *p = &running;
    proc_start_ready(p, db.url, extra); /* started all the same */
    assert_unavailable(p, "/openapi.yaml", "openapi.yaml");
    assert_unavailable(p, "/docs/swagger-ui.css", "swagger-ui.css");
    assert_unavailable(p, "/docs/swagger-ui-bundle.js", "npm ci");
    assert_unavailable(p, "/docs", "API docs unavailable");
    struct test_resp r;
    get(p, "/healthz", &r);
    assert_int_equal(r.status, 200);
    test_resp_free(&r);
    /* and said so at start-up */
    char *log = test_read_file(p->log_path, NULL);
    assert_non_null(log);
    bool warned = strstr(log, "WARN docs: cannot read") != NULL;
    bool named = strstr(log, "openapi.yaml: No such file or directory") != NULL;
    free(log);
    assert_true(warned);
    assert_true(named);
    proc_kill(p);
    rmdir(empty);
}

int main(void)
{
    test_http_global_init();
    const struct CMUnitTest tests[] = {
        PROC_TEST(defaults__document_and_assets_served_byte_for_byte, &running),
        PROC_TEST(docs_dir_set__that_folders_document_served, &running),
        PROC_TEST(files_missing__routes_answer_503_naming_the_file_and_shopd_runs, &running),
    };
    return TEST_DB_RUN(tests, &db, "e2e_docs_routes");
}
