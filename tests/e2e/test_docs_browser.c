/*
 * test_docs_browser.c — GET /docs in a real browser. Headless Chromium loads
 * shopd's Swagger UI page from a shopd process, runs its script, which
 * fetches /openapi.yaml and the assets from that same instance, and must
 * render one operation block (method + path) for every route of the route
 * table. Every host but 127.0.0.1 is unresolvable for the browser, so a page
 * that needed the internet would not render. With SHOPD_DOCS_DIR an empty
 * folder nothing renders, and the check says so.
 *
 * Needs chromium ($CHROMIUM, default "chromium"; scripts/install-deps) and
 * the test stack. Runs with the repository as working directory, so shopd's
 * default SHOPD_DOCS_DIR and SHOPD_SWAGGER_UI_DIR are the ones used.
 * DOCS_TEST_DOCS_DIR=<folder> replaces the docs folder of the first test
 * (to see it fail: an empty folder).
 */
#define _XOPEN_SOURCE 700
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "composition/app.h"
#include "support/test_db.h"
#include "support/test_http.h"
#include "support/test_fixtures.h"
#include "support/test_proc.h"
#include "support/test_spawn.h"

enum { BROWSER_TIMEOUT_MS = 90000, MAX_OPS = 128 };

static struct test_db db;
static struct proc running; /* killed by teardown when a test fails half-way */

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/*
 * The DOM of url after Chromium ran its scripts (--dump-dom) in a throwaway
 * profile; every host but 127.0.0.1 fails to resolve. Fails the test when
 * Chromium cannot be run or does not finish. Caller frees.
 */
static char *browser_dom(const char *url)
{
    char dir[] = "/tmp/shopd-chromium.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char out[128], err[128], profile[128];
    snprintf(out, sizeof(out), "%s/dom.html", dir);
    snprintf(err, sizeof(err), "%s/stderr.txt", dir);
    snprintf(profile, sizeof(profile), "--user-data-dir=%s/profile", dir);
    const char *chromium = getenv("CHROMIUM") ? getenv("CHROMIUM") : "chromium";
    /* CI runs as root: Chromium's sandbox refuses root, hence --no-sandbox */
    char *const argv[] = {(char *)chromium,
                          "--headless=new",
                          "--no-sandbox",
                          "--disable-gpu",
                          "--no-first-run",
                          "--disable-extensions",
                          "--disable-background-networking",
                          profile,
                          "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                          "--virtual-time-budget=10000",
                          "--dump-dom",
                          (char *)url,
                          NULL};
    pid_t pid = test_spawn(chromium, argv, NULL, out, err);
    int status = test_wait_child(pid, BROWSER_TIMEOUT_MS);
    if (status == -1) {
        test_stop_child(pid, SIGKILL, 0);
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        fail_msg("%s did not finish within %d ms", chromium, BROWSER_TIMEOUT_MS);
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        char *text = test_read_file(err, NULL);
        fprintf(stderr, "%s failed (status %d); its stderr:\n%s\n", chromium, status,
                text ? text : "");
        free(text);
        nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
        fail_msg("%s could not run (exit 127: not installed; scripts/install-deps installs it)",
                 chromium);
    }
    char *dom = test_read_file(out, NULL);
    nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
    assert_non_null(dom);
    return dom;
}

struct op {
    char method[16];
    char path[160];
};

/* Copies the text from p up to stop (exclusive) into out; returns the end or NULL. */
static const char *copy_until(const char *p, char stop, char *out, size_t cap)
{
    const char *end = strchr(p, stop);
    if (!end || (size_t)(end - p) >= cap)
        return NULL;
    memcpy(out, p, (size_t)(end - p));
    out[end - p] = '\0';
    return end;
}

/*
 * The operations Swagger UI rendered: each operation block's method
 * (<span class="opblock-summary-method">GET</span>) and the path that
 * follows it (data-path="…"). Returns how many (at most cap).
 */
static size_t rendered_operations(const char *dom, struct op *ops, size_t cap)
{
    static const char method_tag[] = "class=\"opblock-summary-method\">";
    static const char path_attr[] = "data-path=\"";
    size_t n = 0;
    for (const char *p = strstr(dom, method_tag); p && n < cap; p = strstr(p, method_tag)) {
        p += sizeof(method_tag) - 1;
        struct op *o = &ops[n];
        const char *q = copy_until(p, '<', o->method, sizeof(o->method));
        const char *next = strstr(p, method_tag);
        const char *path = q ? strstr(q, path_attr) : NULL;
        if (!path || (next && path > next))
            continue; /* a block without its path: not counted */
        if (copy_until(path + sizeof(path_attr) - 1, '"', o->path, sizeof(o->path)))
            n++;
    }
    return n;
}

/*
 * How many routes of the route table have no rendered operation; the first
 * one missing goes into first ("METHOD /path").
 */
static size_t missing_routes(const char *dom, char *first, size_t cap)
{
    struct op ops[MAX_OPS];
    size_t n_ops = rendered_operations(dom, ops, MAX_OPS), missing = 0;
    const char *method, *pattern;
    first[0] = '\0';
    for (size_t i = 0; app_route_spec(i, &method, &pattern); i++) {
        size_t j = 0;
        while (j < n_ops && (strcmp(ops[j].method, method) || strcmp(ops[j].path, pattern)))
            j++;
        if (j < n_ops)
            continue;
        if (!missing++)
            snprintf(first, cap, "%s %s", method, pattern);
    }
    return missing;
}

static void docs__every_route_rendered_as_an_operation_from_this_instance(void **state)
{
    (void)state;
    char docs_dir[1100];
    const char *override = getenv("DOCS_TEST_DOCS_DIR");
    const char *extra[] = {docs_dir, NULL};
    if (override)
        snprintf(docs_dir, sizeof(docs_dir), "SHOPD_DOCS_DIR=%s", override);
    struct proc *p = &running;
    proc_start_ready(p, db.url, override ? extra : NULL);
    char url[256];
    snprintf(url, sizeof(url), "%s/docs", p->base);
    char *dom = browser_dom(url);
    struct op ops[MAX_OPS];
    size_t n_ops = rendered_operations(dom, ops, MAX_OPS);
    char first[200];
    size_t missing = missing_routes(dom, first, sizeof(first));
    size_t n_routes = 0;
    const char *method, *pattern;
    while (app_route_spec(n_routes, &method, &pattern))
        n_routes++;
    if (missing) {
        fprintf(stderr, "the page as rendered (first 2000 bytes):\n%.2000s\n", dom);
        free(dom);
        fail_msg("GET /docs rendered %zu operations; %zu of the %zu routes are not among them "
                 "(first: %s)",
                 n_ops, missing, n_routes, first);
    }
    /* the operations the issue names, spelled out */
    assert_non_null(strstr(dom, "data-path=\"/api/v1/orders\""));
    assert_non_null(strstr(dom, "data-path=\"/api/v1/orders/{id}/cancel\""));
    assert_non_null(strstr(dom, "class=\"opblock opblock-post"));
    free(dom);
    kill(p->pid, SIGTERM);
    assert_int_equal(proc_wait(p, 10000), 0);
    p->pid = 0; /* reaped */
    /* the browser took the document and the assets from this instance */
    char *log = test_read_file(p->log_path, NULL);
    assert_non_null(log);
    const char *expected[] = {"GET /docs 200 ", "GET /openapi.yaml 200 ",
                              "GET /docs/swagger-ui.css 200 ",
                              "GET /docs/swagger-ui-bundle.js 200 "};
    for (size_t i = 0; i < sizeof(expected) / sizeof(expected[0]); i++)
        if (!strstr(log, expected[i]))
            fail_msg("shopd's access log has no \"%s\":\n%s", expected[i], log);
    free(log);
    unlink(p->log_path);
}

static void docs__empty_docs_dir__no_operation_rendered_and_the_check_says_so(void **state)
{
    (void)state;
    char empty[] = "/tmp/shopd-docs-empty.XXXXXX";
    assert_non_null(mkdtemp(empty));
    char setting[64];
    snprintf(setting, sizeof(setting), "SHOPD_DOCS_DIR=%s", empty);
    const char *extra[] = {setting, NULL};
    struct proc *p = &running;
    proc_start_ready(p, db.url, extra); /* starts without its docs */
    char url[256];
    snprintf(url, sizeof(url), "%s/docs", p->base);
    char *dom = browser_dom(url);
    struct op ops[MAX_OPS];
    assert_int_equal(rendered_operations(dom, ops, MAX_OPS), 0);
    char first[200];
    size_t n_routes = 0;
    const char *method, *pattern;
    while (app_route_spec(n_routes, &method, &pattern))
        n_routes++;
    /* the check the first test relies on reports every route missing here */
    assert_int_equal(missing_routes(dom, first, sizeof(first)), n_routes);
    /* what the browser shows instead: the problem naming the missing file */
    assert_non_null(strstr(dom, "openapi.yaml"));
    assert_non_null(strstr(dom, "SERVICE_UNAVAILABLE"));
    free(dom);
    proc_kill(p);
    rmdir(empty);
}

int main(void)
{
    test_http_global_init();
    const struct CMUnitTest tests[] = {
        PROC_TEST(docs__every_route_rendered_as_an_operation_from_this_instance, &running),
        PROC_TEST(docs__empty_docs_dir__no_operation_rendered_and_the_check_says_so, &running),
    };
    return TEST_DB_RUN(tests, &db, "e2e_docs_browser");
}
