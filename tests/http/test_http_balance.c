/*
 * test_http_balance.c — connections are spread over the workers. Handlers run
 * inline and block on the database, so two connections on one worker wait for
 * each other while another worker idles. The server under test has N workers
 * and one route whose handler waits until N handlers are running at once (or
 * gives up after a few seconds): N keep-alive connections, opened one after
 * another, then one request on each at the same time, must all meet there.
 * Before the least-loaded hand-off, EPOLLEXCLUSIVE let one worker take most of
 * a burst of connections (9 of 16 under wrk), and this meeting never happened.
 */
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "http/server.h"
#include "support/test_raw.h"

enum { WORKERS = 4, MEET_WAIT_S = 5 };

struct meeting {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int arrived;
};

static struct meeting meeting = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};

/* 200 when WORKERS handlers were running at once, 503 when the wait ran out. */
static enum err_code meet_handler(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    (void)e;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += MEET_WAIT_S;
    pthread_mutex_lock(&meeting.mu);
    meeting.arrived++;
    pthread_cond_broadcast(&meeting.cv);
    int rc = 0;
    while (meeting.arrived < WORKERS && rc == 0)
        rc = pthread_cond_timedwait(&meeting.cv, &meeting.mu, &until);
    bool met = meeting.arrived >= WORKERS;
    pthread_mutex_unlock(&meeting.mu);
    http_resp_json(resp, met ? 200 : 503, json_pack("{s:b}", "met", met));
    return ERR_OK;
}

/* Answers at once: used to know a connection has been accepted and served. */
static enum err_code ping_handler(struct http_req *req, struct http_resp *resp, struct err *e)
{
    (void)req;
    (void)e;
    http_resp_json(resp, 200, json_object());
    return ERR_OK;
}

static const struct route routes[] = {
    {HTTP_GET, "/meet", meet_handler, NULL, false},
    {HTTP_GET, "/ping", ping_handler, NULL, false},
};
static const struct router router = {routes, sizeof(routes) / sizeof(routes[0])};

/* Reads one whole response from fd and returns its status (0 when none came within wait_ms). */
static int read_status(int fd, int wait_ms)
{
    char buf[4096];
    size_t n = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, wait_ms) <= 0)
            return 0;
        ssize_t got = recv(fd, buf + n, sizeof(buf) - 1 - n, 0);
        if (got <= 0)
            return 0;
        n += (size_t)got;
        struct test_raw_resp r;
        if (test_raw_parse(buf, n, &r) && r.total <= n)
            return r.status;
        if (n == sizeof(buf) - 1)
            return 0;
    }
}

static void connections_opened_in_turn__each_gets_its_own_worker(void **state)
{
    (void)state;
    struct http_server_config cfg = {
        .host = "127.0.0.1", .port = 0, .threads = WORKERS, .max_body = 1024, .idle_timeout_s = 30};
    struct err e;
    err_clear(&e);
    struct http_server *s = http_server_start(&cfg, &router, NULL, &e);
    assert_non_null(s);
    uint16_t port = http_server_port(s);

    static const char ping[] = "GET /ping HTTP/1.1\r\nHost: t\r\n\r\n";
    static const char meet[] = "GET /meet HTTP/1.1\r\nHost: t\r\n\r\n";
    int fds[WORKERS];
    for (int i = 0; i < WORKERS; i++) {
        fds[i] = test_raw_connect(port);
        assert_true(test_raw_send(fds[i], ping, sizeof(ping) - 1));
        assert_int_equal(read_status(fds[i], 5000), 200);
    }
    for (int i = 0; i < WORKERS; i++)
        assert_true(test_raw_send(fds[i], meet, sizeof(meet) - 1));
    for (int i = 0; i < WORKERS; i++) {
        assert_int_equal(read_status(fds[i], (MEET_WAIT_S + 2) * 1000), 200);
        close(fds[i]);
    }
    http_server_stop(s, 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(connections_opened_in_turn__each_gets_its_own_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
