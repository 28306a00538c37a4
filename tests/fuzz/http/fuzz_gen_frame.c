/*
 * fuzz_gen_frame.c — framing-level generators: byte mutations of valid or
 * hostile requests, and chunked bodies (valid, bad sizes, extensions,
 * trailers). How many answers these owe is not known in advance.
 */
#include <string.h>

#include "fuzz_gen.h"

static const char interesting[] = {'\0', '\r', '\n', ' ',        '\t',       ':',        '%', '/',
                                   '"',  '{',  '}',  '[',        '\\',       '0',        '9', '-',
                                   '?',  '&',  '=',  (char)0xff, (char)0x80, (char)0xc3, 'A', ','};

/* One mutation: flip, overwrite, insert, delete or duplicate bytes at a random place. */
static void mutate_once(struct fuzz_rng *r, struct fuzz_buf *b, size_t lo, size_t hi)
{
    if (hi <= lo)
        hi = b->len, lo = 0;
    if (b->len == 0) {
        fuzz_buf_put(b, "\r\n", 2);
        return;
    }
    size_t at = lo + (size_t)fuzz_rng_below(r, hi - lo);
    char c = interesting[fuzz_rng_below(r, sizeof(interesting))];
    switch (fuzz_rng_below(r, 6)) {
    case 0:
        b->p[at] ^= (char)(1u << fuzz_rng_below(r, 8));
        break;
    case 1:
        b->p[at] = c;
        break;
    case 2:
        fuzz_buf_insert(b, at, &c, 1);
        break;
    case 3:
        fuzz_buf_erase(b, at, (size_t)fuzz_rng_range(r, 1, 8));
        break;
    case 4: { /* duplicate a slice */
        size_t n = (size_t)fuzz_rng_range(r, 1, 32);
        if (n > b->len - at)
            n = b->len - at;
        struct fuzz_buf tmp = {0};
        fuzz_buf_put(&tmp, b->p + at, n);
        fuzz_buf_insert(b, at, tmp.p, tmp.len);
        fuzz_buf_free(&tmp);
        break;
    }
    default: { /* insert a run of one interesting byte */
        size_t n = (size_t)fuzz_rng_range(r, 2, 300);
        struct fuzz_buf tmp = {0};
        fuzz_buf_fill(&tmp, c, n);
        fuzz_buf_insert(b, at, tmp.p, tmp.len);
        fuzz_buf_free(&tmp);
        break;
    }
    }
}

void fuzz_gen_mutated(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_req *out)
{
    if (fuzz_rng_chance(r, 70))
        fuzz_gen_valid(r, cfg, out);
    else
        fuzz_gen_hostile(r, cfg, out);
    struct fuzz_buf *b = &out->bytes;
    const char *sep = strstr(b->p ? b->p : "", "\r\n\r\n");
    size_t head_end = sep ? (size_t)(sep - b->p) + 4 : b->len;
    const char *eol = strstr(b->p ? b->p : "", "\r\n");
    size_t line_end = eol ? (size_t)(eol - b->p) : b->len;
    int n = (int)fuzz_rng_range(r, 1, 4);
    bool body_only = head_end < b->len && fuzz_rng_chance(r, 30);
    for (int i = 0; i < n; i++) {
        if (body_only) { /* overwrite body bytes only: framing stays intact */
            size_t at = head_end + (size_t)fuzz_rng_below(r, b->len - head_end);
            b->p[at] = fuzz_rng_chance(r, 50) ? interesting[fuzz_rng_below(r, sizeof(interesting))]
                                              : (char)fuzz_rng_below(r, 256);
            continue;
        }
        unsigned where = (unsigned)fuzz_rng_below(r, 3);
        if (where == 0)
            mutate_once(r, b, 0, line_end);
        else if (where == 1)
            mutate_once(r, b, line_end, head_end);
        else
            mutate_once(r, b, head_end, b->len);
    }
    out->gen = body_only ? "mutated-body" : "mutated";
    out->known = body_only && out->known;
    out->head = out->head && b->len >= 5 && memcmp(b->p, "HEAD ", 5) == 0;
}

void fuzz_gen_chunked(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_req *out)
{
    struct fuzz_buf t = {0}, h = {0};
    fuzz_gen_post_route(r, cfg, &t, &h);
    struct fuzz_buf *b = &out->bytes;
    fuzz_buf_printf(b, "POST %s HTTP/1.1\r\nHost: 127.0.0.1\r\n%s", t.p, h.p ? h.p : "");
    fuzz_buf_puts(b, FUZZ_PICK(r, ((const char *const[]){
                                      "Transfer-Encoding: chunked\r\n",
                                      "Transfer-Encoding: chunked\r\n",
                                      "Transfer-Encoding: CHUNKED\r\n",
                                      "Transfer-Encoding:  chunked \r\n",
                                      "Transfer-Encoding: chunked, chunked\r\n",
                                      "Transfer-Encoding: xchunked\r\n",
                                  })));
    fuzz_buf_puts(b, "\r\n");
    static const char json[] = "{\"user_id\":1,\"items\":[{\"product_id\":1,\"quantity\":1}]}";
    size_t jlen = sizeof(json) - 1, sent = 0;
    int chunks = (int)fuzz_rng_range(r, 1, 5);
    for (int i = 0; i < chunks && sent < jlen; i++) {
        size_t n =
            i == chunks - 1 ? jlen - sent : (size_t)fuzz_rng_range(r, 1, (int64_t)(jlen - sent));
        switch (fuzz_rng_below(r, 12)) {
        case 0:
            fuzz_buf_printf(b, "%s\r\n",
                            FUZZ_PICK(r, ((const char *const[]){
                                             "zz", "-1", "0x10", " 5", "", "ffffffffffffffffffff",
                                             "00000000000000000000000000000001", "1 1", "+1"})));
            break;
        case 1:
            fuzz_buf_printf(b, "%zx;ext=%s\r\n", n,
                            fuzz_rng_chance(r, 50) ? "\"quoted\"" : "v;other");
            break;
        case 2: { /* a huge extension */
            fuzz_buf_printf(b, "%zx;", n);
            fuzz_buf_fill(b, 'e', (size_t)fuzz_rng_range(r, 900, 1200));
            fuzz_buf_puts(b, "\r\n");
            break;
        }
        case 3: /* size larger than the data that follows */
            fuzz_buf_printf(b, "%zx\r\n", n + (size_t)fuzz_rng_range(r, 1, 4));
            break;
        case 4: /* bare LF */
            fuzz_buf_printf(b, "%zx\n", n);
            break;
        default:
            fuzz_buf_printf(b, "%zX\r\n", n);
            break;
        }
        fuzz_buf_put(b, json + sent, n);
        fuzz_buf_puts(b, fuzz_rng_chance(r, 90) ? "\r\n" : "\n");
        sent += n;
    }
    switch (fuzz_rng_below(r, 8)) {
    case 0:
        fuzz_buf_puts(b, "0\r\nX-Trailer: 1\r\nX-Other: 2\r\n\r\n");
        break;
    case 1:
        fuzz_buf_puts(b, "0\r\nX-Big: ");
        fuzz_buf_fill(b, 't', (size_t)fuzz_rng_range(r, 7000, 10000));
        fuzz_buf_puts(b, "\r\n\r\n");
        break;
    case 2:
        fuzz_buf_put(b, "0\r\nX-Nul: a\0b\r\n\r\n", 17);
        break;
    case 3:
        fuzz_buf_puts(b, "0\r\n"); /* no final CRLF: the server waits, then 408 */
        break;
    case 4:
        fuzz_buf_puts(b, "0;last=1\r\n\r\n");
        break;
    default:
        fuzz_buf_puts(b, "0\r\n\r\n");
        break;
    }
    out->gen = "chunked";
    out->known = false;
    fuzz_buf_free(&t);
    fuzz_buf_free(&h);
}
