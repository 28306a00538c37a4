/* err.h — the one error convention: a code, an HTTP status, a stable string. */
#ifndef SHOPD_CORE_ERR_H
#define SHOPD_CORE_ERR_H

#include <stdbool.h>
#include <stdint.h>

/*
 * X(enum name, HTTP status, stable code string, problem title)
 * The stable code string is the `code` member of problem+json responses:
 * clients branch on it, so it never changes once released.
 */
#define ERR_CODES(X)                                                                               \
    X(ERR_OK, 200, "OK", "OK")                                                                     \
    X(ERR_INVALID_JSON, 400, "INVALID_JSON", "Malformed JSON")                                     \
    X(ERR_INVALID_REQUEST, 400, "INVALID_REQUEST", "Invalid request")                              \
    X(ERR_INVALID_AMOUNT, 400, "INVALID_AMOUNT", "Invalid amount")                                 \
    X(ERR_IDEMPOTENCY_KEY_REQUIRED, 400, "IDEMPOTENCY_KEY_REQUIRED", "Idempotency key required")   \
    X(ERR_UNAUTHORIZED, 401, "UNAUTHORIZED", "Unauthorized")                                       \
    X(ERR_INVALID_CREDENTIALS, 401, "INVALID_CREDENTIALS", "Invalid credentials")                  \
    X(ERR_FORBIDDEN, 403, "FORBIDDEN", "Forbidden")                                                \
    X(ERR_NOT_FOUND, 404, "NOT_FOUND", "Not found")                                                \
    X(ERR_PRODUCT_NOT_FOUND, 404, "PRODUCT_NOT_FOUND", "Product not found")                        \
    X(ERR_USER_NOT_FOUND, 404, "USER_NOT_FOUND", "User not found")                                 \
    X(ERR_ORDER_NOT_FOUND, 404, "ORDER_NOT_FOUND", "Order not found")                              \
    X(ERR_COUPON_NOT_FOUND, 404, "COUPON_NOT_FOUND", "Coupon not found")                           \
    X(ERR_ISSUE_REQUEST_NOT_FOUND, 404, "ISSUE_REQUEST_NOT_FOUND", "Issue request not found")      \
    X(ERR_METHOD_NOT_ALLOWED, 405, "METHOD_NOT_ALLOWED", "Method not allowed")                     \
    X(ERR_OUT_OF_STOCK, 409, "OUT_OF_STOCK", "Out of stock")                                       \
    X(ERR_INSUFFICIENT_BALANCE, 409, "INSUFFICIENT_BALANCE", "Insufficient balance")               \
    X(ERR_BALANCE_LIMIT_EXCEEDED, 409, "BALANCE_LIMIT_EXCEEDED", "Balance limit exceeded")         \
    X(ERR_COUPON_NOT_USABLE, 409, "COUPON_NOT_USABLE", "Coupon not usable")                        \
    X(ERR_COUPON_SOLD_OUT, 409, "COUPON_SOLD_OUT", "Coupon sold out")                              \
    X(ERR_COUPON_ALREADY_ISSUED, 409, "COUPON_ALREADY_ISSUED", "Coupon already issued")            \
    X(ERR_COUPON_EXPIRED, 409, "COUPON_EXPIRED", "Coupon expired")                                 \
    X(ERR_ORDER_NOT_CANCELLABLE, 409, "ORDER_NOT_CANCELLABLE", "Order not cancellable")            \
    X(ERR_REQUEST_IN_PROGRESS, 409, "REQUEST_IN_PROGRESS", "Request in progress")                  \
    X(ERR_BAD_REQUEST, 400, "BAD_REQUEST", "Bad request")                                          \
    X(ERR_REQUEST_TIMEOUT, 408, "REQUEST_TIMEOUT", "Request timeout")                              \
    X(ERR_PAYLOAD_TOO_LARGE, 413, "PAYLOAD_TOO_LARGE", "Payload too large")                        \
    X(ERR_URI_TOO_LONG, 414, "URI_TOO_LONG", "URI too long")                                       \
    X(ERR_EXPECTATION_FAILED, 417, "EXPECTATION_FAILED", "Expectation failed")                     \
    X(ERR_HEADERS_TOO_LARGE, 431, "HEADERS_TOO_LARGE", "Request header fields too large")          \
    X(ERR_IDEMPOTENCY_KEY_REUSED, 422, "IDEMPOTENCY_KEY_REUSED", "Idempotency key reused")         \
    X(ERR_TOO_MANY_ATTEMPTS, 429, "TOO_MANY_ATTEMPTS", "Too many attempts")                        \
    X(ERR_INTERNAL, 500, "INTERNAL_ERROR", "Internal error")                                       \
    X(ERR_NOT_IMPLEMENTED, 501, "NOT_IMPLEMENTED", "Not implemented")                              \
    X(ERR_UNAVAILABLE, 503, "SERVICE_UNAVAILABLE", "Service unavailable")                          \
    X(ERR_HTTP_VERSION, 505, "HTTP_VERSION_NOT_SUPPORTED", "HTTP version not supported")

enum err_code {
#define ERR_ENUM_ENTRY(name, status, code, title) name,
    ERR_CODES(ERR_ENUM_ENTRY)
#undef ERR_ENUM_ENTRY
        ERR_CODE_COUNT
};

/*
 * What went wrong: a code plus a short detail in PostgreSQL's style (lower
 * case, no final period, names the value). Embedded, never allocated.
 * `field` names the offending request field for INVALID_REQUEST (has_field
 * says whether one was named: a JSON member may be named "");
 * `product_id` is set (> 0) for product-related errors and becomes the
 * `product_id` member of the problem document.
 */
struct err {
    enum err_code code;
    char detail[256];
    char field[64];
    bool has_field; /* field was set (it may be "": a JSON member named "") */
    int64_t product_id;
};

/* Resets e to ERR_OK with empty detail. e may be NULL. Thread-safe. */
void err_clear(struct err *e);

/*
 * Sets e's code and printf-formatted detail (truncated to fit). e may be NULL.
 * Returns code, so callers can write `return err_set(e, ERR_X, "...")`.
 */
enum err_code err_set(struct err *e, enum err_code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Like err_set, and records the offending field name (INVALID_REQUEST). */
enum err_code err_set_field(struct err *e, enum err_code code, const char *field, const char *fmt,
                            ...) __attribute__((format(printf, 4, 5)));

/* HTTP status for code (500 for an unknown value). Thread-safe. */
int err_http_status(enum err_code code);

/* Stable machine-readable code string (static storage). Thread-safe. */
const char *err_code_str(enum err_code code);

/* Human title for the problem document (static storage). Thread-safe. */
const char *err_title(enum err_code code);

#endif
