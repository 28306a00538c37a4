/* redis_lock.h — distributed lock: SET NX PX with a random token, Lua compare-and-delete. */
#ifndef SHOPD_INFRA_REDIS_LOCK_H
#define SHOPD_INFRA_REDIS_LOCK_H

#include "core/lock.h"
#include "infra/redis.h"

struct redis_lock_config {
    struct redis_pool *redis; /* borrowed */
    const char *ns;           /* key prefix ("<ns>:lock:…"), copied */
    unsigned lease_ms;        /* the lock expires by itself after this (dead holders) */
    unsigned wait_ms;         /* give up waiting after this */
    unsigned backoff_min_ms;  /* first pause between tries; doubles, with jitter */
    unsigned backoff_max_ms;
};

struct redis_lock;

/* NULL on OOM. Thread-safe. */
struct redis_lock *redis_lock_new(const struct redis_lock_config *cfg);

/* Frees l (NULL-safe); after every user stopped. */
void redis_lock_free(struct redis_lock *l);

/*
 * The lock port over l. acquire uses one random token for all its tries and
 * a script "SET NX PX, or already held by this token", so a try whose reply
 * was lost (timeout, broken connection) is recognised by the next try; when
 * no try answers, it fails open and remembers (key, token) to release it by
 * compare-and-delete at the next acquire or release that reaches Redis.
 * release deletes the key only if it still holds token. Thread-safe.
 */
struct lock_port redis_lock_port(struct redis_lock *l);

/* Fills token with 128 random bits as 32 hex digits (the kernel's). Thread-safe. */
void redis_lock_token(char token[LOCK_TOKEN_LEN]);

#endif
