/* test_proxy.h — a TCP proxy to the test Redis that a test can break (outages, lost replies). */
#ifndef SHOPD_TESTS_TEST_PROXY_H
#define SHOPD_TESTS_TEST_PROXY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

enum { PROXY_PAIRS = 32 };

/*
 * A proxy to $SHOPD_TEST_REDIS_URL on a free loopback port: a Redis outage
 * as this process sees it, without disturbing the shared Redis other tests
 * use, and replies that are lost on the way back (a command applied whose
 * reply never arrives). Set drop_conns to N to swallow the replies on the
 * next N connections accepted.
 */
struct proxy {
    int port, upstream_port, listen_fd;
    atomic_bool stop;
    atomic_int drop_conns; /* connections still to accept whose replies are swallowed */
    pthread_t thread;
    pthread_mutex_t mu;
    int fds[PROXY_PAIRS][2]; /* client, upstream; -1 when free */
    bool drop[PROXY_PAIRS];
};

/* Starts px on a free port, accepting connections. Aborts the test on failure. */
void proxy_start(struct proxy *px);

/* Down: refuses new connections and cuts the open ones (as a stopped Redis). Up: accepts again. */
void proxy_set_up(struct proxy *px, bool up);

/* Cuts everything and stops the proxy's thread. */
void proxy_stop(struct proxy *px);

/* Writes "redis://127.0.0.1:PORT/0" of the proxy into out. */
void proxy_url(const struct proxy *px, char *out, size_t cap);

#endif
