/* test_proc.c — fork/exec shopd with a controlled environment. */
#include "support/test_proc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/test_db.h"
#include "support/test_http.h"
#include "support/test_server.h"
#include "support/test_spawn.h"

int test_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    socklen_t len = sizeof(a);
    getsockname(fd, (struct sockaddr *)&a, &len);
    close(fd);
    return ntohs(a.sin_port);
}

void test_sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Starts shopd with extra "NAME=value" settings (NULL-terminated); stderr goes to a file. */
void proc_start(struct proc *p, const char *db_url, const char *const *extra)
{
    memset(p, 0, sizeof(*p));
    p->port = test_free_port();
    snprintf(p->base, sizeof(p->base), "http://127.0.0.1:%d", p->port);
    snprintf(p->log_path, sizeof(p->log_path), "/tmp/shopd-e2e-%d-%d.log", (int)getpid(), p->port);
    char listen[64], database[600], redis[300];
    snprintf(listen, sizeof(listen), "SHOPD_LISTEN=127.0.0.1:%d", p->port);
    snprintf(database, sizeof(database), "SHOPD_DATABASE_URL=%s", db_url);
    snprintf(redis, sizeof(redis), "SHOPD_REDIS_URL=%s", test_redis_url());
    char *envp[32];
    int n = 0;
    /* getenv returns the first occurrence: the test's own settings go first */
    for (const char *const *x = extra; x && *x && n < 20; x++)
        envp[n++] = (char *)*x;
    envp[n++] = listen;
    envp[n++] = database;
    envp[n++] = redis;
    envp[n++] = "SHOPD_ADMIN_TOKEN=" TEST_ADMIN_TOKEN;
    envp[n++] = "SHOPD_THREADS=4";
    envp[n++] = "SHOPD_TOKEN_SECRET=" TEST_TOKEN_SECRET;
    envp[n++] = "SHOPD_PASSWORD_OPSLIMIT=1"; /* the cheapest Argon2id: tests sign many users up */
    envp[n++] = "SHOPD_PASSWORD_MEMLIMIT_KIB=8";
    char ns[64]; /* the test program's own Redis key space, shared by its instances */
    snprintf(ns, sizeof(ns), "SHOPD_REDIS_NAMESPACE=test%ld", (long)getpid());
    envp[n++] = ns;
    envp[n++] = "SHOPD_ACCESS_LOG=on";
    envp[n] = NULL;

    const char *binary = getenv("SHOPD_BINARY");
    assert_non_null(binary);
    char *const argv[] = {(char *)binary, NULL};
    p->pid = test_spawn(binary, argv, envp, NULL, p->log_path);
}

/* Waits for the process to exit; returns its exit code (-1 on timeout or signal). */
int proc_wait(struct proc *p, int timeout_ms)
{
    int status = test_wait_child(p->pid, timeout_ms);
    return status != -1 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void proc_kill(struct proc *p)
{
    test_stop_child(p->pid, SIGKILL, 0);
    unlink(p->log_path);
    p->pid = 0;
}

void proc_wait_ready(struct proc *p)
{
    char url[128];
    snprintf(url, sizeof(url), "%s/readyz", p->base);
    int status;
    if (test_wait_http_ok(url, 20000, p->pid, &status))
        return;
    if (status != -1) {
        p->pid = 0; /* reaped: nothing left to kill */
        fail_msg("shopd on port %d exited before it was ready (status %d; log %s)", p->port, status,
                 p->log_path);
    }
    fail_msg("shopd on port %d never became ready", p->port);
}

int proc_teardown(void **state)
{
    struct proc *p = *state;
    if (p->pid > 0)
        proc_kill(p);
    return 0;
}

void proc_start_ready(struct proc *p, const char *db_url, const char *const *extra)
{
    proc_start(p, db_url, extra);
    proc_wait_ready(p);
}
