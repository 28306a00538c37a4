/* router.c — segment-by-segment matching of a path against the route table. */
#include "http/router.h"

#include <stdio.h>
#include <string.h>

/* Parses a digit segment [s, s+len) as a positive int64; 0 when it does not fit. */
static int64_t segment_id(const char *s, size_t len)
{
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        int d = s[i] - '0';
        if (v > (INT64_MAX - d) / 10)
            return 0;
        v = v * 10 + d;
    }
    return v;
}

static bool segment_is_digits(const char *s, size_t len)
{
    if (len == 0 || len > 32)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

/* True when path matches pattern; collects {id} values. */
static bool pattern_matches(const char *pattern, const char *path, int64_t ids[HTTP_MAX_PATH_IDS],
                            size_t *n_ids)
{
    *n_ids = 0;
    const char *p = pattern, *s = path;
    while (*p && *s) {
        if (*p != '/' || *s != '/')
            return false;
        p++;
        s++;
        size_t plen = strcspn(p, "/");
        size_t slen = strcspn(s, "/");
        if (plen == 4 && memcmp(p, "{id}", 4) == 0) {
            if (!segment_is_digits(s, slen) || *n_ids >= HTTP_MAX_PATH_IDS)
                return false;
            ids[(*n_ids)++] = segment_id(s, slen);
        } else if (plen != slen || memcmp(p, s, plen) != 0) {
            return false;
        }
        p += plen;
        s += slen;
    }
    return *p == '\0' && *s == '\0';
}

enum router_result router_match(const struct router *r, enum http_method method, const char *path,
                                size_t *route_index, int64_t ids[HTTP_MAX_PATH_IDS], size_t *n_ids,
                                char *allow, size_t allow_cap)
{
    bool allowed[HTTP_METHOD_COUNT] = {false};
    bool path_known = false;
    int64_t scratch[HTTP_MAX_PATH_IDS];
    size_t n_scratch;

    for (size_t i = 0; i < r->n_routes; i++) {
        const struct route *rt = &r->routes[i];
        if (!pattern_matches(rt->pattern, path, scratch, &n_scratch))
            continue;
        if (rt->method == method) {
            *route_index = i;
            memcpy(ids, scratch, sizeof(scratch));
            *n_ids = n_scratch;
            return ROUTER_MATCH;
        }
        path_known = true;
        allowed[rt->method] = true;
    }
    if (!path_known)
        return ROUTER_NOT_FOUND;

    size_t used = 0;
    if (allow_cap)
        allow[0] = '\0';
    for (int m = 0; m < HTTP_METHOD_COUNT; m++) {
        if (!allowed[m] || used >= allow_cap)
            continue;
        int w = snprintf(allow + used, allow_cap - used, "%s%s", used ? ", " : "",
                         http_method_name((enum http_method)m));
        if (w > 0)
            used += (size_t)w;
    }
    return ROUTER_METHOD_NOT_ALLOWED;
}
