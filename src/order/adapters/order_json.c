/* order_json.c — Order as JSON. */
#include "order/adapters/order_json.h"

#include "core/timefmt.h"

json_t *order_list_json(const struct order *orders, size_t n)
{
    json_t *items = json_array();
    for (size_t i = 0; i < n; i++) {
        if (json_array_append_new(items, order_json(&orders[i])) != 0) { /* never short */
            json_decref(items);
            return NULL;
        }
    }
    return json_pack("{s:o}", "items", items); /* a NULL items fails it */
}

json_t *order_json(const struct order *o)
{
    json_t *items = json_array();
    for (size_t i = 0; i < o->n_lines; i++) {
        const struct order_line *l = &o->lines[i];
        json_t *line =
            json_pack("{s:I, s:s, s:I, s:I, s:I}", "product_id", (json_int_t)l->product_id, "name",
                      l->name, "unit_price", (json_int_t)l->unit_price, "quantity",
                      (json_int_t)l->quantity, "amount", (json_int_t)l->amount);
        if (json_array_append_new(items, line) != 0) { /* a NULL line or list: no short order */
            json_decref(items);
            return NULL;
        }
    }
    char created[TIMEFMT_RFC3339_LEN];
    bool dated = timefmt_rfc3339(o->created_at, created); /* else NULL: json_pack fails */
    return json_pack("{s:I, s:I, s:s, s:o, s:I, s:I, s:I, s:o, s:s}", "id", (json_int_t)o->id,
                     "user_id", (json_int_t)o->user_id, "status", order_status_name(o->status),
                     "items", items, "subtotal", (json_int_t)o->subtotal, "discount",
                     (json_int_t)o->discount, "total", (json_int_t)o->total, "coupon_id",
                     o->coupon_id ? json_integer(o->coupon_id) : json_null(), "created_at",
                     dated ? created : NULL);
}
