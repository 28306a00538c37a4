/* pg_coupons.c — the order's coupon port: a user's coupon quoted, then used (or given back) in
 * the order's transaction, with a conditional UPDATE so one coupon never pays for two orders. */
#include <assert.h>
#include <string.h>

#include "infra/pg_pipeline.h"
#include "order/adapters/order_pg.h"

static const struct pg_stmt stmt_quote = {
    "order_coupon_quote",
    "SELECT c.discount_type, c.discount_value FROM user_coupons uc"
    "  JOIN coupons c ON c.id = uc.coupon_id"
    " WHERE uc.id = $1 AND uc.user_id = $2 AND uc.used_at IS NULL AND c.expires_at > now()",
    2};
static const struct pg_stmt stmt_use = {
    "order_coupon_use",
    "WITH u AS (UPDATE user_coupons uc SET used_at = now() FROM coupons c"
    "            WHERE uc.id = $1 AND uc.user_id = $2 AND uc.used_at IS NULL"
    "              AND c.id = uc.coupon_id AND c.expires_at > now() RETURNING 1)"
    " SELECT shopd_expect(EXISTS (SELECT 1 FROM u), 'coupon ' || $1::text)",
    2};
static const struct pg_stmt stmt_release = {
    "order_coupon_release", "UPDATE user_coupons SET used_at = NULL WHERE id = $1", 1};

struct quote_out {
    bool *usable;
    struct coupon_discount *discount;
};

static enum err_code on_quote(void *ctx, const PGresult *r, struct err *e)
{
    (void)e;
    const struct quote_out *out = ctx;
    *out->usable = PQntuples(r) == 1;
    if (*out->usable) {
        out->discount->type =
            strcmp(PQgetvalue(r, 0, 0), "RATE") == 0 ? ORDER_DISCOUNT_RATE : ORDER_DISCOUNT_FIXED;
        out->discount->value = pg_get_i64(r, 0, 1);
    }
    return ERR_OK;
}

/* Queues stmt with (coupon_id, user_id). */
static enum err_code queue_coupon(void *self, const struct pg_stmt *stmt, int64_t user_id,
                                  int64_t coupon_id, pg_on_result on_result, const void *ctx,
                                  size_t ctx_size, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    assert(pg_conn_in_tx(c)); /* QUEUED: only inside the unit of work */
    char coupon_buf[21], user_buf[21];
    const char *params[] = {pg_i64_param(coupon_id, coupon_buf), pg_i64_param(user_id, user_buf)};
    return pg_queue(c, stmt, params, on_result, ctx, ctx_size, e);
}

static enum err_code coupons_quote(void *self, int64_t user_id, int64_t coupon_id, bool *usable,
                                   struct coupon_discount *out, struct err *e)
{
    struct quote_out ctx = {usable, out};
    *usable = false;
    return queue_coupon(self, &stmt_quote, user_id, coupon_id, on_quote, &ctx, sizeof(ctx), e);
}

static enum err_code coupons_use(void *self, int64_t user_id, int64_t coupon_id, struct err *e)
{
    return queue_coupon(self, &stmt_use, user_id, coupon_id, NULL, NULL, 0, e);
}

static enum err_code coupons_release(void *self, int64_t coupon_id, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    assert(pg_conn_in_tx(c)); /* QUEUED: only inside the unit of work */
    char coupon_buf[21];
    const char *params[] = {pg_i64_param(coupon_id, coupon_buf)};
    return pg_queue(c, &stmt_release, params, NULL, NULL, 0, e);
}

static const struct coupon_port_ops pg_coupon_ops = {
    .quote = coupons_quote,
    .use = coupons_use,
    .release = coupons_release,
};

struct coupon_port pg_coupon_port(struct pg_pool *pool)
{
    return (struct coupon_port){.ops = &pg_coupon_ops, .self = pool};
}
