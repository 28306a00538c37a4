/* pg_coupons.c — the order's coupon port: a user's coupon used (or given back) in the
 * order's transaction, with a conditional UPDATE so one coupon never pays for two orders. */
#include "order/adapters/order_pg.h"

#include <string.h>

static const struct pg_stmt stmt_use = {
    "order_coupon_use",
    "UPDATE user_coupons uc SET used_at = now() FROM coupons c"
    " WHERE uc.id = $1 AND uc.user_id = $2 AND uc.used_at IS NULL"
    "   AND c.id = uc.coupon_id AND c.expires_at > now()"
    " RETURNING c.discount_type, c.discount_value",
    2};
static const struct pg_stmt stmt_release = {
    "order_coupon_release", "UPDATE user_coupons SET used_at = NULL WHERE id = $1", 1};

static enum err_code coupons_use(void *self, int64_t user_id, int64_t coupon_id,
                                 struct coupon_discount *out, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char coupon_buf[21], user_buf[21];
    const char *params[] = {pg_i64_param(coupon_id, coupon_buf), pg_i64_param(user_id, user_buf)};
    PGresult *r = pg_exec(c, &stmt_use, params, e);
    if (!r)
        return e->code;
    bool used = PQntuples(r) == 1;
    if (used) {
        out->type = strcmp(PQgetvalue(r, 0, 0), "RATE") == 0 ? COUPON_RATE : COUPON_FIXED;
        out->value = pg_get_i64(r, 0, 1);
    }
    PQclear(r);
    if (!used)
        return err_set(e, ERR_COUPON_NOT_USABLE,
                       "coupon %lld is not usable: not this user's, already used, or expired",
                       (long long)coupon_id);
    return ERR_OK;
}

static enum err_code coupons_release(void *self, int64_t coupon_id, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char coupon_buf[21];
    const char *params[] = {pg_i64_param(coupon_id, coupon_buf)};
    PGresult *r = pg_exec(c, &stmt_release, params, e);
    if (!r)
        return e->code;
    PQclear(r);
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
