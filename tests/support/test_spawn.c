/* test_spawn.c — fork/exec a child with its output in files, wait for HTTP 200, stop it. */
#include "support/test_spawn.h"

#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/test_http.h"
#include "support/test_proc.h"

extern char **environ;

/* In the child: points fd at path (truncated); leaves fd alone when that fails. */
static void redirect(int fd, const char *path)
{
    if (!path)
        return;
    int f = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (f < 0)
        return;
    dup2(f, fd);
    close(f);
}

pid_t test_spawn(const char *path, char *const argv[], char *const envp[], const char *stdout_path,
                 const char *stderr_path)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        redirect(STDOUT_FILENO, stdout_path);
        redirect(STDERR_FILENO, stderr_path);
        if (envp)
            environ = (char **)envp;
        execvp(path, argv); /* a bare name is looked up in PATH */
        _exit(127);
    }
    return pid;
}

bool test_wait_http_ok(const char *url, int timeout_ms, pid_t pid, int *exit_status)
{
    if (exit_status)
        *exit_status = -1;
    for (int waited = 0; waited <= timeout_ms; waited += 50) {
        int status;
        if (pid > 0 && waitpid(pid, &status, WNOHANG) == pid) {
            if (exit_status)
                *exit_status = status;
            return false;
        }
        struct test_resp r;
        int rc = test_http("GET", url, NULL, NULL, &r);
        long code = r.status;
        test_resp_free(&r);
        if (rc == 0 && code == 200)
            return true;
        test_sleep_ms(50);
    }
    return false;
}

int test_wait_child(pid_t pid, int timeout_ms)
{
    for (int waited = 0; waited <= timeout_ms; waited += 20) {
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid)
            return status;
        test_sleep_ms(20);
    }
    return -1;
}

int test_stop_child(pid_t pid, int sig, int grace_ms)
{
    if (pid <= 0)
        return -1;
    kill(pid, sig);
    int status = sig == SIGKILL ? -1 : test_wait_child(pid, grace_ms);
    if (status == -1) {
        kill(pid, SIGKILL);
        waitpid(pid, &status, 0);
    }
    return status;
}
