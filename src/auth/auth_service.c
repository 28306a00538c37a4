/* auth_service.c — the login policy over its ports (see auth_service.h). */
#include "auth/auth_service.h"

#include <string.h>

enum err_code auth_service_login(const struct auth_service *s, int64_t user_id,
                                 const char *password, const char *address, struct auth_token *out,
                                 int64_t *retry_after_s, struct err *e)
{
    *retry_after_s = 0;
    if (!password || !*password)
        return err_set(e, ERR_INVALID_CREDENTIALS, "user id or password is wrong");
    const char *addr = address ? address : "";
    if (auth_throttle_check(&s->throttle, user_id, addr, retry_after_s, e) != ERR_OK)
        return e->code;
    if (*retry_after_s > 0)
        return err_set(e, ERR_TOO_MANY_ATTEMPTS, "too many failed logins; retry in %lld s",
                       (long long)*retry_after_s);
    char hash[PASSWORD_HASH_MAX];
    bool found = false;
    if (user_id > 0 &&
        auth_credentials_get_hash(&s->credentials, user_id, hash, &found, e) != ERR_OK)
        return e->code;
    bool ok = false;
    if (password_verify(s->hasher, found ? hash : NULL, password, &ok, e) != ERR_OK)
        return e->code;
    if (!ok) {
        if (auth_throttle_failed(&s->throttle, user_id, addr, e) != ERR_OK)
            return e->code;
        return err_set(e, ERR_INVALID_CREDENTIALS, "user id or password is wrong");
    }
    auth_throttle_succeeded(&s->throttle, user_id);
    memset(out, 0, sizeof(*out));
    if (!token_sign(s->keys, user_id, s->now(), s->token_ttl_s, out->access_token,
                    sizeof(out->access_token)))
        return err_set(e, ERR_INTERNAL, "cannot sign a token");
    out->expires_in = s->token_ttl_s;
    out->user_id = user_id;
    return ERR_OK;
}

enum err_code auth_service_set_password(const struct auth_service *s, int64_t user_id,
                                        const char *password, struct err *e)
{
    if (password_check_rules(password, e) != ERR_OK)
        return e->code;
    char hash[PASSWORD_HASH_MAX];
    if (password_hash(s->hasher, password, hash, e) != ERR_OK)
        return e->code;
    return auth_credentials_set_hash(&s->credentials, user_id, hash, e);
}
