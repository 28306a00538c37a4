/* pg_orders.c — orders and their lines in PostgreSQL. */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "infra/pg_pipeline.h"
#include "order/adapters/order_pg.h"
#include "order/adapters/pg_arrays.h"

/*
 * A new order id from the identity's sequence (named by PostgreSQL after the
 * column), and the transaction's start: the order's created_at (the default, now()).
 */
static const struct pg_stmt stmt_reserve = {
    "order_reserve", "SELECT nextval('orders_id_seq'), extract(epoch FROM now())::bigint", 0};
/*
 * The order (with its reserved id), all its lines and the day's sales
 * counters in one statement. Line names come from the product rows this
 * transaction has just locked, at the price the take checked. now() is the
 * transaction's start, the same instant as created_at, so the sales day is
 * the order's UTC day.
 */
static const struct pg_stmt stmt_save = {
    "order_save",
    "WITH o AS (INSERT INTO orders (id, user_id, status, subtotal, discount, total, coupon_id)"
    "           OVERRIDING SYSTEM VALUE"
    "           VALUES ($10, $1, 'PAID', $2, $3, $4, NULLIF($5::bigint, 0)) RETURNING id),"
    " l AS (INSERT INTO order_lines (order_id, product_id, name, unit_price, quantity, amount)"
    "       SELECT o.id, x.product_id, p.name, x.unit_price, x.quantity, x.amount"
    "         FROM o, unnest($6::bigint[], $7::bigint[], $8::bigint[], $9::bigint[])"
    "                 AS x(product_id, unit_price, quantity, amount)"
    "         JOIN products p ON p.id = x.product_id),"
    " s AS (INSERT INTO product_sales_daily (day, product_id, quantity)"
    "       SELECT (now() AT TIME ZONE 'UTC')::date, x.product_id, x.quantity"
    "         FROM unnest($6::bigint[], $8::bigint[]) AS x(product_id, quantity)"
    "       ON CONFLICT (day, product_id)"
    "       DO UPDATE SET quantity = product_sales_daily.quantity + EXCLUDED.quantity,"
    "                     version = product_sales_daily.version + 1)"
    " SELECT id FROM o",
    10};

#define ORDER_COLUMNS                                                                              \
    "o.id, o.user_id, o.status, o.subtotal, o.discount, o.total, coalesce(o.coupon_id, 0),"        \
    " extract(epoch FROM o.created_at)::bigint,"                                                   \
    " l.product_id, l.name, l.unit_price, l.quantity, l.amount"

static const struct pg_stmt stmt_get = {"order_get",
                                        "SELECT " ORDER_COLUMNS
                                        " FROM orders o JOIN order_lines l ON l.order_id = o.id"
                                        " WHERE o.id = $1 ORDER BY l.product_id",
                                        1};
static const struct pg_stmt stmt_list = {
    "order_list_by_user",
    "SELECT " ORDER_COLUMNS
    " FROM (SELECT * FROM orders WHERE user_id = $1 ORDER BY id DESC LIMIT $2::bigint) o"
    " JOIN order_lines l ON l.order_id = o.id ORDER BY o.id DESC, l.product_id",
    2};
static const struct pg_stmt stmt_user_exists = {"order_user_exists",
                                                "SELECT 1 FROM users WHERE id = $1", 1};
/*
 * The cancel (conditional, so only one wins) and the order's rows in one
 * statement. The rows are read from the statement's snapshot, before the
 * UPDATE: the first column says whether it applied.
 */
static const struct pg_stmt stmt_cancel = {
    "order_cancel",
    "WITH c AS (UPDATE orders SET status = 'CANCELLED', cancelled_at = now()"
    "            WHERE id = $1 AND status = 'PAID' RETURNING id)"
    " SELECT EXISTS (SELECT 1 FROM c), " ORDER_COLUMNS
    " FROM orders o JOIN order_lines l ON l.order_id = o.id"
    " WHERE o.id = $1 ORDER BY l.product_id",
    1};

struct reserve_out {
    struct order *o;
};

static enum err_code on_reserve(void *ctx, const PGresult *r, struct err *e)
{
    (void)e;
    const struct reserve_out *out = ctx;
    out->o->id = pg_get_i64(r, 0, 0);
    out->o->created_at = pg_get_i64(r, 0, 1);
    return ERR_OK;
}

static enum err_code repo_reserve(void *self, struct order *o, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    assert(pg_conn_in_tx(c)); /* QUEUED: only inside the unit of work */
    struct reserve_out out = {o};
    return pg_queue(c, &stmt_reserve, NULL, on_reserve, &out, sizeof(out), e);
}

static enum err_code repo_save(void *self, const struct order *o, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    assert(pg_conn_in_tx(c)); /* QUEUED: only inside the unit of work */
    char *ids = pg_line_array(o->lines, o->n_lines, offsetof(struct order_line, product_id));
    char *prices = pg_line_array(o->lines, o->n_lines, offsetof(struct order_line, unit_price));
    char *qtys = pg_line_array(o->lines, o->n_lines, offsetof(struct order_line, quantity));
    char *amounts = pg_line_array(o->lines, o->n_lines, offsetof(struct order_line, amount));
    enum err_code rc;
    if (ids && prices && qtys && amounts) {
        char user[21], sub[21], disc[21], total[21], coupon[21], id[21];
        const char *params[] = {pg_i64_param(o->user_id, user),
                                pg_i64_param(o->subtotal, sub),
                                pg_i64_param(o->discount, disc),
                                pg_i64_param(o->total, total),
                                pg_i64_param(o->coupon_id, coupon),
                                ids,
                                prices,
                                qtys,
                                amounts,
                                pg_i64_param(o->id, id)};
        rc = pg_queue(c, &stmt_save, params, NULL, NULL, 0, e);
    } else {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
    }
    free(ids);
    free(prices);
    free(qtys);
    free(amounts);
    return rc;
}

/*
 * Fills out[] from rows of ORDER_COLUMNS starting at column at (grouped by
 * order). Returns orders read, or -1 on OOM.
 */
static long rows_to_orders(const PGresult *r, int at, struct order *out, size_t cap)
{
    int rows = PQntuples(r);
    size_t n = 0;
    for (int i = 0; i < rows;) {
        if (n == cap)
            break;
        struct order *o = &out[n++];
        int64_t id = pg_get_i64(r, i, at);
        int end = i;
        while (end < rows && pg_get_i64(r, end, at) == id)
            end++;
        if (!order_reserve_lines(o, (size_t)(end - i)))
            return -1;
        o->id = id;
        o->user_id = pg_get_i64(r, i, at + 1);
        o->status =
            strcmp(PQgetvalue(r, i, at + 2), "CANCELLED") == 0 ? ORDER_CANCELLED : ORDER_PAID;
        o->subtotal = pg_get_i64(r, i, at + 3);
        o->discount = pg_get_i64(r, i, at + 4);
        o->total = pg_get_i64(r, i, at + 5);
        o->coupon_id = pg_get_i64(r, i, at + 6);
        o->created_at = pg_get_i64(r, i, at + 7);
        for (; i < end; i++) {
            struct order_line *l = &o->lines[o->n_lines++];
            l->product_id = pg_get_i64(r, i, at + 8);
            snprintf(l->name, sizeof(l->name), "%s", PQgetvalue(r, i, at + 9));
            l->unit_price = pg_get_i64(r, i, at + 10);
            l->quantity = pg_get_i64(r, i, at + 11);
            l->amount = pg_get_i64(r, i, at + 12);
        }
    }
    return (long)n;
}

static enum err_code repo_get(void *self, int64_t id, struct order *out, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char id_buf[21];
    const char *params[] = {pg_i64_param(id, id_buf)};
    PGresult *r = pg_exec(c, &stmt_get, params, e);
    if (!r)
        return e->code;
    long n = rows_to_orders(r, 0, out, 1);
    PQclear(r);
    if (n < 0)
        return err_set(e, ERR_INTERNAL, "out of memory");
    if (n == 0)
        return err_set(e, ERR_ORDER_NOT_FOUND, "order %lld does not exist", (long long)id);
    return ERR_OK;
}

static enum err_code repo_list_by_user(void *self, int64_t user_id, size_t limit, struct order *out,
                                       size_t *n, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char user_buf[21], limit_buf[21];
    const char *params[] = {pg_i64_param(user_id, user_buf),
                            pg_i64_param((int64_t)limit, limit_buf)};
    PGresult *r = pg_exec(c, &stmt_list, params, e);
    if (!r)
        return e->code;
    long got = rows_to_orders(r, 0, out, limit);
    PQclear(r);
    if (got < 0)
        return err_set(e, ERR_INTERNAL, "out of memory");
    *n = (size_t)got;
    if (got > 0)
        return ERR_OK;
    r = pg_exec(c, &stmt_user_exists, params, e);
    if (!r)
        return e->code;
    bool exists = PQntuples(r) == 1;
    PQclear(r);
    return exists ? ERR_OK
                  : err_set(e, ERR_USER_NOT_FOUND, "user %lld does not exist", (long long)user_id);
}

struct cancel_out {
    int64_t id;
    struct order *o;
};

/* Decides the cancel's outcome from its one statement: no rows, not PAID, or cancelled. */
static enum err_code on_cancel(void *ctx, const PGresult *r, struct err *e)
{
    const struct cancel_out *out = ctx;
    if (PQntuples(r) == 0)
        return err_set(e, ERR_ORDER_NOT_FOUND, "order %lld does not exist", (long long)out->id);
    if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
        return err_set(e, ERR_ORDER_NOT_CANCELLABLE, "order %lld is already cancelled",
                       (long long)out->id);
    if (rows_to_orders(r, 1, out->o, 1) != 1)
        return err_set(e, ERR_INTERNAL, "out of memory");
    out->o->status = ORDER_CANCELLED; /* the rows are from before the UPDATE */
    return ERR_OK;
}

static enum err_code repo_cancel(void *self, int64_t id, struct order *out, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    assert(pg_conn_in_tx(c)); /* QUEUED: only inside the unit of work */
    char id_buf[21];
    const char *params[] = {pg_i64_param(id, id_buf)};
    struct cancel_out ctx = {id, out};
    return pg_queue(c, &stmt_cancel, params, on_cancel, &ctx, sizeof(ctx), e);
}

static const struct order_repo_ops pg_order_ops = {
    .reserve = repo_reserve,
    .save = repo_save,
    .get = repo_get,
    .list_by_user = repo_list_by_user,
    .cancel = repo_cancel,
};

struct order_repo pg_order_repo(struct pg_pool *pool)
{
    return (struct order_repo){.ops = &pg_order_ops, .self = pool};
}
