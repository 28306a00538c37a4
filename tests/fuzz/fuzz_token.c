/*
 * fuzz_token.c — libFuzzer harness for token_verify (src/auth/token.c). The
 * input is a candidate access token, verified with fixed keys (a current and
 * a previous one, as during a rotation) at a fixed time FUZZ_NOW.
 * Properties: no crash, no leak, no read past the input (it is copied into
 * an exact-size buffer, no NUL); every answer is a known refusal; verifying
 * twice gives the same answer and claims; a valid token says user_id > 0,
 * issued_at <= now + skew, expires_at > now and > issued_at, and is one a
 * key really signed: token_sign with that key and the same claims gives the
 * input back byte for byte (so no mutation of a signed token verifies). At
 * start-up a freshly signed token must verify (the seeds in
 * tests/fuzz/corpus/fuzz_token are real tokens for these keys and FUZZ_NOW,
 * and broken variants of them).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/token.h"
#include "fuzz_check.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seeds were signed with these secrets at this time (2026-01-01T00:00:00Z). */
#define FUZZ_SECRET_CURRENT "fuzz-token-current-secret-0123456789abcdef"
#define FUZZ_SECRET_PREVIOUS "fuzz-token-previous-secret-0123456789abcdef"
enum { FUZZ_NOW = 1767225600 };

static struct token_keys keys;     /* current + previous: what is verified with */
static struct token_keys previous; /* the previous secret as the signing key */

static void keys_init(struct token_keys *k, const char *current, const char *prev)
{
    struct err e;
    err_clear(&e);
    FUZZ_CHECK(token_keys_init(k, current, prev, &e) == ERR_OK, "token_keys_init");
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    FUZZ_CHECK(token_crypto_init(), "token_crypto_init");
    keys_init(&keys, FUZZ_SECRET_CURRENT, FUZZ_SECRET_PREVIOUS);
    keys_init(&previous, FUZZ_SECRET_PREVIOUS, NULL);
    /* the harness itself works: a fresh token verifies with both keys' sets */
    char token[TOKEN_MAX];
    struct token_claims c;
    size_t n = token_sign(&keys, 42, FUZZ_NOW - 10, 3600, token, sizeof(token));
    FUZZ_CHECK(n > 0 && token_verify(&keys, token, n, FUZZ_NOW, &c) == TOKEN_OK && c.user_id == 42,
               "a fresh token does not verify");
    n = token_sign(&previous, 7, FUZZ_NOW - 10, 3600, token, sizeof(token));
    FUZZ_CHECK(n > 0 && token_verify(&keys, token, n, FUZZ_NOW, &c) == TOKEN_OK && c.user_id == 7,
               "a token of the previous key does not verify");
    return 0;
}

static bool known_refusal(enum token_refusal r)
{
    switch (r) {
    case TOKEN_OK:
    case TOKEN_MALFORMED:
    case TOKEN_UNKNOWN_KEY:
    case TOKEN_BAD_SIGNATURE:
    case TOKEN_EXPIRED:
    case TOKEN_NOT_YET_VALID:
        return true;
    }
    return false;
}

/* Whether signing claims with k gives exactly token[0..len). */
static bool signed_by(const struct token_keys *k, const struct token_claims *c, const char *token,
                      size_t len)
{
    char again[TOKEN_MAX];
    size_t n =
        token_sign(k, c->user_id, c->issued_at, c->expires_at - c->issued_at, again, sizeof(again));
    return n == len && memcmp(again, token, len) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact copy with no terminator: token_verify must stay within len */
    char *token = malloc(size ? size : 1);
    if (size)
        memcpy(token, data, size);

    struct token_claims c, again;
    memset(&c, 0xa5, sizeof(c));
    enum token_refusal r = token_verify(&keys, token, size, FUZZ_NOW, &c);
    FUZZ_CHECK(known_refusal(r), "refusal %d", (int)r);
    FUZZ_CHECK(token_refusal_name(r) != NULL && *token_refusal_name(r), "refusal %d unnamed",
               (int)r);
    memset(&again, 0x5a, sizeof(again));
    enum token_refusal r2 = token_verify(&keys, token, size, FUZZ_NOW, &again);
    FUZZ_CHECK(r2 == r, "verified twice: %s then %s", token_refusal_name(r),
               token_refusal_name(r2));

    if (r == TOKEN_OK) {
        FUZZ_CHECK(memcmp(&c, &again, sizeof(c)) == 0, "verified twice: different claims");
        FUZZ_CHECK(c.user_id > 0, "user_id %lld", (long long)c.user_id);
        FUZZ_CHECK(c.expires_at > FUZZ_NOW, "expires_at %lld <= now", (long long)c.expires_at);
        FUZZ_CHECK(c.expires_at > c.issued_at, "expires_at %lld <= issued_at %lld",
                   (long long)c.expires_at, (long long)c.issued_at);
        FUZZ_CHECK(c.issued_at <= FUZZ_NOW + TOKEN_CLOCK_SKEW_S, "issued_at %lld in the future",
                   (long long)c.issued_at);
        FUZZ_CHECK(size <= TOKEN_MAX, "%zu bytes accepted", size);
        FUZZ_CHECK(signed_by(&keys, &c, token, size) || signed_by(&previous, &c, token, size),
                   "a valid token that no key signed: %.*s", (int)size, token);
        /* at its expiry the same token is refused as expired */
        FUZZ_CHECK(token_verify(&keys, token, size, c.expires_at, &again) == TOKEN_EXPIRED,
                   "not expired at its expires_at");
    }
    free(token);
    return 0;
}
