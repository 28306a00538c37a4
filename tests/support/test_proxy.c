/* test_proxy.c — the breakable TCP proxy of test_proxy.h. */
#include "support/test_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "support/test_db.h"
#include "support/test_proc.h"

static int proxy_listen(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(fd, 64), 0);
    return fd;
}

static int proxy_connect_upstream(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static void *proxy_loop(void *arg)
{
    struct proxy *px = arg;
    while (!atomic_load(&px->stop)) {
        struct pollfd pfd[1 + 2 * PROXY_PAIRS];
        int slot[1 + 2 * PROXY_PAIRS], side[1 + 2 * PROXY_PAIRS], n = 0;
        pthread_mutex_lock(&px->mu);
        if (px->listen_fd >= 0)
            pfd[n++] = (struct pollfd){.fd = px->listen_fd, .events = POLLIN};
        for (int i = 0; i < PROXY_PAIRS; i++)
            for (int s = 0; s < 2 && px->fds[i][0] >= 0; s++) {
                slot[n] = i;
                side[n] = s;
                pfd[n++] = (struct pollfd){.fd = px->fds[i][s], .events = POLLIN};
            }
        int listen_fd = px->listen_fd;
        pthread_mutex_unlock(&px->mu);
        if (poll(pfd, (nfds_t)n, 20) <= 0)
            continue;
        pthread_mutex_lock(&px->mu);
        for (int k = 0; k < n; k++) {
            if (!pfd[k].revents)
                continue;
            if (pfd[k].fd == listen_fd && k == 0 && listen_fd >= 0 && listen_fd == px->listen_fd) {
                int c = accept(listen_fd, NULL, NULL),
                    u = c >= 0 ? proxy_connect_upstream(px->upstream_port) : -1;
                int i = 0;
                while (i < PROXY_PAIRS && px->fds[i][0] >= 0)
                    i++;
                if (c < 0 || u < 0 || i == PROXY_PAIRS) {
                    if (c >= 0)
                        close(c);
                    if (u >= 0)
                        close(u);
                    continue;
                }
                px->fds[i][0] = c;
                px->fds[i][1] = u;
                px->drop[i] = atomic_fetch_sub(&px->drop_conns, 1) > 0;
                continue;
            }
            int i = slot[k], s = side[k];
            if (px->fds[i][0] < 0 || px->fds[i][s] != pfd[k].fd)
                continue;
            char buf[65536];
            ssize_t got = read(px->fds[i][s], buf, sizeof(buf));
            if (got <= 0) {
                close(px->fds[i][0]);
                close(px->fds[i][1]);
                px->fds[i][0] = px->fds[i][1] = -1;
                continue;
            }
            if (s == 1 && px->drop[i])
                continue; /* the reply is lost on the way back */
            ssize_t off = 0;
            while (off < got) {
                ssize_t w = write(px->fds[i][1 - s], buf + off, (size_t)(got - off));
                if (w <= 0)
                    break;
                off += w;
            }
        }
        pthread_mutex_unlock(&px->mu);
    }
    return NULL;
}

/* Starts a proxy to the test Redis on a free port, accepting connections. */
void proxy_start(struct proxy *px)
{
    memset(px, 0, sizeof(*px));
    const char *url = test_redis_url();
    sscanf(strrchr(url, ':') + 1, "%d", &px->upstream_port);
    px->port = test_free_port();
    pthread_mutex_init(&px->mu, NULL);
    for (int i = 0; i < PROXY_PAIRS; i++)
        px->fds[i][0] = px->fds[i][1] = -1;
    px->listen_fd = proxy_listen(px->port);
    atomic_init(&px->stop, false);
    atomic_init(&px->drop_conns, 0);
    pthread_create(&px->thread, NULL, proxy_loop, px);
}

/* Down: refuses new connections and cuts the open ones (as a stopped Redis). Up: accepts again. */
void proxy_set_up(struct proxy *px, bool up)
{
    pthread_mutex_lock(&px->mu);
    if (!up) {
        if (px->listen_fd >= 0)
            close(px->listen_fd);
        px->listen_fd = -1;
        for (int i = 0; i < PROXY_PAIRS; i++)
            if (px->fds[i][0] >= 0) {
                close(px->fds[i][0]);
                close(px->fds[i][1]);
                px->fds[i][0] = px->fds[i][1] = -1;
            }
    } else if (px->listen_fd < 0) {
        px->listen_fd = proxy_listen(px->port);
    }
    pthread_mutex_unlock(&px->mu);
}

void proxy_stop(struct proxy *px)
{
    proxy_set_up(px, false);
    atomic_store(&px->stop, true);
    pthread_join(px->thread, NULL);
    pthread_mutex_destroy(&px->mu);
}

/* "redis://127.0.0.1:PORT/0" of the proxy. */
void proxy_url(const struct proxy *px, char *out, size_t cap)
{
    snprintf(out, cap, "redis://127.0.0.1:%d/0", px->port);
}
