/*
 * check_load.h — chaos-check's inputs, read into a struct world: PostgreSQL in
 * one REPEATABLE READ snapshot, Redis (the ranking, the asynchronous issue
 * requests), and JSON-lines files (the data platform's events, the storm's
 * journal). Any input that cannot be read ends the process (exit 2).
 */
#ifndef CHAOS_CHECK_LOAD_H
#define CHAOS_CHECK_LOAD_H

#include <stddef.h>

#include "check_world.h"

/* Reads products, users, ledger, orders, lines, coupons, keys, sales and the outbox into w. */
void load_pg(struct world *w, const char *url);

/* Reads the ranking of every day in w->sales and the issue requests under namespace ns. */
void load_redis(struct world *w, const char *url, const char *ns);

/* Reads the data platform's event file; returns the lines that are not JSON objects. */
size_t load_events(struct world *w, const char *path);

/* Reads the journal's outcomes.jsonl and attempts.jsonl in dir; returns the unreadable lines. */
size_t load_journal(struct world *w, const char *dir);

#endif
