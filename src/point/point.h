/* point.h — users, balances and the points ledger: entities and repository port. */
#ifndef SHOPD_POINT_POINT_H
#define SHOPD_POINT_POINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum {
    POINT_USER_NAME_MAX_CHARS = 100,
    POINT_USER_NAME_MAX_BYTES = POINT_USER_NAME_MAX_CHARS * 4,
    POINT_HISTORY_MAX = 100,
};

struct point_user {
    int64_t id;
    char name[POINT_USER_NAME_MAX_BYTES + 1];
    int64_t balance;
};

enum point_entry_type { POINT_CHARGE, POINT_USE, POINT_REFUND };

/* One ledger row. amount is signed: CHARGE/REFUND > 0, USE < 0. */
struct point_entry {
    int64_t id;
    enum point_entry_type type;
    int64_t amount;
    int64_t balance_after;
    int64_t order_id;   /* 0 = none */
    int64_t created_at; /* epoch seconds, UTC */
};

/* "CHARGE", "USE", "REFUND" (static storage). */
const char *point_entry_type_name(enum point_entry_type t);

/* Parses a type name; returns false when unknown. */
bool point_entry_type_parse(const char *name, enum point_entry_type *out);

/*
 * Storage port of the point module; implementations must be thread-safe and
 * keep balance == sum(ledger amounts) for every user.
 */
/*
 * Writes the answers of a charge so they can be stored with an
 * Idempotency-Key and replayed byte for byte. Both return malloc'd text.
 */
struct point_charge_renderer {
    char *(*ok)(int64_t user_id, int64_t balance);
    char *(*refusal)(const struct err *e);
};

/* What to answer for a keyed charge: a fresh success or any replayed outcome. */
struct point_charge_outcome {
    int status;
    char *body; /* malloc'd; the caller frees it */
    bool replayed;
};

struct point_repo_ops {
    /* Inserts a user with balance 0 and its password hash, atomically; fills out. */
    enum err_code (*create_user)(void *self, const char *name, const char *password_hash,
                                 struct point_user *out, struct err *e);
    /* Reads the balance; ERR_USER_NOT_FOUND when absent. */
    enum err_code (*balance)(void *self, int64_t user_id, int64_t *balance, struct err *e);
    /*
     * Atomically adds amount (> 0) unless the result would exceed cap, and
     * writes the CHARGE ledger row in the same transaction. Sets *balance_after.
     * ERR_USER_NOT_FOUND; ERR_BALANCE_LIMIT_EXCEEDED (nothing changed).
     */
    enum err_code (*charge)(void *self, int64_t user_id, int64_t amount, int64_t cap,
                            int64_t *balance_after, struct err *e);
    /*
     * charge, once per (user_id, key): in one transaction claims the key (see
     * infra/pg_idempotency.h), replays a recorded outcome (out->replayed), or
     * charges and records the outcome rendered by render. Fresh success:
     * ERR_OK with out filled. Fresh refusal (ERR_USER_NOT_FOUND,
     * ERR_BALANCE_LIMIT_EXCEEDED): recorded, returned as the error. Key
     * conflicts: ERR_REQUEST_IN_PROGRESS, ERR_IDEMPOTENCY_KEY_REUSED.
     */
    enum err_code (*charge_once)(void *self, int64_t user_id, int64_t amount, int64_t cap,
                                 const char *key, const char *fingerprint,
                                 const struct point_charge_renderer *render,
                                 struct point_charge_outcome *out, struct err *e);
    /*
     * Reads up to limit ledger rows of user_id with id < before (0 = no bound),
     * newest first. ERR_USER_NOT_FOUND when the user does not exist.
     */
    enum err_code (*history)(void *self, int64_t user_id, int64_t before, size_t limit,
                             struct point_entry *out, size_t *n, struct err *e);
};

struct point_repo {
    const struct point_repo_ops *ops;
    void *self;
};

#endif
