/* coupon_repo_pg.c — campaigns and owned coupons in PostgreSQL; issuance in one statement. */
#include "coupon/coupon_repo_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUPON_COLUMNS                                                                             \
    "id, name, discount_type, discount_value, total_quantity, issued_quantity,"                    \
    " extract(epoch FROM expires_at)::bigint"

static const struct pg_stmt stmt_create = {
    "coupon_create",
    "INSERT INTO coupons (name, discount_type, discount_value, total_quantity, expires_at)"
    " VALUES ($1, $2, $3, $4, to_timestamp($5::bigint)) RETURNING " COUPON_COLUMNS,
    5};
static const struct pg_stmt stmt_get = {"coupon_get",
                                        "SELECT " COUPON_COLUMNS " FROM coupons WHERE id = $1", 1};
/*
 * Issuance is one statement, so one transaction: the conditional UPDATE
 * counts the coupon only while some are left and the campaign runs (the row
 * lock makes concurrent issuers re-check on the latest count), and the INSERT
 * under UNIQUE (coupon_id, user_id) fails the whole statement — count included
 * — for a second coupon to the same user.
 */
static const struct pg_stmt stmt_issue = {
    "coupon_issue",
    "WITH c AS (UPDATE coupons SET issued_quantity = issued_quantity + 1"
    "            WHERE id = $1 AND issued_quantity < total_quantity AND expires_at > now()"
    "            RETURNING id, name, discount_type, discount_value, expires_at),"
    " uc AS (INSERT INTO user_coupons (coupon_id, user_id) SELECT id, $2::bigint FROM c"
    "        RETURNING id, issued_at)"
    " SELECT uc.id, c.id, c.name, c.discount_type, c.discount_value,"
    "        extract(epoch FROM uc.issued_at)::bigint, extract(epoch FROM c.expires_at)::bigint"
    "   FROM uc, c",
    2};
static const struct pg_stmt stmt_why_not = {
    "coupon_why_not",
    "SELECT EXISTS (SELECT 1 FROM user_coupons WHERE coupon_id = $1 AND user_id = $2),"
    "       expires_at <= now(), issued_quantity >= total_quantity"
    "  FROM coupons WHERE id = $1",
    2};
static const struct pg_stmt stmt_remaining = {
    "coupon_remaining",
    "SELECT total_quantity - issued_quantity, extract(epoch FROM expires_at)::bigint"
    "  FROM coupons WHERE id = $1",
    1};
static const struct pg_stmt stmt_owners = {
    "coupon_owners", "SELECT user_id FROM user_coupons WHERE coupon_id = $1", 1};

#define STATUS_EXPR                                                                                \
    "CASE WHEN uc.used_at IS NOT NULL THEN 'USED'"                                                 \
    " WHEN c.expires_at <= now() THEN 'EXPIRED' ELSE 'AVAILABLE' END"

static const struct pg_stmt stmt_list = {
    "coupon_list_for_user",
    "SELECT uc.id, uc.coupon_id, uc.user_id, c.name, c.discount_type, c.discount_value,"
    "       " STATUS_EXPR ", extract(epoch FROM uc.issued_at)::bigint,"
    "       extract(epoch FROM c.expires_at)::bigint,"
    "       coalesce(extract(epoch FROM uc.used_at)::bigint, 0)"
    "  FROM user_coupons uc JOIN coupons c ON c.id = uc.coupon_id"
    " WHERE uc.user_id = $1 AND ($2::text = 'ALL' OR " STATUS_EXPR " = $2::text)"
    " ORDER BY uc.id DESC LIMIT $3::bigint",
    3};
/* migration 0007: one statement, so one transaction, deciding a batch in order */
static const struct pg_stmt stmt_issue_batch = {
    "coupon_issue_batch",
    "SELECT r_request_id, r_outcome, coalesce(r_user_coupon_id, 0)"
    "  FROM coupon_issue_batch($1::bigint[], $2::bigint[], $3::bigint[])",
    3};
static const struct pg_stmt stmt_user_exists = {"coupon_user_exists",
                                                "SELECT 1 FROM users WHERE id = $1", 1};

static void row_to_coupon(const PGresult *r, int row, struct coupon *out)
{
    out->id = pg_get_i64(r, row, 0);
    snprintf(out->name, sizeof(out->name), "%s", PQgetvalue(r, row, 1));
    coupon_type_parse(PQgetvalue(r, row, 2), &out->type);
    out->value = pg_get_i64(r, row, 3);
    out->total_quantity = pg_get_i64(r, row, 4);
    out->issued_quantity = pg_get_i64(r, row, 5);
    out->expires_at = pg_get_i64(r, row, 6);
}

static enum err_code not_found(int64_t id, struct err *e)
{
    return err_set(e, ERR_COUPON_NOT_FOUND, "coupon %lld does not exist", (long long)id);
}

static enum err_code repo_create(void *self, struct coupon *inout, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char value[21], total[21], expires[21];
    const char *params[] = {
        inout->name, coupon_type_name(inout->type), pg_i64_param(inout->value, value),
        pg_i64_param(inout->total_quantity, total), pg_i64_param(inout->expires_at, expires)};
    PGresult *r = pg_exec(c, &stmt_create, params, e);
    if (!r)
        return e->code;
    row_to_coupon(r, 0, inout);
    PQclear(r);
    return ERR_OK;
}

static enum err_code repo_get(void *self, int64_t id, struct coupon *out, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char id_buf[21];
    const char *params[] = {pg_i64_param(id, id_buf)};
    PGresult *r = pg_exec(c, &stmt_get, params, e);
    if (!r)
        return e->code;
    enum err_code rc = PQntuples(r) ? ERR_OK : not_found(id, e);
    if (rc == ERR_OK)
        row_to_coupon(r, 0, out);
    PQclear(r);
    return rc;
}

/* Why an issue changed nothing (cold path). */
static enum err_code explain_refusal(struct pg_conn *c, const char *const *params,
                                     int64_t coupon_id, int64_t user_id, struct err *e)
{
    PGresult *r = pg_exec(c, &stmt_why_not, params, e);
    if (!r)
        return e->code;
    enum err_code rc;
    if (PQntuples(r) == 0)
        rc = not_found(coupon_id, e);
    else if (PQgetvalue(r, 0, 0)[0] == 't')
        rc = err_set(e, ERR_COUPON_ALREADY_ISSUED, "user %lld already has coupon %lld",
                     (long long)user_id, (long long)coupon_id);
    else if (PQgetvalue(r, 0, 1)[0] == 't')
        rc = err_set(e, ERR_COUPON_EXPIRED, "coupon %lld has expired", (long long)coupon_id);
    else
        rc = err_set(e, ERR_COUPON_SOLD_OUT, "coupon %lld is sold out", (long long)coupon_id);
    PQclear(r);
    return rc;
}

static enum err_code repo_issue(void *self, int64_t coupon_id, int64_t user_id,
                                struct user_coupon *out, struct err *e)
{
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char coupon_buf[21], user_buf[21];
    const char *params[] = {pg_i64_param(coupon_id, coupon_buf), pg_i64_param(user_id, user_buf)};
    PGresult *r = pg_exec(c, &stmt_issue, params, e);
    if (!r) {
        const char *state = pg_conn_sqlstate(c);
        if (strcmp(state, "23505") == 0) /* UNIQUE (coupon_id, user_id) */
            return err_set(e, ERR_COUPON_ALREADY_ISSUED, "user %lld already has coupon %lld",
                           (long long)user_id, (long long)coupon_id);
        if (strcmp(state, "23503") == 0) /* user_coupons.user_id → users */
            return err_set(e, ERR_USER_NOT_FOUND, "user %lld does not exist", (long long)user_id);
        return e->code;
    }
    bool issued = PQntuples(r) == 1;
    if (issued) {
        memset(out, 0, sizeof(*out));
        out->id = pg_get_i64(r, 0, 0);
        out->coupon_id = pg_get_i64(r, 0, 1);
        out->user_id = user_id;
        snprintf(out->name, sizeof(out->name), "%s", PQgetvalue(r, 0, 2));
        coupon_type_parse(PQgetvalue(r, 0, 3), &out->type);
        out->value = pg_get_i64(r, 0, 4);
        out->issued_at = pg_get_i64(r, 0, 5);
        out->expires_at = pg_get_i64(r, 0, 6);
        out->status = USER_COUPON_AVAILABLE;
    }
    PQclear(r);
    return issued ? ERR_OK : explain_refusal(c, params, coupon_id, user_id, e);
}

static enum err_code repo_snapshot(void *self, int64_t coupon_id, struct coupon_snapshot *out,
                                   struct err *e)
{
    memset(out, 0, sizeof(*out));
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char id_buf[21];
    const char *params[] = {pg_i64_param(coupon_id, id_buf)};
    /* remaining first, owners second: a coupon issued in between is counted as not yet
     * taken but listed as owned, so the gate can only err towards asking the database */
    PGresult *r = pg_exec(c, &stmt_remaining, params, e);
    if (!r)
        return e->code;
    if (PQntuples(r) == 0) {
        PQclear(r);
        return not_found(coupon_id, e);
    }
    out->remaining = pg_get_i64(r, 0, 0);
    out->expires_at = pg_get_i64(r, 0, 1);
    PQclear(r);
    r = pg_exec(c, &stmt_owners, params, e);
    if (!r)
        return e->code;
    out->n_users = (size_t)PQntuples(r);
    out->user_ids = calloc(out->n_users ? out->n_users : 1, sizeof(*out->user_ids));
    if (!out->user_ids) {
        PQclear(r);
        return err_set(e, ERR_INTERNAL, "out of memory");
    }
    for (size_t i = 0; i < out->n_users; i++)
        out->user_ids[i] = pg_get_i64(r, (int)i, 0);
    PQclear(r);
    return ERR_OK;
}

static enum err_code repo_list_for_user(void *self, int64_t user_id, bool all_statuses,
                                        enum user_coupon_status status, size_t limit,
                                        struct user_coupon *out, size_t *n, struct err *e)
{
    *n = 0;
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char user_buf[21], limit_buf[21];
    const char *params[] = {pg_i64_param(user_id, user_buf),
                            all_statuses ? "ALL" : user_coupon_status_name(status),
                            pg_i64_param((int64_t)limit, limit_buf)};
    PGresult *r = pg_exec(c, &stmt_list, params, e);
    if (!r)
        return e->code;
    int rows = PQntuples(r);
    for (int i = 0; i < rows && (size_t)i < limit; i++) {
        struct user_coupon *u = &out[(*n)++];
        memset(u, 0, sizeof(*u));
        u->id = pg_get_i64(r, i, 0);
        u->coupon_id = pg_get_i64(r, i, 1);
        u->user_id = pg_get_i64(r, i, 2);
        snprintf(u->name, sizeof(u->name), "%s", PQgetvalue(r, i, 3));
        coupon_type_parse(PQgetvalue(r, i, 4), &u->type);
        u->value = pg_get_i64(r, i, 5);
        user_coupon_status_parse(PQgetvalue(r, i, 6), &u->status);
        u->issued_at = pg_get_i64(r, i, 7);
        u->expires_at = pg_get_i64(r, i, 8);
        u->used_at = pg_get_i64(r, i, 9);
    }
    PQclear(r);
    if (rows > 0)
        return ERR_OK;
    r = pg_exec(c, &stmt_user_exists, params, e);
    if (!r)
        return e->code;
    bool exists = PQntuples(r) == 1;
    PQclear(r);
    return exists ? ERR_OK
                  : err_set(e, ERR_USER_NOT_FOUND, "user %lld does not exist", (long long)user_id);
}

/* "{a,b,c}" of n int64 values picked by field (0 request, 1 coupon, 2 user); NULL on OOM. */
static char *id_array(const struct coupon_issue_item *items, size_t n, int field)
{
    char *text = malloc(n * 21 + 3);
    if (!text)
        return NULL;
    size_t len = 0;
    text[len++] = '{';
    for (size_t i = 0; i < n; i++) {
        int64_t v = field == 0   ? items[i].request_id
                    : field == 1 ? items[i].coupon_id
                                 : items[i].user_id;
        len += (size_t)snprintf(text + len, 22, "%s%lld", i ? "," : "", (long long)v);
    }
    text[len++] = '}';
    text[len] = '\0';
    return text;
}

static enum err_code outcome_of(const char *name)
{
    static const enum err_code known[] = {ERR_COUPON_ALREADY_ISSUED, ERR_COUPON_SOLD_OUT,
                                          ERR_COUPON_EXPIRED, ERR_COUPON_NOT_FOUND,
                                          ERR_USER_NOT_FOUND};
    if (strcmp(name, "ISSUED") == 0)
        return ERR_OK;
    for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
        if (strcmp(name, err_code_str(known[i])) == 0)
            return known[i];
    return ERR_INTERNAL;
}

static enum err_code repo_issue_batch(void *self, struct coupon_issue_item *items, size_t n,
                                      struct err *e)
{
    if (n == 0)
        return ERR_OK;
    struct pg_conn *c = pg_pool_conn(self, e);
    if (!c)
        return e->code;
    char *arrays[3] = {id_array(items, n, 0), id_array(items, n, 1), id_array(items, n, 2)};
    enum err_code rc = ERR_OK;
    if (!arrays[0] || !arrays[1] || !arrays[2]) {
        rc = err_set(e, ERR_INTERNAL, "out of memory");
        goto out_free_arrays;
    }
    const char *params[] = {arrays[0], arrays[1], arrays[2]};
    PGresult *r = pg_exec(c, &stmt_issue_batch, params, e);
    if (!r) {
        rc = e->code;
        goto out_free_arrays;
    }
    if ((size_t)PQntuples(r) != n) {
        rc = err_set(e, ERR_INTERNAL, "coupon_issue_batch returned %d rows for %zu requests",
                     PQntuples(r), n);
        PQclear(r);
        goto out_free_arrays;
    }
    for (size_t i = 0; i < n; i++) { /* rows come in input order */
        items[i].outcome = outcome_of(PQgetvalue(r, (int)i, 1));
        items[i].user_coupon_id = pg_get_i64(r, (int)i, 2);
    }
    PQclear(r);
out_free_arrays:
    for (int i = 0; i < 3; i++)
        free(arrays[i]);
    return rc;
}

static const struct coupon_repo_ops coupon_repo_pg_ops = {
    .create = repo_create,
    .get = repo_get,
    .issue = repo_issue,
    .snapshot = repo_snapshot,
    .list_for_user = repo_list_for_user,
    .issue_batch = repo_issue_batch,
};

struct coupon_repo coupon_repo_pg(struct pg_pool *pool)
{
    return (struct coupon_repo){.ops = &coupon_repo_pg_ops, .self = pool};
}
