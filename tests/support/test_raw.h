/* test_raw.h — raw TCP exchanges for tests of HTTP framing (what a client library never sends). */
#ifndef SHOPD_TESTS_TEST_RAW_H
#define SHOPD_TESTS_TEST_RAW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Connects to 127.0.0.1:port; aborts the test program on failure. Returns the socket. */
int test_raw_connect(uint16_t port);

/* Sends all len bytes; returns false when the peer closed or reset. */
bool test_raw_send(int fd, const void *data, size_t len);

/*
 * Reads until the peer closes or nothing arrives for idle_ms. Returns a
 * malloc'd NUL-terminated buffer (caller frees), its length in *len, and
 * whether the peer closed in *closed (may be NULL).
 */
char *test_raw_read(int fd, int idle_ms, size_t *len, bool *closed);

/* connect + send + read (idle_ms) + close. Returns what test_raw_read returns. */
char *test_raw_exchange(uint16_t port, const void *data, size_t len, int idle_ms, size_t *out_len);

/* One response parsed out of raw bytes. Pointers borrow the raw buffer. */
struct test_raw_resp {
    int status;
    const char *head; /* status line and headers, up to the empty line */
    size_t head_len;
    const char *body; /* Content-Length bytes after the head */
    size_t body_len;
    size_t total; /* bytes of this response, head and body */
};

/* Parses the response at the start of raw[0..len). Returns false when it is not one. */
bool test_raw_parse(const char *raw, size_t len, struct test_raw_resp *r);

/* Value of header name (case-insensitive) in r's head copied into buf, or NULL. */
const char *test_raw_header(const struct test_raw_resp *r, const char *name, char *buf, size_t cap);

/* How many times "HTTP/1.1 " starts a line in raw: the number of status lines. */
size_t test_raw_status_lines(const char *raw, size_t len);

#endif
