/* check_money.c — stock conserved, balances equal their ledgers, one payment per order, charges
 * kept. */
#include "check_invariants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* 1. every product: stock >= 0 and N == stock + units in PAID orders */
void check_stock(const struct world *w, struct verdict *v)
{
    int64_t *sold = zalloc(w->products.n, sizeof(*sold));
    int64_t total_sold = 0;
    for (size_t i = 0; i < w->lines.n; i++) {
        const struct line *l = &w->lines.v[i];
        long o = FIND(w->orders, l->order_id), p = FIND(w->products, l->product_id);
        if (o < 0 || p < 0) {
            flag(v, "line (order %lld, product %lld) of a missing %s", (long long)l->order_id,
                 (long long)l->product_id, o < 0 ? "order" : "product");
            continue;
        }
        if (w->orders.v[o].paid) {
            sold[p] += l->quantity;
            total_sold += l->quantity;
        }
    }
    for (size_t i = 0; i < w->products.n; i++) {
        const struct product *p = &w->products.v[i];
        if (p->stock < 0 || p->stock + sold[i] != w->initial_stock)
            flag(v, "product %lld: stock %lld + sold %lld != %lld", (long long)p->id,
                 (long long)p->stock, (long long)sold[i], (long long)w->initial_stock);
    }
    note(v, "%zu products of initial stock %lld, %lld units sold in PAID orders", w->products.n,
         (long long)w->initial_stock, (long long)total_sold);
    free(sold);
}

bool plant_stock(struct world *w)
{
    if (!w->products.n)
        return false;
    w->products.v[0].stock += 1; /* one unit appeared from nowhere */
    return true;
}

/* 2. every user: balance >= 0 and balance == the sum of their ledger */
void check_balance(const struct world *w, struct verdict *v)
{
    int64_t *sum = zalloc(w->users.n, sizeof(*sum));
    for (size_t i = 0; i < w->ledger.n; i++) {
        const struct ledger *l = &w->ledger.v[i];
        long u = FIND(w->users, l->user_id);
        if (u < 0)
            flag(v, "ledger row %lld of missing user %lld", (long long)l->id,
                 (long long)l->user_id);
        else
            sum[u] += l->amount;
    }
    for (size_t i = 0; i < w->users.n; i++) {
        const struct user *u = &w->users.v[i];
        if (u->balance < 0 || u->balance != sum[i])
            flag(v, "user %lld: balance %lld, ledger sum %lld", (long long)u->id,
                 (long long)u->balance, (long long)sum[i]);
    }
    note(v, "%zu users, %zu ledger rows", w->users.n, w->ledger.n);
    free(sum);
}

bool plant_balance(struct world *w)
{
    if (!w->users.n)
        return false;
    w->users.v[0].balance += 1;
    return true;
}

/* 3. one USE (-total) per order; one REFUND (+total) per CANCELLED order, none per PAID one */
void check_payments(const struct world *w, struct verdict *v)
{
    size_t no = w->orders.n, uses = 0, refunds = 0, paid = 0;
    int *use = zalloc(no, sizeof(*use)), *refund = zalloc(no, sizeof(*refund));
    bool *wrong = zalloc(no, sizeof(*wrong));
    for (size_t i = 0; i < w->ledger.n; i++) {
        const struct ledger *l = &w->ledger.v[i];
        if (l->type == L_CHARGE)
            continue;
        const char *what = l->type == L_USE ? "USE" : "REFUND";
        *(l->type == L_USE ? &uses : &refunds) += 1;
        long o = l->order_id ? FIND(w->orders, l->order_id) : -1;
        if (o < 0) {
            flag(v, "ledger row %lld: %s of missing order %lld", (long long)l->id, what,
                 (long long)l->order_id);
            continue;
        }
        const struct order *ord = &w->orders.v[o];
        int64_t want = l->type == L_USE ? -ord->total : ord->total;
        if (l->amount != want || l->user_id != ord->user_id) {
            flag(v, "ledger row %lld: %s %lld by user %lld for order %lld (total %lld, user %lld)",
                 (long long)l->id, what, (long long)l->amount, (long long)l->user_id,
                 (long long)ord->id, (long long)ord->total, (long long)ord->user_id);
            wrong[o] = true;
        }
        (l->type == L_USE ? use : refund)[o]++;
    }
    for (size_t i = 0; i < no; i++) {
        const struct order *o = &w->orders.v[i];
        paid += o->paid;
        int want_refunds = o->paid ? 0 : 1;
        if (!wrong[i] && (use[i] != 1 || refund[i] != want_refunds))
            flag(v, "order %lld (%s): %d USE, %d REFUND rows", (long long)o->id,
                 o->paid ? "PAID" : "CANCELLED", use[i], refund[i]);
    }
    note(v, "%zu orders (%zu PAID, %zu CANCELLED), %zu USE and %zu REFUND rows", no, paid,
         no - paid, uses, refunds);
    free(use);
    free(refund);
    free(wrong);
}

bool plant_payments(struct world *w)
{
    if (!w->orders.n)
        return false;
    const struct order *o = &w->orders.v[0]; /* paid twice */
    int64_t id = max_ledger_id(w) + 1;
    *PUSH(w->ledger) = (struct ledger){id, o->user_id, -o->total, o->id, L_USE};
    return true;
}

/* 6. per user, the CHARGE ledger equals the charge keys answered 200; acknowledged charges kept */
void check_charges(const struct world *w, struct verdict *v)
{
    int64_t *ledger = zalloc(w->users.n, sizeof(*ledger)),
            *keys = zalloc(w->users.n, sizeof(*keys));
    int64_t total = 0, acked = 0, unknown = 0;
    for (size_t i = 0; i < w->ledger.n; i++) {
        const struct ledger *l = &w->ledger.v[i];
        if (l->type != L_CHARGE)
            continue;
        long u = FIND(w->users, l->user_id);
        if (u >= 0)
            ledger[u] += l->amount;
        else
            flag(v, "CHARGE row %lld of missing user %lld", (long long)l->id,
                 (long long)l->user_id);
        total += l->amount;
    }
    for (size_t i = 0; i < w->idem.n; i++) {
        const struct idem *k = &w->idem.v[i];
        if (!k->charge || k->status != 200)
            continue;
        long u = FIND(w->users, k->user_id);
        if (k->amount < 0 || u < 0)
            flag(v, "charge key (user %lld, %s): %s", (long long)k->user_id, k->key,
                 u < 0 ? "missing user" : "no amount in its fingerprint");
        else
            keys[u] += k->amount;
    }
    for (size_t i = 0; i < w->users.n; i++)
        if (ledger[i] != keys[i])
            flag(v, "user %lld: CHARGE rows sum %lld, charge keys answered 200 sum %lld",
                 (long long)w->users.v[i].id, (long long)ledger[i], (long long)keys[i]);
    for (size_t i = 0; i < w->outcomes.n; i++) {
        const struct outcome *oc = &w->outcomes.v[i];
        if (strcmp(oc->op, "charge") != 0)
            continue;
        const struct idem *k = find_idem(w, oc->user, true, oc->key);
        if (oc->outcome == O_OK) {
            acked += oc->amount;
            if (!k || k->status != 200 || k->amount != oc->amount)
                flag(v, "acknowledged charge (user %lld, key %s, %lld): key %s",
                     (long long)oc->user, oc->key, (long long)oc->amount,
                     k ? "differs" : "missing");
        } else if (oc->outcome == O_REFUSED) {
            if (k && k->status == 200)
                flag(v, "refused charge (user %lld, key %s) has its key answered 200",
                     (long long)oc->user, oc->key);
        } else {
            unknown += oc->amount;
        }
    }
    note(v, "%lld points charged; journal: %lld acknowledged, %lld unknown", (long long)total,
         (long long)acked, (long long)unknown);
    free(ledger);
    free(keys);
}

bool plant_charges(struct world *w)
{
    if (!w->users.n)
        return false;
    int64_t id = max_ledger_id(w) + 1; /* a charge applied without its key */
    *PUSH(w->ledger) = (struct ledger){id, w->users.v[0].id, 7, 0, L_CHARGE};
    return true;
}
