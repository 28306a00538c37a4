/* fuzz_resp.c — strict HTTP/1.1 response parsing for the fuzzer's checks. */
#include "fuzz_resp.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { MAX_RESPONSE_HEAD = 64 * 1024, MAX_RESPONSE_BODY = 16 * 1024 * 1024 };

static bool is_tchar(unsigned char c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static enum fuzz_resp_result bad(char *why, size_t why_len, const char *what)
{
    snprintf(why, why_len, "malformed response: %s", what);
    return FUZZ_RESP_BAD;
}

/* Finds the end of the head (just past CRLFCRLF) or 0; any LF must follow a CR. */
static size_t head_end(const char *buf, size_t len, bool *bare_lf)
{
    *bare_lf = false;
    for (size_t i = 0; i < len; i++) {
        if (buf[i] != '\n')
            continue;
        if (i == 0 || buf[i - 1] != '\r') {
            *bare_lf = true;
            return 0;
        }
        if (i >= 3 && buf[i - 2] == '\n' && buf[i - 3] == '\r')
            return i + 1;
    }
    return 0;
}

enum fuzz_resp_result fuzz_resp_parse(const char *buf, size_t len, bool head_request,
                                      struct fuzz_resp *r, char *why, size_t why_len)
{
    memset(r, 0, sizeof(*r));
    static const char proto[] = "HTTP/1.1 ";
    size_t cmp = len < 9 ? len : 9;
    if (memcmp(buf, proto, cmp) != 0)
        return bad(why, why_len, "does not start with \"HTTP/1.1 \"");
    bool bare_lf;
    size_t end = head_end(buf, len, &bare_lf);
    if (bare_lf)
        return bad(why, why_len, "bare LF in the head");
    if (end == 0)
        return len > MAX_RESPONSE_HEAD ? bad(why, why_len, "head larger than 64 KiB")
                                       : FUZZ_RESP_INCOMPLETE;
    /* status line: HTTP/1.1 SP 3DIGIT SP reason CRLF */
    const char *eol = memchr(buf, '\r', end);
    if (eol - buf < 13 || buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' ||
        buf[11] < '0' || buf[11] > '9' || buf[12] != ' ')
        return bad(why, why_len, "status line is not HTTP/1.1 DDD reason");
    for (const char *p = buf + 13; p < eol; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return bad(why, why_len, "control character in the reason phrase");
    r->status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
    int lengths = 0;
    uint64_t content_length = 0;
    const char *p = eol + 2;
    while (p < buf + end - 2) {
        const char *le = memchr(p, '\r', (size_t)(buf + end - p));
        const char *colon = p;
        while (colon < le && is_tchar((unsigned char)*colon))
            colon++;
        if (colon == p || colon == le || *colon != ':')
            return bad(why, why_len, "header field is not name:value");
        size_t name_len = (size_t)(colon - p);
        const char *v = colon + 1;
        while (v < le && (*v == ' ' || *v == '\t'))
            v++;
        size_t vlen = (size_t)(le - v);
        for (const char *q = v; q < le; q++)
            if (*q == '\0')
                return bad(why, why_len, "NUL in a header value");
#define NAME_IS(s) (name_len == sizeof(s) - 1 && strncasecmp(p, s, name_len) == 0)
        if (NAME_IS("Content-Length")) {
            lengths++;
            content_length = 0;
            if (vlen == 0 || vlen > 12)
                return bad(why, why_len, "Content-Length is empty or too long");
            for (size_t i = 0; i < vlen; i++) {
                if (v[i] < '0' || v[i] > '9')
                    return bad(why, why_len, "Content-Length is not digits");
                content_length = content_length * 10 + (uint64_t)(v[i] - '0');
            }
        } else if (NAME_IS("Transfer-Encoding")) {
            return bad(why, why_len, "Transfer-Encoding in a response (shopd frames by length)");
        } else if (NAME_IS("Content-Type")) {
            if (r->has_content_type)
                return bad(why, why_len, "two Content-Type fields");
            r->has_content_type = true;
            size_t n = vlen < sizeof(r->content_type) - 1 ? vlen : sizeof(r->content_type) - 1;
            memcpy(r->content_type, v, n);
            r->content_type[n] = '\0';
        } else if (NAME_IS("Connection")) {
            r->conn_close = r->conn_close || (vlen >= 5 && strncasecmp(v, "close", 5) == 0);
        } else if (NAME_IS("Allow")) {
            r->has_allow = vlen > 0;
        } else if (NAME_IS("Retry-After")) {
            r->has_retry_after = vlen > 0;
        } else if (NAME_IS("WWW-Authenticate")) {
            r->has_www_authenticate = vlen > 0;
        } else if (NAME_IS("Idempotent-Replayed")) {
            r->has_replayed = true;
        }
#undef NAME_IS
        p = le + 2;
    }
    r->body_off = end;
    if (r->status < 200) { /* interim: no body, no framing */
        r->total = end;
        return FUZZ_RESP_DONE;
    }
    if (lengths != 1)
        return bad(why, why_len,
                   lengths ? "more than one Content-Length" : "no Content-Length (cannot frame)");
    if (content_length > MAX_RESPONSE_BODY)
        return bad(why, why_len, "Content-Length above 16 MiB");
    r->body_len = head_request || r->status == 204 || r->status == 304 ? 0 : content_length;
    if (len - end < r->body_len)
        return FUZZ_RESP_INCOMPLETE;
    r->total = end + r->body_len;
    return FUZZ_RESP_DONE;
}
