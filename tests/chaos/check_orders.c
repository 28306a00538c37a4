/* check_orders.c — acknowledged orders stored as answered, one order per key, answers within the
 * contract. */
#include "check_invariants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* the journal's items of an order outcome, merged by product, ascending (malloc'd) */
static struct item *merged_items(const struct world *w, const struct outcome *oc, size_t *n)
{
    struct item *it = zalloc(oc->n_items, sizeof(*it));
    if (oc->n_items)
        memcpy(it, &w->items.v[oc->first_item], oc->n_items * sizeof(*it));
    if (oc->n_items > 1)
        qsort(it, oc->n_items, sizeof(*it), cmp_item);
    size_t m = 0;
    for (size_t i = 0; i < oc->n_items; i++) {
        if (m && it[m - 1].product_id == it[i].product_id)
            it[m - 1].quantity += it[i].quantity;
        else
            it[m++] = it[i];
    }
    *n = m;
    return it;
}

struct ack {
    int64_t order_id, user;
    const char *key;
};

/* 4. every acknowledged order stored as sent, cancelled when the cancel was confirmed;
 *    every refused one has no order behind its key */
void check_orders_acknowledged(const struct world *w, struct verdict *v)
{
    size_t ok = 0, refused = 0, unknown = 0, cancels = 0, na = 0;
    struct ack *acked = zalloc(w->outcomes.n, sizeof(*acked));
    for (size_t i = 0; i < w->outcomes.n; i++) {
        const struct outcome *oc = &w->outcomes.v[i];
        if (strcmp(oc->op, "order") != 0)
            continue;
        if (oc->outcome == O_REFUSED) {
            refused++;
            const struct idem *k = find_idem(w, oc->user, false, oc->key);
            if (k && (k->status == 201 || k->status != oc->status))
                flag(v, "refused order (user %lld, key %s, %d) has key status %d (order %lld)",
                     (long long)oc->user, oc->key, oc->status, k->status, (long long)k->order_id);
            continue;
        }
        if (oc->outcome != O_OK) {
            unknown++;
            continue;
        }
        ok++;
        acked[na++] = (struct ack){oc->order_id, oc->user, oc->key};
        long o = FIND(w->orders, oc->order_id);
        if (o < 0) {
            flag(v, "order %lld (user %lld, key %s) acknowledged but missing",
                 (long long)oc->order_id, (long long)oc->user, oc->key);
            continue;
        }
        const struct order *ord = &w->orders.v[o];
        if (ord->user_id != oc->user || ord->total != oc->total || ord->coupon_id != oc->coupon_id)
            flag(v,
                 "order %lld: stored user %lld total %lld coupon %lld, acknowledged user %lld "
                 "total %lld coupon %lld",
                 (long long)ord->id, (long long)ord->user_id, (long long)ord->total,
                 (long long)ord->coupon_id, (long long)oc->user, (long long)oc->total,
                 (long long)oc->coupon_id);
        size_t n;
        struct item *it = merged_items(w, oc, &n);
        bool same = n == ord->n_lines;
        for (size_t j = 0; same && j < n; j++) {
            const struct line *l = &w->lines.v[ord->first_line + j];
            same = l->product_id == it[j].product_id && l->quantity == it[j].quantity;
        }
        free(it);
        if (!same)
            flag(v, "order %lld: stored lines differ from the %zu acknowledged items",
                 (long long)ord->id, oc->n_items);
        const struct idem *k = find_idem(w, oc->user, false, oc->key);
        if (!k || k->status != 201 || k->order_id != ord->id)
            flag(v, "order %lld: its key (user %lld, %s) %s", (long long)ord->id,
                 (long long)oc->user, oc->key, k ? "names another outcome" : "is missing");
    }
    if (na > 1)
        qsort(acked, na, sizeof(*acked), cmp_first_id);
    for (size_t i = 1; i < na; i++)
        if (acked[i].order_id == acked[i - 1].order_id &&
            (acked[i].user != acked[i - 1].user || strcmp(acked[i].key, acked[i - 1].key) != 0))
            flag(v, "order %lld acknowledged for two keys (%s, %s)", (long long)acked[i].order_id,
                 acked[i - 1].key, acked[i].key);
    for (size_t i = 0; i < w->outcomes.n; i++) {
        const struct outcome *oc = &w->outcomes.v[i];
        if (strcmp(oc->op, "cancel") != 0 || !(oc->outcome == O_OK || oc->confirmed_by_409))
            continue;
        cancels++;
        long o = FIND(w->orders, oc->order_id);
        if (o < 0 || w->orders.v[o].paid)
            flag(v, "order %lld: cancel confirmed but the order is %s", (long long)oc->order_id,
                 o < 0 ? "missing" : "PAID");
    }
    note(v,
         "%zu acknowledged, %zu refused, %zu unknown orders in the journal, %zu confirmed cancels",
         ok, refused, unknown, cancels);
    free(acked);
}

bool plant_orders_acknowledged(struct world *w)
{
    for (size_t i = 0; i < w->outcomes.n; i++) {
        const struct outcome *oc = &w->outcomes.v[i];
        long o = strcmp(oc->op, "order") == 0 && oc->outcome == O_OK ? FIND(w->orders, oc->order_id)
                                                                     : -1;
        if (o >= 0) {
            w->orders.v[o].total += 1; /* stored unlike what was acknowledged */
            return true;
        }
    }
    return false;
}

/* 5. the order keys answered 201 and the orders are one to one */
void check_one_order_per_key(const struct world *w, struct verdict *v)
{
    int64_t *ids = zalloc(w->idem.n, sizeof(*ids));
    size_t n = 0;
    for (size_t i = 0; i < w->idem.n; i++) {
        const struct idem *k = &w->idem.v[i];
        if (k->charge || k->status != 201)
            continue;
        if (k->order_id <= 0) {
            flag(v, "key (user %lld, %s): 201 without an order id", (long long)k->user_id, k->key);
            continue;
        }
        ids[n++] = k->order_id;
        if (FIND(w->orders, k->order_id) < 0)
            flag(v, "key (user %lld, %s) names missing order %lld", (long long)k->user_id, k->key,
                 (long long)k->order_id);
    }
    qsort(ids, n, sizeof(*ids), cmp_i64p);
    for (size_t i = 1; i < n; i++)
        if (ids[i] == ids[i - 1])
            flag(v, "order %lld named by two keys", (long long)ids[i]);
    if (n != w->orders.n)
        flag(v, "%zu keys answered 201, %zu orders", n, w->orders.n);
    for (size_t i = 0; i < w->orders.n; i++)
        if (!n || !bsearch(&w->orders.v[i].id, ids, n, sizeof(*ids), cmp_i64p))
            flag(v, "order %lld has no key", (long long)w->orders.v[i].id);
    note(v, "%zu order keys answered 201, %zu orders", n, w->orders.n);
    free(ids);
}

bool plant_one_order_per_key(struct world *w)
{
    for (size_t i = 0; i < w->idem.n; i++) {
        if (w->idem.v[i].charge || w->idem.v[i].status != 201)
            continue;
        struct idem copy = w->idem.v[i]; /* a second key naming the same order */
        snprintf(copy.key, sizeof(copy.key), "planted-%zu", i);
        *PUSH(w->idem) = copy;
        return true;
    }
    return false;
}

struct contract {
    const char *op;
    int allowed[10];
};

static const struct contract contracts[] = {
    {"order", {201, 400, 401, 403, 404, 409, 422, 503, 0, -1}},
    {"cancel", {200, 404, 409, 503, 0, -1}},
    {"charge", {200, 400, 404, 409, 503, 0, -1}},
    {"issue", {201, 404, 409, 503, 0, -1}},
    {"issue_request", {202, 404, 409, 503, 0, -1}},
    {"issue_poll", {200, 404, 503, 0, -1}},
    {"read", {200, 404, 503, 0, -1}},
};

/*
 * 11. every answer the storm saw is in the contract of its operation. The
 * storm goes through nginx, which answers 502 (an instance died under a
 * request) or 504 (it did not answer in time) itself, with its own HTML page:
 * an unknown outcome, like a transport error. A 502/504 with a problem code
 * would be shopd's own, and none is in the contract.
 */
void check_answers(const struct world *w, struct verdict *v)
{
    size_t ok = 0, client = 0, unavailable = 0, transport = 0, gateway = 0;
    if (w->bad_journal_lines)
        flag(v, "%zu journal lines do not parse", w->bad_journal_lines);
    for (size_t i = 0; i < w->attempts.n; i++) {
        const struct attempt *a = &w->attempts.v[i];
        const struct contract *c = NULL;
        for (size_t k = 0; k < sizeof(contracts) / sizeof(contracts[0]); k++)
            if (strcmp(contracts[k].op, a->op) == 0)
                c = &contracts[k];
        bool from_gateway = (a->status == 502 || a->status == 504) && !a->code[0];
        bool allowed = c && from_gateway;
        for (size_t k = 0; c && c->allowed[k] >= 0; k++)
            allowed |= c->allowed[k] == a->status;
        if (!allowed)
            flag(v, "attempts line %zu: %s answered %d %s", a->line, a->op, a->status, a->code);
        ok += a->status >= 200 && a->status < 300;
        client += a->status >= 400 && a->status < 500;
        unavailable += a->status == 503;
        transport += a->status == 0;
        gateway += from_gateway;
    }
    note(v, "%zu attempts: %zu 2xx, %zu 4xx, %zu 503, %zu 502/504 from nginx, %zu transport errors",
         w->attempts.n, ok, client, unavailable, gateway, transport);
}

bool plant_answers(struct world *w)
{
    struct attempt *a = PUSH(w->attempts);
    snprintf(a->op, sizeof(a->op), "order");
    a->status = 500;
    snprintf(a->code, sizeof(a->code), "INTERNAL");
    a->line = 0;
    return true;
}
