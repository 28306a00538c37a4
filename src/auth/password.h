/*
 * password.h — password hashing with Argon2id (libsodium crypto_pwhash_str):
 * slow, salted, memory-hard; the encoded string carries its own salt and
 * parameters, so changing the parameters never locks anyone out.
 *
 * Hashing is CPU- and memory-heavy, so at most `concurrency` hashes run at
 * once per process; others wait up to `wait_ms` and then give up (the caller
 * answers 503), so a storm of logins cannot starve orders of CPU or memory.
 */
#ifndef SHOPD_AUTH_PASSWORD_H
#define SHOPD_AUTH_PASSWORD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum {
    PASSWORD_MIN = 8,       /* characters (UTF-8 code points) */
    PASSWORD_MAX = 128,     /* characters */
    PASSWORD_HASH_MAX = 128 /* crypto_pwhash_STRBYTES */
};

struct password_hasher {
    unsigned long long opslimit; /* Argon2id passes */
    size_t memlimit;             /* bytes */
    unsigned concurrency;        /* hashes at once */
    unsigned wait_ms;            /* longest wait for a slot */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned running;
    char dummy_hash[PASSWORD_HASH_MAX]; /* verified against for unknown users (same cost) */
};

/*
 * Sets the parameters (opslimit >= 1, memlimit_kib >= 8, concurrency >= 1)
 * and computes the dummy hash. Returns ERR_OK, ERR_INVALID_REQUEST for
 * parameters libsodium refuses, ERR_INTERNAL when hashing fails. Needs
 * sodium_init (token_crypto_init) first.
 */
enum err_code password_hasher_init(struct password_hasher *h, unsigned long long opslimit,
                                   unsigned memlimit_kib, unsigned concurrency, unsigned wait_ms,
                                   struct err *e);

/* Frees what init made. */
void password_hasher_cleanup(struct password_hasher *h);

/*
 * Checks length rules: ERR_OK, or ERR_INVALID_REQUEST (field "password")
 * when password is not 8..128 characters of valid UTF-8.
 */
enum err_code password_check_rules(const char *password, struct err *e);

/*
 * Hashes password into out (PASSWORD_HASH_MAX bytes). Returns ERR_OK,
 * ERR_UNAVAILABLE when no slot freed up in time, ERR_INTERNAL when out of
 * memory. Thread-safe.
 */
enum err_code password_hash(struct password_hasher *h, const char *password,
                            char out[PASSWORD_HASH_MAX], struct err *e);

/*
 * Verifies password against stored (an encoded Argon2id string), or against
 * the dummy hash when stored is NULL so that an unknown user costs the same
 * time and answers false. Sets *ok. Returns ERR_OK or ERR_UNAVAILABLE (no
 * slot in time). Thread-safe.
 */
enum err_code password_verify(struct password_hasher *h, const char *stored, const char *password,
                              bool *ok, struct err *e);

#endif
