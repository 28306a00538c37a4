/* test_raw.c — raw TCP exchanges for HTTP framing tests. */
#include "support/test_raw.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

int test_raw_connect(uint16_t port)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons(port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&addr, sizeof(addr)) != 0) {
        fprintf(stderr, "test_raw: cannot connect to port %u: %s\n", port, strerror(errno));
        exit(1);
    }
    return fd;
}

bool test_raw_send(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

char *test_raw_read(int fd, int idle_ms, size_t *len, bool *closed)
{
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    bool eof = false;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, idle_ms);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        if (n + 4096 + 1 > cap) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
        ssize_t got = recv(fd, buf + n, cap - n - 1, 0);
        if (got <= 0) {
            eof = true;
            break;
        }
        n += (size_t)got;
    }
    buf[n] = '\0';
    *len = n;
    if (closed)
        *closed = eof;
    return buf;
}

char *test_raw_exchange(uint16_t port, const void *data, size_t len, int idle_ms, size_t *out_len)
{
    int fd = test_raw_connect(port);
    test_raw_send(fd, data, len);
    char *out = test_raw_read(fd, idle_ms, out_len, NULL);
    close(fd);
    return out;
}

bool test_raw_parse(const char *raw, size_t len, struct test_raw_resp *r)
{
    memset(r, 0, sizeof(*r));
    const char *end = NULL;
    for (size_t i = 0; i + 3 < len; i++)
        if (memcmp(raw + i, "\r\n\r\n", 4) == 0) {
            end = raw + i + 4;
            break;
        }
    if (!end || len < 12 || strncmp(raw, "HTTP/1.1 ", 9) != 0)
        return false;
    r->status = atoi(raw + 9);
    r->head = raw;
    r->head_len = (size_t)(end - raw);
    char cl[32];
    size_t body_len =
        test_raw_header(r, "Content-Length", cl, sizeof(cl)) ? strtoul(cl, NULL, 10) : 0;
    if (r->head_len + body_len > len)
        return false;
    r->body = end;
    r->body_len = body_len;
    r->total = r->head_len + body_len;
    return true;
}

const char *test_raw_header(const struct test_raw_resp *r, const char *name, char *buf, size_t cap)
{
    size_t nlen = strlen(name);
    const char *p = memchr(r->head, '\n', r->head_len);
    while (p && p < r->head + r->head_len) {
        p++;
        const char *eol = memchr(p, '\r', (size_t)(r->head + r->head_len - p));
        if (!eol || eol == p)
            return NULL;
        if ((size_t)(eol - p) > nlen + 1 && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
            const char *v = p + nlen + 1;
            while (*v == ' ')
                v++;
            snprintf(buf, cap, "%.*s", (int)(eol - v), v);
            return buf;
        }
        p = eol + 1;
    }
    return NULL;
}

size_t test_raw_status_lines(const char *raw, size_t len)
{
    size_t count = 0;
    for (size_t i = 0; i + 9 <= len; i++)
        if ((i == 0 || raw[i - 1] == '\n') && memcmp(raw + i, "HTTP/1.1 ", 9) == 0)
            count++;
    return count;
}
