/*
 * ranking_repo_pg.c — the ranking's reads of PostgreSQL: top-N over a window
 * of daily sales (one indexed range scan), a day's sales rows with their
 * versions (what the Redis copy is built from), the ranked products' names
 * and live stock.
 */
#include "ranking/ranking_repo_pg.h"

#include <stdio.h>
#include <stdlib.h>

/*
 * The window is today and the days-1 UTC days before it: day > today - days.
 * The primary key (day, product_id) serves the range; at most days × products
 * rows are aggregated however many orders there were. Stock is read live.
 * Parameter types are explicit: days is int because date - integer is the
 * only date arithmetic on a count of days (the service bounds it to 1..30);
 * the limit is bigint.
 */
static const struct pg_stmt stmt_top = {
    "ranking_top",
    "SELECT p.id, p.name, p.price, p.stock, t.sold"
    "  FROM (SELECT product_id, sum(quantity) AS sold FROM product_sales_daily"
    "         WHERE day > (now() AT TIME ZONE 'UTC')::date - $1::int"
    "         GROUP BY product_id HAVING sum(quantity) > 0"
    "         ORDER BY sold DESC, product_id LIMIT $2::bigint) t"
    "  JOIN products p ON p.id = t.product_id"
    " ORDER BY t.sold DESC, p.id",
    2};

static enum err_code repo_top(void *self, int days, size_t limit, struct popular_product *out,
                              size_t *n, struct err *e)
{
    *n = 0;
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char days_buf[21], limit_buf[21];
    const char *params[] = {pg_i64_param(days, days_buf), pg_i64_param((int64_t)limit, limit_buf)};
    PGresult *r = pg_exec(c, &stmt_top, params, e);
    if (!r)
        return e->code;
    for (int i = 0; i < PQntuples(r) && *n < limit; i++) {
        struct popular_product *p = &out[(*n)++];
        p->id = pg_get_i64(r, i, 0);
        snprintf(p->name, sizeof(p->name), "%s", PQgetvalue(r, i, 1));
        p->price = pg_get_i64(r, i, 2);
        p->stock = pg_get_i64(r, i, 3);
        p->sold = pg_get_i64(r, i, 4);
    }
    PQclear(r);
    return ERR_OK;
}

static const struct pg_stmt stmt_day_rows = {
    "ranking_day_rows",
    "SELECT product_id, quantity, version FROM product_sales_daily"
    " WHERE day = $1::date AND ($2::bigint[] IS NULL OR product_id = ANY($2::bigint[]))",
    2};

static enum err_code repo_day_sales(void *self, const char *day, const int64_t *product_ids,
                                    size_t n_ids, struct ranking_sales_row **rows, size_t *n_rows,
                                    struct err *e)
{
    *rows = NULL;
    *n_rows = 0;
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char *ids = product_ids ? pg_i64_array(product_ids, n_ids) : NULL; /* NULL: the whole day */
    if (product_ids && !ids)
        return err_set(e, ERR_INTERNAL, "out of memory");
    const char *params[] = {day, ids};
    PGresult *r = pg_exec(c, &stmt_day_rows, params, e);
    free(ids);
    if (!r)
        return e->code;
    int n = PQntuples(r);
    *rows = calloc(n ? (size_t)n : 1, sizeof(**rows));
    if (!*rows) {
        PQclear(r);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    for (int i = 0; i < n; i++)
        (*rows)[i] = (struct ranking_sales_row){.product_id = pg_get_i64(r, i, 0),
                                                .quantity = pg_get_i64(r, i, 1),
                                                .version = pg_get_i64(r, i, 2)};
    *n_rows = (size_t)n;
    PQclear(r);
    return ERR_OK;
}

static const struct pg_stmt stmt_products = {
    "ranking_products", "SELECT id, name, price, stock FROM products WHERE id = ANY($1::bigint[])",
    1};

static enum err_code repo_products(void *self, const struct ranking_entry *top, size_t k,
                                   struct popular_product *out, size_t *n, struct err *e)
{
    *n = 0;
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    int64_t *id = malloc((k ? k : 1) * sizeof(*id));
    char *ids = NULL;
    if (id) {
        for (size_t i = 0; i < k; i++)
            id[i] = top[i].id;
        ids = pg_i64_array(id, k);
        free(id);
    }
    if (!ids)
        return err_set(e, ERR_INTERNAL, "out of memory");
    const char *params[] = {ids};
    PGresult *r = pg_exec(c, &stmt_products, params, e);
    free(ids);
    if (!r)
        return e->code;
    for (size_t i = 0; i < k; i++) {
        for (int row = 0; row < PQntuples(r); row++) {
            if (pg_get_i64(r, row, 0) != top[i].id)
                continue;
            struct popular_product *p = &out[(*n)++];
            p->id = top[i].id;
            snprintf(p->name, sizeof(p->name), "%s", PQgetvalue(r, row, 1));
            p->price = pg_get_i64(r, row, 2);
            p->stock = pg_get_i64(r, row, 3);
            p->sold = top[i].sold;
            break;
        }
    }
    PQclear(r);
    return ERR_OK;
}

static const struct ranking_repo_ops ranking_repo_pg_ops = {
    .top = repo_top,
    .day_sales = repo_day_sales,
    .products = repo_products,
};

struct ranking_repo ranking_repo_pg(struct pg_pool *pool)
{
    return (struct ranking_repo){.ops = &ranking_repo_pg_ops, .self = pool};
}
