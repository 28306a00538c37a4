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
void redis_lock_free(struct redis_lock *l);

/* The lock port over l. */
struct lock_port redis_lock_port(struct redis_lock *l);

#endif
