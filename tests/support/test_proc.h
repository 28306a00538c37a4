/* test_proc.h — shopd executables as child processes, for end-to-end tests. */
#ifndef SHOPD_TESTS_TEST_PROC_H
#define SHOPD_TESTS_TEST_PROC_H

#include <sys/types.h>

struct proc {
    pid_t pid;
    int port;
    char base[64];      /* http://127.0.0.1:PORT */
    char log_path[128]; /* the child's stderr */
};

/* A TCP port free on 127.0.0.1 right now. */
int test_free_port(void);

/* Sleeps ms milliseconds. */
void test_sleep_ms(long ms);

/*
 * Starts $SHOPD_BINARY on a free port against db_url and $SHOPD_TEST_REDIS_URL
 * with the test admin token, 4 threads, access log on; extra "NAME=value"
 * settings (NULL-terminated, may be NULL) win over those. stderr goes to
 * p->log_path.
 */
void proc_start(struct proc *p, const char *db_url, const char *const *extra);

/* Waits for exit; returns the exit code, or -1 on timeout or death by signal. */
int proc_wait(struct proc *p, int timeout_ms);

/* SIGKILL, reap, remove the log; p->pid becomes 0 (nothing left to kill). */
void proc_kill(struct proc *p);

/*
 * A cmocka per-test teardown for the struct proc *state points at: kills it
 * (proc_kill) when a failing test left it running (pid > 0). Give it as
 * cmocka_unit_test_prestate_setup_teardown(test, NULL, proc_teardown, &p).
 */
int proc_teardown(void **state);

/* A cmocka test whose shopd process is *p, killed by proc_teardown should the test fail. */
#define PROC_TEST(test, p) cmocka_unit_test_prestate_setup_teardown(test, NULL, proc_teardown, p)

/* Polls /readyz until 200 (fails the test after 20 s). */
void proc_wait_ready(struct proc *p);

/* proc_start, then proc_wait_ready. */
void proc_start_ready(struct proc *p, const char *db_url, const char *const *extra);

#endif
