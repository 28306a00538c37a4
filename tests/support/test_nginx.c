/* test_nginx.c — nginx from scripts/nginx-conf as a child process. */
#include "support/test_nginx.h"

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

#include "support/test_http.h"
#include "support/test_proc.h"
#include "support/test_spawn.h"

int test_nginx_find(struct test_nginx *n)
{
    const char *path = getenv("PATH");
    char dirs[4096];
    /* Debian puts nginx in /usr/sbin, which a non-root user's PATH may lack */
    snprintf(dirs, sizeof(dirs), "%s:/usr/sbin", path ? path : "/usr/bin:/bin");
    char *save = NULL;
    for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
        snprintf(n->bin, sizeof(n->bin), "%s/nginx", d);
        if (*d && access(n->bin, X_OK) == 0)
            return 1;
    }
    n->bin[0] = '\0';
    return 0;
}

/* Prints the last part of the prefix's error log to stderr (what went wrong at start). */
static void print_error_log(const struct test_nginx *n)
{
    char path[192];
    snprintf(path, sizeof(path), "%s/error.log", n->dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof(line), f))
        fprintf(stderr, "nginx: %s", line);
    fclose(f);
}

/* Runs scripts/nginx-conf 127.0.0.1:<n->port> <ports...> into <n->dir>/nginx.conf. */
static void write_conf(const struct test_nginx *n, const int *ports, int count)
{
    const char *src = getenv("SHOPD_SOURCE_DIR");
    assert_non_null(src);
    char script[512], listen[64], conf[192], port_text[16][16];
    snprintf(script, sizeof(script), "%s/scripts/nginx-conf", src);
    snprintf(listen, sizeof(listen), "127.0.0.1:%d", n->port);
    snprintf(conf, sizeof(conf), "%s/nginx.conf", n->dir);
    assert_true(count >= 1 && count <= 16);
    char *argv[20];
    int k = 0;
    argv[k++] = script;
    argv[k++] = listen;
    for (int i = 0; i < count; i++) {
        snprintf(port_text[i], sizeof(port_text[i]), "%d", ports[i]);
        argv[k++] = port_text[i];
    }
    argv[k] = NULL;
    /* this environment with NGINX_WORKERS=1 (what the script reads), the test's own left alone */
    extern char **environ;
    size_t n_env = 0;
    while (environ[n_env])
        n_env++;
    char **envp = calloc(n_env + 2, sizeof(*envp));
    assert_non_null(envp);
    size_t k_env = 0;
    envp[k_env++] = "NGINX_WORKERS=1";
    for (size_t i = 0; i < n_env; i++)
        if (strncmp(environ[i], "NGINX_WORKERS=", 14) != 0)
            envp[k_env++] = environ[i];
    pid_t pid = test_spawn(script, argv, envp, conf, NULL);
    free(envp);
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        fail_msg("%s failed (status %d)", script, status);
}

void test_nginx_start(struct test_nginx *n, const int *ports, int count)
{
    char bin[sizeof(n->bin)];
    memcpy(bin, n->bin, sizeof(bin));
    memset(n, 0, sizeof(*n));
    memcpy(n->bin, bin, sizeof(bin));
    assert_true(n->bin[0] != '\0'); /* test_nginx_find first */
    snprintf(n->dir, sizeof(n->dir), "/tmp/shopd-nginx.XXXXXX");
    assert_non_null(mkdtemp(n->dir));
    n->port = test_free_port();
    snprintf(n->base, sizeof(n->base), "http://127.0.0.1:%d", n->port);
    write_conf(n, ports, count);

    char prefix[160], conf[192], errlog[192];
    snprintf(prefix, sizeof(prefix), "%s/", n->dir);
    snprintf(conf, sizeof(conf), "%s/nginx.conf", n->dir);
    snprintf(errlog, sizeof(errlog), "%s/error.log", n->dir);
    char *const argv[] = {n->bin, "-p", prefix, "-c", conf, "-e", errlog, NULL};
    n->pid = test_spawn(n->bin, argv, NULL, NULL, errlog);

    char url[128];
    snprintf(url, sizeof(url), "%s/readyz", n->base);
    int status;
    if (test_wait_http_ok(url, 10000, n->pid, &status))
        return;
    if (status != -1)
        n->pid = 0; /* reaped */
    print_error_log(n);
    int port = n->port;
    test_nginx_stop(n); /* a failed group setup gets no teardown */
    if (status != -1)
        fail_msg("nginx exited at start (status %d)", status);
    fail_msg("nginx on port %d never answered /readyz with 200", port);
}

void test_nginx_stop(struct test_nginx *n)
{
    test_stop_child(n->pid, SIGTERM, 5000);
    n->pid = 0;
    if (n->dir[0]) {
        char cmd[192];
        snprintf(cmd, sizeof(cmd), "rm -rf '%s'", n->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "test_nginx: could not remove %s\n", n->dir);
        n->dir[0] = '\0';
    }
}
