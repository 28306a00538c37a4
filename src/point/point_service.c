/* point_service.c — users and points use cases. */
#include "point/point_service.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

const char *point_entry_type_name(enum point_entry_type t)
{
    switch (t) {
    case POINT_CHARGE:
        return "CHARGE";
    case POINT_USE:
        return "USE";
    case POINT_REFUND:
        return "REFUND";
    }
    return "UNKNOWN";
}

bool point_entry_type_parse(const char *name, enum point_entry_type *out)
{
    static const enum point_entry_type all[] = {POINT_CHARGE, POINT_USE, POINT_REFUND};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(name, point_entry_type_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    }
    return false;
}

static enum err_code user_not_found(int64_t user_id, struct err *e)
{
    return err_set(e, ERR_USER_NOT_FOUND, "user %lld does not exist", (long long)user_id);
}

enum err_code point_service_create_user(const struct point_service *s, const char *name,
                                        const char *password, struct point_user *out, struct err *e)
{
    size_t chars = text_utf8_length(name);
    if (chars < 1 || chars > POINT_USER_NAME_MAX_CHARS || text_is_blank(name) ||
        strlen(name) > POINT_USER_NAME_MAX_BYTES)
        return err_set_field(e, ERR_INVALID_REQUEST, "name",
                             "name must be 1 to %d characters and not blank",
                             POINT_USER_NAME_MAX_CHARS);
    if (password_check_rules(password, e) != ERR_OK)
        return e->code;
    char hash[PASSWORD_HASH_MAX];
    if (password_hash(s->hasher, password, hash, e) != ERR_OK)
        return e->code;
    return point_repo_create_user(&s->repo, name, hash, out, e);
}

enum err_code point_service_balance(const struct point_service *s, int64_t user_id,
                                    int64_t *balance, struct err *e)
{
    if (user_id <= 0)
        return user_not_found(user_id, e);
    return point_repo_balance(&s->repo, user_id, balance, e);
}

/* The checks every charge passes before any storage call. */
static enum err_code check_charge(const struct point_service *s, int64_t user_id, int64_t amount,
                                  struct err *e)
{
    if (amount < 1 || amount > s->charge_max)
        return err_set_field(e, ERR_INVALID_AMOUNT, "amount",
                             "amount must be from 1 to %lld, got %lld", (long long)s->charge_max,
                             (long long)amount);
    if (user_id <= 0)
        return user_not_found(user_id, e);
    return ERR_OK;
}

/* A charge that ran: ERR_OK, or the refusal it came to (nothing changed then). */
static enum err_code charge_outcome(const struct point_charge_result *r, int64_t user_id,
                                    int64_t amount, int64_t cap, struct err *e)
{
    if (r->applied)
        return ERR_OK;
    if (!r->exists)
        return user_not_found(user_id, e);
    return err_set(e, ERR_BALANCE_LIMIT_EXCEEDED,
                   "balance %lld plus %lld would exceed the limit of %lld", (long long)r->balance,
                   (long long)amount, (long long)cap);
}

enum err_code point_service_charge(const struct point_service *s, int64_t user_id, int64_t amount,
                                   int64_t *balance_after, struct err *e)
{
    if (check_charge(s, user_id, amount, e))
        return e->code;
    struct point_charge_result r;
    if (point_repo_charge(&s->repo, user_id, amount, s->balance_max, &r, e))
        return e->code;
    *balance_after = r.balance;
    return charge_outcome(&r, user_id, amount, s->balance_max, e);
}

/*
 * The keyed flow, two round trips: (BEGIN, claim, charge), then (record,
 * COMMIT). A replay, a key in progress or reused, ends in a rollback of the
 * charge that ran beside the claim; a fresh outcome, success or refusal, is
 * recorded in the same transaction as the charge.
 */
enum err_code point_service_charge_once(const struct point_service *s, int64_t user_id,
                                        int64_t amount, const char *key,
                                        const struct point_charge_renderer *render,
                                        struct point_charge_outcome *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (!text_is_idempotency_key(key))
        return err_set(e, ERR_IDEMPOTENCY_KEY_REQUIRED,
                       "Idempotency-Key header must be 1 to 255 printable ASCII characters");
    if (check_charge(s, user_id, amount, e))
        return e->code;
    char fingerprint[32];
    snprintf(fingerprint, sizeof(fingerprint), "amount=%lld", (long long)amount);
    const struct point_repo *repo = &s->repo;

    struct idempotency_claim claim = {.fingerprint = fingerprint};
    struct point_charge_result charged;
    if (point_repo_charge_keyed_begin(repo, user_id, amount, s->balance_max, key, &claim, &charged,
                                      e))
        return e->code;
    bool replay = false;
    if (idempotency_claim_result(&claim, &replay, e) != ERR_OK) {
        point_repo_charge_keyed_rollback(repo);
        recorded_outcome_cleanup(&claim.stored);
        return e->code;
    }
    if (replay) {
        point_repo_charge_keyed_rollback(repo);
        *out = (struct point_charge_outcome){claim.stored.status, claim.stored.body, true};
        return ERR_OK;
    }

    enum err_code outcome = charge_outcome(&charged, user_id, amount, s->balance_max, e);
    struct err refusal = *e;
    struct recorded_outcome answer = {0};
    bool rendered = outcome == ERR_OK ? render->ok(user_id, charged.balance, &answer)
                                      : render->refusal(&refusal, &answer);
    if (!rendered) {
        point_repo_charge_keyed_rollback(repo);
        recorded_outcome_cleanup(&answer);
        return err_set(e, ERR_INTERNAL, "out of memory rendering a charge");
    }
    if (point_repo_charge_keyed_commit(repo, user_id, key, fingerprint, &answer, e)) {
        recorded_outcome_cleanup(&answer);
        return e->code;
    }
    if (outcome != ERR_OK) {
        recorded_outcome_cleanup(&answer);
        *e = refusal;
        return outcome;
    }
    *out = (struct point_charge_outcome){answer.status, answer.body, false};
    return ERR_OK;
}

enum err_code point_service_history(const struct point_service *s, int64_t user_id, int64_t before,
                                    int64_t limit, struct point_history *out, struct err *e)
{
    memset(out, 0, sizeof(*out));
    if (limit < 1 || limit > POINT_HISTORY_MAX)
        return err_set_field(e, ERR_INVALID_REQUEST, "limit", "limit must be from 1 to %d",
                             POINT_HISTORY_MAX);
    if (before < 0)
        return err_set_field(e, ERR_INVALID_REQUEST, "before", "before must not be negative");
    if (user_id <= 0)
        return user_not_found(user_id, e);
    out->items = calloc((size_t)limit + 1, sizeof(*out->items));
    if (!out->items)
        return err_set(e, ERR_INTERNAL, "out of memory");
    size_t n = 0;
    enum err_code rc =
        point_repo_history(&s->repo, user_id, before, (size_t)limit + 1, out->items, &n, e);
    if (rc != ERR_OK) {
        point_history_cleanup(out);
        return rc;
    }
    out->has_more = n > (size_t)limit;
    out->n = out->has_more ? (size_t)limit : n;
    out->next_before = out->has_more ? out->items[out->n - 1].id : 0;
    return ERR_OK;
}

void point_history_cleanup(struct point_history *h)
{
    free(h->items);
    memset(h, 0, sizeof(*h));
}
