/* check_coupons.c — campaigns never over-issued, one coupon per user, every issue request decided.
 */
#include "check_invariants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct pair {
    int64_t a, b, id;
};

static int cmp_pair(const void *x, const void *y)
{
    const struct pair *p = x, *q = y;
    int c = cmp_i64(p->a, q->a);
    return c ? c : cmp_i64(p->b, q->b);
}

/* does user coupon id exist and belong to this user and campaign? */
static bool ucoupon_is(const struct world *w, int64_t id, int64_t user, int64_t coupon)
{
    long u = FIND(w->ucoupons, id);
    return u >= 0 && w->ucoupons.v[u].user_id == user && w->ucoupons.v[u].coupon_id == coupon;
}

/* 7. campaigns never over-issued, one per user, issues kept, each coupon used once at most */
void check_coupons(const struct world *w, struct verdict *v)
{
    size_t nu = w->ucoupons.n, issued_ok = 0;
    int64_t *count = zalloc(w->coupons.n, sizeof(*count));
    struct pair *pairs = zalloc(nu, sizeof(*pairs));
    int *uses = zalloc(nu, sizeof(*uses));
    for (size_t i = 0; i < nu; i++) {
        const struct ucoupon *u = &w->ucoupons.v[i];
        long c = FIND(w->coupons, u->coupon_id);
        if (c < 0)
            flag(v, "user coupon %lld of missing campaign %lld", (long long)u->id,
                 (long long)u->coupon_id);
        else
            count[c]++;
        pairs[i] = (struct pair){u->coupon_id, u->user_id, u->id};
    }
    for (size_t i = 0; i < w->coupons.n; i++) {
        const struct coupon *c = &w->coupons.v[i];
        if (count[i] != c->issued || c->issued > c->total)
            flag(v, "campaign %lld: %lld user coupons, issued %lld of %lld", (long long)c->id,
                 (long long)count[i], (long long)c->issued, (long long)c->total);
    }
    if (nu > 1)
        qsort(pairs, nu, sizeof(*pairs), cmp_pair);
    for (size_t i = 1; i < nu; i++)
        if (!cmp_pair(&pairs[i], &pairs[i - 1]))
            flag(v, "user %lld holds two of campaign %lld (%lld, %lld)", (long long)pairs[i].b,
                 (long long)pairs[i].a, (long long)pairs[i - 1].id, (long long)pairs[i].id);
    for (size_t i = 0; i < w->outcomes.n; i++) {
        const struct outcome *oc = &w->outcomes.v[i];
        if (strcmp(oc->op, "issue") != 0 || oc->outcome != O_OK)
            continue;
        issued_ok++;
        if (!ucoupon_is(w, oc->user_coupon_id, oc->user, oc->coupon))
            flag(v, "acknowledged issue of campaign %lld to user %lld: user coupon %lld missing",
                 (long long)oc->coupon, (long long)oc->user, (long long)oc->user_coupon_id);
    }
    for (size_t i = 0; i < w->orders.n; i++) {
        const struct order *o = &w->orders.v[i];
        if (!o->coupon_id)
            continue;
        long u = FIND(w->ucoupons, o->coupon_id);
        if (u < 0 || w->ucoupons.v[u].user_id != o->user_id) {
            flag(v, "order %lld uses user coupon %lld %s", (long long)o->id,
                 (long long)o->coupon_id, u < 0 ? "that is missing" : "of another user");
            continue;
        }
        uses[u] += o->paid;
    }
    for (size_t i = 0; i < nu; i++) {
        const struct ucoupon *u = &w->ucoupons.v[i];
        if (uses[i] > 1 || u->used != (uses[i] == 1))
            flag(v, "user coupon %lld: used by %d PAID orders, used_at %s", (long long)u->id,
                 uses[i], u->used ? "set" : "NULL");
    }
    note(v, "%zu campaigns, %zu user coupons, %zu acknowledged issues", w->coupons.n, nu,
         issued_ok);
    free(count);
    free(pairs);
    free(uses);
}

bool plant_coupons(struct world *w)
{
    if (!w->ucoupons.n)
        return false;
    struct ucoupon copy = w->ucoupons.v[0]; /* a second of the same campaign for the same user */
    copy.id = w->ucoupons.v[w->ucoupons.n - 1].id + 1;
    copy.used = false;
    *PUSH(w->ucoupons) = copy;
    return true;
}

/* 8. every issue request decided; the ISSUED ones hold a real coupon */
void check_issue_requests(const struct world *w, struct verdict *v)
{
    size_t journal = 0, unaccepted = 0, issued = 0, rejected = 0;
    for (size_t i = 0; i < w->outcomes.n; i++) {
        const struct outcome *oc = &w->outcomes.v[i];
        if (strcmp(oc->op, "issue_request") != 0)
            continue;
        journal++;
        /* unknown without a request id: the request may never have been accepted */
        if (oc->outcome != O_OK && oc->request_id <= 0) {
            unaccepted++;
            continue;
        }
        if (strcmp(oc->final_status, "PENDING") == 0)
            flag(v, "journal: request %lld (user %lld) ended PENDING", (long long)oc->request_id,
                 (long long)oc->user);
        else if (strcmp(oc->final_status, "ISSUED") == 0 &&
                 !ucoupon_is(w, oc->user_coupon_id, oc->user, oc->coupon))
            flag(v, "journal: request %lld ISSUED user coupon %lld, missing for user %lld",
                 (long long)oc->request_id, (long long)oc->user_coupon_id, (long long)oc->user);
    }
    for (size_t i = 0; i < w->creqs.n; i++) {
        const struct creq *r = &w->creqs.v[i];
        if (strcmp(r->status, "REJECTED") == 0) {
            rejected++;
        } else if (strcmp(r->status, "ISSUED") == 0) {
            issued++;
            if (!ucoupon_is(w, r->user_coupon_id, r->user_id, r->coupon_id))
                flag(v, "request %lld ISSUED user coupon %lld, missing for user %lld campaign %lld",
                     (long long)r->id, (long long)r->user_coupon_id, (long long)r->user_id,
                     (long long)r->coupon_id);
        } else {
            flag(v, "request %lld is %s", (long long)r->id,
                 r->status[0] ? r->status : "without a status");
        }
    }
    note(v,
         "%zu in the journal (%zu never accepted); Redis: %zu requests, %zu ISSUED, %zu REJECTED",
         journal, unaccepted, w->creqs.n, issued, rejected);
}

bool plant_issue_requests(struct world *w)
{
    int64_t id = w->creqs.n ? w->creqs.v[w->creqs.n - 1].id + 1 : 1;
    struct creq *r = PUSH(w->creqs); /* never decided */
    *r = (struct creq){.id = id, .coupon_id = 1, .user_id = 1};
    snprintf(r->status, sizeof(r->status), "PENDING");
    return true;
}
