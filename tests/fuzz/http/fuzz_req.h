/*
 * fuzz_req.h — one generated request: its exact bytes and what the fuzzer
 * may expect of the answer.
 */
#ifndef SHOPD_FUZZ_REQ_H
#define SHOPD_FUZZ_REQ_H

#include <stdbool.h>

#include "fuzz_buf.h"

struct fuzz_req {
    struct fuzz_buf bytes; /* owned: exactly what goes on the wire */
    const char *gen;       /* static name of the generator (statistics, reports) */
    bool known;            /* framed correctly: exactly one answer is owed */
    bool head;             /* HEAD: the answer has no body */
    bool expect_continue;  /* "Expect: 100-continue": a 100 may come first */
    bool text_ok;          /* GET /metrics: a 200 may be text/plain */
};

/* Empties r for reuse (keeps its buffer). */
void fuzz_req_reset(struct fuzz_req *r);

#endif
