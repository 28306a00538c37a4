/*
 * fuzz_check.h — what every answer of shopd must satisfy (docs/api.md): a
 * status the contract allows, problem+json for every error (members type,
 * title, status, detail, code; status equal to the HTTP status; code known
 * and matching), JSON for every success, Allow on 405, WWW-Authenticate on
 * 401, Retry-After on 503. A 500 is always reported.
 */
#ifndef SHOPD_FUZZ_CHECK_H
#define SHOPD_FUZZ_CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fuzz_req.h"
#include "fuzz_resp.h"

/* A product the answer shows was created (201 with a Product body). */
struct fuzz_created {
    bool product;
    int64_t id, stock;
};

/*
 * Checks response r (whose bytes start at resp) to req. Returns true when
 * it passes; false with the reason in why. Fills created. Thread-safe.
 */
bool fuzz_check_response(const struct fuzz_req *req, const char *resp, const struct fuzz_resp *r,
                         struct fuzz_created *created, char *why, size_t why_len);

#endif
