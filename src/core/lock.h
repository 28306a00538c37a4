/* lock.h — the port of a distributed mutual-exclusion lock (implemented over Redis). */
#ifndef SHOPD_CORE_LOCK_H
#define SHOPD_CORE_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

enum { LOCK_TOKEN_LEN = 33 }; /* 32 hex characters + NUL */
enum { LOCK_KEY_MAX = 32 };   /* a lock key with its NUL */

/*
 * The key of the per-user lock ("user:<id>") that orders, cancels and
 * charges take around their transaction: built here only, so every path
 * locks the same resource. Writes into key; thread-safe.
 */
void lock_user_key(int64_t user_id, char key[LOCK_KEY_MAX]);

/*
 * A lock on a named resource. Take it before a database transaction begins
 * and release it after commit or rollback, never inside: it narrows
 * contention; the database still holds every invariant.
 */
struct lock_port_ops {
    /*
     * Waits (bounded) for key and fills token (this holder's proof). ERR_OK;
     * ERR_UNAVAILABLE when the wait timed out (another holder kept it). When
     * the lock service itself is unreachable, *held = false and ERR_OK: the
     * caller proceeds on the database's guarantees alone (fail open).
     */
    enum err_code (*acquire)(void *self, const char *key, char token[LOCK_TOKEN_LEN], bool *held,
                             struct err *e);
    /* Releases key only if token still holds it (never another holder's lock). */
    void (*release)(void *self, const char *key, const char *token);
    /*
     * Optional (NULL: callers use acquire). Takes key in two halves so the
     * round trip can overlap other work that locks nothing: acquire_start
     * sends one attempt and fills token; acquire_finish, on the same thread
     * before any other call of this port, reads its answer. *held: taken.
     * Not held and *contended: another holder has it right now — the caller
     * ends whatever it started (a transaction) and waits with acquire. Not
     * held, not contended: the lock service is unreachable (fail open, as
     * acquire).
     */
    void (*acquire_start)(void *self, const char *key, char token[LOCK_TOKEN_LEN]);
    void (*acquire_finish)(void *self, const char *key, const char *token, bool *held,
                           bool *contended);
};
struct lock_port {
    const struct lock_port_ops *ops; /* NULL: no locking */
    void *self;
};

#endif
