/* read_orders.h — the read use cases: one order, a user's orders. */
#ifndef SHOPD_ORDER_APP_READ_ORDERS_H
#define SHOPD_ORDER_APP_READ_ORDERS_H

#include "order/app/order_deps.h"

enum { ORDER_LIST_MAX = 100 };

/* A user's orders, newest first. */
struct order_list {
    struct order *items; /* owned, with their lines: order_list_cleanup */
    size_t n;
    size_t cap;
};

/*
 * Reads order_id: ERR_OK with *out filled (lines owned: order_cleanup), or
 * ERR_ORDER_NOT_FOUND. Thread-safe if the ports are.
 * With acting_user > 0, another user's order answers ERR_ORDER_NOT_FOUND
 * (as if it did not exist) and nothing changes.
 */
enum err_code order_get(const struct order_deps *d, int64_t order_id, int64_t acting_user,
                        struct order *out, struct err *e);

/*
 * Reads up to limit (1..ORDER_LIST_MAX) orders of user_id, newest first,
 * into *out (release with order_list_cleanup). ERR_USER_NOT_FOUND,
 * ERR_INVALID_REQUEST naming limit. Thread-safe if the ports are.
 */
enum err_code order_list_by_user(const struct order_deps *d, int64_t user_id, int64_t limit,
                                 struct order_list *out, struct err *e);

/* Frees every order of list and the array. */
void order_list_cleanup(struct order_list *list);

#endif
