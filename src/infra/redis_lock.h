/*
 * redis_lock.h — distributed lock: a short lease (SET NX PX, random token)
 * kept alive by a per-process watchdog while held, compare-and-delete release.
 */
#ifndef SHOPD_INFRA_REDIS_LOCK_H
#define SHOPD_INFRA_REDIS_LOCK_H

#include <stdbool.h>
#include <stdint.h>

#include "core/lock.h"
#include "infra/redis.h"

struct redis_lock_config {
    struct redis_pool *redis; /* borrowed */
    const char *ns;           /* key prefix ("<ns>:lock:…"), copied */
    unsigned lease_ms;        /* a lock not renewed (dead holder) expires after this */
    unsigned wait_ms;         /* give up waiting after this */
    unsigned backoff_min_ms;  /* first pause between tries; doubles, with jitter */
    unsigned backoff_max_ms;
};

struct redis_lock;

/*
 * Starts l's keep-alive thread (nice THREAD_BACKGROUND_NICE): every
 * lease_ms / 3 it renews every lock this process holds, by token, in one
 * Redis command; it also performs the releases (see redis_lock_port). NULL
 * on OOM or when the thread cannot start. Thread-safe.
 */
struct redis_lock *redis_lock_new(const struct redis_lock_config *cfg);

/*
 * Stops the keep-alive thread, after one last attempt at the releases still
 * queued, and frees l (NULL-safe); after every user stopped. Locks still
 * held are neither released nor renewed: they expire within one lease, as a
 * dead process's do.
 */
void redis_lock_free(struct redis_lock *l);

/*
 * The lock port over l.
 * acquire: SET NX PX with one random token for all its tries (one round trip
 *   when the lock is free). A try whose reply was lost (timeout, broken
 *   connection) is followed at once by a script "SET NX PX, or already held
 *   by this token" on a fresh connection, which recognises our own hold; when
 *   no try answers, it fails open and queues (key, token) for release by
 *   compare-and-delete once Redis answers again. A held lock is renewed by
 *   the keep-alive thread until released.
 * release: stops renewing and hands the compare-and-delete (the key is
 *   deleted only if it still holds token) to the keep-alive thread: the
 *   caller does not wait for Redis. A later acquire of the same key in this
 *   process takes such a queued release over (the script replaces the old
 *   token with its own), so it does not wait for it either.
 * Thread-safe.
 */
struct lock_port redis_lock_port(struct redis_lock *l);

/* Waits until every release handed over before this call has been tried once. For tests. */
void redis_lock_sync(struct redis_lock *l);

/*
 * Test hook: a paused keep-alive renews nothing (as in a process stalled
 * past its lease); releases still run.
 */
void redis_lock_keepalive_pause(struct redis_lock *l, bool paused);

/* Redis round trips the callers of acquire and release waited for (not the keep-alive's). */
uint64_t redis_lock_waited_round_trips(const struct redis_lock *l);

/* Fills token with 128 random bits as 32 hex digits (the kernel's). Thread-safe. */
void redis_lock_token(char token[LOCK_TOKEN_LEN]);

#endif
