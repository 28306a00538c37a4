/*
 * fuzz_gen.h — the request generators of the HTTP fuzzer. Each fills a
 * struct fuzz_req from a seeded PRNG: valid requests for every route,
 * hostile but well-framed ones (paths, queries, headers, versions, bodies),
 * byte-level mutations, and chunked-framing attacks. None is thread-safe for
 * one rng; separate rngs make separate streams.
 */
#ifndef SHOPD_FUZZ_GEN_H
#define SHOPD_FUZZ_GEN_H

#include <stddef.h>

#include "fuzz_req.h"
#include "fuzz_rng.h"

struct fuzz_gen_cfg {
    const char *admin_token; /* borrowed */
    int id_max;              /* ids 1..id_max mostly hit seeded rows */
};

/* A valid request for a random route (bodies sometimes invalid in content only). */
void fuzz_gen_valid(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_req *out);

/* A hostile request that is still framed so that exactly one answer is owed. */
void fuzz_gen_hostile(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_req *out);

/* A hostile JSON body sent with a correct Content-Length to a POST route. */
void fuzz_gen_body(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_req *out);

/* A valid or hostile request with bytes flipped, inserted or deleted (framing unknown). */
void fuzz_gen_mutated(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_req *out);

/* A request with a chunked body, valid or broken (framing unknown). */
void fuzz_gen_chunked(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_req *out);

/* ---- shared by the generators ---- */

/*
 * Writes "METHOD target HTTP/1.1", Host, the extra header lines (each ending
 * in CRLF; may be NULL), Content-Length when body is non-NULL, and the body.
 */
void fuzz_gen_build(struct fuzz_req *out, const char *method, const char *target,
                    const char *headers, const char *body, size_t body_len);

/* An id for a path or body: mostly 1..id_max, sometimes 0 or just past. */
long long fuzz_gen_id(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg);

/* A POST route with a JSON body: its method, target, and headers it needs. */
struct fuzz_post_route {
    const char *target;
    const char *headers; /* Authorization and/or Idempotency-Key lines, or "" */
};

/* Picks a POST route; buffers are owned by the caller (tbuf for target, hbuf for headers). */
void fuzz_gen_post_route(struct fuzz_rng *r, const struct fuzz_gen_cfg *cfg, struct fuzz_buf *tbuf,
                         struct fuzz_buf *hbuf);

#endif
