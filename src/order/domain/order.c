/* order.c — order rules: merge, price, discount, fingerprint. */
#include "order/domain/order.h"

#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/text.h"

bool order_reserve_lines(struct order *o, size_t n)
{
    free(o->lines);
    o->n_lines = 0;
    o->lines = calloc(n ? n : 1, sizeof(*o->lines));
    return o->lines != NULL;
}

void order_cleanup(struct order *o)
{
    free(o->lines);
    o->lines = NULL;
    o->n_lines = 0;
}

bool order_lines_ascending(const struct order_line *lines, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (lines[i - 1].product_id >= lines[i].product_id)
            return false;
    return true;
}

static int by_product_id(const void *a, const void *b)
{
    int64_t x = ((const struct order_line *)a)->product_id;
    int64_t y = ((const struct order_line *)b)->product_id;
    return (x > y) - (x < y);
}

enum err_code order_merge_items(const struct order_item *items, size_t n, struct order_line *out,
                                size_t *n_out, struct err *e)
{
    *n_out = 0;
    if (n == 0 || n > ORDER_MAX_LINES)
        return err_set_field(e, ERR_INVALID_REQUEST, "items", "items must hold 1 to %d lines",
                             ORDER_MAX_LINES);
    for (size_t i = 0; i < n; i++) {
        if (items[i].product_id <= 0)
            return err_set_field(e, ERR_INVALID_REQUEST, "items",
                                 "items[%zu].product_id must be a positive id", i);
        if (items[i].quantity < 1 || items[i].quantity > ORDER_MAX_LINE_QUANTITY)
            return err_set_field(e, ERR_INVALID_REQUEST, "items",
                                 "items[%zu].quantity must be from 1 to %d", i,
                                 ORDER_MAX_LINE_QUANTITY);
    }
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        size_t j = 0;
        while (j < m && out[j].product_id != items[i].product_id)
            j++;
        if (j == m) {
            memset(&out[m], 0, sizeof(out[m]));
            out[m].product_id = items[i].product_id;
            m++;
        }
        out[j].quantity += items[i].quantity; /* ≤ 100 × 1000: no overflow */
    }
    qsort(out, m, sizeof(out[0]), by_product_id);
    assert(m <= ORDER_MAX_LINES && order_lines_ascending(out, m));
    *n_out = m;
    return ERR_OK;
}

int64_t order_discount(const struct coupon_discount *coupon, int64_t subtotal)
{
    if (!coupon || subtotal <= 0 || coupon->value <= 0)
        return 0;
    if (coupon->type == ORDER_DISCOUNT_FIXED)
        return coupon->value < subtotal ? coupon->value : subtotal;
    int64_t rate = coupon->value > 100 ? 100 : coupon->value;
    /* subtotal * rate / 100 without overflow, rounded down */
    return (subtotal / 100) * rate + (subtotal % 100) * rate / 100;
}

enum err_code order_price(struct order *o, const struct coupon_discount *coupon, struct err *e)
{
    int64_t subtotal = 0;
    for (size_t i = 0; i < o->n_lines; i++) {
        struct order_line *l = &o->lines[i];
        if (__builtin_mul_overflow(l->unit_price, l->quantity, &l->amount) ||
            __builtin_add_overflow(subtotal, l->amount, &subtotal))
            return err_set_field(e, ERR_INVALID_REQUEST, "items", "order total is too large");
    }
    o->subtotal = subtotal;
    o->discount = order_discount(coupon, subtotal);
    assert(o->discount >= 0 && (subtotal <= 0 || o->discount <= subtotal));
    o->total = subtotal - o->discount;
    return ERR_OK;
}

const char *order_status_name(enum order_status s)
{
    return s == ORDER_CANCELLED ? "CANCELLED" : "PAID";
}

bool order_request_fingerprint(int64_t user_id, const struct order_item *items, size_t n,
                               int64_t coupon_id, char *out, size_t cap)
{
    size_t used = 0;
    int w = snprintf(out, cap, "u=%lld;c=%lld;i=", (long long)user_id, (long long)coupon_id);
    if (w < 0 || (size_t)w >= cap)
        return false;
    used = (size_t)w;
    for (size_t i = 0; i < n; i++) {
        w = snprintf(out + used, cap - used, "%s%lldx%lld", i ? "," : "",
                     (long long)items[i].product_id, (long long)items[i].quantity);
        if (w < 0 || (size_t)w >= cap - used)
            return false;
        used += (size_t)w;
    }
    return true;
}

bool order_idempotency_key_valid(const char *key)
{
    return text_is_idempotency_key(key);
}
