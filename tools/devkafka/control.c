/*
 * control — a single-threaded poll(2) loop over the listening socket, the
 * signalfd and up to MAX_CLIENTS connections, each with its own line buffer.
 */
#include "control.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include "command.h"

enum { MAX_CLIENTS = 16, LINE_MAX_LEN = 1024, REPLY_MAX_LEN = 8192 };

struct client {
    int fd; /* -1: free slot */
    size_t len;
    char buf[LINE_MAX_LEN];
};

int dk_control_listen(int port, int *bound)
{
    struct sockaddr_in addr = {.sin_family = AF_INET};
    socklen_t alen = sizeof addr;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0) {
        fprintf(stderr, "devkafka: socket: %s\n", strerror(errno));
        return -1;
    }
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons((uint16_t)port);
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(fd, 16) != 0 ||
        getsockname(fd, (struct sockaddr *)&addr, &alen) != 0) {
        fprintf(stderr, "devkafka: control port 127.0.0.1:%d: %s\n", port, strerror(errno));
        close(fd);
        return -1;
    }
    *bound = ntohs(addr.sin_port);
    return fd;
}

/* Sends the whole reply plus newline; a client that went away is ignored. */
static void send_line(int fd, const char *reply)
{
    char out[REPLY_MAX_LEN + 1];
    size_t len = strlen(reply), off = 0;

    memcpy(out, reply, len);
    out[len++] = '\n';
    while (off < len) {
        ssize_t n = send(fd, out + off, len - off, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return;
        off += (size_t)n;
    }
}

/* Reads what a client sent and runs each complete line. Returns false when
 * the connection should be closed. */
static bool serve_client(struct client *cl, struct dk_cluster *c, bool *quit)
{
    ssize_t n = recv(cl->fd, cl->buf + cl->len, sizeof cl->buf - cl->len, 0);
    char *nl;

    if (n < 0 && errno == EINTR)
        return true;
    if (n <= 0)
        return false;
    cl->len += (size_t)n;
    while ((nl = memchr(cl->buf, '\n', cl->len)) != NULL) {
        char reply[REPLY_MAX_LEN];
        size_t consumed = (size_t)(nl - cl->buf) + 1;

        *nl = '\0';
        dk_command_run(c, cl->buf, reply, sizeof reply, quit);
        send_line(cl->fd, reply);
        memmove(cl->buf, cl->buf + consumed, cl->len - consumed);
        cl->len -= consumed;
        if (*quit)
            return false;
    }
    if (cl->len == sizeof cl->buf) {
        send_line(cl->fd, "error line too long");
        return false;
    }
    return true;
}

/* Accepts one connection into a free slot (or refuses it when full). */
static void accept_client(int listener, struct client *clients)
{
    int fd = accept(listener, NULL, NULL);

    if (fd < 0)
        return;
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].fd < 0) {
            clients[i].fd = fd;
            clients[i].len = 0;
            return;
        }
    }
    send_line(fd, "error too many control connections");
    close(fd);
}

int dk_control_serve(int listener, int signal_fd, struct dk_cluster *c)
{
    static struct client clients[MAX_CLIENTS];
    struct pollfd fds[MAX_CLIENTS + 2];
    bool quit = false;
    int rc = 0;

    for (int i = 0; i < MAX_CLIENTS; i++)
        clients[i].fd = -1;
    while (!quit) {
        fds[0] = (struct pollfd){.fd = signal_fd, .events = POLLIN};
        fds[1] = (struct pollfd){.fd = listener, .events = POLLIN};
        for (int i = 0; i < MAX_CLIENTS; i++)
            fds[i + 2] = (struct pollfd){.fd = clients[i].fd, .events = POLLIN};
        if (poll(fds, MAX_CLIENTS + 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            fprintf(stderr, "devkafka: poll: %s\n", strerror(errno));
            rc = -1;
            break;
        }
        if (fds[0].revents != 0) {
            fprintf(stderr, "devkafka: signal received, stopping\n");
            break;
        }
        for (int i = 0; i < MAX_CLIENTS && !quit; i++) {
            if (clients[i].fd >= 0 && fds[i + 2].revents != 0 &&
                !serve_client(&clients[i], c, &quit)) {
                close(clients[i].fd);
                clients[i].fd = -1;
            }
        }
        if (!quit && (fds[1].revents & POLLIN) != 0)
            accept_client(listener, clients);
    }
    if (quit)
        fprintf(stderr, "devkafka: quit received, stopping\n");
    for (int i = 0; i < MAX_CLIENTS; i++) {
        if (clients[i].fd >= 0)
            close(clients[i].fd);
    }
    return rc;
}
