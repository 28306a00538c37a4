/*
 * fuzz_buf.h — a growable byte buffer for requests and responses, and the
 * hex-escaped rendering that makes a failing request replayable.
 */
#ifndef SHOPD_FUZZ_BUF_H
#define SHOPD_FUZZ_BUF_H

#include <stddef.h>
#include <stdio.h>

/* Bytes p[0..len); p is owned and always NUL-terminated when non-NULL. */
struct fuzz_buf {
    char *p;
    size_t len, cap;
};

/* Appends n bytes. Aborts the program on OOM (a test tool: no recovery). */
void fuzz_buf_put(struct fuzz_buf *b, const void *p, size_t n);

/* Appends a NUL-terminated string. */
void fuzz_buf_puts(struct fuzz_buf *b, const char *s);

/* Appends n copies of byte c. */
void fuzz_buf_fill(struct fuzz_buf *b, char c, size_t n);

/* Appends printf-formatted text. */
void fuzz_buf_printf(struct fuzz_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Removes n bytes at off (clamped to the buffer). */
void fuzz_buf_erase(struct fuzz_buf *b, size_t off, size_t n);

/* Inserts n bytes at off (off clamped to len). */
void fuzz_buf_insert(struct fuzz_buf *b, size_t off, const void *p, size_t n);

/* Empties b, keeping its memory. */
void fuzz_buf_clear(struct fuzz_buf *b);

/* Frees b's memory. NULL-safe. */
void fuzz_buf_free(struct fuzz_buf *b);

/*
 * Writes p[0..n) to f as a C/bash $'...' string body: printable ASCII as is
 * (backslash and quote escaped), \r \n \t, other bytes \xHH. At most max
 * bytes are shown, then "...(N more bytes)".
 */
void fuzz_buf_escape(FILE *f, const char *p, size_t n, size_t max);

#endif
