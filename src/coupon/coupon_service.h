/* coupon_service.h — coupon use cases: create, read, issue (gate + database), list. */
#ifndef SHOPD_COUPON_COUPON_SERVICE_H
#define SHOPD_COUPON_COUPON_SERVICE_H

#include "coupon/coupon.h"

/* Repository and gate (borrowed). Plain data; share across threads freely. */
struct coupon_service {
    struct coupon_repo repo;
    struct coupon_gate gate; /* ops NULL: issue through the database only */
};

/*
 * Creates a campaign: name 1..100 characters (not blank); FIXED value
 * 1..10^12 won or RATE 1..100 percent; total_quantity 1..10^8; expires_at
 * after now. ERR_INVALID_REQUEST naming the field otherwise.
 */
enum err_code coupon_service_create(const struct coupon_service *s, struct coupon *inout,
                                    int64_t now, struct err *e);

/* ERR_COUPON_NOT_FOUND for an unknown (or non-positive) id. */
enum err_code coupon_service_get(const struct coupon_service *s, int64_t id, struct coupon *out,
                                 struct err *e);

/*
 * Issues campaign coupon_id to user_id, first come first served. With a
 * gate, sold-out and duplicate requests are answered by the gate alone; a
 * reserved slot is written to the database and given back if that write
 * fails; a gate without state, or down, sends the request to the database
 * (and the gate is rebuilt from it). The database decides in every case
 * where the gate says yes. ERR_OK with out filled, or the repo's errors.
 */
enum err_code coupon_service_issue(const struct coupon_service *s, int64_t coupon_id,
                                   int64_t user_id, struct user_coupon *out, struct err *e);

/*
 * Admits a request for asynchronous issuance: reserves user_id's slot of
 * coupon_id in the gate, loading the gate from a PostgreSQL snapshot (a
 * read, never a write) when it has no state. ERR_OK: a slot is held (give it
 * back with coupon_service_gate_follow when the request is not queued);
 * ERR_COUPON_SOLD_OUT, ERR_COUPON_ALREADY_ISSUED, ERR_COUPON_NOT_FOUND,
 * ERR_COUPON_EXPIRED known at once; ERR_UNAVAILABLE when the gate is down.
 * Without a gate only the campaign is checked (now: epoch seconds).
 */
enum err_code coupon_service_reserve(const struct coupon_service *s, int64_t coupon_id,
                                     int64_t user_id, int64_t now, struct err *e);

/*
 * Makes the gate follow the database's decision on a slot the gate reserved
 * for user_id: nothing for ERR_OK; ERR_COUPON_ALREADY_ISSUED gives the slot
 * back and keeps the owner; ERR_COUPON_SOLD_OUT gives it back and marks the
 * campaign sold out; any other refusal gives slot and ownership back. Used by
 * the synchronous issue and by the asynchronous issuer. No-op without a gate.
 */
void coupon_service_gate_follow(const struct coupon_service *s, int64_t coupon_id, int64_t user_id,
                                enum err_code decision);

/*
 * Lists user_id's coupons, newest first; status NULL = all, else
 * "AVAILABLE", "USED" or "EXPIRED" (ERR_INVALID_REQUEST naming status).
 * out has room for COUPON_LIST_MAX.
 */
enum err_code coupon_service_list(const struct coupon_service *s, int64_t user_id,
                                  const char *status, struct user_coupon *out, size_t *n,
                                  struct err *e);

#endif
