/* http1.c — strict HTTP/1.1 request head parsing and chunked body decoding. */
#include "http/http1.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/text.h"

/* RFC 9110 tchar: the characters of a token (method, field name). */
static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte allowed in a request target: visible ASCII. */
static bool is_target_char(unsigned char c)
{
    return c > 0x20 && c < 0x7f;
}

/*
 * A byte kept in a field value. CR, LF and NUL never are (RFC 9110 5.5);
 * other control characters are invalid too, but RFC 9110 lets a recipient
 * keep them, so the field's own validation answers with its own code
 * (an Idempotency-Key with \x01 is IDEMPOTENCY_KEY_REQUIRED, not a framing error).
 */
static bool is_value_char(unsigned char c)
{
    return c != '\0' && c != '\r' && c != '\n';
}

/* Offsets of the request line's parts, relative to its start. */
struct request_line {
    size_t method_len;
    size_t target_off, target_len;
    size_t version_off;
};

/*
 * Checks the request line p[0..n). complete: n covers the whole line (its
 * CRLF excluded); otherwise only the prefix seen so far is checked, so a
 * hostile first line is refused before its end arrives. Returns ERR_OK or
 * the error with e set.
 */
static enum err_code check_request_line(const char *p, size_t n, bool complete,
                                        struct request_line *rl, struct err *e)
{
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i > HTTP1_MAX_METHOD)
        return err_set(e, ERR_BAD_REQUEST, "method is longer than %d characters", HTTP1_MAX_METHOD);
    if (i == n)
        return complete ? err_set(e, ERR_BAD_REQUEST, "request line has no request target")
                        : ERR_OK;
    if (i == 0 || p[i] != ' ')
        return err_set(e, ERR_BAD_REQUEST, "request line must be METHOD SP TARGET SP VERSION");
    rl->method_len = i++;
    rl->target_off = i;
    while (i < n && is_target_char((unsigned char)p[i]))
        i++;
    rl->target_len = i - rl->target_off;
    if (rl->target_len > HTTP1_MAX_TARGET)
        return err_set(e, ERR_URI_TOO_LONG, "request target is longer than %d bytes",
                       HTTP1_MAX_TARGET);
    if (i == n) {
        if (!complete)
            return ERR_OK;
        return err_set(e, ERR_BAD_REQUEST,
                       "request line has no HTTP version (HTTP/0.9 is not supported)");
    }
    if (rl->target_len == 0 || p[i] != ' ')
        return err_set(e, ERR_BAD_REQUEST, "request target has a character that is not allowed");
    rl->version_off = ++i;
    static const char prefix[] = "HTTP/";
    size_t vlen = n - i;
    size_t cmp = vlen < 5 ? vlen : 5;
    if (memcmp(p + i, prefix, cmp) != 0)
        return err_set(e, ERR_BAD_REQUEST, "request line must end with HTTP/1.1 or HTTP/1.0");
    if (!complete && vlen <= 8) {         /* the major version is judged once the line has ended */
        for (size_t k = 5; k < vlen; k++) /* "HTTP/" DIGIT "." DIGIT, so far */
            if (k == 6 ? p[i + k] != '.' : (p[i + k] < '0' || p[i + k] > '9'))
                return err_set(e, ERR_BAD_REQUEST, "malformed HTTP version");
        return ERR_OK;
    }
    if (vlen != 8 || p[i + 5] < '0' || p[i + 5] > '9' || p[i + 6] != '.' || p[i + 7] < '0' ||
        p[i + 7] > '9')
        return err_set(e, ERR_BAD_REQUEST, "malformed HTTP version");
    if (p[i + 5] != '1')
        return err_set(e, ERR_HTTP_VERSION, "HTTP/%c.%c is not supported; use HTTP/1.1", p[i + 5],
                       p[i + 7]);
    return ERR_OK;
}

/* Splits a header line [p, p+n) in place into name and trimmed value. */
static enum err_code parse_field(char *p, size_t n, struct http_kv *kv, struct err *e)
{
    if (n > 0 && (p[0] == ' ' || p[0] == '\t'))
        return err_set(e, ERR_BAD_REQUEST, "obsolete line folding is not allowed");
    size_t i = 0;
    while (i < n && is_tchar((unsigned char)p[i]))
        i++;
    if (i == 0 || i == n || p[i] != ':')
        return err_set(e, ERR_BAD_REQUEST, "malformed header field (expected name:value)");
    p[i] = '\0';
    kv->name = p;
    size_t v = i + 1, end = n;
    while (v < end && (p[v] == ' ' || p[v] == '\t'))
        v++;
    while (end > v && (p[end - 1] == ' ' || p[end - 1] == '\t'))
        end--;
    for (size_t k = v; k < end; k++)
        if (!is_value_char((unsigned char)p[k]))
            return err_set(e, ERR_BAD_REQUEST, "header %.64s has a NUL, CR or LF", p);
    p[end] = '\0';
    kv->value = p + v;
    return ERR_OK;
}

/* True when the comma-separated list value holds token (case-insensitive). */
static bool list_has(const char *value, const char *token)
{
    size_t tlen = strlen(token);
    const char *p = value;
    while (*p) {
        while (*p == ' ' || *p == '\t' || *p == ',')
            p++;
        const char *s = p;
        while (*p && *p != ',')
            p++;
        const char *end = p;
        while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        if ((size_t)(end - s) == tlen && strncasecmp(s, token, tlen) == 0)
            return true;
    }
    return false;
}

/* Content-Length: 1*DIGIT. Returns ERR_OK, ERR_BAD_REQUEST or ERR_PAYLOAD_TOO_LARGE. */
static enum err_code parse_content_length(const char *v, uint64_t *out, struct err *e)
{
    if (!*v)
        return err_set(e, ERR_BAD_REQUEST, "Content-Length is empty");
    uint64_t n = 0;
    for (const char *p = v; *p; p++) {
        if (*p < '0' || *p > '9')
            return err_set(e, ERR_BAD_REQUEST, "Content-Length must be one decimal number");
        unsigned d = (unsigned)(*p - '0');
        if (n > (UINT64_MAX - d) / 10)
            return err_set(e, ERR_PAYLOAD_TOO_LARGE, "Content-Length is too large");
        n = n * 10 + d;
    }
    *out = n;
    return ERR_OK;
}

/* Derives framing and connection semantics from the fields. */
static enum err_code interpret_fields(struct http1_head *h, struct err *e)
{
    int hosts = 0, lengths = 0, codings = 0;
    bool close = false, keep = false;
    const char *te = NULL;
    for (size_t i = 0; i < h->n_fields; i++) {
        const char *name = h->fields[i].name, *value = h->fields[i].value;
        if (strcasecmp(name, "Host") == 0) {
            hosts++;
        } else if (strcasecmp(name, "Content-Length") == 0) {
            if (++lengths > 1)
                return err_set(e, ERR_BAD_REQUEST, "more than one Content-Length");
            enum err_code rc = parse_content_length(value, &h->content_length, e);
            if (rc != ERR_OK)
                return rc;
        } else if (strcasecmp(name, "Transfer-Encoding") == 0) {
            if (++codings > 1)
                return err_set(e, ERR_BAD_REQUEST, "more than one Transfer-Encoding");
            te = value;
        } else if (strcasecmp(name, "Connection") == 0) {
            close = close || list_has(value, "close");
            keep = keep || list_has(value, "keep-alive");
        } else if (strcasecmp(name, "Expect") == 0 && h->minor >= 1) {
            if (strcasecmp(value, "100-continue") != 0)
                return err_set(e, ERR_EXPECTATION_FAILED, "only Expect: 100-continue is supported");
            h->expect_continue = true;
        }
    }
    if (h->minor >= 1 && hosts != 1)
        return err_set(e, ERR_BAD_REQUEST, "an HTTP/1.1 request needs exactly one Host header");
    if (hosts > 1)
        return err_set(e, ERR_BAD_REQUEST, "more than one Host header");
    h->keep_alive = h->minor >= 1 ? !close : keep && !close;
    h->body = lengths ? HTTP1_BODY_LENGTH : HTTP1_BODY_NONE;
    if (te) {
        if (lengths)
            return err_set(e, ERR_BAD_REQUEST, "Content-Length and Transfer-Encoding together");
        if (h->minor == 0)
            return err_set(e, ERR_BAD_REQUEST, "Transfer-Encoding in an HTTP/1.0 request");
        if (strcasecmp(te, "chunked") != 0)
            return err_set(e, ERR_NOT_IMPLEMENTED, "only Transfer-Encoding: chunked is supported");
        h->body = HTTP1_BODY_CHUNKED;
    }
    return ERR_OK;
}

/* Parses the complete head [start, end) in place; end is just past the empty line. */
static enum err_code parse_complete_head(char *buf, size_t start, size_t end, struct http1_head *h,
                                         struct err *e)
{
    char *line = buf + start;
    char *eol = memchr(line, '\r', end - start); /* the scan guarantees CRLF line ends */
    struct request_line rl;
    enum err_code rc = check_request_line(line, (size_t)(eol - line), true, &rl, e);
    if (rc != ERR_OK)
        return rc;
    memset(h, 0, sizeof(*h));
    line[rl.method_len] = '\0';
    line[rl.target_off + rl.target_len] = '\0';
    h->method = line;
    h->target = line + rl.target_off;
    h->minor = line[rl.version_off + 7] == '0' ? 0 : 1;
    char *p = eol + 2;
    while (p < buf + end) {
        char *le = memchr(p, '\r', (size_t)(buf + end - p));
        if (le == p)
            break; /* the empty line */
        if (h->n_fields >= HTTP1_MAX_FIELDS)
            return err_set(e, ERR_HEADERS_TOO_LARGE, "more than %d header fields",
                           HTTP1_MAX_FIELDS);
        rc = parse_field(p, (size_t)(le - p), &h->fields[h->n_fields], e);
        if (rc != ERR_OK)
            return rc;
        h->n_fields++;
        p = le + 2;
    }
    return interpret_fields(h, e);
}

enum http1_result http1_parse_head(char *buf, size_t len, size_t *scanned, struct http1_head *h,
                                   size_t *head_len, struct err *e)
{
    /*
     * The verdict must not depend on how the bytes arrived (one read or
     * many): the request line is judged first, as far as it has arrived and
     * only on what no later byte can change; then the rest is scanned in
     * order; nothing past HTTP1_MAX_HEAD is looked at.
     */
    size_t limit = len < HTTP1_MAX_HEAD ? len : HTTP1_MAX_HEAD;
    size_t start = 0; /* empty lines before the request line are skipped (RFC 9112 2.2) */
    while (start + 1 < limit && buf[start] == '\r' && buf[start + 1] == '\n')
        start += 2;
    size_t prev = *scanned;
    const char *cr = memchr(buf + start, '\r', limit - start);
    size_t n = cr ? (size_t)(cr - (buf + start)) : limit - start;
    bool complete = cr && (size_t)(cr - buf) + 1 < limit; /* the byte after its CR has arrived */
    struct request_line rl;
    if (!(complete && start + n + 2 <= prev) && /* not judged whole before */
        check_request_line(buf + start, n, complete, &rl, e) != ERR_OK)
        return HTTP1_ERROR;
    /* a CR seen last time is checked again with its successor */
    size_t i = prev > start + 1 ? prev - 1 : start, end = 0;
    for (; i < limit; i++) {
        char c = buf[i];
        if (c == '\0') {
            err_set(e, ERR_BAD_REQUEST, "request head contains a NUL byte");
            return HTTP1_ERROR;
        }
        if (c == '\r' && i + 1 < limit && buf[i + 1] != '\n') {
            err_set(e, ERR_BAD_REQUEST, "bare CR in request head");
            return HTTP1_ERROR;
        }
        if (c != '\n')
            continue;
        if (i == 0 || buf[i - 1] != '\r') {
            err_set(e, ERR_BAD_REQUEST, "request head lines must end with CRLF");
            return HTTP1_ERROR;
        }
        if (i >= start + 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r') {
            end = i + 1;
            break;
        }
    }
    if (end == 0) {
        *scanned = limit;
        if (len >= HTTP1_MAX_HEAD) {
            err_set(e, ERR_HEADERS_TOO_LARGE, "request head is larger than %d bytes",
                    HTTP1_MAX_HEAD);
            return HTTP1_ERROR;
        }
        return HTTP1_INCOMPLETE;
    }
    if (parse_complete_head(buf, start, end, h, e) != ERR_OK)
        return HTTP1_ERROR;
    *head_len = end;
    return HTTP1_DONE;
}

bool http1_buf_append(struct http1_buf *b, const char *p, size_t n, size_t max)
{
    if (n > max || b->len > max - n)
        return false;
    if (!b->data || b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 512;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *q = realloc(b->data, cap);
        if (!q)
            return false;
        b->data = q;
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
    return true;
}

void http1_buf_free(struct http1_buf *b)
{
    if (!b)
        return;
    free(b->data);
    memset(b, 0, sizeof(*b));
}

enum chunk_state {
    CH_SIZE,
    CH_EXT,
    CH_SIZE_LF,
    CH_DATA,
    CH_DATA_CR,
    CH_DATA_LF,
    CH_TRAILER_START,
    CH_TRAILER,
    CH_TRAILER_LF,
    CH_FINAL_LF,
    CH_DONE
};

static enum http1_result chunk_error(size_t i, size_t *used, struct err *e, enum err_code code,
                                     const char *what)
{
    *used = i;
    err_set(e, code, "%s", what);
    return HTTP1_ERROR;
}

enum http1_result http1_chunked_feed(struct http1_chunked *d, const char *in, size_t n,
                                     size_t *used, struct http1_buf *body, size_t max_body,
                                     struct err *e)
{
    size_t i = 0;
    while (i < n && d->state != CH_DONE) {
        char c = in[i];
        switch ((enum chunk_state)d->state) {
        case CH_SIZE: {
            int v = text_hex_digit(c);
            if (++d->line_len > HTTP1_MAX_CHUNK_LINE)
                return chunk_error(i, used, e, ERR_BAD_REQUEST, "chunk size line is too long");
            if (v >= 0) {
                d->remaining = d->remaining * 16 + (uint64_t)v;
                d->digits = true;
                if (d->remaining > max_body - body->len)
                    return chunk_error(i, used, e, ERR_PAYLOAD_TOO_LARGE,
                                       "request body is too large");
            } else if (d->digits && (c == ';' || c == ' ' || c == '\t')) {
                d->state = CH_EXT;
            } else if (d->digits && c == '\r') {
                d->state = CH_SIZE_LF;
            } else {
                return chunk_error(i, used, e, ERR_BAD_REQUEST, "malformed chunk size");
            }
            i++;
            break;
        }
        case CH_EXT:
            if (++d->line_len > HTTP1_MAX_CHUNK_LINE)
                return chunk_error(i, used, e, ERR_BAD_REQUEST, "chunk size line is too long");
            if (c == '\r')
                d->state = CH_SIZE_LF;
            else if (!is_value_char((unsigned char)c))
                return chunk_error(i, used, e, ERR_BAD_REQUEST, "malformed chunk extension");
            i++;
            break;
        case CH_SIZE_LF:
            if (c != '\n')
                return chunk_error(i, used, e, ERR_BAD_REQUEST,
                                   "chunk size line must end with CRLF");
            d->state = d->remaining ? CH_DATA : CH_TRAILER_START;
            d->line_len = 0;
            d->digits = false;
            i++;
            break;
        case CH_DATA: {
            size_t k = n - i;
            if ((uint64_t)k > d->remaining)
                k = (size_t)d->remaining;
            if (!http1_buf_append(body, in + i, k, max_body))
                return chunk_error(i, used, e, ERR_PAYLOAD_TOO_LARGE, "request body is too large");
            d->remaining -= k;
            i += k;
            if (d->remaining == 0)
                d->state = CH_DATA_CR;
            break;
        }
        case CH_DATA_CR:
        case CH_DATA_LF:
            if (c != (d->state == CH_DATA_CR ? '\r' : '\n'))
                return chunk_error(i, used, e, ERR_BAD_REQUEST, "chunk data must end with CRLF");
            d->state = d->state == CH_DATA_CR ? CH_DATA_LF : CH_SIZE;
            i++;
            break;
        case CH_TRAILER_START:
            d->state = c == '\r' ? CH_FINAL_LF : CH_TRAILER;
            if (c == '\r')
                i++;
            break;
        case CH_TRAILER:
            if (++d->trailer_len > HTTP1_MAX_TRAILERS)
                return chunk_error(i, used, e, ERR_HEADERS_TOO_LARGE,
                                   "trailer section is too large");
            if (c == '\r')
                d->state = CH_TRAILER_LF;
            else if (!is_value_char((unsigned char)c))
                return chunk_error(i, used, e, ERR_BAD_REQUEST, "malformed trailer field");
            i++;
            break;
        case CH_TRAILER_LF:
        case CH_FINAL_LF:
            if (c != '\n')
                return chunk_error(i, used, e, ERR_BAD_REQUEST, "trailer line must end with CRLF");
            d->state = d->state == CH_TRAILER_LF ? CH_TRAILER_START : CH_DONE;
            i++;
            break;
        case CH_DONE:
            break;
        }
    }
    *used = i;
    return d->state == CH_DONE ? HTTP1_DONE : HTTP1_INCOMPLETE;
}

const char *http1_reason(int status)
{
    static const struct {
        int status;
        const char *reason;
    } reasons[] = {
        {100, "Continue"},
        {200, "OK"},
        {201, "Created"},
        {202, "Accepted"},
        {204, "No Content"},
        {400, "Bad Request"},
        {401, "Unauthorized"},
        {403, "Forbidden"},
        {404, "Not Found"},
        {405, "Method Not Allowed"},
        {408, "Request Timeout"},
        {409, "Conflict"},
        {413, "Content Too Large"},
        {414, "URI Too Long"},
        {417, "Expectation Failed"},
        {422, "Unprocessable Content"},
        {429, "Too Many Requests"},
        {431, "Request Header Fields Too Large"},
        {500, "Internal Server Error"},
        {501, "Not Implemented"},
        {503, "Service Unavailable"},
        {505, "HTTP Version Not Supported"},
    };
    for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "Unknown";
}
