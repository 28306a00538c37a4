/* point.h — users, balances and the points ledger: entities and repository port. */
#ifndef SHOPD_POINT_POINT_H
#define SHOPD_POINT_POINT_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "core/idempotency.h"

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

/* What a charge came to in storage. */
struct point_charge_result {
    bool applied;    /* credited, with its CHARGE row */
    bool exists;     /* the user exists */
    int64_t balance; /* applied: the balance after; else the balance the refusal saw */
};

/*
 * Writes the answers of a keyed charge in the form they are stored under
 * the Idempotency-Key and replayed byte for byte (the HTTP adapter's
 * encoding, opaque to the service). Each fills out (status, malloc'd body)
 * and returns false when out of memory.
 */
struct point_charge_renderer {
    bool (*ok)(int64_t user_id, int64_t balance, struct recorded_outcome *out);
    bool (*refusal)(const struct err *e, struct recorded_outcome *out);
};

/* What to answer for a keyed charge: a fresh success or any replayed outcome. */
struct point_charge_outcome {
    int status;
    char *body; /* malloc'd; the caller frees it */
    bool replayed;
};

/*
 * Storage port of the point module; implementations must be thread-safe and
 * keep balance == sum(ledger amounts) for every user. Called through the
 * wrappers below, which state the contracts.
 */
struct point_repo_ops {
    enum err_code (*create_user)(void *self, const char *name, const char *password_hash,
                                 struct point_user *out, struct err *e);
    enum err_code (*balance)(void *self, int64_t user_id, int64_t *balance, struct err *e);
    enum err_code (*charge)(void *self, int64_t user_id, int64_t amount, int64_t cap,
                            struct point_charge_result *out, struct err *e);
    enum err_code (*charge_keyed_begin)(void *self, int64_t user_id, int64_t amount, int64_t cap,
                                        const char *key, struct idempotency_claim *claim,
                                        struct point_charge_result *out, struct err *e);
    enum err_code (*charge_keyed_commit)(void *self, int64_t user_id, const char *key,
                                         const char *fingerprint,
                                         const struct recorded_outcome *outcome, struct err *e);
    void (*charge_keyed_rollback)(void *self);
    enum err_code (*history)(void *self, int64_t user_id, int64_t before, size_t limit,
                             struct point_entry *out, size_t *n, struct err *e);
};

struct point_repo {
    const struct point_repo_ops *ops;
    void *self;
};

/* Inserts a user with balance 0 and its password hash, atomically; fills out. */
static inline enum err_code point_repo_create_user(const struct point_repo *r, const char *name,
                                                   const char *password_hash,
                                                   struct point_user *out, struct err *e)
{
    return r->ops->create_user(r->self, name, password_hash, out, e);
}

/* Reads the balance; ERR_USER_NOT_FOUND when absent. */
static inline enum err_code point_repo_balance(const struct point_repo *r, int64_t user_id,
                                               int64_t *balance, struct err *e)
{
    return r->ops->balance(r->self, user_id, balance, e);
}

/*
 * Atomically adds amount (> 0) unless the user does not exist or the
 * result would exceed cap, with the CHARGE ledger row in the same
 * transaction; *out says which (a refusal changed nothing). ERR_OK once
 * the database answered; an error only when it could not be asked.
 */
static inline enum err_code point_repo_charge(const struct point_repo *r, int64_t user_id,
                                              int64_t amount, int64_t cap,
                                              struct point_charge_result *out, struct err *e)
{
    assert(amount > 0 && amount <= cap);
    return r->ops->charge(r->self, user_id, amount, cap, out, e);
}

/*
 * A keyed charge's first step, one round trip: opens a transaction,
 * claims (user_id, key) with claim->fingerprint (fills *claim: see
 * core/idempotency.h; a stored body is then owned by claim->stored) and
 * charges as point_repo_charge does (fills *out). ERR_OK: the transaction
 * stays open on this thread until point_repo_charge_keyed_commit or
 * point_repo_charge_keyed_rollback. An error: nothing is open.
 */
static inline enum err_code
point_repo_charge_keyed_begin(const struct point_repo *r, int64_t user_id, int64_t amount,
                              int64_t cap, const char *key, struct idempotency_claim *claim,
                              struct point_charge_result *out, struct err *e)
{
    assert(amount > 0 && amount <= cap && key && claim->fingerprint);
    return r->ops->charge_keyed_begin(r->self, user_id, amount, cap, key, claim, out, e);
}

/*
 * Records outcome (borrowed) under (user_id, key, fingerprint) and
 * commits, one round trip. Only after a successful
 * point_repo_charge_keyed_begin on this thread. An error: the transaction
 * is rolled back (the charge is undone).
 */
static inline enum err_code point_repo_charge_keyed_commit(const struct point_repo *r,
                                                           int64_t user_id, const char *key,
                                                           const char *fingerprint,
                                                           const struct recorded_outcome *outcome,
                                                           struct err *e)
{
    return r->ops->charge_keyed_commit(r->self, user_id, key, fingerprint, outcome, e);
}

/* Rolls the open keyed-charge transaction back. Never fails. */
static inline void point_repo_charge_keyed_rollback(const struct point_repo *r)
{
    r->ops->charge_keyed_rollback(r->self);
}

/*
 * Reads up to limit ledger rows of user_id with id < before (0 = no bound),
 * newest first, into out[] (capacity limit, caller's; *n of them).
 * ERR_USER_NOT_FOUND when the user does not exist.
 */
static inline enum err_code point_repo_history(const struct point_repo *r, int64_t user_id,
                                               int64_t before, size_t limit,
                                               struct point_entry *out, size_t *n, struct err *e)
{
    enum err_code rc = r->ops->history(r->self, user_id, before, limit, out, n, e);
    assert(rc != ERR_OK || *n <= limit);
    return rc;
}

#endif
