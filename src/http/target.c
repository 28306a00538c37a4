/* target.c — request target splitting and percent-decoding. */
#include "http/target.h"

#include <string.h>
#include <strings.h>

#include "core/text.h"

/*
 * Decodes s[0..n) into a new arena string. plus: '+' means a space (query).
 * Returns ERR_OK with *out set, or the error with e set.
 */
static enum err_code decode(const char *s, size_t n, bool plus, struct arena *a, const char **out,
                            struct err *e)
{
    char *d = arena_alloc(a, n + 1);
    if (!d)
        return err_set(e, ERR_INTERNAL, "out of memory decoding the request target");
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = i + 2 < n ? text_hex_digit(s[i + 1]) : -1;
            int lo = i + 2 < n ? text_hex_digit(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return err_set(e, ERR_BAD_REQUEST,
                               "malformed percent-encoding in the request target");
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return err_set(e, ERR_BAD_REQUEST, "%%00 is not allowed in the request target");
            i += 2;
        } else if (plus && c == '+') {
            c = ' ';
        }
        d[j++] = c;
    }
    d[j] = '\0';
    *out = d;
    return ERR_OK;
}

/* Parses the query string p (after '?') into query[]. */
static enum err_code parse_query(const char *p, struct arena *a, struct http_kv *query,
                                 size_t max_query, size_t *n_query, struct err *e)
{
    while (*p && *p != '#') {
        size_t len = strcspn(p, "&#");
        if (len > 0) {
            if (*n_query >= max_query)
                return err_set(e, ERR_INVALID_REQUEST, "more than %zu query parameters", max_query);
            const char *eq = memchr(p, '=', len);
            size_t nlen = eq ? (size_t)(eq - p) : len;
            struct http_kv *kv = &query[*n_query];
            enum err_code rc = decode(p, nlen, true, a, &kv->name, e);
            if (rc == ERR_OK)
                rc = decode(eq ? eq + 1 : p + len, eq ? len - nlen - 1 : 0, true, a, &kv->value, e);
            if (rc != ERR_OK)
                return rc;
            (*n_query)++;
        }
        p += len;
        if (*p == '&')
            p++;
    }
    return ERR_OK;
}

enum err_code http_target_parse(const char *target, struct arena *a, const char **path,
                                struct http_kv *query, size_t max_query, size_t *n_query,
                                struct err *e)
{
    *n_query = 0;
    const char *p = target;
    size_t scheme = strncasecmp(p, "http://", 7) == 0    ? 7
                    : strncasecmp(p, "https://", 8) == 0 ? 8
                                                         : 0;
    if (scheme) { /* absolute form: skip the authority, which is not ours to check */
        p += scheme;
        p += strcspn(p, "/?#");
        if (*p != '/') {
            *path = "/";
            return *p == '?' ? parse_query(p + 1, a, query, max_query, n_query, e) : ERR_OK;
        }
    }
    if (*p != '/')
        return err_set(e, ERR_BAD_REQUEST, "request target must start with '/'");
    size_t plen = strcspn(p, "?#");
    enum err_code rc = decode(p, plen, false, a, path, e);
    if (rc != ERR_OK || p[plen] != '?')
        return rc;
    return parse_query(p + plen + 1, a, query, max_query, n_query, e);
}
