/* pg_coupons.c — the coupon port until the coupon module exists: no coupon is usable. */
#include "order/adapters/order_pg.h"

static enum err_code coupons_use(void *self, int64_t user_id, int64_t coupon_id,
                                 struct coupon_discount *out, struct err *e)
{
    (void)self;
    (void)user_id;
    (void)out;
    return err_set(e, ERR_COUPON_NOT_USABLE, "coupon %lld is not usable", (long long)coupon_id);
}

static enum err_code coupons_release(void *self, int64_t coupon_id, struct err *e)
{
    (void)self;
    (void)coupon_id;
    (void)e;
    return ERR_OK;
}

static const struct coupon_port_ops pg_coupon_ops = {
    .use = coupons_use,
    .release = coupons_release,
};

struct coupon_port pg_coupon_port(struct pg_pool *pool)
{
    return (struct coupon_port){.ops = &pg_coupon_ops, .self = pool};
}
