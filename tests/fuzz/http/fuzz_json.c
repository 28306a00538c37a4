/* fuzz_json.c — recursive-descent JSON validator with a depth limit. */
#include "fuzz_json.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { MAX_DEPTH = 256 };

struct cursor {
    const char *p, *end;
    const char *err;
};

static void ws(struct cursor *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static bool fail(struct cursor *c, const char *why)
{
    if (!c->err)
        c->err = why;
    return false;
}

/* One UTF-8 sequence at c->p (non-ASCII lead byte): checks and skips it. */
static bool utf8_seq(struct cursor *c)
{
    const unsigned char *s = (const unsigned char *)c->p;
    size_t left = (size_t)(c->end - c->p);
    unsigned char b = s[0];
    size_t n;
    uint32_t cp;
    if (b >= 0xc2 && b <= 0xdf) {
        n = 2;
        cp = b & 0x1f;
    } else if (b >= 0xe0 && b <= 0xef) {
        n = 3;
        cp = b & 0x0f;
    } else if (b >= 0xf0 && b <= 0xf4) {
        n = 4;
        cp = b & 0x07;
    } else {
        return fail(c, "invalid UTF-8 lead byte in a string");
    }
    if (left < n)
        return fail(c, "truncated UTF-8 sequence");
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return fail(c, "invalid UTF-8 continuation byte");
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return fail(c, "overlong or surrogate UTF-8 sequence");
    c->p += n;
    return true;
}

static bool string(struct cursor *c)
{
    c->p++; /* the opening quote */
    while (c->p < c->end) {
        unsigned char ch = (unsigned char)*c->p;
        if (ch == '"') {
            c->p++;
            return true;
        }
        if (ch < 0x20)
            return fail(c, "control character in a string");
        if (ch == '\\') {
            if (c->p + 1 >= c->end)
                return fail(c, "truncated escape");
            char e = c->p[1];
            if (e == 'u') {
                if (c->end - c->p < 6)
                    return fail(c, "truncated \\u escape");
                for (int i = 2; i < 6; i++)
                    if (!strchr("0123456789abcdefABCDEF", c->p[i]) || !c->p[i])
                        return fail(c, "bad \\u escape");
                c->p += 6;
            } else if (strchr("\"\\/bfnrt", e) && e) {
                c->p += 2;
            } else {
                return fail(c, "bad escape");
            }
            continue;
        }
        if (ch >= 0x80) {
            if (!utf8_seq(c))
                return false;
            continue;
        }
        c->p++;
    }
    return fail(c, "unterminated string");
}

static bool digits(struct cursor *c)
{
    const char *s = c->p;
    while (c->p < c->end && *c->p >= '0' && *c->p <= '9')
        c->p++;
    return c->p > s;
}

static bool number(struct cursor *c)
{
    if (*c->p == '-')
        c->p++;
    if (c->p < c->end && *c->p == '0')
        c->p++;
    else if (!digits(c))
        return fail(c, "bad number");
    if (c->p < c->end && *c->p == '.') {
        c->p++;
        if (!digits(c))
            return fail(c, "bad fraction");
    }
    if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
        c->p++;
        if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
            c->p++;
        if (!digits(c))
            return fail(c, "bad exponent");
    }
    return true;
}

static bool literal(struct cursor *c, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0)
        return fail(c, "unexpected character");
    c->p += n;
    return true;
}

static bool value(struct cursor *c, int depth, enum fuzz_json_type *type,
                  struct fuzz_json_doc *top);

static bool object(struct cursor *c, int depth, struct fuzz_json_doc *top)
{
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == '}') {
        c->p++;
        return true;
    }
    for (;;) {
        ws(c);
        if (c->p >= c->end || *c->p != '"')
            return fail(c, "object key must be a string");
        const char *key = c->p + 1;
        if (!string(c))
            return false;
        size_t key_len = (size_t)(c->p - 1 - key);
        ws(c);
        if (c->p >= c->end || *c->p != ':')
            return fail(c, "missing ':' in object");
        c->p++;
        ws(c);
        const char *val = c->p;
        enum fuzz_json_type t;
        if (!value(c, depth + 1, &t, NULL))
            return false;
        if (top && top->n_members < FUZZ_JSON_MAX_MEMBERS)
            top->members[top->n_members++] =
                (struct fuzz_json_member){key, key_len, t, val, (size_t)(c->p - val)};
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == '}') {
            c->p++;
            return true;
        }
        return fail(c, "missing ',' or '}' in object");
    }
}

static bool array(struct cursor *c, int depth)
{
    c->p++;
    ws(c);
    if (c->p < c->end && *c->p == ']') {
        c->p++;
        return true;
    }
    for (;;) {
        ws(c);
        enum fuzz_json_type t;
        if (!value(c, depth + 1, &t, NULL))
            return false;
        ws(c);
        if (c->p < c->end && *c->p == ',') {
            c->p++;
            continue;
        }
        if (c->p < c->end && *c->p == ']') {
            c->p++;
            return true;
        }
        return fail(c, "missing ',' or ']' in array");
    }
}

static bool value(struct cursor *c, int depth, enum fuzz_json_type *type, struct fuzz_json_doc *top)
{
    if (depth > MAX_DEPTH)
        return fail(c, "nested too deeply");
    if (c->p >= c->end)
        return fail(c, "unexpected end of text");
    switch (*c->p) {
    case '{':
        *type = FJ_OBJECT;
        return object(c, depth, top);
    case '[':
        *type = FJ_ARRAY;
        return array(c, depth);
    case '"':
        *type = FJ_STRING;
        return string(c);
    case 't':
        *type = FJ_TRUE;
        return literal(c, "true");
    case 'f':
        *type = FJ_FALSE;
        return literal(c, "false");
    case 'n':
        *type = FJ_NULL;
        return literal(c, "null");
    default:
        *type = FJ_NUMBER;
        if (*c->p == '-' || (*c->p >= '0' && *c->p <= '9'))
            return number(c);
        return fail(c, "unexpected character");
    }
}

bool fuzz_json_parse(const char *p, size_t n, struct fuzz_json_doc *doc, char *why, size_t why_len)
{
    struct cursor c = {p, p + n, NULL};
    memset(doc, 0, sizeof(*doc));
    ws(&c);
    bool ok = value(&c, 0, &doc->type, doc);
    if (ok) {
        ws(&c);
        if (c.p != c.end)
            ok = fail(&c, "text after the JSON value");
    }
    if (!ok)
        snprintf(why, why_len, "%s at byte %zu", c.err ? c.err : "invalid", (size_t)(c.p - p));
    return ok;
}

const struct fuzz_json_member *fuzz_json_get(const struct fuzz_json_doc *doc, const char *key)
{
    size_t n = strlen(key);
    for (size_t i = 0; i < doc->n_members; i++)
        if (doc->members[i].key_len == n && memcmp(doc->members[i].key, key, n) == 0)
            return &doc->members[i];
    return NULL;
}

bool fuzz_json_int(const struct fuzz_json_member *m, int64_t *out)
{
    if (!m || m->type != FJ_NUMBER || m->val_len == 0 || m->val_len > 24)
        return false;
    char tmp[32];
    memcpy(tmp, m->val, m->val_len);
    tmp[m->val_len] = '\0';
    if (strpbrk(tmp, ".eE"))
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(tmp, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}
