/* order_deps.h — what every order use case is given, and the per-user lock they share. */
#ifndef SHOPD_ORDER_APP_ORDER_DEPS_H
#define SHOPD_ORDER_APP_ORDER_DEPS_H

#include "core/lock.h"
#include "order/app/ports.h"

/* Everything the use cases call (all borrowed). Plain data; share across threads freely. */
struct order_deps {
    struct tx_port tx;
    struct stock_port stock;
    struct balance_port balance;
    struct coupon_port coupons;
    struct order_repo orders;
    struct idempotency_port idempotency;
    struct event_port events;
    struct order_notify_port notify; /* after each commit (ops NULL: nobody listens) */
    struct order_presenter presenter;
    struct lock_port locks; /* per-user lock around each use case (ops NULL: none) */
    int max_attempts;       /* unit-of-work attempts on serialization failure/deadlock (>= 1) */
};

/*
 * Tells d's notify port, after a commit, that type about o committed;
 * nothing when d has none. Never fails. Thread-safe if the port is.
 */
static inline void order_notify_committed(const struct order_deps *d, const char *type,
                                          const struct order *o)
{
    if (d->notify.ops)
        order_notify_port_committed(&d->notify, type, o);
}

/*
 * Takes the per-user lock (core/lock.h's key) when d has a lock port:
 * ERR_OK with *locked telling whether it is held (a lock service that is
 * down is not an error: the database holds the rules), or ERR_UNAVAILABLE
 * when the wait timed out. Release with order_unlock_user after the
 * transaction ended. Thread-safe if the lock port is.
 */
enum err_code order_lock_user(const struct order_deps *d, int64_t user_id,
                              char token[LOCK_TOKEN_LEN], bool *locked, struct err *e);

/*
 * The per-user lock of one use-case call, taken in two halves when the lock
 * port can (its round trip then overlaps the first database exchange).
 */
struct order_user_lock {
    char token[LOCK_TOKEN_LEN];
    bool held;
    bool pending; /* sent by order_lock_user_start, answer not read yet */
};

/*
 * Starts taking user_id's lock: with the port's acquire_start it only sends
 * the attempt (l->pending; finish with order_lock_user_finish before any
 * wait), otherwise it takes the lock now, waiting (as order_lock_user).
 * ERR_OK, or ERR_UNAVAILABLE when a wait timed out.
 */
enum err_code order_lock_user_start(const struct order_deps *d, int64_t user_id,
                                    struct order_user_lock *l, struct err *e);

/*
 * Reads the answer to a pending start (nothing when !l->pending): l->held,
 * or *contended when another holder has the lock right now — the caller
 * ends its transaction, then waits with order_lock_user.
 */
void order_lock_user_finish(const struct order_deps *d, int64_t user_id, struct order_user_lock *l,
                            bool *contended);

/* Releases what order_lock_user took (nothing when !locked). */
void order_unlock_user(const struct order_deps *d, int64_t user_id, const char *token, bool locked);

#endif
