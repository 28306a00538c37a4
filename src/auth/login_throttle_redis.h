/*
 * login_throttle_redis.h — failed-login counters in Redis, shared by every
 * instance (the auth_throttle port). Fixed windows:
 *   <ns>:login:fail:user:<id>     failures of one user id
 *   <ns>:login:fail:addr:<addr>   failures from one client address
 * each set to expire window_s after its first failure. A key at or above
 * its limit refuses logins until it expires (Retry-After = what is left).
 * Redis unreachable: the port reports ERR_UNAVAILABLE and logins fail
 * closed (docs/security.md says why).
 */
#ifndef SHOPD_AUTH_LOGIN_THROTTLE_REDIS_H
#define SHOPD_AUTH_LOGIN_THROTTLE_REDIS_H

#include "auth/auth_service.h"
#include "infra/redis.h"

struct login_throttle_redis;

struct login_throttle_config {
    const char *ns;            /* key prefix (copied) */
    unsigned user_failures;    /* failures per user id per window */
    unsigned address_failures; /* failures per address per window */
    unsigned window_s;
};

/* A throttle over pool (borrowed). NULL when out of memory. */
struct login_throttle_redis *login_throttle_redis_new(struct redis_pool *pool,
                                                      const struct login_throttle_config *cfg);

/* Frees t. NULL-safe. */
void login_throttle_redis_free(struct login_throttle_redis *t);

/* The port over t (borrowed). */
struct auth_throttle login_throttle_redis_port(struct login_throttle_redis *t);

#endif
