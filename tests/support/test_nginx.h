/*
 * test_nginx.h — Debian's nginx as a private child process in front of shopd
 * instances, configured by scripts/nginx-conf (what `make cluster` runs), for
 * end-to-end tests that go through the load balancer.
 */
#ifndef SHOPD_TESTS_TEST_NGINX_H
#define SHOPD_TESTS_TEST_NGINX_H

#include <sys/types.h>

struct test_nginx {
    pid_t pid;
    int port;
    char base[64]; /* http://127.0.0.1:PORT */
    char dir[128]; /* its prefix: nginx.conf, error.log, access.log, nginx.pid */
    char bin[256]; /* the nginx executable */
};

/*
 * Finds the nginx executable (PATH, then /usr/sbin/nginx) into n->bin.
 * Returns 1 when there is one, 0 when nginx is not installed.
 */
int test_nginx_find(struct test_nginx *n);

/*
 * Starts nginx (found by test_nginx_find) on a free 127.0.0.1 port, balancing
 * the shopd instances on 127.0.0.1:ports[0..count-1]: writes the output of
 * $SHOPD_SOURCE_DIR/scripts/nginx-conf into a fresh prefix directory and runs
 * nginx in the foreground as a child. Waits until GET /readyz through it
 * answers 200 (the instances must be ready); fails the test, with nginx's
 * error log, otherwise.
 */
void test_nginx_start(struct test_nginx *n, const int *ports, int count);

/*
 * Fast shutdown (SIGTERM), reap, remove the prefix directory. Safe to call
 * when test_nginx_start was not called or nginx is gone.
 */
void test_nginx_stop(struct test_nginx *n);

#endif
