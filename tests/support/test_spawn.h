/*
 * test_spawn.h — child processes for tests: start one with its output in a
 * file, wait until it answers HTTP 200, stop it. What test_proc (shopd),
 * test_nginx and the e2e tests' helpers share.
 */
#ifndef SHOPD_TESTS_TEST_SPAWN_H
#define SHOPD_TESTS_TEST_SPAWN_H

#include <stdbool.h>
#include <sys/types.h>

/*
 * Forks and execs path (a bare name: looked up in PATH) with argv (argv[0] included,
 * NULL-terminated) and envp (NULL: this process's environment). The child's stderr goes to
 * stderr_path and its stdout to stdout_path when given (NULL: inherited),
 * each truncated first. Returns the child's pid; fails the test when fork
 * fails. The child exits 127 when path cannot be run. Main thread.
 */
pid_t test_spawn(const char *path, char *const argv[], char *const envp[], const char *stdout_path,
                 const char *stderr_path);

/*
 * Polls GET url every 50 ms until it answers 200 (returns true) or
 * timeout_ms pass (false). When pid > 0 and that child exits meanwhile,
 * returns false at once with its wait status in *exit_status (may be NULL;
 * -1 when it did not exit). Never asserts.
 */
bool test_wait_http_ok(const char *url, int timeout_ms, pid_t pid, int *exit_status);

/*
 * Waits up to timeout_ms for child pid to exit; returns its wait status, or
 * -1 when it is still running. Never asserts.
 */
int test_wait_child(pid_t pid, int timeout_ms);

/*
 * Sends sig to child pid, waits up to grace_ms for it, then SIGKILLs it;
 * always reaps it. Returns its wait status. No-op returning -1 when pid <= 0.
 */
int test_stop_child(pid_t pid, int sig, int grace_ms);

#endif
