/* point_service.h — users and points use cases: create, balance, charge, history. */
#ifndef SHOPD_POINT_POINT_SERVICE_H
#define SHOPD_POINT_POINT_SERVICE_H

#include <stdbool.h>

#include "auth/password.h"
#include "point/point.h"

/*
 * Repository (borrowed) and limits. Plain data, safe to share across threads.
 * Charges take no per-user Redis lock: a charge is one conditional statement
 * on one row (with a key, that statement and its record in one transaction),
 * and the row lock PostgreSQL takes for it already serialises it with every
 * other change of that balance, for exactly as long as needed; a Redis lock
 * around it only added round trips (docs/distributed-lock.md, "Key and scope").
 */
struct point_service {
    struct point_repo repo;
    int64_t charge_max;             /* largest single charge */
    int64_t balance_max;            /* cap on charges (a refund may pass it) */
    struct password_hasher *hasher; /* sign-up hashes the password (borrowed) */
};

/* A page of ledger rows; items malloc'd, free with point_history_cleanup. */
struct point_history {
    struct point_entry *items;
    size_t n;
    bool has_more;
    int64_t next_before; /* `before` for the next page; valid when has_more */
};

/*
 * Signs a user up: name 1..100 characters, not blank (else INVALID_REQUEST
 * "name"); password 8..128 characters (else INVALID_REQUEST "password"),
 * stored only as an Argon2id hash. ERR_UNAVAILABLE when no hashing slot
 * freed up in time or the database is down.
 */
enum err_code point_service_create_user(const struct point_service *s, const char *name,
                                        const char *password, struct point_user *out,
                                        struct err *e);

/* Reads user_id's balance. ERR_USER_NOT_FOUND. */
enum err_code point_service_balance(const struct point_service *s, int64_t user_id,
                                    int64_t *balance, struct err *e);

/*
 * Charges amount points to user_id. ERR_INVALID_AMOUNT unless
 * 1 <= amount <= charge_max; ERR_USER_NOT_FOUND; ERR_BALANCE_LIMIT_EXCEEDED
 * when balance + amount would pass balance_max (nothing is applied then).
 * The cap limits charges only: an order refund (cancel) always succeeds and
 * may leave the balance above it; charges are refused until it is spent back.
 */
enum err_code point_service_charge(const struct point_service *s, int64_t user_id, int64_t amount,
                                   int64_t *balance_after, struct err *e);

/*
 * point_service_charge with an Idempotency-Key: applied once per (user, key)
 * and amount; a retry gets the first outcome again (out->replayed). Checks as
 * point_service_charge (not recorded when refused by them), plus
 * ERR_IDEMPOTENCY_KEY_REQUIRED for a malformed key, ERR_REQUEST_IN_PROGRESS,
 * ERR_IDEMPOTENCY_KEY_REUSED (same key, other amount).
 */
enum err_code point_service_charge_once(const struct point_service *s, int64_t user_id,
                                        int64_t amount, const char *key,
                                        const struct point_charge_renderer *render,
                                        struct point_charge_outcome *out, struct err *e);

/*
 * Reads up to limit (1..100) ledger rows older than before (0 = newest),
 * newest first. ERR_INVALID_REQUEST naming limit/before; ERR_USER_NOT_FOUND.
 */
enum err_code point_service_history(const struct point_service *s, int64_t user_id, int64_t before,
                                    int64_t limit, struct point_history *out, struct err *e);

/* Frees h->items. */
void point_history_cleanup(struct point_history *h);

#endif
