/*
 * http1.h — HTTP/1.1 request framing (RFC 9112): the request head and a
 * chunked body decoder. Pure functions over bytes: no sockets, no globals,
 * no allocation except in a caller's http1_buf, so every outside byte that
 * reaches shopd passes through code a fuzzer can drive alone.
 */
#ifndef SHOPD_HTTP_HTTP1_H
#define SHOPD_HTTP_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "http/http.h"

enum {
    HTTP1_MAX_HEAD = 16 * 1024,          /* request line + header fields; more is 431 */
    HTTP1_MAX_TARGET = 8 * 1024,         /* request target; more is 414 */
    HTTP1_MAX_METHOD = 32,               /* longer is 400 (no method is this long) */
    HTTP1_MAX_FIELDS = HTTP_MAX_HEADERS, /* header fields; more is 431 */
    HTTP1_MAX_CHUNK_LINE = 1024,         /* chunk size line with extensions; more is 400 */
    HTTP1_MAX_TRAILERS = 8 * 1024        /* trailer section of a chunked body; more is 431 */
};

enum http1_result { HTTP1_INCOMPLETE, HTTP1_DONE, HTTP1_ERROR };

enum http1_body_kind { HTTP1_BODY_NONE, HTTP1_BODY_LENGTH, HTTP1_BODY_CHUNKED };

/* A parsed request head. Strings point into the caller's buffer (NUL-terminated there). */
struct http1_head {
    const char *method;
    const char *target;
    int minor; /* HTTP/1.<minor>: 0, or 1 for 1.1 and later minors */
    struct http_kv fields[HTTP1_MAX_FIELDS];
    size_t n_fields;
    enum http1_body_kind body;
    uint64_t content_length; /* HTTP1_BODY_LENGTH only */
    bool keep_alive;         /* the connection may carry another request afterwards */
    bool expect_continue;    /* "Expect: 100-continue" */
};

/*
 * Parses the request head at the start of buf[0..len): optional empty lines,
 * the request line, header fields, the empty line. Strict: CRLF line ends,
 * single spaces in the request line, no whitespace before a field's colon,
 * no obsolete line folding, no control characters, one Host (HTTP/1.1), at
 * most one Content-Length (digits only) and one Transfer-Encoding
 * ("chunked" only), never both.
 *
 * Writes NUL terminators into buf. *scanned carries progress between calls
 * on a growing buffer (start at 0) so a slow client costs linear time.
 * Returns HTTP1_DONE with *head_len = bytes of the head including the empty
 * line; HTTP1_INCOMPLETE when more bytes are needed (never when len reaches
 * HTTP1_MAX_HEAD); HTTP1_ERROR with e set: ERR_BAD_REQUEST,
 * ERR_URI_TOO_LONG, ERR_HEADERS_TOO_LARGE, ERR_PAYLOAD_TOO_LARGE (a
 * Content-Length past uint64), ERR_NOT_IMPLEMENTED (a transfer coding other
 * than chunked), ERR_EXPECTATION_FAILED or ERR_HTTP_VERSION. h's strings are
 * valid only on HTTP1_DONE. Thread-safe (touches only its arguments).
 */
enum http1_result http1_parse_head(char *buf, size_t len, size_t *scanned, struct http1_head *h,
                                   size_t *head_len, struct err *e);

/* A growable byte buffer, always NUL-terminated when data is non-NULL. */
struct http1_buf {
    char *data;
    size_t len, cap;
};

/*
 * Appends n bytes unless the result would pass max bytes. Returns false
 * (buffer unchanged) when it would, or on OOM. Not thread-safe.
 */
bool http1_buf_append(struct http1_buf *b, const char *p, size_t n, size_t max);

/* Frees b's data and empties it. NULL-safe. */
void http1_buf_free(struct http1_buf *b);

/* State of a chunked body decoder; zero-initialise before the first chunk. */
struct http1_chunked {
    int state;
    uint64_t remaining; /* data bytes left in the current chunk */
    size_t line_len;    /* bytes of the current size line or trailer line */
    size_t trailer_len; /* bytes of the trailer section so far */
    bool digits;        /* the size line has at least one hex digit */
};

/*
 * Feeds in[0..n) to the decoder and appends decoded data to body (at most
 * max_body bytes in all). *used is set to the bytes consumed. Returns
 * HTTP1_DONE when the last chunk and trailers are complete (bytes after
 * them are not consumed), HTTP1_INCOMPLETE when all n bytes were consumed
 * and more are needed, HTTP1_ERROR with e set: ERR_BAD_REQUEST (framing),
 * ERR_PAYLOAD_TOO_LARGE (the body would pass max_body, or memory ran out),
 * ERR_HEADERS_TOO_LARGE (trailers past HTTP1_MAX_TRAILERS). Not thread-safe
 * for one decoder; decoders are independent.
 */
enum http1_result http1_chunked_feed(struct http1_chunked *d, const char *in, size_t n,
                                     size_t *used, struct http1_buf *body, size_t max_body,
                                     struct err *e);

/* The reason phrase for an HTTP status ("Not Found"); "Unknown" when none. Thread-safe. */
const char *http1_reason(int status);

#endif
