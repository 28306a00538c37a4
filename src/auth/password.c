/* password.c — Argon2id hashing behind a bounded number of slots (see password.h). */
#include "auth/password.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "core/text.h"

_Static_assert(PASSWORD_HASH_MAX >= crypto_pwhash_STRBYTES, "PASSWORD_HASH_MAX too small");

enum err_code password_hasher_init(struct password_hasher *h, unsigned long long opslimit,
                                   unsigned memlimit_kib, unsigned concurrency, unsigned wait_ms,
                                   struct err *e)
{
    memset(h, 0, sizeof(*h));
    h->opslimit = opslimit;
    h->memlimit = (size_t)memlimit_kib * 1024;
    h->concurrency = concurrency ? concurrency : 1;
    h->wait_ms = wait_ms;
    if (opslimit < crypto_pwhash_OPSLIMIT_MIN || opslimit > crypto_pwhash_OPSLIMIT_MAX)
        return err_set(e, ERR_INVALID_REQUEST, "password opslimit %llu is out of range", opslimit);
    if (h->memlimit < crypto_pwhash_MEMLIMIT_MIN || h->memlimit > crypto_pwhash_MEMLIMIT_MAX)
        return err_set(e, ERR_INVALID_REQUEST, "password memlimit %u KiB is out of range",
                       memlimit_kib);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    unsigned char seed[16];
    randombytes_buf(seed, sizeof(seed));
    char dummy[2 * sizeof(seed) + 1];
    sodium_bin2hex(dummy, sizeof(dummy), seed, sizeof(seed));
    if (crypto_pwhash_str(h->dummy_hash, dummy, strlen(dummy), h->opslimit, h->memlimit) != 0)
        return err_set(e, ERR_INTERNAL, "cannot hash a password (out of memory?)");
    return ERR_OK;
}

void password_hasher_cleanup(struct password_hasher *h)
{
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
}

enum err_code password_check_rules(const char *password, struct err *e)
{
    size_t n = password ? text_utf8_length(password) : 0;
    if (n < PASSWORD_MIN || n > PASSWORD_MAX) {
        return err_set_field(e, ERR_INVALID_REQUEST, "password",
                             "password must be %d..%d characters", PASSWORD_MIN, PASSWORD_MAX);
    }
    return ERR_OK;
}

static bool slot_take(struct password_hasher *h)
{
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_sec += h->wait_ms / 1000;
    until.tv_nsec += (long)(h->wait_ms % 1000) * 1000000L;
    if (until.tv_nsec >= 1000000000L) {
        until.tv_sec++;
        until.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&h->mu);
    int rc = 0;
    while (h->running >= h->concurrency && rc != ETIMEDOUT)
        rc = pthread_cond_timedwait(&h->cv, &h->mu, &until);
    bool got = h->running < h->concurrency;
    if (got)
        h->running++;
    pthread_mutex_unlock(&h->mu);
    return got;
}

static void slot_give(struct password_hasher *h)
{
    pthread_mutex_lock(&h->mu);
    h->running--;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

enum err_code password_hash(struct password_hasher *h, const char *password,
                            char out[PASSWORD_HASH_MAX], struct err *e)
{
    if (!slot_take(h))
        return err_set(e, ERR_UNAVAILABLE, "too many password checks at once; retry shortly");
    int rc = crypto_pwhash_str(out, password, strlen(password), h->opslimit, h->memlimit);
    slot_give(h);
    if (rc != 0)
        return err_set(e, ERR_INTERNAL, "cannot hash a password (out of memory?)");
    return ERR_OK;
}

enum err_code password_verify(struct password_hasher *h, const char *stored, const char *password,
                              bool *ok, struct err *e)
{
    *ok = false;
    if (!slot_take(h))
        return err_set(e, ERR_UNAVAILABLE, "too many password checks at once; retry shortly");
    const char *against = stored ? stored : h->dummy_hash;
    int rc = crypto_pwhash_str_verify(against, password, strlen(password));
    slot_give(h);
    *ok = stored && rc == 0;
    return ERR_OK;
}
