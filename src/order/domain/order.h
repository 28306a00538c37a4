/* order.h — the order domain: lines, merging, pricing, discounts. No I/O at all. */
#ifndef SHOPD_ORDER_DOMAIN_ORDER_H
#define SHOPD_ORDER_DOMAIN_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

enum {
    ORDER_MAX_LINES = 100,
    ORDER_MAX_LINE_QUANTITY = 1000,
    ORDER_NAME_MAX_BYTES = 800, /* product names are at most 200 UTF-8 characters */
    ORDER_KEY_MAX = 255,
};

enum order_status { ORDER_PAID, ORDER_CANCELLED };

/* What the client asked for: a product and a quantity. */
struct order_item {
    int64_t product_id;
    int64_t quantity;
};

/* A priced line: name and unit price as the catalogue had them at purchase. */
struct order_line {
    int64_t product_id;
    char name[ORDER_NAME_MAX_BYTES + 1];
    int64_t unit_price;
    int64_t quantity;
    int64_t amount; /* unit_price * quantity */
};

enum order_discount_type { ORDER_DISCOUNT_FIXED, ORDER_DISCOUNT_RATE };

/* What a usable coupon takes off: FIXED won, or RATE percent (1..100). */
struct coupon_discount {
    enum order_discount_type type;
    int64_t value;
};

struct order {
    int64_t id;
    int64_t user_id;
    enum order_status status;
    struct order_line *lines; /* owned, ascending product_id; see order_reserve_lines */
    size_t n_lines;
    int64_t subtotal;
    int64_t discount;
    int64_t total;
    int64_t coupon_id;  /* 0 = none */
    int64_t created_at; /* epoch seconds UTC */
};

/* Makes room for n lines in o->lines (malloc'd, zeroed). Returns false on OOM. */
bool order_reserve_lines(struct order *o, size_t n);

/* Frees o->lines; o can be reused. */
void order_cleanup(struct order *o);

/*
 * True when lines[0..n) are in strictly ascending product id: the order
 * every writer locks product rows in (so two orders cannot deadlock), and
 * what order_merge_items produces. For assert(); pure, thread-safe.
 */
bool order_lines_ascending(const struct order_line *lines, size_t n);

/*
 * Validates items (1..ORDER_MAX_LINES of them, product_id > 0, quantity
 * 1..ORDER_MAX_LINE_QUANTITY), merges repeated product ids (summing their
 * quantities) and sorts by product id into out (capacity ORDER_MAX_LINES).
 * Only product_id and quantity of out are set. ERR_INVALID_REQUEST naming
 * `items` otherwise. Pure function; thread-safe.
 */
enum err_code order_merge_items(const struct order_item *items, size_t n, struct order_line *out,
                                size_t *n_out, struct err *e);

/*
 * Sets each line's amount, o->subtotal, o->discount (from coupon, may be NULL)
 * and o->total. ERR_INVALID_REQUEST when an amount would not fit in int64.
 */
enum err_code order_price(struct order *o, const struct coupon_discount *coupon, struct err *e);

/*
 * The discount coupon gives on subtotal: FIXED never more than the subtotal,
 * RATE rounded down to the won. Never negative, never above subtotal.
 */
int64_t order_discount(const struct coupon_discount *coupon, int64_t subtotal);

/* "PAID" / "CANCELLED". */
const char *order_status_name(enum order_status s);

/*
 * Canonical text of a place-order request (user, items as sent, coupon), the
 * idempotency fingerprint: equal requests give equal text whatever their JSON
 * spelling. Writes at most cap bytes; returns false if it did not fit.
 */
bool order_request_fingerprint(int64_t user_id, const struct order_item *items, size_t n,
                               int64_t coupon_id, char *out, size_t cap);

/* True when key is 1..255 printable ASCII characters (0x21..0x7e plus space inside). */
bool order_idempotency_key_valid(const char *key);

#endif
