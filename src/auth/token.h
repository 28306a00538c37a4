/*
 * token.h — signed access tokens: JWT (RFC 7519) with HS256 (HMAC-SHA-256,
 * libsodium), verifiable with no round trip.
 *
 * header  {"alg":"HS256","typ":"JWT","kid":"<key id>"}
 * payload {"sub":"<user id>","iat":<unix s>,"exp":<unix s>}
 *
 * Up to two keys are active: the current one signs and verifies, the
 * previous one (during a rotation) only verifies. A key id is derived from
 * the key (an HMAC of a fixed label, 8 base64url characters), so operators
 * rotate by setting a new secret and moving the old one to "previous", with
 * no ids to manage. Signatures are compared in constant time.
 */
#ifndef SHOPD_AUTH_TOKEN_H
#define SHOPD_AUTH_TOKEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum {
    TOKEN_SECRET_MIN = 32,  /* bytes of secret a key needs at least */
    TOKEN_SECRET_MAX = 256, /* and at most */
    TOKEN_MAX = 512,        /* longest token accepted (ours are ~170 characters) */
    TOKEN_KID_LEN = 8,      /* base64url characters of a key id */
    TOKEN_CLOCK_SKEW_S = 60 /* an issue time this far in the future is still accepted */
};

/* One key, reduced to what signing needs: the raw secret is not kept. */
struct token_key {
    char kid[TOKEN_KID_LEN + 1];
    char header[96]; /* base64url of the one header this key signs under */
    size_t header_len;
    /* the HMAC state after the key (libsodium's, opaque here): each token hashes only itself */
    _Alignas(16) unsigned char hmac_keyed[512];
};

/* The signing key and the previous one still accepted. Plain data; read-only once built. */
struct token_keys {
    struct token_key current;
    struct token_key previous;
    bool has_previous;
};

/* What a valid token says. */
struct token_claims {
    int64_t user_id;
    int64_t issued_at;  /* unix seconds */
    int64_t expires_at; /* unix seconds */
};

/*
 * Builds keys from the current secret and an optional previous one (NULL or
 * "" = none). Returns ERR_OK, or ERR_INVALID_REQUEST naming the problem when
 * a secret is shorter than TOKEN_SECRET_MIN or longer than TOKEN_SECRET_MAX
 * bytes, or both are the same. Needs token_crypto_init first.
 */
enum err_code token_keys_init(struct token_keys *keys, const char *current, const char *previous,
                              struct err *e);

/* Writes 64 random hex characters (256 bits) and a NUL into out: a one-process secret. */
void token_random_secret(char out[65]);

/* Overwrites the key material in keys (at shutdown). */
void token_keys_wipe(struct token_keys *keys);

/* Initialises libsodium; false when it cannot. Call once before any other function here. */
bool token_crypto_init(void);

/*
 * Writes a token for user_id valid from now for ttl_s seconds into out
 * (cap >= TOKEN_MAX). Returns its length, or 0 when out is too small.
 * Thread-safe (keys read-only).
 */
size_t token_sign(const struct token_keys *keys, int64_t user_id, int64_t now, int64_t ttl_s,
                  char *out, size_t cap);

/* Why a token was refused (for logs and tests; every refusal answers 401 alike). */
enum token_refusal {
    TOKEN_OK = 0,
    TOKEN_MALFORMED,     /* not three base64url parts, too long, bad JSON, wrong types */
    TOKEN_UNKNOWN_KEY,   /* alg is not HS256 or kid names no active key */
    TOKEN_BAD_SIGNATURE, /* the signature does not match */
    TOKEN_EXPIRED,       /* exp <= now */
    TOKEN_NOT_YET_VALID  /* iat > now + TOKEN_CLOCK_SKEW_S, or exp <= iat */
};

/*
 * Verifies token (len bytes, need not be NUL-terminated) at time now. On
 * TOKEN_OK fills *claims. shopd is the only issuer, so the header must be
 * exactly the one token_sign writes for an active key (which also rules out
 * "alg":"none" and every other algorithm), and the payload, read only once
 * the signature matched, exactly the shape token_sign writes. Thread-safe;
 * allocates nothing (~2.5 us on this machine).
 */
enum token_refusal token_verify(const struct token_keys *keys, const char *token, size_t len,
                                int64_t now, struct token_claims *claims);

/* A short English name of a refusal ("expired", …). */
const char *token_refusal_name(enum token_refusal r);

#endif
