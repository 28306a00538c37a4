/* target.h — the request target: percent-decoded path and query parameters. */
#ifndef SHOPD_HTTP_TARGET_H
#define SHOPD_HTTP_TARGET_H

#include <stddef.h>

#include "core/arena.h"
#include "core/err.h"
#include "http/http.h"

/*
 * Splits a request target in origin form ("/p/a?x=1&y") or absolute form
 * ("http://host/p?x") into its percent-decoded path and up to max_query
 * query parameters (names and values percent-decoded, '+' as a space, a
 * name without '=' has value ""; empty pieces between '&' are skipped).
 * Strings are copied into a. Returns ERR_OK; ERR_BAD_REQUEST for a target
 * in another form, a malformed or NUL-producing percent escape;
 * ERR_INVALID_REQUEST when there are more than max_query parameters; or
 * ERR_INTERNAL when the arena cannot allocate. Thread-safe.
 */
enum err_code http_target_parse(const char *target, struct arena *a, const char **path,
                                struct http_kv *query, size_t max_query, size_t *n_query,
                                struct err *e);

#endif
