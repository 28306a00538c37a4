/* check_load.c — chaos-check's inputs: PostgreSQL, Redis, the event file, the journal. */
#include "check_load.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <libpq-fe.h>

static int64_t i64(const char *s)
{
    return strtoll(s, NULL, 10);
}

static PGresult *query(PGconn *c, const char *sql, int columns)
{
    PGresult *r = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(r);
    if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
        fprintf(stderr, "chaos-check: %s: %s", sql, PQerrorMessage(c));
        PQclear(r);
        PQfinish(c);
        exit(2);
    }
    if (st == PGRES_TUPLES_OK && PQnfields(r) != columns)
        die("%s: %d columns", sql, PQnfields(r));
    return r;
}

static void copy_text(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

void load_pg(struct world *w, const char *url)
{
    PGconn *c = PQconnectdb(url);
    if (PQstatus(c) != CONNECTION_OK) {
        fprintf(stderr, "chaos-check: cannot connect to PostgreSQL: %s", PQerrorMessage(c));
        PQfinish(c);
        exit(2);
    }
    PQclear(query(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0));
    PGresult *r = query(c, "SELECT id, stock FROM products", 2);
    for (int i = 0; i < PQntuples(r); i++)
        *PUSH(w->products) = (struct product){i64(PQgetvalue(r, i, 0)), i64(PQgetvalue(r, i, 1))};
    PQclear(r);
    r = query(c, "SELECT id, balance FROM users", 2);
    for (int i = 0; i < PQntuples(r); i++)
        *PUSH(w->users) = (struct user){i64(PQgetvalue(r, i, 0)), i64(PQgetvalue(r, i, 1))};
    PQclear(r);
    r = query(c, "SELECT id, user_id, type, amount, coalesce(order_id, 0) FROM point_ledger", 5);
    for (int i = 0; i < PQntuples(r); i++) {
        const char *t = PQgetvalue(r, i, 2);
        *PUSH(w->ledger) = (struct ledger){i64(PQgetvalue(r, i, 0)), i64(PQgetvalue(r, i, 1)),
                                           i64(PQgetvalue(r, i, 3)), i64(PQgetvalue(r, i, 4)),
                                           strcmp(t, "USE") == 0      ? L_USE
                                           : strcmp(t, "REFUND") == 0 ? L_REFUND
                                                                      : L_CHARGE};
    }
    PQclear(r);
    r = query(c,
              "SELECT id, user_id, status, total, coalesce(coupon_id, 0),"
              " to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') FROM orders",
              6);
    for (int i = 0; i < PQntuples(r); i++) {
        struct order *o = PUSH(w->orders);
        o->id = i64(PQgetvalue(r, i, 0));
        o->user_id = i64(PQgetvalue(r, i, 1));
        o->paid = strcmp(PQgetvalue(r, i, 2), "PAID") == 0;
        o->total = i64(PQgetvalue(r, i, 3));
        o->coupon_id = i64(PQgetvalue(r, i, 4));
        copy_text(o->day, sizeof(o->day), PQgetvalue(r, i, 5));
    }
    PQclear(r);
    r = query(c, "SELECT order_id, product_id, quantity FROM order_lines", 3);
    for (int i = 0; i < PQntuples(r); i++)
        *PUSH(w->lines) = (struct line){i64(PQgetvalue(r, i, 0)), i64(PQgetvalue(r, i, 1)),
                                        i64(PQgetvalue(r, i, 2))};
    PQclear(r);
    r = query(c, "SELECT id, total_quantity, issued_quantity FROM coupons", 3);
    for (int i = 0; i < PQntuples(r); i++)
        *PUSH(w->coupons) = (struct coupon){i64(PQgetvalue(r, i, 0)), i64(PQgetvalue(r, i, 1)),
                                            i64(PQgetvalue(r, i, 2))};
    PQclear(r);
    r = query(c, "SELECT id, coupon_id, user_id, used_at IS NOT NULL FROM user_coupons", 4);
    for (int i = 0; i < PQntuples(r); i++)
        *PUSH(w->ucoupons) =
            (struct ucoupon){i64(PQgetvalue(r, i, 0)), i64(PQgetvalue(r, i, 1)),
                             i64(PQgetvalue(r, i, 2)), strcmp(PQgetvalue(r, i, 3), "t") == 0};
    PQclear(r);
    r = query(c,
              "SELECT user_id, scope, key, fingerprint, response_status, response_body"
              " FROM idempotency_keys",
              6);
    for (int i = 0; i < PQntuples(r); i++) {
        struct idem *k = PUSH(w->idem);
        k->user_id = i64(PQgetvalue(r, i, 0));
        k->charge = strcmp(PQgetvalue(r, i, 1), "charge") == 0;
        copy_text(k->key, sizeof(k->key), PQgetvalue(r, i, 2));
        k->status = (int)i64(PQgetvalue(r, i, 4));
        long long amount;
        char end;
        k->amount = sscanf(PQgetvalue(r, i, 3), "amount=%lld%c", &amount, &end) == 1 ? amount : -1;
        json_t *body = json_loads(PQgetvalue(r, i, 5), 0, NULL);
        k->order_id = json_integer_value(json_object_get(body, "id"));
        json_decref(body);
    }
    PQclear(r);
    r = query(c, "SELECT to_char(day, 'YYYY-MM-DD'), product_id, quantity FROM product_sales_daily",
              3);
    for (int i = 0; i < PQntuples(r); i++) {
        struct sale *s = PUSH(w->sales);
        copy_text(s->day, sizeof(s->day), PQgetvalue(r, i, 0));
        s->product_id = i64(PQgetvalue(r, i, 1));
        s->quantity = i64(PQgetvalue(r, i, 2));
    }
    PQclear(r);
    r = query(c, "SELECT count(*), count(*) FILTER (WHERE status = 'FAILED') FROM outbox_events",
              2);
    w->outbox_pending = i64(PQgetvalue(r, 0, 0));
    w->outbox_failed = i64(PQgetvalue(r, 0, 1));
    PQclear(r);
    PQclear(query(c, "COMMIT", 0));
    PQfinish(c);
}

/* redis://[:password@]host:port[/db] */
static redisContext *redis_open(const char *url)
{
    char host[256] = "127.0.0.1", password[256] = "";
    int port = 6379, db = 0;
    if (strncmp(url, "redis://", 8) != 0)
        die("the redis url must look like redis://[:password@]host:port[/db], got %s", url);
    const char *s = url + 8, *at = strchr(s, '@');
    if (at) {
        const char *pw = strchr(s, ':');
        if (!pw || pw > at || (size_t)(at - pw - 1) >= sizeof(password))
            die("bad password in the redis url");
        memcpy(password, pw + 1, (size_t)(at - pw - 1));
        password[at - pw - 1] = '\0';
        s = at + 1;
    }
    size_t hl = strcspn(s, ":/");
    if (hl >= sizeof(host))
        die("bad host in the redis url");
    if (hl) {
        memcpy(host, s, hl);
        host[hl] = '\0';
    }
    s += hl;
    if (*s == ':') {
        port = (int)strtol(s + 1, NULL, 10);
        s += 1 + strspn(s + 1, "0123456789");
    }
    if (*s == '/' && s[1])
        db = (int)strtol(s + 1, NULL, 10);
    redisContext *c = redisConnect(host, port);
    if (!c || c->err)
        die("cannot connect to Redis at %s:%d: %s", host, port, c ? c->errstr : "no memory");
    redisReply *r = NULL;
    if (password[0]) {
        r = redisCommand(c, "AUTH %s", password);
        if (!r || r->type == REDIS_REPLY_ERROR)
            die("Redis refused AUTH");
        freeReplyObject(r);
    }
    r = redisCommand(c, "SELECT %d", db);
    if (!r || r->type == REDIS_REPLY_ERROR)
        die("Redis refused SELECT %d", db);
    freeReplyObject(r);
    return c;
}

static redisReply *redis_do(redisContext *c, redisReply *r, const char *what)
{
    if (!r || r->type == REDIS_REPLY_ERROR)
        die("Redis %s: %s", what, r ? r->str : c->errstr);
    return r;
}

static bool all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

void load_redis(struct world *w, const char *url, const char *ns)
{
    redisContext *c = redis_open(url);
    /* the ranking of every day of product_sales_daily (w->sales is sorted by day) */
    for (size_t i = 0; i < w->sales.n; i++) {
        if (i && strcmp(w->sales.v[i].day, w->sales.v[i - 1].day) == 0)
            continue;
        const char *day = w->sales.v[i].day;
        redisReply *r =
            redis_do(c, redisCommand(c, "ZRANGE %s:rank:{%s} 0 -1 WITHSCORES", ns, day), "ZRANGE");
        for (size_t k = 0; r->type == REDIS_REPLY_ARRAY && k + 1 < r->elements; k += 2) {
            struct sale *s = PUSH(w->ranks);
            copy_text(s->day, sizeof(s->day), day);
            s->product_id = i64(r->element[k]->str);
            const redisReply *score = r->element[k + 1];
            double d = strtod(score->str ? score->str : "0", NULL); /* integral scores */
            s->quantity = (int64_t)(d + (d < 0 ? -0.5 : 0.5));
        }
        freeReplyObject(r);
    }
    /* the coupon issue requests: <ns>:coupon-req:<id> */
    char pattern[310], prefix[300];
    snprintf(prefix, sizeof(prefix), "%s:coupon-req:", ns);
    snprintf(pattern, sizeof(pattern), "%s*", prefix);
    char cursor[32] = "0";
    do {
        redisReply *r =
            redis_do(c, redisCommand(c, "SCAN %s MATCH %s COUNT 1000", cursor, pattern), "SCAN");
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 2)
            die("Redis SCAN: an unexpected reply");
        copy_text(cursor, sizeof(cursor), r->element[0]->str);
        const redisReply *keys = r->element[1];
        for (size_t k = 0; k < keys->elements; k++) {
            const char *key = keys->element[k]->str;
            if (strncmp(key, prefix, strlen(prefix)) != 0 || !all_digits(key + strlen(prefix)))
                continue;
            redisReply *h = redis_do(c, redisCommand(c, "HGETALL %s", key), "HGETALL");
            if (h->elements == 0) { /* expired between SCAN and HGETALL */
                freeReplyObject(h);
                continue;
            }
            struct creq *q = PUSH(w->creqs);
            q->id = i64(key + strlen(prefix));
            for (size_t f = 0; f + 1 < h->elements; f += 2) {
                const char *name = h->element[f]->str, *value = h->element[f + 1]->str;
                if (!name || !value)
                    continue;
                if (strcmp(name, "coupon_id") == 0)
                    q->coupon_id = i64(value);
                else if (strcmp(name, "user_id") == 0)
                    q->user_id = i64(value);
                else if (strcmp(name, "user_coupon_id") == 0)
                    q->user_coupon_id = i64(value);
                else if (strcmp(name, "status") == 0)
                    copy_text(q->status, sizeof(q->status), value);
            }
            freeReplyObject(h);
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0);
    redisFree(c);
}

/* "YYYY-MM-DDTHH:MM:SS..." (UTC) → epoch ms, 0 when unreadable */
static int64_t rfc3339_ms(const char *s)
{
    struct tm tm = {0};
    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                     &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
        return 0;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return (int64_t)timegm(&tm) * 1000;
}

/* Calls on_line with each line of path parsed as a JSON object; returns the bad lines. */
static size_t each_json_line(const char *path, struct world *w,
                             void (*on_line)(struct world *, json_t *, size_t))
{
    FILE *f = fopen(path, "r");
    if (!f)
        die("cannot read %s: %s", path, strerror(errno));
    char *line = NULL;
    size_t cap = 0, bad = 0, no = 0;
    ssize_t len;
    while ((len = getline(&line, &cap, f)) >= 0) {
        no++;
        if (len <= 1 && (len == 0 || line[0] == '\n'))
            continue;
        json_t *doc = json_loads(line, 0, NULL);
        if (json_is_object(doc))
            on_line(w, doc, no);
        else
            bad++;
        json_decref(doc);
    }
    free(line);
    fclose(f);
    return bad;
}

static const char *jstr(const json_t *o, const char *name)
{
    const char *s = json_string_value(json_object_get(o, name));
    return s ? s : "";
}

static int64_t jint(const json_t *o, const char *name)
{
    return json_integer_value(json_object_get(o, name));
}

static void on_event(struct world *w, json_t *doc, size_t no)
{
    struct event *e = PUSH(w->events);
    copy_text(e->event_id, sizeof(e->event_id), jstr(doc, "event_id"));
    const char *type = jstr(doc, "type");
    e->type = strcmp(type, "ORDER_PAID") == 0        ? E_PAID
              : strcmp(type, "ORDER_CANCELLED") == 0 ? E_CANCELLED
                                                     : E_OTHER;
    e->order_id = jint(json_object_get(doc, "order"), "id");
    e->received_ms = jint(doc, "_received_ms");
    e->occurred_ms = rfc3339_ms(json_string_value(json_object_get(doc, "occurred_at")));
    if (!e->occurred_ms)
        e->occurred_ms = e->received_ms;
    e->pos = no;
}

static void on_attempt(struct world *w, json_t *doc, size_t no)
{
    struct attempt *a = PUSH(w->attempts);
    copy_text(a->op, sizeof(a->op), jstr(doc, "op"));
    a->status = (int)jint(doc, "status");
    copy_text(a->code, sizeof(a->code), jstr(doc, "code"));
    a->line = no;
}

static void on_outcome(struct world *w, json_t *doc, size_t no)
{
    struct outcome *oc = PUSH(w->outcomes);
    copy_text(oc->op, sizeof(oc->op), jstr(doc, "op"));
    oc->user = jint(doc, "user");
    oc->status = (int)jint(doc, "status");
    const char *kind = jstr(doc, "outcome");
    oc->outcome = strcmp(kind, "ok") == 0        ? O_OK
                  : strcmp(kind, "refused") == 0 ? O_REFUSED
                  : strcmp(kind, "unknown") == 0 ? O_UNKNOWN
                                                 : O_OTHER;
    oc->line = no;
    copy_text(oc->key, sizeof(oc->key), jstr(doc, "key"));
    oc->order_id = jint(doc, "order_id");
    oc->total = jint(doc, "total");
    oc->coupon_id = jint(doc, "coupon_id");
    oc->confirmed_by_409 = json_is_true(json_object_get(doc, "confirmed_by_409"));
    oc->amount = jint(doc, "amount");
    oc->coupon = jint(doc, "coupon");
    oc->user_coupon_id = jint(doc, "user_coupon_id");
    const json_t *rq = json_object_get(doc, "request_id"); /* the API's ids are strings */
    oc->request_id = json_is_string(rq) ? i64(json_string_value(rq)) : json_integer_value(rq);
    copy_text(oc->final_status, sizeof(oc->final_status), jstr(doc, "final_status"));
    const json_t *items = json_object_get(doc, "items");
    oc->first_item = w->items.n;
    for (size_t i = 0; i < json_array_size(items); i++) {
        const json_t *pq = json_array_get(items, i);
        *PUSH(w->items) = (struct item){json_integer_value(json_array_get(pq, 0)),
                                        json_integer_value(json_array_get(pq, 1))};
    }
    oc->n_items = w->items.n - oc->first_item;
}

size_t load_events(struct world *w, const char *path)
{
    return each_json_line(path, w, on_event);
}

size_t load_journal(struct world *w, const char *dir)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/outcomes.jsonl", dir);
    size_t bad = each_json_line(path, w, on_outcome);
    snprintf(path, sizeof(path), "%s/attempts.jsonl", dir);
    return bad + each_json_line(path, w, on_attempt);
}
