/*
 * auth_service.h — logging in (user id + password → access token) and
 * setting passwords. Depends on core and on its ports only: the credential
 * store (PostgreSQL), the throttle (Redis) and the clock, so its policy is
 * unit-tested with mocks.
 */
#ifndef SHOPD_AUTH_AUTH_SERVICE_H
#define SHOPD_AUTH_AUTH_SERVICE_H

#include <stdbool.h>
#include <stdint.h>

#include "auth/password.h"
#include "auth/token.h"
#include "core/err.h"

/* Where password hashes live. Called through the wrappers below; thread-safe. */
struct auth_credentials_ops {
    enum err_code (*get_hash)(void *self, int64_t user_id, char *hash, bool *found, struct err *e);
    enum err_code (*set_hash)(void *self, int64_t user_id, const char *hash, struct err *e);
};
struct auth_credentials {
    const struct auth_credentials_ops *ops;
    void *self;
};

/*
 * Copies user_id's stored hash into hash (PASSWORD_HASH_MAX) and sets
 * *found; *found false for an unknown user or one without a password.
 * ERR_OK or ERR_UNAVAILABLE.
 */
static inline enum err_code auth_credentials_get_hash(const struct auth_credentials *c,
                                                      int64_t user_id, char *hash, bool *found,
                                                      struct err *e)
{
    return c->ops->get_hash(c->self, user_id, hash, found, e);
}

/* Stores hash (borrowed) for user_id. ERR_OK, ERR_USER_NOT_FOUND, ERR_UNAVAILABLE. */
static inline enum err_code auth_credentials_set_hash(const struct auth_credentials *c,
                                                      int64_t user_id, const char *hash,
                                                      struct err *e)
{
    return c->ops->set_hash(c->self, user_id, hash, e);
}

/* Failed-login counters shared by every instance. Called through the wrappers below. */
struct auth_throttle_ops {
    enum err_code (*check)(void *self, int64_t user_id, const char *address, int64_t *retry_after_s,
                           struct err *e);
    enum err_code (*failed)(void *self, int64_t user_id, const char *address, struct err *e);
    void (*succeeded)(void *self, int64_t user_id);
};
struct auth_throttle {
    const struct auth_throttle_ops *ops;
    void *self;
};

/*
 * Sets *retry_after_s > 0 when user_id or address (may be "") has used up
 * its failures for the current window, else 0. ERR_OK or ERR_UNAVAILABLE.
 */
static inline enum err_code auth_throttle_check(const struct auth_throttle *t, int64_t user_id,
                                                const char *address, int64_t *retry_after_s,
                                                struct err *e)
{
    return t->ops->check(t->self, user_id, address, retry_after_s, e);
}

/* Counts one failure for user_id and address. ERR_OK or ERR_UNAVAILABLE. */
static inline enum err_code auth_throttle_failed(const struct auth_throttle *t, int64_t user_id,
                                                 const char *address, struct err *e)
{
    return t->ops->failed(t->self, user_id, address, e);
}

/* Forgets user_id's failures after a success (the address keeps its count). Never fails. */
static inline void auth_throttle_succeeded(const struct auth_throttle *t, int64_t user_id)
{
    t->ops->succeeded(t->self, user_id);
}

struct auth_service {
    struct auth_credentials credentials;
    struct auth_throttle throttle;
    struct password_hasher *hasher; /* borrowed */
    const struct token_keys *keys;  /* borrowed */
    int64_t token_ttl_s;
    int64_t (*now)(void); /* unix seconds */
};

/* A token handed out by a login. */
struct auth_token {
    char access_token[TOKEN_MAX];
    int64_t expires_in; /* seconds */
    int64_t user_id;
};

/*
 * Logs user_id in with password from address (the client's, for
 * throttling; may be ""). Returns ERR_OK with *out filled;
 * ERR_INVALID_CREDENTIALS for an unknown user, a user without a password or
 * a wrong password (the same answer and about the same time: an unknown
 * user is verified against a dummy hash); ERR_TOO_MANY_ATTEMPTS with
 * *retry_after_s set when throttled (checked before any hashing);
 * ERR_UNAVAILABLE when the throttle or the store cannot be reached (logins
 * fail closed; tokens already issued keep working). Thread-safe.
 */
enum err_code auth_service_login(const struct auth_service *s, int64_t user_id,
                                 const char *password, const char *address, struct auth_token *out,
                                 int64_t *retry_after_s, struct err *e);

/*
 * Sets user_id's password (rules: password_check_rules). ERR_OK,
 * ERR_INVALID_REQUEST, ERR_USER_NOT_FOUND, ERR_UNAVAILABLE. Thread-safe.
 */
enum err_code auth_service_set_password(const struct auth_service *s, int64_t user_id,
                                        const char *password, struct err *e);

#endif
