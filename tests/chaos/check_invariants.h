/*
 * check_invariants.h — the invariants chaos-check verifies, one pure check per
 * invariant over a loaded struct world, each with a plant that puts one
 * violation of it into a copy of the world (--self-test). The checks live in
 * check_money.c (stock, balance, payments, charges), check_orders.c
 * (acknowledged orders, keys, answers), check_coupons.c (campaigns, issue
 * requests) and check_events.c (data platform events, ranking).
 * Single-threaded tool code.
 */
#ifndef CHAOS_CHECK_INVARIANTS_H
#define CHAOS_CHECK_INVARIANTS_H

#include <stdbool.h>

#include "check_world.h"

enum { FIRST_MAX = 5 };

struct verdict {
    long bad;
    char first[800];
    char detail[600];
};

/* Counts one violation in v and keeps the text of the first FIRST_MAX. */
__attribute__((format(printf, 2, 3))) void flag(struct verdict *v, const char *fmt, ...);

/* Sets v's detail: what the check looked at (printed after PASS / FAIL). */
__attribute__((format(printf, 2, 3))) void note(struct verdict *v, const char *fmt, ...);

/* One invariant: run fills a verdict; plant adds one violation to w (false: nothing to plant into).
 */
struct check {
    const char *name;
    void (*run)(const struct world *, struct verdict *);
    bool (*plant)(struct world *);
};

void check_stock(const struct world *w, struct verdict *v);
bool plant_stock(struct world *w);
void check_balance(const struct world *w, struct verdict *v);
bool plant_balance(struct world *w);
void check_payments(const struct world *w, struct verdict *v);
bool plant_payments(struct world *w);
void check_orders_acknowledged(const struct world *w, struct verdict *v);
bool plant_orders_acknowledged(struct world *w);
void check_one_order_per_key(const struct world *w, struct verdict *v);
bool plant_one_order_per_key(struct world *w);
void check_charges(const struct world *w, struct verdict *v);
bool plant_charges(struct world *w);
void check_coupons(const struct world *w, struct verdict *v);
bool plant_coupons(struct world *w);
void check_issue_requests(const struct world *w, struct verdict *v);
bool plant_issue_requests(struct world *w);
void check_events(const struct world *w, struct verdict *v);
bool plant_events(struct world *w);
void check_ranking(const struct world *w, struct verdict *v);
bool plant_ranking(struct world *w);
void check_answers(const struct world *w, struct verdict *v);
bool plant_answers(struct world *w);

#endif
