/* pg_stock.c — stock taken and given back with conditional UPDATEs, one row at a time. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "order/adapters/order_pg.h"
#include "order/adapters/pg_arrays.h"

/* Never read-modify-write: the WHERE clause is the check, re-evaluated after any wait. */
static const struct pg_stmt stmt_take = {
    "order_stock_take",
    "UPDATE products SET stock = stock - $2 WHERE id = $1 AND stock >= $2"
    " RETURNING name, price",
    2};
static const struct pg_stmt stmt_left = {"order_stock_left",
                                         "SELECT stock FROM products WHERE id = $1", 1};
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

/* Why a take changed nothing: unknown product, or too little left. */
static enum err_code explain_refusal(struct pg_conn *c, const struct order_line *l, struct err *e)
{
    char id_buf[21];
    const char *params[] = {pg_i64_param(l->product_id, id_buf)};
    PGresult *r = pg_exec(c, &stmt_left, params, e);
    if (!r)
        return e->code;
    enum err_code rc;
    if (PQntuples(r) == 0)
        rc = err_set(e, ERR_PRODUCT_NOT_FOUND, "product %lld does not exist",
                     (long long)l->product_id);
    else
        rc = err_set(e, ERR_OUT_OF_STOCK, "product %lld has %lld left, %lld requested",
                     (long long)l->product_id, (long long)pg_get_i64(r, 0, 0),
                     (long long)l->quantity);
    e->product_id = l->product_id;
    PQclear(r);
    return rc;
}

static enum err_code stock_take(void *self, struct order_line *lines, size_t n, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    for (size_t i = 0; i < n; i++) {
        struct order_line *l = &lines[i];
        char id_buf[21], qty_buf[21];
        const char *params[] = {pg_i64_param(l->product_id, id_buf),
                                pg_i64_param(l->quantity, qty_buf)};
        PGresult *r = pg_exec(c, &stmt_take, params, e);
        if (!r)
            return e->code;
        bool taken = PQntuples(r) == 1;
        if (taken) {
            snprintf(l->name, sizeof(l->name), "%s", PQgetvalue(r, 0, 0));
            l->unit_price = pg_get_i64(r, 0, 1);
        }
        PQclear(r);
        if (!taken)
            return explain_refusal(c, l, e);
    }
    return ERR_OK;
}

static enum err_code unsell(struct pg_conn *c, const struct order_line *lines, size_t n,
                            int64_t sold_at, struct err *e)
{
    char *ids = pg_line_array(lines, n, offsetof(struct order_line, product_id));
    char *qtys = pg_line_array(lines, n, offsetof(struct order_line, quantity));
    enum err_code rc = ERR_OK;
    char at[21];
    const char *params[] = {pg_i64_param(sold_at, at), ids, qtys};
    PGresult *r = ids && qtys ? pg_exec(c, &stmt_unsell, params, e) : NULL;
    if (!r)
        rc = ids && qtys ? e->code : err_set(e, ERR_INTERNAL, "out of memory");
    PQclear(r);
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
    for (size_t i = 0; i < n; i++) {
        char id_buf[21], qty_buf[21];
        const char *params[] = {pg_i64_param(lines[i].product_id, id_buf),
                                pg_i64_param(lines[i].quantity, qty_buf)};
        PGresult *r = pg_exec(c, &stmt_give_back, params, e);
        if (!r)
            return e->code;
        PQclear(r);
    }
    return unsell(c, lines, n, sold_at, e);
}

static const struct stock_port_ops pg_stock_ops = {
    .take = stock_take,
    .give_back = stock_give_back,
};

struct stock_port pg_stock_port(struct pg_pool *pool)
{
    return (struct stock_port){.ops = &pg_stock_ops, .self = pool};
}
