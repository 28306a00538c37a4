/* order_json.h — the Order JSON object of the API (also the event payload). */
#ifndef SHOPD_ORDER_ADAPTERS_ORDER_JSON_H
#define SHOPD_ORDER_ADAPTERS_ORDER_JSON_H

#include <jansson.h>

#include "order/domain/order.h"

/* {"id","user_id","status","items":[…],"subtotal","discount","total","coupon_id","created_at"}. */
json_t *order_json(const struct order *o);

/* {"items":[Order…]} of orders[0..n) (borrowed). */
json_t *order_list_json(const struct order *orders, size_t n);

/*
 * Both return a new document the caller owns, or NULL when any jansson call
 * failed (out of memory, a name that is not UTF-8, a time that cannot be
 * shown): never a document with members or items missing. Thread-safe.
 */

#endif
