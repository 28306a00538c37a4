/* token.c — JWT HS256 access tokens over libsodium's HMAC-SHA-256 (see token.h). */
#include "auth/token.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <sodium.h>

enum { SIG_LEN = crypto_auth_hmacsha256_BYTES, PART_MAX = TOKEN_MAX };

static const int B64 = sodium_base64_VARIANT_URLSAFE_NO_PADDING;

bool token_crypto_init(void)
{
    return sodium_init() >= 0;
}

_Static_assert(sizeof(crypto_auth_hmacsha256_state) <= sizeof(((struct token_key *)0)->hmac_keyed),
               "token_key.hmac_keyed is too small");

/* HMAC-SHA-256 of msg under k, from the state keyed once by key_init. */
static void hmac(const struct token_key *k, const void *msg, size_t len, unsigned char out[SIG_LEN])
{
    crypto_auth_hmacsha256_state st;
    memcpy(&st, k->hmac_keyed, sizeof(st));
    crypto_auth_hmacsha256_update(&st, msg, len);
    crypto_auth_hmacsha256_final(&st, out);
    sodium_memzero(&st, sizeof(st));
}

static enum err_code key_init(struct token_key *k, const char *name, const char *secret,
                              struct err *e)
{
    size_t len = strlen(secret);
    if (len < TOKEN_SECRET_MIN)
        return err_set(e, ERR_INVALID_REQUEST, "%s must be at least %d bytes (it has %zu)", name,
                       TOKEN_SECRET_MIN, len);
    if (len > TOKEN_SECRET_MAX)
        return err_set(e, ERR_INVALID_REQUEST, "%s must be at most %d bytes", name,
                       TOKEN_SECRET_MAX);
    crypto_auth_hmacsha256_state st;
    crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, len);
    memcpy(k->hmac_keyed, &st, sizeof(st));
    sodium_memzero(&st, sizeof(st));
    unsigned char id[SIG_LEN];
    static const char label[] = "shopd token key id";
    hmac(k, label, sizeof(label) - 1, id);
    char b64[sodium_base64_ENCODED_LEN(6, sodium_base64_VARIANT_URLSAFE_NO_PADDING)];
    sodium_bin2base64(b64, sizeof(b64), id, 6, B64); /* 6 bytes = 8 characters */
    memcpy(k->kid, b64, TOKEN_KID_LEN);
    k->kid[TOKEN_KID_LEN] = '\0';
    char header[64];
    int hl = snprintf(header, sizeof(header), "{\"alg\":\"HS256\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
                      k->kid);
    sodium_bin2base64(k->header, sizeof(k->header), (const unsigned char *)header, (size_t)hl, B64);
    k->header_len = strlen(k->header);
    return ERR_OK;
}

enum err_code token_keys_init(struct token_keys *keys, const char *current, const char *previous,
                              struct err *e)
{
    memset(keys, 0, sizeof(*keys));
    if (key_init(&keys->current, "SHOPD_TOKEN_SECRET", current ? current : "", e) != ERR_OK)
        return e->code;
    if (previous && *previous) {
        if (key_init(&keys->previous, "SHOPD_TOKEN_SECRET_PREVIOUS", previous, e) != ERR_OK)
            return e->code;
        if (strcmp(current, previous) == 0)
            return err_set(e, ERR_INVALID_REQUEST,
                           "SHOPD_TOKEN_SECRET_PREVIOUS is the same as SHOPD_TOKEN_SECRET");
        keys->has_previous = true;
    }
    return ERR_OK;
}

void token_random_secret(char out[65])
{
    unsigned char bytes[32];
    randombytes_buf(bytes, sizeof(bytes));
    sodium_bin2hex(out, 65, bytes, sizeof(bytes));
    sodium_memzero(bytes, sizeof(bytes));
}

void token_keys_wipe(struct token_keys *keys)
{
    sodium_memzero(keys, sizeof(*keys));
}

/* Appends base64url(data) at out + *at; false when it does not fit. */
static bool put_b64(char *out, size_t cap, size_t *at, const void *data, size_t len)
{
    size_t need = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    if (*at + need > cap)
        return false;
    sodium_bin2base64(out + *at, cap - *at, data, len, B64);
    *at += need - 1; /* need counts the NUL */
    return true;
}

size_t token_sign(const struct token_keys *keys, int64_t user_id, int64_t now, int64_t ttl_s,
                  char *out, size_t cap)
{
    const struct token_key *k = &keys->current;
    char payload[128];
    int pl = snprintf(payload, sizeof(payload),
                      "{\"sub\":\"%" PRId64 "\",\"iat\":%" PRId64 ",\"exp\":%" PRId64 "}", user_id,
                      now, now + ttl_s);
    if (pl < 0 || (size_t)pl >= sizeof(payload) || k->header_len + 2 >= cap)
        return 0;
    memcpy(out, k->header, k->header_len);
    size_t at = k->header_len;
    out[at++] = '.';
    if (!put_b64(out, cap, &at, payload, (size_t)pl) || at + 1 >= cap)
        return 0;
    unsigned char sig[SIG_LEN];
    hmac(k, out, at, sig);
    out[at++] = '.';
    if (!put_b64(out, cap, &at, sig, sizeof(sig)))
        return 0;
    return at;
}

/* Decodes base64url text[0..len) into out (cap bytes); returns the length or -1. */
static long decode_b64(const char *text, size_t len, unsigned char *out, size_t cap)
{
    size_t bin_len = 0;
    const char *end = NULL;
    if (len == 0 || sodium_base642bin(out, cap, text, len, NULL, &bin_len, &end, B64) != 0 ||
        end != text + len)
        return -1;
    return (long)bin_len;
}

/* The active key whose header is text[0..len), or NULL. */
static const struct token_key *key_for(const struct token_keys *keys, const char *text, size_t len)
{
    if (len == keys->current.header_len && memcmp(text, keys->current.header, len) == 0)
        return &keys->current;
    if (keys->has_previous && len == keys->previous.header_len &&
        memcmp(text, keys->previous.header, len) == 0)
        return &keys->previous;
    return NULL;
}

/* Reads an optionally signed decimal int64 at *p (advanced); false when there is none. */
static bool read_int(const char **p, const char *end, int64_t *out)
{
    const char *q = *p;
    bool negative = q < end && *q == '-';
    if (negative)
        q++;
    if (q >= end || *q < '0' || *q > '9' ||
        (*q == '0' && q + 1 < end && q[1] >= '0' && q[1] <= '9'))
        return false;
    int64_t v = 0;
    for (; q < end && *q >= '0' && *q <= '9'; q++) {
        int d = *q - '0';
        if (v > (INT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = negative ? -v : v;
    *p = q;
    return true;
}

/* Consumes literal at *p; false when the text differs. */
static bool read_literal(const char **p, const char *end, const char *literal)
{
    size_t n = strlen(literal);
    if ((size_t)(end - *p) < n || memcmp(*p, literal, n) != 0)
        return false;
    *p += n;
    return true;
}

/* The payload token_sign writes: {"sub":"<id>","iat":<n>,"exp":<n>} and nothing else. */
static enum token_refusal check_payload(const char *text, size_t len, int64_t now,
                                        struct token_claims *claims)
{
    const char *p = text, *end = text + len;
    int64_t user = 0, issued = 0, expires = 0;
    if (!read_literal(&p, end, "{\"sub\":\"") || !read_int(&p, end, &user) ||
        !read_literal(&p, end, "\",\"iat\":") || !read_int(&p, end, &issued) ||
        !read_literal(&p, end, ",\"exp\":") || !read_int(&p, end, &expires) ||
        !read_literal(&p, end, "}") || p != end || user <= 0)
        return TOKEN_MALFORMED;
    if (expires <= issued || issued > now + TOKEN_CLOCK_SKEW_S)
        return TOKEN_NOT_YET_VALID;
    if (expires <= now)
        return TOKEN_EXPIRED;
    claims->user_id = user;
    claims->issued_at = issued;
    claims->expires_at = expires;
    return TOKEN_OK;
}

enum token_refusal token_verify(const struct token_keys *keys, const char *token, size_t len,
                                int64_t now, struct token_claims *claims)
{
    if (!token || len == 0 || len > TOKEN_MAX)
        return TOKEN_MALFORMED;
    /*
     * Only base64url characters and the dots: libsodium 1.0.18 decodes bytes
     * 0x80-0xFF as '_' (the fuzzer found it), which would let one signed
     * token be written many ways.
     */
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)token[i];
        if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ||
              ch == '-' || ch == '_' || ch == '.'))
            return TOKEN_MALFORMED;
    }
    const char *dot1 = memchr(token, '.', len);
    if (!dot1)
        return TOKEN_MALFORMED;
    const char *dot2 = memchr(dot1 + 1, '.', len - (size_t)(dot1 + 1 - token));
    if (!dot2 || memchr(dot2 + 1, '.', len - (size_t)(dot2 + 1 - token)))
        return TOKEN_MALFORMED;
    const struct token_key *k = key_for(keys, token, (size_t)(dot1 - token));
    if (!k)
        return TOKEN_UNKNOWN_KEY;
    unsigned char sig[SIG_LEN + 1], want[SIG_LEN];
    if (decode_b64(dot2 + 1, len - (size_t)(dot2 + 1 - token), sig, sizeof(sig)) != SIG_LEN)
        return TOKEN_MALFORMED;
    hmac(k, token, (size_t)(dot2 - token), want);
    if (crypto_verify_32(sig, want) != 0)
        return TOKEN_BAD_SIGNATURE;
    unsigned char payload[PART_MAX];
    long pl = decode_b64(dot1 + 1, (size_t)(dot2 - dot1 - 1), payload, sizeof(payload));
    if (pl <= 0)
        return TOKEN_MALFORMED;
    return check_payload((const char *)payload, (size_t)pl, now, claims);
}

const char *token_refusal_name(enum token_refusal r)
{
    switch (r) {
    case TOKEN_OK:
        return "valid";
    case TOKEN_MALFORMED:
        return "malformed";
    case TOKEN_UNKNOWN_KEY:
        return "unknown key or algorithm";
    case TOKEN_BAD_SIGNATURE:
        return "bad signature";
    case TOKEN_EXPIRED:
        return "expired";
    case TOKEN_NOT_YET_VALID:
        return "not valid yet";
    }
    return "refused";
}
