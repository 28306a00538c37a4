/* order_notify.c — a committed order wakes the relay and tells the ranking which sales changed. */
#include "order/adapters/order_notify.h"

static void notify_committed(void *self, const char *type, const struct order *o)
{
    (void)type; /* a payment and a cancel both wrote an outbox row and changed the day's sales */
    const struct order_notify *n = self;
    if (n->wake)
        n->wake(n->wake_ud);
    if (n->on_sale && o->n_lines > 0) {
        int64_t ids[ORDER_MAX_LINES];
        size_t count = o->n_lines < ORDER_MAX_LINES ? o->n_lines : ORDER_MAX_LINES;
        for (size_t i = 0; i < count; i++)
            ids[i] = o->lines[i].product_id;
        n->on_sale(n->on_sale_ud, o->created_at, ids, count);
    }
}

static const struct order_notify_ops order_notify_ops = {.committed = notify_committed};

struct order_notify_port order_notify_port(struct order_notify *n)
{
    return (struct order_notify_port){.ops = &order_notify_ops, .self = n};
}
