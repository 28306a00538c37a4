/*
 * chaos-check — after a fault-injection run, verifies that nothing was lost
 * or duplicated: reads PostgreSQL (the source of truth, in one REPEATABLE
 * READ snapshot), Redis (the ranking, the asynchronous coupon issue
 * requests), the fake data platform's event file and the storm's journal
 * into memory, then runs one pure check per invariant over that data.
 *
 *   chaos-check --db URL --redis URL --namespace NS --events FILE --journal DIR
 *               --initial-stock N [--late-ms MS] [--self-test]
 *
 * Prints one line per invariant, "PASS name: detail" or "FAIL name: detail;
 * N violation(s): the first few", and exits 0 only when all pass (1: some
 * failed, 2: the inputs could not be read). --self-test plants one violation
 * per invariant into a copy of the loaded data (never into the database) and
 * prints "CAUGHT name" when the check reports more violations than without
 * the plant, "MISSED name" otherwise; it exits non-zero if any is missed.
 *
 * Every charge is assumed to carry an Idempotency-Key (the storm's do): the
 * charges check matches the CHARGE ledger against the charge keys' amounts.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_invariants.h"
#include "check_load.h"

static const struct check checks[] = {
    {"stock", check_stock, plant_stock},
    {"balance", check_balance, plant_balance},
    {"payments", check_payments, plant_payments},
    {"orders_acknowledged", check_orders_acknowledged, plant_orders_acknowledged},
    {"one_order_per_key", check_one_order_per_key, plant_one_order_per_key},
    {"charges", check_charges, plant_charges},
    {"coupons", check_coupons, plant_coupons},
    {"issue_requests", check_issue_requests, plant_issue_requests},
    {"events", check_events, plant_events},
    {"ranking", check_ranking, plant_ranking},
    {"answers", check_answers, plant_answers},
};
enum { N_CHECKS = sizeof(checks) / sizeof(checks[0]) };

static void usage(void)
{
    fprintf(stderr, "usage: chaos-check --db URL --redis URL --namespace NS --events FILE"
                    " --journal DIR --initial-stock N [--late-ms MS] [--self-test]\n");
    exit(2);
}

static void print_verdict(const char *name, const struct verdict *v)
{
    if (!v->bad)
        printf("PASS %s: %s\n", name, v->detail);
    else
        printf("FAIL %s: %s; %ld violation%s: %s%s\n", name, v->detail, v->bad,
               v->bad == 1 ? "" : "s", v->first, v->bad > FIRST_MAX ? "; …" : "");
}

int main(int argc, char **argv)
{
    const char *db = NULL, *redis = NULL, *ns = NULL, *events = NULL, *journal = NULL,
               *stock = NULL, *late = "5000";
    bool self_test = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--db") == 0              ? &db
                            : strcmp(a, "--redis") == 0         ? &redis
                            : strcmp(a, "--namespace") == 0     ? &ns
                            : strcmp(a, "--events") == 0        ? &events
                            : strcmp(a, "--journal") == 0       ? &journal
                            : strcmp(a, "--initial-stock") == 0 ? &stock
                            : strcmp(a, "--late-ms") == 0       ? &late
                                                                : NULL;
        if (slot && i + 1 < argc)
            *slot = argv[++i];
        else if (strcmp(a, "--self-test") == 0)
            self_test = true;
        else
            usage();
    }
    if (!db || !redis || !ns || !events || !journal || !stock)
        usage();

    struct world w = {.initial_stock = strtoll(stock, NULL, 10),
                      .late_ms = strtoll(late, NULL, 10)};
    load_pg(&w, db);
    world_index(&w); /* the sales by day, for the Redis ranking */
    load_redis(&w, redis, ns);
    w.bad_event_lines = load_events(&w, events);
    w.bad_journal_lines = load_journal(&w, journal);
    world_index(&w);

    int failed = 0;
    for (size_t i = 0; i < N_CHECKS; i++) {
        struct verdict base = {0};
        checks[i].run(&w, &base);
        if (!self_test) {
            print_verdict(checks[i].name, &base);
            failed += base.bad > 0;
            continue;
        }
        struct world copy;
        world_copy(&copy, &w);
        bool planted = checks[i].plant(&copy);
        world_index(&copy);
        struct verdict after = {0};
        if (planted)
            checks[i].run(&copy, &after);
        world_free(&copy);
        if (planted && after.bad > base.bad) {
            printf("CAUGHT %s: %s%s\n", checks[i].name, after.first,
                   base.bad ? " (it fails without the plant too)" : "");
        } else {
            printf("MISSED %s%s\n", checks[i].name,
                   planted ? "" : ": nothing in the data to plant the violation into");
            failed++;
        }
    }
    world_free(&w);
    return failed ? 1 : 0;
}
