/* test_platform.c — fork/exec the fake data platform and talk to it. */
#include "support/test_platform.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "support/test_http.h"

void test_platform_start(struct test_platform *p)
{
    memset(p, 0, sizeof(*p));
    const char *binary = getenv("FAKE_DATAPLATFORM_BINARY");
    if (!binary) {
        fprintf(stderr, "FAKE_DATAPLATFORM_BINARY is not set: run the tests with make test\n");
        exit(1);
    }
    snprintf(p->file, sizeof(p->file), "/tmp/fake-dp-%d-%ld.jsonl", (int)getpid(),
             (long)time(NULL));
    unlink(p->file);
    int out[2];
    if (pipe(out) != 0)
        abort();
    p->pid = fork();
    if (p->pid == 0) {
        dup2(out[1], STDOUT_FILENO);
        close(out[0]);
        close(out[1]);
        setenv("FAKE_DP_LISTEN", "127.0.0.1:0", 1);
        setenv("FAKE_DP_FILE", p->file, 1);
        execl(binary, binary, (char *)NULL);
        _exit(127);
    }
    close(out[1]);
    FILE *f = fdopen(out[0], "r");
    char line[128] = "";
    if (!f || !fgets(line, sizeof(line), f) || sscanf(line, "listening on %d", &p->port) != 1) {
        fprintf(stderr, "fake data platform did not start (%s)\n", line);
        exit(1);
    }
    fclose(f);
    snprintf(p->base, sizeof(p->base), "http://127.0.0.1:%d", p->port);
    snprintf(p->url, sizeof(p->url), "%s/events", p->base);
}

void test_platform_stop(struct test_platform *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        waitpid(p->pid, NULL, 0);
    }
    unlink(p->file);
    p->pid = 0;
}

/* PUT /control with body; aborts when the platform does not take it. */
static void platform_control(struct test_platform *p, const char *body)
{
    char url[128];
    snprintf(url, sizeof(url), "%s/control", p->base);
    struct test_resp r;
    if (test_http("PUT", url, body, NULL, &r) != 0 || r.status != 200) {
        fprintf(stderr, "fake data platform refused control %s\n", body);
        exit(1);
    }
    test_resp_free(&r);
}

void test_platform_fail(struct test_platform *p, bool fail)
{
    platform_control(p, fail ? "{\"fail\":true}" : "{\"fail\":false}");
}

void test_platform_reject(struct test_platform *p, bool reject)
{
    platform_control(p, reject ? "{\"reject\":true}" : "{\"reject\":false}");
}

json_t *test_platform_state(struct test_platform *p)
{
    struct test_resp r;
    if (test_http("GET", p->url, NULL, NULL, &r) != 0 || r.status != 200) {
        fprintf(stderr, "fake data platform does not answer\n");
        exit(1);
    }
    json_t *doc = json_incref(r.json);
    test_resp_free(&r);
    return doc;
}

size_t test_platform_wait_events(struct test_platform *p, size_t n, int timeout_ms)
{
    size_t stored = 0;
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        json_t *doc = test_platform_state(p);
        stored = json_array_size(json_object_get(doc, "events"));
        json_decref(doc);
        if (stored >= n)
            break;
        struct timespec ts = {0, 20 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    return stored;
}
