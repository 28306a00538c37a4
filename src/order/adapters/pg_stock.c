/* pg_stock.c — the catalogue quoted for an order, then stock taken with conditional UPDATEs
 * (one per line, ascending product id: the lock order) and given back on cancel. */
#include <assert.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

#include "infra/pg_pipeline.h"
#include "order/adapters/order_pg.h"
#include "order/adapters/pg_arrays.h"

static const struct pg_stmt stmt_quote = {
    "order_stock_quote",
    "SELECT id, name, price, stock FROM products WHERE id = ANY($1::bigint[]) ORDER BY id", 1};
/*
 * Never read-modify-write: the WHERE clause is the check, re-evaluated on
 * the latest row version after any wait. The price must still be the one
 * quoted, or the order would be priced on a stale catalogue.
 */
static const struct pg_stmt stmt_take = {
    "order_stock_take",
    "WITH t AS (UPDATE products SET stock = stock - $2"
    "            WHERE id = $1 AND stock >= $2 AND price = $3 RETURNING 1)"
    " SELECT shopd_expect(EXISTS (SELECT 1 FROM t), 'the stock or price of product ' || "
    "$1::text)",
    3};
static const struct pg_stmt stmt_give_back = {
    "order_stock_give_back", "UPDATE products SET stock = stock + $2 WHERE id = $1", 2};
/* After every stock row: the units leave the sales of the order's own UTC day. */
static const struct pg_stmt stmt_unsell = {
    "order_stock_unsell",
    "UPDATE product_sales_daily s SET quantity = s.quantity - x.quantity, version = s.version + 1"
    "  FROM unnest($2::bigint[], $3::bigint[]) AS x(product_id, quantity)"
    " WHERE s.day = (to_timestamp($1::bigint) AT TIME ZONE 'UTC')::date AND s.product_id = "
    "x.product_id",
    3};

struct quote_out {
    struct order_line *lines;
    size_t n;
    struct err *refusal;
};

static enum err_code not_found(struct err *refusal, int64_t product_id)
{
    err_set(refusal, ERR_PRODUCT_NOT_FOUND, "product %lld does not exist", (long long)product_id);
    refusal->product_id = product_id;
    return ERR_OK;
}

/* Rows and lines are both in ascending id: one merge finds the first line that cannot be had. */
static enum err_code on_quote(void *ctx, const PGresult *r, struct err *e)
{
    (void)e;
    const struct quote_out *out = ctx;
    int rows = PQntuples(r), row = 0;
    for (size_t i = 0; i < out->n; i++) {
        struct order_line *l = &out->lines[i];
        while (row < rows && pg_get_i64(r, row, 0) < l->product_id)
            row++;
        if (row == rows || pg_get_i64(r, row, 0) != l->product_id)
            return not_found(out->refusal, l->product_id);
        snprintf(l->name, sizeof(l->name), "%s", PQgetvalue(r, row, 1));
        l->unit_price = pg_get_i64(r, row, 2);
        int64_t left = pg_get_i64(r, row, 3);
        if (left < l->quantity) {
            err_set(out->refusal, ERR_OUT_OF_STOCK, "product %lld has %lld left, %lld requested",
                    (long long)l->product_id, (long long)left, (long long)l->quantity);
            out->refusal->product_id = l->product_id;
            return ERR_OK;
        }
    }
    return ERR_OK;
}

static enum err_code stock_quote(void *self, struct order_line *lines, size_t n,
                                 struct err *refusal, struct err *e)
{
    err_clear(refusal);
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    assert(pg_conn_in_tx(c)); /* QUEUED: only inside the unit of work */
    char *ids = pg_line_array(lines, n, offsetof(struct order_line, product_id));
    if (!ids)
        return err_set(e, ERR_INTERNAL, "out of memory");
    const char *params[] = {ids};
    struct quote_out out = {lines, n, refusal};
    enum err_code rc = pg_queue(c, &stmt_quote, params, on_quote, &out, sizeof(out), e);
    free(ids);
    return rc;
}

static enum err_code stock_take(void *self, const struct order_line *lines, size_t n, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    assert(pg_conn_in_tx(c)); /* QUEUED: only inside the unit of work */
    for (size_t i = 0; i < n; i++) {
        char id_buf[21], qty_buf[21], price_buf[21];
        const char *params[] = {pg_i64_param(lines[i].product_id, id_buf),
                                pg_i64_param(lines[i].quantity, qty_buf),
                                pg_i64_param(lines[i].unit_price, price_buf)};
        if (pg_queue(c, &stmt_take, params, NULL, NULL, 0, e))
            return e->code;
    }
    return ERR_OK;
}

static enum err_code queue_unsell(struct pg_conn *c, const struct order_line *lines, size_t n,
                                  int64_t sold_at, struct err *e)
{
    char *ids = pg_line_array(lines, n, offsetof(struct order_line, product_id));
    char *qtys = pg_line_array(lines, n, offsetof(struct order_line, quantity));
    enum err_code rc;
    if (ids && qtys) {
        char at[21];
        const char *params[] = {pg_i64_param(sold_at, at), ids, qtys};
        rc = pg_queue(c, &stmt_unsell, params, NULL, NULL, 0, e);
    } else {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
    }
    free(ids);
    free(qtys);
    return rc;
}

static enum err_code stock_give_back(void *self, const struct order_line *lines, size_t n,
                                     int64_t sold_at, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    assert(pg_conn_in_tx(c)); /* QUEUED: only inside the unit of work */
    for (size_t i = 0; i < n; i++) {
        char id_buf[21], qty_buf[21];
        const char *params[] = {pg_i64_param(lines[i].product_id, id_buf),
                                pg_i64_param(lines[i].quantity, qty_buf)};
        if (pg_queue(c, &stmt_give_back, params, NULL, NULL, 0, e))
            return e->code;
    }
    return queue_unsell(c, lines, n, sold_at, e);
}

static const struct stock_port_ops pg_stock_ops = {
    .quote = stock_quote,
    .take = stock_take,
    .give_back = stock_give_back,
};

struct stock_port pg_stock_port(struct pg_pool *pool)
{
    return (struct stock_port){.ops = &pg_stock_ops, .self = pool};
}
