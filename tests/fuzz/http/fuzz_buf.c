/* fuzz_buf.c — growable byte buffer and hex escaping. */
#include "fuzz_buf.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void reserve(struct fuzz_buf *b, size_t extra)
{
    if (b->p && b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    char *q = realloc(b->p, cap);
    if (!q) {
        fputs("http-fuzz: out of memory\n", stderr);
        abort();
    }
    b->p = q;
    b->cap = cap;
}

void fuzz_buf_put(struct fuzz_buf *b, const void *p, size_t n)
{
    reserve(b, n);
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void fuzz_buf_puts(struct fuzz_buf *b, const char *s)
{
    fuzz_buf_put(b, s, strlen(s));
}

void fuzz_buf_fill(struct fuzz_buf *b, char c, size_t n)
{
    reserve(b, n);
    memset(b->p + b->len, c, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void fuzz_buf_printf(struct fuzz_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void fuzz_buf_erase(struct fuzz_buf *b, size_t off, size_t n)
{
    if (off >= b->len)
        return;
    if (n > b->len - off)
        n = b->len - off;
    memmove(b->p + off, b->p + off + n, b->len - off - n);
    b->len -= n;
    b->p[b->len] = '\0';
}

void fuzz_buf_insert(struct fuzz_buf *b, size_t off, const void *p, size_t n)
{
    if (off > b->len)
        off = b->len;
    reserve(b, n);
    memmove(b->p + off + n, b->p + off, b->len - off);
    memcpy(b->p + off, p, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void fuzz_buf_clear(struct fuzz_buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

void fuzz_buf_free(struct fuzz_buf *b)
{
    if (!b)
        return;
    free(b->p);
    memset(b, 0, sizeof(*b));
}

void fuzz_buf_escape(FILE *f, const char *p, size_t n, size_t max)
{
    size_t shown = n < max ? n : max;
    for (size_t i = 0; i < shown; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c == '\r')
            fputs("\\r", f);
        else if (c == '\n')
            fputs("\\n", f);
        else if (c == '\t')
            fputs("\\t", f);
        else if (c == '\\' || c == '\'')
            fprintf(f, "\\%c", c);
        else if (c >= 0x20 && c < 0x7f)
            fputc(c, f);
        else
            fprintf(f, "\\x%02x", c);
    }
    if (shown < n)
        fprintf(f, "...(%zu more bytes)", n - shown);
}
