/* fuzz_conn.c — blocking loopback sockets with poll deadlines. */
#include "fuzz_conn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

int64_t fuzz_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void fuzz_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

int fuzz_conn_open(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    int one = 1;
    struct timeval tv = {10, 0};
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

bool fuzz_conn_send(int fd, const char *p, size_t n, struct fuzz_rng *split, int max_pause_ms)
{
    if (!split)
        return send_all(fd, p, n);
    int paused = 0;
    while (n > 0) {
        size_t k = (size_t)fuzz_rng_range(split, 1, 64);
        if (k > n || paused >= max_pause_ms)
            k = n;
        if (!send_all(fd, p, k))
            return false;
        p += k;
        n -= k;
        int ms = (int)fuzz_rng_below(split, 3);
        if (n > 0 && ms > 0 && paused + ms <= max_pause_ms) {
            fuzz_sleep_ms(ms);
            paused += ms;
        }
    }
    return true;
}

long fuzz_conn_read(int fd, struct fuzz_buf *in, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - fuzz_now_ms();
        if (left < 0)
            left = 0;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int rc = poll(&pfd, 1, (int)left);
        if (rc < 0 && errno == EINTR)
            continue;
        if (rc == 0)
            return FUZZ_READ_TIMEOUT;
        if (rc < 0)
            return FUZZ_READ_ERROR;
        char tmp[65536];
        ssize_t n = recv(fd, tmp, sizeof(tmp), 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return FUZZ_READ_ERROR;
        if (n == 0)
            return FUZZ_READ_EOF;
        fuzz_buf_put(in, tmp, (size_t)n);
        return (long)n;
    }
}
