/* coupon_service.c — coupon use cases. */
#include "coupon/coupon_service.h"

#include <stdlib.h>
#include <string.h>

#include "core/text.h"

void coupon_snapshot_cleanup(struct coupon_snapshot *s)
{
    free(s->user_ids);
    s->user_ids = NULL;
    s->n_users = 0;
}

const char *coupon_type_name(enum coupon_type t)
{
    return t == COUPON_TYPE_RATE ? "RATE" : "FIXED";
}

bool coupon_type_parse(const char *name, enum coupon_type *out)
{
    if (strcmp(name, "FIXED") == 0)
        *out = COUPON_TYPE_FIXED;
    else if (strcmp(name, "RATE") == 0)
        *out = COUPON_TYPE_RATE;
    else
        return false;
    return true;
}

const char *user_coupon_status_name(enum user_coupon_status s)
{
    switch (s) {
    case USER_COUPON_USED:
        return "USED";
    case USER_COUPON_EXPIRED:
        return "EXPIRED";
    case USER_COUPON_AVAILABLE:
        break;
    }
    return "AVAILABLE";
}

bool user_coupon_status_parse(const char *name, enum user_coupon_status *out)
{
    static const enum user_coupon_status all[] = {USER_COUPON_AVAILABLE, USER_COUPON_USED,
                                                  USER_COUPON_EXPIRED};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(name, user_coupon_status_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    }
    return false;
}

const char *coupon_request_status_name(enum coupon_request_status s)
{
    switch (s) {
    case COUPON_REQUEST_ISSUED:
        return "ISSUED";
    case COUPON_REQUEST_REJECTED:
        return "REJECTED";
    case COUPON_REQUEST_PENDING:
        break;
    }
    return "PENDING";
}

bool coupon_request_status_parse(const char *name, enum coupon_request_status *out)
{
    static const enum coupon_request_status all[] = {COUPON_REQUEST_PENDING, COUPON_REQUEST_ISSUED,
                                                     COUPON_REQUEST_REJECTED};
    for (size_t i = 0; i < 3; i++) {
        if (strcmp(name, coupon_request_status_name(all[i])) == 0) {
            *out = all[i];
            return true;
        }
    }
    return false;
}

enum err_code coupon_service_create(const struct coupon_service *s, struct coupon *inout,
                                    int64_t now, struct err *e)
{
    size_t chars = text_utf8_length(inout->name);
    if (chars < 1 || chars > COUPON_NAME_MAX_CHARS || text_is_blank(inout->name))
        return err_set_field(e, ERR_INVALID_REQUEST, "name",
                             "name must be 1 to %d characters and not blank",
                             COUPON_NAME_MAX_CHARS);
    int64_t max = inout->type == COUPON_TYPE_RATE ? 100 : COUPON_FIXED_MAX;
    if (inout->value < 1 || inout->value > max)
        return err_set_field(e, ERR_INVALID_REQUEST, "discount_value",
                             "discount_value of a %s coupon must be from 1 to %lld",
                             coupon_type_name(inout->type), (long long)max);
    if (inout->total_quantity < 1 || inout->total_quantity > COUPON_QUANTITY_MAX)
        return err_set_field(e, ERR_INVALID_REQUEST, "total_quantity",
                             "total_quantity must be from 1 to %lld",
                             (long long)COUPON_QUANTITY_MAX);
    if (inout->expires_at <= now)
        return err_set_field(e, ERR_INVALID_REQUEST, "expires_at",
                             "expires_at must be in the future");
    inout->issued_quantity = 0;
    return coupon_repo_create(&s->repo, inout, e);
}

enum err_code coupon_service_get(const struct coupon_service *s, int64_t id, struct coupon *out,
                                 struct err *e)
{
    if (id <= 0)
        return err_set(e, ERR_COUPON_NOT_FOUND, "coupon %lld does not exist", (long long)id);
    return coupon_repo_get(&s->repo, id, out, e);
}

/* Rebuilds the gate's state for coupon_id from the database (best effort). */
static void rebuild_gate(const struct coupon_service *s, int64_t coupon_id)
{
    struct coupon_snapshot snap = {0};
    struct err e;
    err_clear(&e);
    if (coupon_repo_snapshot(&s->repo, coupon_id, &snap, &e) == ERR_OK)
        coupon_gate_load(&s->gate, coupon_id, &snap);
    coupon_snapshot_cleanup(&snap);
}

void coupon_service_gate_follow(const struct coupon_service *s, int64_t coupon_id, int64_t user_id,
                                enum err_code decision)
{
    if (!coupon_gate_enabled(&s->gate))
        return;
    switch (decision) {
    case ERR_OK:
        break;
    case ERR_COUPON_ALREADY_ISSUED: /* the gate had forgotten this owner: keep them, free the slot
                                     */
        coupon_gate_release_slot(&s->gate, coupon_id);
        break;
    case ERR_COUPON_SOLD_OUT: /* the gate was optimistic */
        coupon_gate_release(&s->gate, coupon_id, user_id);
        coupon_gate_mark_sold_out(&s->gate, coupon_id);
        break;
    default: /* not written: the slot goes back */
        coupon_gate_release(&s->gate, coupon_id, user_id);
        break;
    }
}

/* The database's decision after the gate reserved a slot; the gate follows it. */
static enum err_code issue_reserved(const struct coupon_service *s, int64_t coupon_id,
                                    int64_t user_id, struct user_coupon *out, struct err *e)
{
    enum err_code rc = coupon_repo_issue(&s->repo, coupon_id, user_id, out, e);
    coupon_service_gate_follow(s, coupon_id, user_id, rc);
    return rc;
}

enum err_code coupon_service_issue(const struct coupon_service *s, int64_t coupon_id,
                                   int64_t user_id, struct user_coupon *out, struct err *e)
{
    if (coupon_id <= 0)
        return err_set(e, ERR_COUPON_NOT_FOUND, "coupon %lld does not exist", (long long)coupon_id);
    if (user_id <= 0)
        return err_set(e, ERR_USER_NOT_FOUND, "user %lld does not exist", (long long)user_id);
    if (!coupon_gate_enabled(&s->gate))
        return coupon_repo_issue(&s->repo, coupon_id, user_id, out, e);

    enum err_code rc;
    switch (coupon_gate_reserve(&s->gate, coupon_id, user_id)) {
    case COUPON_GATE_SOLD_OUT:
        return err_set(e, ERR_COUPON_SOLD_OUT, "coupon %lld is sold out", (long long)coupon_id);
    case COUPON_GATE_DUPLICATE:
        return err_set(e, ERR_COUPON_ALREADY_ISSUED, "user %lld already has coupon %lld",
                       (long long)user_id, (long long)coupon_id);
    case COUPON_GATE_RESERVED:
        return issue_reserved(s, coupon_id, user_id, out, e);
    case COUPON_GATE_UNKNOWN:
        rc = coupon_repo_issue(&s->repo, coupon_id, user_id, out, e);
        if (rc != ERR_COUPON_NOT_FOUND && rc != ERR_COUPON_EXPIRED && rc != ERR_UNAVAILABLE)
            rebuild_gate(s, coupon_id);
        return rc;
    case COUPON_GATE_DOWN:
        break;
    }
    return coupon_repo_issue(&s->repo, coupon_id, user_id, out, e);
}

/* What a snapshot or a campaign says at once: gone or expired (ERR_OK: neither). */
static enum err_code campaign_open(int64_t coupon_id, int64_t expires_at, int64_t now,
                                   struct err *e)
{
    if (expires_at <= now)
        return err_set(e, ERR_COUPON_EXPIRED, "coupon %lld has expired", (long long)coupon_id);
    return ERR_OK;
}

enum err_code coupon_service_reserve(const struct coupon_service *s, int64_t coupon_id,
                                     int64_t user_id, int64_t now, struct err *e)
{
    if (coupon_id <= 0)
        return err_set(e, ERR_COUPON_NOT_FOUND, "coupon %lld does not exist", (long long)coupon_id);
    if (!coupon_gate_enabled(&s->gate)) { /* the queue's consumer decides the rest */
        struct coupon c;
        if (coupon_repo_get(&s->repo, coupon_id, &c, e))
            return e->code;
        return campaign_open(coupon_id, c.expires_at, now, e);
    }
    for (int round = 0; round < 2; round++) {
        switch (coupon_gate_reserve(&s->gate, coupon_id, user_id)) {
        case COUPON_GATE_RESERVED:
            return ERR_OK;
        case COUPON_GATE_SOLD_OUT:
            return err_set(e, ERR_COUPON_SOLD_OUT, "coupon %lld is sold out", (long long)coupon_id);
        case COUPON_GATE_DUPLICATE:
            return err_set(e, ERR_COUPON_ALREADY_ISSUED, "user %lld already has coupon %lld",
                           (long long)user_id, (long long)coupon_id);
        case COUPON_GATE_DOWN:
            return err_set(e, ERR_UNAVAILABLE, "the coupon gate cannot be reached");
        case COUPON_GATE_UNKNOWN:
            break;
        }
        if (round == 1)
            break;
        /* no state: load it from a PostgreSQL snapshot (a read), then ask again */
        struct coupon_snapshot snap = {0};
        if (coupon_repo_snapshot(&s->repo, coupon_id, &snap, e))
            return e->code;
        enum err_code rc = campaign_open(coupon_id, snap.expires_at, now, e);
        if (rc == ERR_OK)
            coupon_gate_load(&s->gate, coupon_id, &snap);
        coupon_snapshot_cleanup(&snap);
        if (rc)
            return rc;
    }
    return err_set(e, ERR_UNAVAILABLE, "the coupon gate lost its state, please retry");
}

enum err_code coupon_service_list(const struct coupon_service *s, int64_t user_id,
                                  const char *status, struct user_coupon *out, size_t *n,
                                  struct err *e)
{
    enum user_coupon_status wanted = USER_COUPON_AVAILABLE;
    if (status && !user_coupon_status_parse(status, &wanted))
        return err_set_field(e, ERR_INVALID_REQUEST, "status",
                             "status must be AVAILABLE, USED or EXPIRED");
    if (user_id <= 0)
        return err_set(e, ERR_USER_NOT_FOUND, "user %lld does not exist", (long long)user_id);
    return coupon_repo_list_for_user(&s->repo, user_id, status == NULL, wanted, COUPON_LIST_MAX,
                                     out, n, e);
}
