/* ranking_repo_pg.c — top-N over a window of daily sales, one indexed range scan. */
#include "ranking/ranking_repo_pg.h"

#include <stdio.h>

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

static const struct ranking_repo_ops ranking_repo_pg_ops = {.top = repo_top};

struct ranking_repo ranking_repo_pg(struct pg_pool *pool)
{
    return (struct ranking_repo){.ops = &ranking_repo_pg_ops, .self = pool};
}
