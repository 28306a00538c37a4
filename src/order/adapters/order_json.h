/* order_json.h — the Order JSON object of the API (also the event payload). */
#ifndef SHOPD_ORDER_ADAPTERS_ORDER_JSON_H
#define SHOPD_ORDER_ADAPTERS_ORDER_JSON_H

#include <jansson.h>

#include "order/domain/order.h"

/* {"id","user_id","status","items":[…],"subtotal","discount","total","coupon_id","created_at"}. */
json_t *order_json(const struct order *o);

#endif
