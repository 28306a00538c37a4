/* problem.h — RFC 9457 problem+json documents from struct err. */
#ifndef SHOPD_HTTP_PROBLEM_H
#define SHOPD_HTTP_PROBLEM_H

#include "core/err.h"
#include "http/http.h"

/*
 * Builds {"type":"about:blank","title","status","detail","code"} plus
 * "field" (INVALID_REQUEST with a field) and "product_id" (when > 0).
 * Returns a new reference (caller owns) or NULL on OOM. Thread-safe.
 */
json_t *problem_new(const struct err *e);

/* Replaces resp with the problem document for e (application/problem+json). */
void problem_respond(struct http_resp *resp, const struct err *e);

#endif
