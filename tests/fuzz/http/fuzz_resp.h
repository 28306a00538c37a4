/*
 * fuzz_resp.h — strict parsing of one HTTP/1.1 response at the start of a
 * byte buffer, as the fuzzer reads them off a connection: status line,
 * header fields, a body framed by exactly one Content-Length.
 */
#ifndef SHOPD_FUZZ_RESP_H
#define SHOPD_FUZZ_RESP_H

#include <stdbool.h>
#include <stddef.h>

enum fuzz_resp_result { FUZZ_RESP_INCOMPLETE, FUZZ_RESP_DONE, FUZZ_RESP_BAD };

/* What one parsed response says; strings are copies (bounded). */
struct fuzz_resp {
    int status;
    size_t total;    /* bytes of the whole response (head + body) */
    size_t body_off; /* body starts here, relative to the response */
    size_t body_len;
    char content_type[128];
    bool has_content_type, conn_close;
    bool has_allow, has_retry_after, has_www_authenticate, has_replayed;
};

/*
 * Parses the response at buf[0..len). head_request: the request was HEAD
 * (no body follows whatever Content-Length says). Returns DONE with r
 * filled, INCOMPLETE when more bytes are needed, BAD with a reason in why.
 * Thread-safe.
 */
enum fuzz_resp_result fuzz_resp_parse(const char *buf, size_t len, bool head_request,
                                      struct fuzz_resp *r, char *why, size_t why_len);

#endif
