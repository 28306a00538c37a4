/* lock.h — the port of a distributed mutual-exclusion lock (implemented over Redis). */
#ifndef SHOPD_CORE_LOCK_H
#define SHOPD_CORE_LOCK_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
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
 * contention; the database still holds every invariant. Call it through the
 * wrappers below, which state each operation's contract.
 */
struct lock_port_ops {
    enum err_code (*acquire)(void *self, const char *key, char token[LOCK_TOKEN_LEN], bool *held,
                             struct err *e);
    void (*release)(void *self, const char *key, const char *token);
    /* Optional, both or neither (NULL: lock_port_can_split is false). */
    void (*acquire_start)(void *self, const char *key, char token[LOCK_TOKEN_LEN]);
    void (*acquire_finish)(void *self, const char *key, const char *token, bool *held,
                           bool *contended);
};
struct lock_port {
    const struct lock_port_ops *ops; /* NULL: no locking */
    void *self;
};

/* True when l locks at all (a port with ops); false: callers proceed without a lock. */
static inline bool lock_port_enabled(const struct lock_port *l)
{
    return l->ops != NULL;
}

/*
 * Waits (bounded) for key and fills token (this holder's proof). ERR_OK;
 * ERR_UNAVAILABLE when the wait timed out (another holder kept it). When
 * the lock service itself is unreachable, *held = false and ERR_OK: the
 * caller proceeds on the database's guarantees alone (fail open). Only on
 * an enabled port.
 */
static inline enum err_code lock_port_acquire(const struct lock_port *l, const char *key,
                                              char token[LOCK_TOKEN_LEN], bool *held, struct err *e)
{
    assert(lock_port_enabled(l));
    return l->ops->acquire(l->self, key, token, held, e);
}

/* Releases key only if token still holds it (never another holder's lock). */
static inline void lock_port_release(const struct lock_port *l, const char *key, const char *token)
{
    assert(lock_port_enabled(l));
    l->ops->release(l->self, key, token);
}

/* True when an enabled port can take a lock in two halves (lock_port_acquire_start/finish). */
static inline bool lock_port_can_split(const struct lock_port *l)
{
    assert(lock_port_enabled(l));
    return l->ops->acquire_start && l->ops->acquire_finish;
}

/*
 * Takes key in two halves so the round trip can overlap other work that
 * locks nothing: acquire_start sends one attempt and fills token;
 * lock_port_acquire_finish, on the same thread before any other call of
 * this port, reads its answer. Only when lock_port_can_split.
 */
static inline void lock_port_acquire_start(const struct lock_port *l, const char *key,
                                           char token[LOCK_TOKEN_LEN])
{
    assert(lock_port_can_split(l));
    l->ops->acquire_start(l->self, key, token);
}

/*
 * The answer to lock_port_acquire_start. *held: taken. Not held and
 * *contended: another holder has it right now — the caller ends whatever
 * it started (a transaction) and waits with lock_port_acquire. Not held,
 * not contended: the lock service is unreachable (fail open, as acquire).
 */
static inline void lock_port_acquire_finish(const struct lock_port *l, const char *key,
                                            const char *token, bool *held, bool *contended)
{
    assert(lock_port_can_split(l));
    l->ops->acquire_finish(l->self, key, token, held, contended);
}

#endif
