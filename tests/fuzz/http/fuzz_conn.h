/*
 * fuzz_conn.h — loopback client sockets for the HTTP fuzzer: connect, write
 * a request whole or in small pieces with pauses, read with a deadline.
 */
#ifndef SHOPD_FUZZ_CONN_H
#define SHOPD_FUZZ_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_buf.h"
#include "fuzz_rng.h"

enum { FUZZ_READ_EOF = 0, FUZZ_READ_TIMEOUT = -1, FUZZ_READ_ERROR = -2 };

/* Monotonic milliseconds. Thread-safe. */
int64_t fuzz_now_ms(void);

/* Sleeps ms milliseconds. */
void fuzz_sleep_ms(int ms);

/* A blocking TCP connection to 127.0.0.1:port (TCP_NODELAY, 10 s send timeout), or -1. */
int fuzz_conn_open(uint16_t port);

/*
 * Writes p[0..n). With split (r non-NULL), in random pieces of 1..64 bytes
 * with pauses of 0..2 ms, at most max_pause_ms of pauses in all. Returns
 * false when the peer closed or reset, or a write timed out.
 */
bool fuzz_conn_send(int fd, const char *p, size_t n, struct fuzz_rng *split, int max_pause_ms);

/*
 * Waits until deadline_ms (fuzz_now_ms scale) for bytes and appends what one
 * read gives to in. Returns the byte count, FUZZ_READ_EOF, FUZZ_READ_TIMEOUT
 * or FUZZ_READ_ERROR (reset).
 */
long fuzz_conn_read(int fd, struct fuzz_buf *in, int64_t deadline_ms);

#endif
