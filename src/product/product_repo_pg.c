/* product_repo_pg.c — products in PostgreSQL; stock is always read live. */
#include "product/product_repo_pg.h"

#include <stdio.h>
#include <string.h>

static const struct pg_stmt stmt_get = {
    "product_get", "SELECT id, name, price, stock FROM products WHERE id = $1", 1};
static const struct pg_stmt stmt_list = {"product_list",
                                         "SELECT id, name, price, stock FROM products WHERE id > "
                                         "$1::bigint ORDER BY id LIMIT $2::bigint",
                                         2};
static const struct pg_stmt stmt_create = {
    "product_create",
    "INSERT INTO products (name, price, stock) VALUES ($1, $2, $3)"
    " RETURNING id, name, price, stock",
    3};

static void row_to_product(const PGresult *r, int row, struct product *out)
{
    out->id = pg_get_i64(r, row, 0);
    snprintf(out->name, sizeof(out->name), "%s", PQgetvalue(r, row, 1));
    out->price = pg_get_i64(r, row, 2);
    out->stock = pg_get_i64(r, row, 3);
}

static enum err_code repo_get(void *self, int64_t id, struct product *out, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char id_buf[21];
    const char *params[] = {pg_i64_param(id, id_buf)};
    PGresult *r = pg_exec(c, &stmt_get, params, e);
    if (!r)
        return e->code;
    enum err_code rc = ERR_OK;
    if (PQntuples(r) == 0)
        rc = err_set(e, ERR_PRODUCT_NOT_FOUND, "product %lld does not exist", (long long)id);
    else
        row_to_product(r, 0, out);
    PQclear(r);
    return rc;
}

static enum err_code repo_list(void *self, int64_t after, size_t limit, struct product *out,
                               size_t *n, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char after_buf[21], limit_buf[21];
    const char *params[] = {pg_i64_param(after, after_buf),
                            pg_i64_param((int64_t)limit, limit_buf)};
    PGresult *r = pg_exec(c, &stmt_list, params, e);
    if (!r)
        return e->code;
    size_t rows = (size_t)PQntuples(r);
    *n = rows < limit ? rows : limit;
    for (size_t i = 0; i < *n; i++)
        row_to_product(r, (int)i, &out[i]);
    PQclear(r);
    return ERR_OK;
}

static enum err_code repo_create(void *self, struct product *inout, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char price_buf[21], stock_buf[21];
    const char *params[] = {inout->name, pg_i64_param(inout->price, price_buf),
                            pg_i64_param(inout->stock, stock_buf)};
    PGresult *r = pg_exec(c, &stmt_create, params, e);
    if (!r)
        return e->code;
    row_to_product(r, 0, inout);
    PQclear(r);
    return ERR_OK;
}

static const struct product_repo_ops product_repo_pg_ops = {
    .get = repo_get,
    .list = repo_list,
    .create = repo_create,
};

struct product_repo product_repo_pg(struct pg_pool *pool)
{
    return (struct product_repo){.ops = &product_repo_pg_ops, .self = pool};
}
