/*
 * test_token.c — access tokens (auth/token.c) and password hashing
 * (auth/password.c): sign/verify, expiry, wrong and rotated keys, tampering,
 * bad base64, future issue times; Argon2id hash/verify and its slot limit.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "auth/password.h"
#include "auth/token.h"

#define SECRET_A "secret-a-0123456789abcdef0123456789abcdef"
#define SECRET_B "secret-b-0123456789abcdef0123456789abcdef"
enum { NOW = 1800000000, TTL = 3600, USER = 42 };

static struct token_keys keys_of(const char *current, const char *previous)
{
    struct token_keys k;
    struct err e;
    err_clear(&e);
    assert_int_equal(token_keys_init(&k, current, previous, &e), ERR_OK);
    return k;
}

static size_t sign(const struct token_keys *k, int64_t user, int64_t now, int64_t ttl, char *out)
{
    size_t n = token_sign(k, user, now, ttl, out, TOKEN_MAX);
    assert_true(n > 0);
    return n;
}

static enum token_refusal verify_at(const struct token_keys *k, const char *t, int64_t now,
                                    struct token_claims *c)
{
    return token_verify(k, t, strlen(t), now, c);
}

static void signed_token__verifies_with_its_claims_until_it_expires(void **state)
{
    (void)state;
    struct token_keys k = keys_of(SECRET_A, NULL);
    char t[TOKEN_MAX];
    sign(&k, USER, NOW, TTL, t);
    assert_int_equal(strlen(t), strspn(t, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                                          "0123456789-_."));
    struct token_claims c;
    assert_int_equal(verify_at(&k, t, NOW, &c), TOKEN_OK);
    assert_int_equal(c.user_id, USER);
    assert_int_equal(c.issued_at, NOW);
    assert_int_equal(c.expires_at, NOW + TTL);
    assert_int_equal(verify_at(&k, t, NOW + TTL - 1, &c), TOKEN_OK);
    assert_int_equal(verify_at(&k, t, NOW + TTL, &c), TOKEN_EXPIRED);
    assert_int_equal(verify_at(&k, t, NOW + 10 * TTL, &c), TOKEN_EXPIRED);
}

static void token_from_the_future__refused_beyond_the_clock_skew(void **state)
{
    (void)state;
    struct token_keys k = keys_of(SECRET_A, NULL);
    char t[TOKEN_MAX];
    sign(&k, USER, NOW + TOKEN_CLOCK_SKEW_S, TTL, t);
    struct token_claims c;
    assert_int_equal(verify_at(&k, t, NOW, &c), TOKEN_OK); /* within the skew */
    sign(&k, USER, NOW + TOKEN_CLOCK_SKEW_S + 1, TTL, t);
    assert_int_equal(verify_at(&k, t, NOW, &c), TOKEN_NOT_YET_VALID);
}

static void wrong_key__refused_and_rotation_keeps_old_tokens_valid(void **state)
{
    (void)state;
    struct token_keys a = keys_of(SECRET_A, NULL), b = keys_of(SECRET_B, NULL);
    struct token_keys rotated = keys_of(SECRET_B, SECRET_A);
    char old[TOKEN_MAX], fresh[TOKEN_MAX];
    sign(&a, USER, NOW, TTL, old);
    sign(&rotated, USER + 1, NOW, TTL, fresh);
    struct token_claims c;
    /* a key that never signed it: its kid is unknown */
    assert_int_equal(verify_at(&b, old, NOW, &c), TOKEN_UNKNOWN_KEY);
    /* after rotation: old tokens still verify with the previous key, new ones with the new */
    assert_int_equal(verify_at(&rotated, old, NOW, &c), TOKEN_OK);
    assert_int_equal(c.user_id, USER);
    assert_int_equal(verify_at(&rotated, fresh, NOW, &c), TOKEN_OK);
    assert_int_equal(c.user_id, USER + 1);
    assert_int_equal(verify_at(&b, fresh, NOW, &c), TOKEN_OK);
    assert_int_equal(verify_at(&a, fresh, NOW, &c), TOKEN_UNKNOWN_KEY);
    assert_string_not_equal(a.current.kid, b.current.kid);
}

/* base64url of text without padding into out. */
static void b64(const char *text, char *out, size_t cap)
{
    sodium_bin2base64(out, cap, (const unsigned char *)text, strlen(text),
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
}

static void tampered_payload__bad_signature(void **state)
{
    (void)state;
    struct token_keys k = keys_of(SECRET_A, NULL);
    char t[TOKEN_MAX];
    sign(&k, USER, NOW, TTL, t);
    /* the same header and signature around a payload naming another user */
    char payload[128], forged[TOKEN_MAX];
    b64("{\"sub\":\"43\",\"iat\":1800000000,\"exp\":1800003600}", payload, sizeof(payload));
    const char *dot1 = strchr(t, '.'), *dot2 = strrchr(t, '.');
    snprintf(forged, sizeof(forged), "%.*s.%s%s", (int)(dot1 - t), t, payload, dot2);
    struct token_claims c;
    assert_int_equal(verify_at(&k, forged, NOW, &c), TOKEN_BAD_SIGNATURE);
    /* one flipped character anywhere in the signature */
    char flipped[TOKEN_MAX];
    snprintf(flipped, sizeof(flipped), "%s", t);
    char *last = flipped + strlen(flipped) - 2;
    *last = *last == 'A' ? 'B' : 'A';
    assert_int_equal(verify_at(&k, flipped, NOW, &c), TOKEN_BAD_SIGNATURE);
}

static void alg_none_or_other_alg__unknown_key(void **state)
{
    (void)state;
    struct token_keys k = keys_of(SECRET_A, NULL);
    char header[128], payload[128], t[TOKEN_MAX];
    char hjson[128];
    snprintf(hjson, sizeof(hjson), "{\"alg\":\"none\",\"typ\":\"JWT\",\"kid\":\"%s\"}",
             k.current.kid);
    b64(hjson, header, sizeof(header));
    b64("{\"sub\":\"42\",\"iat\":1800000000,\"exp\":1800003600}", payload, sizeof(payload));
    snprintf(t, sizeof(t), "%s.%s.", header, payload);
    struct token_claims c;
    assert_int_equal(verify_at(&k, t, NOW, &c), TOKEN_UNKNOWN_KEY);
    snprintf(hjson, sizeof(hjson), "{\"alg\":\"HS512\",\"kid\":\"%s\"}", k.current.kid);
    b64(hjson, header, sizeof(header));
    snprintf(t, sizeof(t), "%s.%s.AAAA", header, payload);
    assert_int_equal(verify_at(&k, t, NOW, &c), TOKEN_UNKNOWN_KEY);
}

static void malformed_tokens__refused(void **state)
{
    (void)state;
    struct token_keys k = keys_of(SECRET_A, NULL);
    char t[TOKEN_MAX];
    size_t n = sign(&k, USER, NOW, TTL, t);
    char buf[TOKEN_MAX + 64];
    struct token_claims c;
    const char *bad[] = {"", ".", "..", "a.b", "a.b.c.d", "!!!.???.###", "eyJ.eyJ.", "....."};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_not_equal(verify_at(&k, bad[i], NOW, &c), TOKEN_OK);
    /* padding, standard-alphabet characters and spaces are not base64url */
    snprintf(buf, sizeof(buf), "%s=", t);
    assert_int_equal(verify_at(&k, buf, NOW, &c), TOKEN_MALFORMED);
    snprintf(buf, sizeof(buf), "%s", t);
    buf[2] = '+';
    assert_int_not_equal(verify_at(&k, buf, NOW, &c), TOKEN_OK);
    snprintf(buf, sizeof(buf), " %s", t);
    assert_int_not_equal(verify_at(&k, buf, NOW, &c), TOKEN_OK);
    /* a byte outside base64url anywhere (libsodium 1.0.18 reads 0x80-0xFF as '_') */
    for (size_t at = 0; at < n; at++) {
        snprintf(buf, sizeof(buf), "%s", t);
        buf[at] = (char)0x82;
        assert_int_equal(verify_at(&k, buf, NOW, &c), TOKEN_MALFORMED);
    }
    /* truncated anywhere */
    for (size_t cut = 0; cut < n; cut++)
        assert_int_not_equal(token_verify(&k, t, cut, NOW, &c), TOKEN_OK);
    /* too long */
    memset(buf, 'a', sizeof(buf) - 1);
    buf[sizeof(buf) - 1] = '\0';
    assert_int_equal(verify_at(&k, buf, NOW, &c), TOKEN_MALFORMED);
    assert_int_equal(token_verify(&k, NULL, 0, NOW, &c), TOKEN_MALFORMED);
}

static void signed_but_bad_claims__refused(void **state)
{
    (void)state;
    struct token_keys k = keys_of(SECRET_A, NULL);
    struct token_claims c;
    char t[TOKEN_MAX];
    /* user ids that are not positive, ttl that ends before it starts */
    sign(&k, 0, NOW, TTL, t);
    assert_int_equal(verify_at(&k, t, NOW, &c), TOKEN_MALFORMED);
    sign(&k, -5, NOW, TTL, t);
    assert_int_equal(verify_at(&k, t, NOW, &c), TOKEN_MALFORMED);
    sign(&k, USER, NOW, 0, t);
    assert_int_equal(verify_at(&k, t, NOW, &c), TOKEN_NOT_YET_VALID);
    sign(&k, INT64_MAX, NOW, TTL, t);
    assert_int_equal(verify_at(&k, t, NOW, &c), TOKEN_OK);
    assert_int_equal(c.user_id, INT64_MAX);
}

static void keys__short_equal_or_missing_secrets_refused(void **state)
{
    (void)state;
    struct token_keys k;
    struct err e;
    err_clear(&e);
    assert_int_equal(token_keys_init(&k, "too-short", NULL, &e), ERR_INVALID_REQUEST);
    assert_non_null(strstr(e.detail, "SHOPD_TOKEN_SECRET"));
    err_clear(&e);
    assert_int_equal(token_keys_init(&k, "", NULL, &e), ERR_INVALID_REQUEST);
    err_clear(&e);
    assert_int_equal(token_keys_init(&k, SECRET_A, "short", &e), ERR_INVALID_REQUEST);
    assert_non_null(strstr(e.detail, "SHOPD_TOKEN_SECRET_PREVIOUS"));
    err_clear(&e);
    assert_int_equal(token_keys_init(&k, SECRET_A, SECRET_A, &e), ERR_INVALID_REQUEST);
    err_clear(&e);
    assert_int_equal(token_keys_init(&k, SECRET_A, "", &e), ERR_OK);
    assert_false(k.has_previous);
    char random_secret[65];
    token_random_secret(random_secret);
    assert_int_equal(strlen(random_secret), 64);
    assert_int_equal(token_keys_init(&k, random_secret, NULL, &e), ERR_OK);
}

/* ---- passwords ---- */

static struct password_hasher hasher; /* cheapest parameters, 1 slot; set up in main */

static void password__hash_verifies_only_the_same_password(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    char h1[PASSWORD_HASH_MAX], h2[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash(&hasher, "correct horse 42", h1, &e), ERR_OK);
    assert_int_equal(password_hash(&hasher, "correct horse 42", h2, &e), ERR_OK);
    assert_non_null(strstr(h1, "$argon2id$"));
    assert_string_not_equal(h1, h2); /* salted */
    bool ok = false;
    assert_int_equal(password_verify(&hasher, h1, "correct horse 42", &ok, &e), ERR_OK);
    assert_true(ok);
    assert_int_equal(password_verify(&hasher, h1, "correct horse 43", &ok, &e), ERR_OK);
    assert_false(ok);
    assert_int_equal(password_verify(&hasher, "not a hash", "correct horse 42", &ok, &e), ERR_OK);
    assert_false(ok);
    /* an unknown user: verified against the dummy hash, never ok */
    assert_int_equal(password_verify(&hasher, NULL, "correct horse 42", &ok, &e), ERR_OK);
    assert_false(ok);
}

static void password__rules_count_characters(void **state)
{
    (void)state;
    struct err e;
    err_clear(&e);
    assert_int_equal(password_check_rules("12345678", &e), ERR_OK);
    assert_int_equal(password_check_rules("1234567", &e), ERR_INVALID_REQUEST);
    assert_string_equal(e.field, "password");
    assert_int_equal(password_check_rules(NULL, &e), ERR_INVALID_REQUEST);
    char s[130];
    memset(s, 'x', 128);
    s[128] = '\0';
    assert_int_equal(password_check_rules(s, &e), ERR_OK);
    s[128] = 'x';
    s[129] = '\0';
    assert_int_equal(password_check_rules(s, &e), ERR_INVALID_REQUEST);
}

static void *hold_slot(void *arg)
{
    (void)arg;
    struct err e;
    err_clear(&e);
    char h[PASSWORD_HASH_MAX];
    for (int i = 0; i < 20; i++)
        password_hash(&hasher, "some password", h, &e);
    return NULL;
}

static void password__no_slot_in_time__unavailable(void **state)
{
    (void)state;
    /* a hasher whose only slot is busy for long: a second caller gives up after wait_ms */
    struct password_hasher slow;
    struct err e;
    err_clear(&e);
    assert_int_equal(password_hasher_init(&slow, 1, 8, 1, 0, &e), ERR_OK);
    slow.running = 1; /* as if another thread held the slot */
    char h[PASSWORD_HASH_MAX];
    assert_int_equal(password_hash(&slow, "correct horse 42", h, &e), ERR_UNAVAILABLE);
    bool ok = true;
    assert_int_equal(password_verify(&slow, NULL, "x", &ok, &e), ERR_UNAVAILABLE);
    assert_false(ok);
    slow.running = 0;
    assert_int_equal(password_hash(&slow, "correct horse 42", h, &e), ERR_OK);
    password_hasher_cleanup(&slow);
    /* and the shared one stays usable from several threads at once */
    pthread_t t[3];
    for (int i = 0; i < 3; i++)
        pthread_create(&t[i], NULL, hold_slot, NULL);
    for (int i = 0; i < 3; i++)
        pthread_join(t[i], NULL);
    assert_int_equal(hasher.running, 0);
}

int main(void)
{
    struct err e;
    err_clear(&e);
    if (!token_crypto_init() || password_hasher_init(&hasher, 1, 8, 1, 5000, &e) != ERR_OK) {
        fprintf(stderr, "set-up failed: %s\n", e.detail);
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(signed_token__verifies_with_its_claims_until_it_expires),
        cmocka_unit_test(token_from_the_future__refused_beyond_the_clock_skew),
        cmocka_unit_test(wrong_key__refused_and_rotation_keeps_old_tokens_valid),
        cmocka_unit_test(tampered_payload__bad_signature),
        cmocka_unit_test(alg_none_or_other_alg__unknown_key),
        cmocka_unit_test(malformed_tokens__refused),
        cmocka_unit_test(signed_but_bad_claims__refused),
        cmocka_unit_test(keys__short_equal_or_missing_secrets_refused),
        cmocka_unit_test(password__hash_verifies_only_the_same_password),
        cmocka_unit_test(password__rules_count_characters),
        cmocka_unit_test(password__no_slot_in_time__unavailable),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    password_hasher_cleanup(&hasher);
    return failed;
}
