/* coupon.h — coupon campaigns and owned coupons: entities, repository port, gate port. */
#ifndef SHOPD_COUPON_COUPON_H
#define SHOPD_COUPON_COUPON_H

#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum {
    COUPON_NAME_MAX_CHARS = 100,
    COUPON_NAME_MAX_BYTES = COUPON_NAME_MAX_CHARS * 4,
    COUPON_LIST_MAX = 100,
};

#define COUPON_FIXED_MAX INT64_C(1000000000000)
#define COUPON_QUANTITY_MAX INT64_C(100000000)

enum coupon_type { COUPON_TYPE_FIXED, COUPON_TYPE_RATE };

/* A first-come-first-served campaign. */
struct coupon {
    int64_t id;
    char name[COUPON_NAME_MAX_BYTES + 1];
    enum coupon_type type;
    int64_t value; /* won (FIXED) or percent 1..100 (RATE) */
    int64_t total_quantity;
    int64_t issued_quantity;
    int64_t expires_at; /* epoch seconds */
};

enum user_coupon_status { USER_COUPON_AVAILABLE, USER_COUPON_USED, USER_COUPON_EXPIRED };

/* A coupon a user owns (the campaign's terms copied in for display). */
struct user_coupon {
    int64_t id;
    int64_t coupon_id;
    int64_t user_id;
    char name[COUPON_NAME_MAX_BYTES + 1];
    enum coupon_type type;
    int64_t value;
    enum user_coupon_status status; /* EXPIRED is derived from expires_at, USED from used_at */
    int64_t issued_at, expires_at, used_at; /* epoch seconds; used_at 0 = unused */
};

/* Who owns what of one campaign, as PostgreSQL says (to rebuild the gate). */
struct coupon_snapshot {
    int64_t remaining;
    int64_t expires_at;
    int64_t *user_ids; /* malloc'd; free with coupon_snapshot_cleanup */
    size_t n_users;
};

/* One queued issue request of a batch (asynchronous issuance), and the database's decision. */
struct coupon_issue_item {
    int64_t request_id, coupon_id, user_id; /* in */
    enum err_code outcome;  /* out: ERR_OK (issued), ERR_COUPON_ALREADY_ISSUED, ERR_COUPON_SOLD_OUT,
                               ERR_COUPON_EXPIRED, ERR_COUPON_NOT_FOUND, ERR_USER_NOT_FOUND */
    int64_t user_coupon_id; /* out: the coupon issued (also on a redelivery of this request) */
};

/*
 * Storage port (PostgreSQL): the truth, correct alone with any number of
 * instances. Called through the wrappers below, which state the contracts;
 * thread-safe.
 */
struct coupon_repo_ops {
    enum err_code (*create)(void *self, struct coupon *inout, struct err *e);
    enum err_code (*get)(void *self, int64_t id, struct coupon *out, struct err *e);
    enum err_code (*issue)(void *self, int64_t coupon_id, int64_t user_id, struct user_coupon *out,
                           struct err *e);
    enum err_code (*snapshot)(void *self, int64_t coupon_id, struct coupon_snapshot *out,
                              struct err *e);
    enum err_code (*list_for_user)(void *self, int64_t user_id, bool all_statuses,
                                   enum user_coupon_status status, size_t limit,
                                   struct user_coupon *out, size_t *n, struct err *e);
    enum err_code (*issue_batch)(void *self, struct coupon_issue_item *items, size_t n,
                                 struct err *e);
};
struct coupon_repo {
    const struct coupon_repo_ops *ops;
    void *self;
};

/* Inserts a campaign (inout's terms set, already valid) and fills inout->id. */
static inline enum err_code coupon_repo_create(const struct coupon_repo *r, struct coupon *inout,
                                               struct err *e)
{
    return r->ops->create(r->self, inout, e);
}

/* Reads campaign id into *out. ERR_COUPON_NOT_FOUND. */
static inline enum err_code coupon_repo_get(const struct coupon_repo *r, int64_t id,
                                            struct coupon *out, struct err *e)
{
    return r->ops->get(r->self, id, out, e);
}

/*
 * In one transaction: count one more issued (only while issued < total
 * and not expired) and insert the user's coupon (unique per user) into
 * *out. ERR_COUPON_NOT_FOUND, ERR_USER_NOT_FOUND, ERR_COUPON_SOLD_OUT,
 * ERR_COUPON_ALREADY_ISSUED, ERR_COUPON_EXPIRED; nothing changes then.
 */
static inline enum err_code coupon_repo_issue(const struct coupon_repo *r, int64_t coupon_id,
                                              int64_t user_id, struct user_coupon *out,
                                              struct err *e)
{
    return r->ops->issue(r->self, coupon_id, user_id, out, e);
}

/*
 * Reads the campaign's remaining count and owners into *out (ERR_OK: free
 * with coupon_snapshot_cleanup; an error holds nothing). ERR_COUPON_NOT_FOUND.
 */
static inline enum err_code coupon_repo_snapshot(const struct coupon_repo *r, int64_t coupon_id,
                                                 struct coupon_snapshot *out, struct err *e)
{
    return r->ops->snapshot(r->self, coupon_id, out, e);
}

/*
 * Up to limit coupons of user_id, newest first, into out[] (capacity limit,
 * caller's; *n of them); all_statuses false keeps only those in status.
 * ERR_USER_NOT_FOUND.
 */
static inline enum err_code coupon_repo_list_for_user(const struct coupon_repo *r, int64_t user_id,
                                                      bool all_statuses,
                                                      enum user_coupon_status status, size_t limit,
                                                      struct user_coupon *out, size_t *n,
                                                      struct err *e)
{
    enum err_code rc =
        r->ops->list_for_user(r->self, user_id, all_statuses, status, limit, out, n, e);
    assert(rc != ERR_OK || *n <= limit);
    return rc;
}

/*
 * Decides items[0..n) in one transaction, in order, each like
 * coupon_repo_issue; a user already holding the coupon through this very
 * request_id (a redelivery) is ERR_OK with that coupon. Fills each item's
 * outcome. Returns ERR_OK, or a database error (ERR_UNAVAILABLE,
 * ERR_INTERNAL): then nothing was written.
 */
static inline enum err_code coupon_repo_issue_batch(const struct coupon_repo *r,
                                                    struct coupon_issue_item *items, size_t n,
                                                    struct err *e)
{
    assert(items || n == 0);
    return r->ops->issue_batch(r->self, items, n, e);
}

enum coupon_gate_answer {
    COUPON_GATE_RESERVED,  /* a slot is held for this user: write it to the database */
    COUPON_GATE_SOLD_OUT,  /* none left: answer without the database */
    COUPON_GATE_DUPLICATE, /* this user has one: answer without the database */
    COUPON_GATE_UNKNOWN,   /* the gate has no state for this campaign: ask the database */
    COUPON_GATE_DOWN,      /* the gate cannot be reached: ask the database */
};

/*
 * The fast path in front of the database (Redis). It may be wrong only
 * towards "ask the database". Called through the wrappers below; every
 * call but coupon_gate_enabled only on an enabled gate. Thread-safe.
 */
struct coupon_gate_ops {
    enum coupon_gate_answer (*reserve)(void *self, int64_t coupon_id, int64_t user_id);
    void (*release)(void *self, int64_t coupon_id, int64_t user_id);
    void (*release_slot)(void *self, int64_t coupon_id);
    void (*mark_sold_out)(void *self, int64_t coupon_id);
    void (*load)(void *self, int64_t coupon_id, const struct coupon_snapshot *s);
};
struct coupon_gate {
    const struct coupon_gate_ops *ops; /* NULL: no gate, the database alone */
    void *self;
};

/* True when there is a gate; false: the database alone decides. */
static inline bool coupon_gate_enabled(const struct coupon_gate *g)
{
    return g->ops != NULL;
}

/* Holds a slot of coupon_id for user_id, if the gate can tell; see coupon_gate_answer. */
static inline enum coupon_gate_answer coupon_gate_reserve(const struct coupon_gate *g,
                                                          int64_t coupon_id, int64_t user_id)
{
    assert(coupon_gate_enabled(g));
    return g->ops->reserve(g->self, coupon_id, user_id);
}

/* Undoes a reservation the database refused (the user is not an owner). */
static inline void coupon_gate_release(const struct coupon_gate *g, int64_t coupon_id,
                                       int64_t user_id)
{
    assert(coupon_gate_enabled(g));
    g->ops->release(g->self, coupon_id, user_id);
}

/* Gives back the slot only: the database says the user already owns one. */
static inline void coupon_gate_release_slot(const struct coupon_gate *g, int64_t coupon_id)
{
    assert(coupon_gate_enabled(g));
    g->ops->release_slot(g->self, coupon_id);
}

/* The database says none are left. */
static inline void coupon_gate_mark_sold_out(const struct coupon_gate *g, int64_t coupon_id)
{
    assert(coupon_gate_enabled(g));
    g->ops->mark_sold_out(g->self, coupon_id);
}

/* Loads state from a database snapshot (borrowed), unless the gate has some already. */
static inline void coupon_gate_load(const struct coupon_gate *g, int64_t coupon_id,
                                    const struct coupon_snapshot *s)
{
    assert(coupon_gate_enabled(g));
    g->ops->load(g->self, coupon_id, s);
}

enum coupon_request_status {
    COUPON_REQUEST_PENDING,
    COUPON_REQUEST_ISSUED,
    COUPON_REQUEST_REJECTED
};

/* An asynchronous issue request (POST /coupons/{id}/issue-requests) and its outcome. */
struct coupon_request {
    int64_t id;
    int64_t coupon_id, user_id;
    enum coupon_request_status status;
    enum err_code code;     /* REJECTED: why (a coupon error, USER_NOT_FOUND); else ERR_OK */
    int64_t user_coupon_id; /* ISSUED: the coupon; else 0 */
    int64_t requested_at, decided_at; /* epoch seconds; decided_at 0 while PENDING */
};

/* "PENDING"/"ISSUED"/"REJECTED"; parse returns false when unknown. */
const char *coupon_request_status_name(enum coupon_request_status s);
bool coupon_request_status_parse(const char *name, enum coupon_request_status *out);

/* Frees s->user_ids. */
void coupon_snapshot_cleanup(struct coupon_snapshot *s);

/* "FIXED"/"RATE"; parse returns false when unknown. */
const char *coupon_type_name(enum coupon_type t);
bool coupon_type_parse(const char *name, enum coupon_type *out);

/* "AVAILABLE"/"USED"/"EXPIRED"; parse returns false when unknown. */
const char *user_coupon_status_name(enum user_coupon_status s);
bool user_coupon_status_parse(const char *name, enum user_coupon_status *out);

#endif
