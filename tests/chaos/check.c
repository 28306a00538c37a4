/*
 * chaos-check — after a fault-injection run, verifies that nothing was lost
 * or duplicated: reads PostgreSQL (the source of truth, in one REPEATABLE
 * READ snapshot), Redis (the ranking, the asynchronous coupon issue
 * requests), the fake data platform's event file and the storm's journal
 * into memory, then runs one pure check per invariant over that data.
 *
 *   chaos-check --db URL --redis URL --namespace NS --events FILE --journal DIR
 *               --initial-stock N [--late-ms MS] [--self-test]
 *
 * Prints one line per invariant, "PASS name: detail" or "FAIL name: detail;
 * N violation(s): the first few", and exits 0 only when all pass (1: some
 * failed, 2: the inputs could not be read). --self-test plants one violation
 * per invariant into a copy of the loaded data (never into the database) and
 * prints "CAUGHT name" when the check reports more violations than without
 * the plant, "MISSED name" otherwise; it exits non-zero if any is missed.
 *
 * Every charge is assumed to carry an Idempotency-Key (the storm's do): the
 * charges check matches the CHARGE ledger against the charge keys' amounts.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>
#include <jansson.h>
#include <libpq-fe.h>

/* ------------------------------------------------------------------ data */

#define VEC(T)                                                                                     \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }

static void *grow(void *p, size_t *cap, size_t n, size_t size)
{
    if (n < *cap)
        return p;
    size_t c = *cap ? *cap * 2 : 64;
    void *q = realloc(p, c * size);
    if (!q) {
        fprintf(stderr, "chaos-check: out of memory\n");
        exit(2);
    }
    *cap = c;
    return q;
}

/* a pointer to a new, zeroed last element of vec */
#define PUSH(vec)                                                                                  \
    ((vec).v = grow((vec).v, &(vec).cap, (vec).n, sizeof(*(vec).v)),                               \
     memset(&(vec).v[(vec).n], 0, sizeof(*(vec).v)), &(vec).v[(vec).n++])

static void *dup_mem(const void *p, size_t size)
{
    if (!size)
        return NULL;
    void *q = malloc(size);
    if (!q) {
        fprintf(stderr, "chaos-check: out of memory\n");
        exit(2);
    }
    return memcpy(q, p, size);
}

#define COPY(dst, src)                                                                             \
    ((dst).n = (dst).cap = (src).n, (dst).v = dup_mem((src).v, (src).n * sizeof(*(src).v)))

/* Every record looked up by id has that id as its first member. */
struct product {
    int64_t id, stock;
};
struct user {
    int64_t id, balance;
};
enum ledger_type { L_CHARGE, L_USE, L_REFUND };
struct ledger {
    int64_t id, user_id, amount, order_id; /* order_id 0: none */
    enum ledger_type type;
};
struct order {
    int64_t id, user_id, total, coupon_id; /* coupon_id = user_coupons.id, 0: none */
    bool paid;
    char day[11];               /* created_at's UTC date */
    size_t first_line, n_lines; /* its lines in world.lines (set by world_index) */
};
struct line {
    int64_t order_id, product_id, quantity;
};
struct coupon {
    int64_t id, total, issued;
};
struct ucoupon {
    int64_t id, coupon_id, user_id;
    bool used;
};
struct idem {
    int64_t user_id;
    bool charge; /* scope: charge, else order */
    char key[256];
    int status;
    int64_t order_id; /* order scope: the response body's "id", 0 when it has none */
    int64_t amount;   /* charge scope: from the fingerprint "amount=N", -1 when unreadable */
};
struct sale { /* product_sales_daily, and the Redis ranking */
    char day[11];
    int64_t product_id, quantity;
};
struct creq { /* <ns>:coupon-req:<id> */
    int64_t id, coupon_id, user_id, user_coupon_id;
    char status[16];
};
enum event_type { E_OTHER, E_PAID, E_CANCELLED };
struct event {
    char event_id[64];
    enum event_type type;
    int64_t order_id, received_ms, occurred_ms;
    size_t pos; /* line in the file */
};
struct attempt {
    char op[16];
    int status;
    char code[48];
    size_t line;
};
enum outcome_kind { O_OK, O_REFUSED, O_UNKNOWN, O_OTHER };
struct item {
    int64_t product_id, quantity;
};
struct outcome {
    char op[16];
    int64_t user;
    int status;
    enum outcome_kind outcome;
    size_t line;
    char key[256];                              /* order, charge */
    int64_t order_id, total, coupon_id;         /* order (coupon_id: a user coupon), cancel */
    size_t first_item, n_items;                 /* order: in world.items */
    bool confirmed_by_409;                      /* cancel */
    int64_t amount;                             /* charge */
    int64_t coupon, user_coupon_id, request_id; /* issue, issue_request */
    char final_status[16];                      /* issue_request */
};

struct world {
    int64_t initial_stock, late_ms;
    VEC(struct product) products;
    VEC(struct user) users;
    VEC(struct ledger) ledger;
    VEC(struct order) orders;
    VEC(struct line) lines;
    VEC(struct coupon) coupons;
    VEC(struct ucoupon) ucoupons;
    VEC(struct idem) idem;
    VEC(struct sale) sales;
    VEC(struct sale) ranks; /* the Redis ranking of every day of sales (score > 0 or not) */
    VEC(struct creq) creqs;
    VEC(struct event) events;
    VEC(struct attempt) attempts;
    VEC(struct outcome) outcomes;
    VEC(struct item) items;
    int64_t outbox_pending, outbox_failed;
    size_t bad_event_lines, bad_journal_lines;
};

static void world_free(struct world *w)
{
    free(w->products.v);
    free(w->users.v);
    free(w->ledger.v);
    free(w->orders.v);
    free(w->lines.v);
    free(w->coupons.v);
    free(w->ucoupons.v);
    free(w->idem.v);
    free(w->sales.v);
    free(w->ranks.v);
    free(w->creqs.v);
    free(w->events.v);
    free(w->attempts.v);
    free(w->outcomes.v);
    free(w->items.v);
}

static void world_copy(struct world *dst, const struct world *src)
{
    *dst = *src;
    COPY(dst->products, src->products);
    COPY(dst->users, src->users);
    COPY(dst->ledger, src->ledger);
    COPY(dst->orders, src->orders);
    COPY(dst->lines, src->lines);
    COPY(dst->coupons, src->coupons);
    COPY(dst->ucoupons, src->ucoupons);
    COPY(dst->idem, src->idem);
    COPY(dst->sales, src->sales);
    COPY(dst->ranks, src->ranks);
    COPY(dst->creqs, src->creqs);
    COPY(dst->events, src->events);
    COPY(dst->attempts, src->attempts);
    COPY(dst->outcomes, src->outcomes);
    COPY(dst->items, src->items);
}

/* ------------------------------------------------------- sorting, lookup */

static int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

static int cmp_first_id(const void *a, const void *b)
{
    return cmp_i64(*(const int64_t *)a, *(const int64_t *)b);
}

static int cmp_i64p(const void *a, const void *b)
{
    return cmp_i64(*(const int64_t *)a, *(const int64_t *)b);
}

static int cmp_line(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    int c = cmp_i64(x->order_id, y->order_id);
    return c ? c : cmp_i64(x->product_id, y->product_id);
}

static int cmp_idem(const void *a, const void *b)
{
    const struct idem *x = a, *y = b;
    int c = cmp_i64(x->user_id, y->user_id);
    if (!c)
        c = (int)x->charge - (int)y->charge;
    return c ? c : strcmp(x->key, y->key);
}

static int cmp_sale(const void *a, const void *b)
{
    const struct sale *x = a, *y = b;
    int c = strcmp(x->day, y->day);
    return c ? c : cmp_i64(x->product_id, y->product_id);
}

static int cmp_item(const void *a, const void *b)
{
    return cmp_i64(((const struct item *)a)->product_id, ((const struct item *)b)->product_id);
}

/* index of the element with this id in an array sorted by its first int64_t member, or -1 */
static long find_id(const void *base, size_t n, size_t size, int64_t id)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int64_t v = *(const int64_t *)(const void *)((const char *)base + mid * size);
        if (v == id)
            return (long)mid;
        if (v < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -1;
}

#define FIND(vec, id) find_id((vec).v, (vec).n, sizeof(*(vec).v), (id))

static const struct idem *find_idem(const struct world *w, int64_t user, bool charge,
                                    const char *key)
{
    struct idem probe = {.user_id = user, .charge = charge};
    snprintf(probe.key, sizeof(probe.key), "%s", key);
    return w->idem.n ? bsearch(&probe, w->idem.v, w->idem.n, sizeof(probe), cmp_idem) : NULL;
}

#define SORT(vec, cmp)                                                                             \
    do {                                                                                           \
        if ((vec).n > 1)                                                                           \
            qsort((vec).v, (vec).n, sizeof(*(vec).v), (cmp));                                      \
    } while (0)

/* Sorts what the checks look up and links orders to their lines; safe to call again. */
static void world_index(struct world *w)
{
    SORT(w->products, cmp_first_id);
    SORT(w->users, cmp_first_id);
    SORT(w->ledger, cmp_first_id);
    SORT(w->orders, cmp_first_id);
    SORT(w->lines, cmp_line);
    SORT(w->coupons, cmp_first_id);
    SORT(w->ucoupons, cmp_first_id);
    SORT(w->idem, cmp_idem);
    SORT(w->sales, cmp_sale);
    SORT(w->ranks, cmp_sale);
    SORT(w->creqs, cmp_first_id);
    size_t l = 0;
    for (size_t i = 0; i < w->orders.n; i++) {
        struct order *o = &w->orders.v[i];
        while (l < w->lines.n && w->lines.v[l].order_id < o->id)
            l++;
        o->first_line = l;
        while (l < w->lines.n && w->lines.v[l].order_id == o->id)
            l++;
        o->n_lines = l - o->first_line;
    }
}

/* --------------------------------------------------------------- verdict */

enum { FIRST_MAX = 5 };

struct verdict {
    long bad;
    char first[800];
    char detail[600];
};

__attribute__((format(printf, 2, 3))) static void flag(struct verdict *v, const char *fmt, ...)
{
    if (v->bad++ >= FIRST_MAX)
        return;
    size_t used = strlen(v->first);
    if (used + 3 >= sizeof(v->first))
        return;
    if (used) {
        memcpy(v->first + used, "; ", 3);
        used += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->first + used, sizeof(v->first) - used, fmt, ap);
    va_end(ap);
}

__attribute__((format(printf, 2, 3))) static void note(struct verdict *v, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->detail, sizeof(v->detail), fmt, ap);
    va_end(ap);
}

static void *zalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "chaos-check: out of memory\n");
        exit(2);
    }
    return p;
}

/* ---------------------------------------------------------------- checks */

/* 1. every product: stock >= 0 and N == stock + units in PAID orders */
static void check_stock(const struct world *w, struct verdict *v)
{
    int64_t *sold = zalloc(w->products.n, sizeof(*sold));
    int64_t total_sold = 0;
    for (size_t i = 0; i < w->lines.n; i++) {
        const struct line *l = &w->lines.v[i];
        long o = FIND(w->orders, l->order_id), p = FIND(w->products, l->product_id);
        if (o < 0 || p < 0) {
            flag(v, "line (order %lld, product %lld) of a missing %s", (long long)l->order_id,
                 (long long)l->product_id, o < 0 ? "order" : "product");
            continue;
        }
        if (w->orders.v[o].paid) {
            sold[p] += l->quantity;
            total_sold += l->quantity;
        }
    }
    for (size_t i = 0; i < w->products.n; i++) {
        const struct product *p = &w->products.v[i];
        if (p->stock < 0 || p->stock + sold[i] != w->initial_stock)
            flag(v, "product %lld: stock %lld + sold %lld != %lld", (long long)p->id,
                 (long long)p->stock, (long long)sold[i], (long long)w->initial_stock);
    }
    note(v, "%zu products of initial stock %lld, %lld units sold in PAID orders", w->products.n,
         (long long)w->initial_stock, (long long)total_sold);
    free(sold);
}

/* 2. every user: balance >= 0 and balance == the sum of their ledger */
static void check_balance(const struct world *w, struct verdict *v)
{
    int64_t *sum = zalloc(w->users.n, sizeof(*sum));
    for (size_t i = 0; i < w->ledger.n; i++) {
        const struct ledger *l = &w->ledger.v[i];
        long u = FIND(w->users, l->user_id);
        if (u < 0)
            flag(v, "ledger row %lld of missing user %lld", (long long)l->id,
                 (long long)l->user_id);
        else
            sum[u] += l->amount;
    }
    for (size_t i = 0; i < w->users.n; i++) {
        const struct user *u = &w->users.v[i];
        if (u->balance < 0 || u->balance != sum[i])
            flag(v, "user %lld: balance %lld, ledger sum %lld", (long long)u->id,
                 (long long)u->balance, (long long)sum[i]);
    }
    note(v, "%zu users, %zu ledger rows", w->users.n, w->ledger.n);
    free(sum);
}

/* 3. one USE (-total) per order; one REFUND (+total) per CANCELLED order, none per PAID one */
static void check_payments(const struct world *w, struct verdict *v)
{
    size_t no = w->orders.n, uses = 0, refunds = 0, paid = 0;
    int *use = zalloc(no, sizeof(*use)), *refund = zalloc(no, sizeof(*refund));
    bool *wrong = zalloc(no, sizeof(*wrong));
    for (size_t i = 0; i < w->ledger.n; i++) {
        const struct ledger *l = &w->ledger.v[i];
        if (l->type == L_CHARGE)
            continue;
        const char *what = l->type == L_USE ? "USE" : "REFUND";
        *(l->type == L_USE ? &uses : &refunds) += 1;
        long o = l->order_id ? FIND(w->orders, l->order_id) : -1;
        if (o < 0) {
            flag(v, "ledger row %lld: %s of missing order %lld", (long long)l->id, what,
                 (long long)l->order_id);
            continue;
        }
        const struct order *ord = &w->orders.v[o];
        int64_t want = l->type == L_USE ? -ord->total : ord->total;
        if (l->amount != want || l->user_id != ord->user_id) {
            flag(v, "ledger row %lld: %s %lld by user %lld for order %lld (total %lld, user %lld)",
                 (long long)l->id, what, (long long)l->amount, (long long)l->user_id,
                 (long long)ord->id, (long long)ord->total, (long long)ord->user_id);
            wrong[o] = true;
        }
        (l->type == L_USE ? use : refund)[o]++;
    }
    for (size_t i = 0; i < no; i++) {
        const struct order *o = &w->orders.v[i];
        paid += o->paid;
        int want_refunds = o->paid ? 0 : 1;
        if (!wrong[i] && (use[i] != 1 || refund[i] != want_refunds))
            flag(v, "order %lld (%s): %d USE, %d REFUND rows", (long long)o->id,
                 o->paid ? "PAID" : "CANCELLED", use[i], refund[i]);
    }
    note(v, "%zu orders (%zu PAID, %zu CANCELLED), %zu USE and %zu REFUND rows", no, paid,
         no - paid, uses, refunds);
    free(use);
    free(refund);
    free(wrong);
}

/* the journal's items of an order outcome, merged by product, ascending (malloc'd) */
static struct item *merged_items(const struct world *w, const struct outcome *oc, size_t *n)
{
    struct item *it = zalloc(oc->n_items, sizeof(*it));
    if (oc->n_items)
        memcpy(it, &w->items.v[oc->first_item], oc->n_items * sizeof(*it));
    if (oc->n_items > 1)
        qsort(it, oc->n_items, sizeof(*it), cmp_item);
    size_t m = 0;
    for (size_t i = 0; i < oc->n_items; i++) {
        if (m && it[m - 1].product_id == it[i].product_id)
            it[m - 1].quantity += it[i].quantity;
        else
            it[m++] = it[i];
    }
    *n = m;
    return it;
}

struct ack {
    int64_t order_id, user;
    const char *key;
};

/* 4. every acknowledged order stored as sent, cancelled when the cancel was confirmed;
 *    every refused one has no order behind its key */
static void check_orders_acknowledged(const struct world *w, struct verdict *v)
{
    size_t ok = 0, refused = 0, unknown = 0, cancels = 0, na = 0;
    struct ack *acked = zalloc(w->outcomes.n, sizeof(*acked));
    for (size_t i = 0; i < w->outcomes.n; i++) {
        const struct outcome *oc = &w->outcomes.v[i];
        if (strcmp(oc->op, "order") != 0)
            continue;
        if (oc->outcome == O_REFUSED) {
            refused++;
            const struct idem *k = find_idem(w, oc->user, false, oc->key);
            if (k && (k->status == 201 || k->status != oc->status))
                flag(v, "refused order (user %lld, key %s, %d) has key status %d (order %lld)",
                     (long long)oc->user, oc->key, oc->status, k->status, (long long)k->order_id);
            continue;
        }
        if (oc->outcome != O_OK) {
            unknown++;
            continue;
        }
        ok++;
        acked[na++] = (struct ack){oc->order_id, oc->user, oc->key};
        long o = FIND(w->orders, oc->order_id);
        if (o < 0) {
            flag(v, "order %lld (user %lld, key %s) acknowledged but missing",
                 (long long)oc->order_id, (long long)oc->user, oc->key);
            continue;
        }
        const struct order *ord = &w->orders.v[o];
        if (ord->user_id != oc->user || ord->total != oc->total || ord->coupon_id != oc->coupon_id)
            flag(v,
                 "order %lld: stored user %lld total %lld coupon %lld, acknowledged user %lld "
                 "total %lld coupon %lld",
                 (long long)ord->id, (long long)ord->user_id, (long long)ord->total,
                 (long long)ord->coupon_id, (long long)oc->user, (long long)oc->total,
                 (long long)oc->coupon_id);
        size_t n;
        struct item *it = merged_items(w, oc, &n);
        bool same = n == ord->n_lines;
        for (size_t j = 0; same && j < n; j++) {
            const struct line *l = &w->lines.v[ord->first_line + j];
            same = l->product_id == it[j].product_id && l->quantity == it[j].quantity;
        }
        free(it);
        if (!same)
            flag(v, "order %lld: stored lines differ from the %zu acknowledged items",
                 (long long)ord->id, oc->n_items);
        const struct idem *k = find_idem(w, oc->user, false, oc->key);
        if (!k || k->status != 201 || k->order_id != ord->id)
            flag(v, "order %lld: its key (user %lld, %s) %s", (long long)ord->id,
                 (long long)oc->user, oc->key, k ? "names another outcome" : "is missing");
    }
    if (na > 1)
        qsort(acked, na, sizeof(*acked), cmp_first_id);
    for (size_t i = 1; i < na; i++)
        if (acked[i].order_id == acked[i - 1].order_id &&
            (acked[i].user != acked[i - 1].user || strcmp(acked[i].key, acked[i - 1].key) != 0))
            flag(v, "order %lld acknowledged for two keys (%s, %s)", (long long)acked[i].order_id,
                 acked[i - 1].key, acked[i].key);
    for (size_t i = 0; i < w->outcomes.n; i++) {
        const struct outcome *oc = &w->outcomes.v[i];
        if (strcmp(oc->op, "cancel") != 0 || !(oc->outcome == O_OK || oc->confirmed_by_409))
            continue;
        cancels++;
        long o = FIND(w->orders, oc->order_id);
        if (o < 0 || w->orders.v[o].paid)
            flag(v, "order %lld: cancel confirmed but the order is %s", (long long)oc->order_id,
                 o < 0 ? "missing" : "PAID");
    }
    note(v,
         "%zu acknowledged, %zu refused, %zu unknown orders in the journal, %zu confirmed cancels",
         ok, refused, unknown, cancels);
    free(acked);
}

/* 5. the order keys answered 201 and the orders are one to one */
static void check_one_order_per_key(const struct world *w, struct verdict *v)
{
    int64_t *ids = zalloc(w->idem.n, sizeof(*ids));
    size_t n = 0;
    for (size_t i = 0; i < w->idem.n; i++) {
        const struct idem *k = &w->idem.v[i];
        if (k->charge || k->status != 201)
            continue;
        if (k->order_id <= 0) {
            flag(v, "key (user %lld, %s): 201 without an order id", (long long)k->user_id, k->key);
            continue;
        }
        ids[n++] = k->order_id;
        if (FIND(w->orders, k->order_id) < 0)
            flag(v, "key (user %lld, %s) names missing order %lld", (long long)k->user_id, k->key,
                 (long long)k->order_id);
    }
    qsort(ids, n, sizeof(*ids), cmp_i64p);
    for (size_t i = 1; i < n; i++)
        if (ids[i] == ids[i - 1])
            flag(v, "order %lld named by two keys", (long long)ids[i]);
    if (n != w->orders.n)
        flag(v, "%zu keys answered 201, %zu orders", n, w->orders.n);
    for (size_t i = 0; i < w->orders.n; i++)
        if (!n || !bsearch(&w->orders.v[i].id, ids, n, sizeof(*ids), cmp_i64p))
            flag(v, "order %lld has no key", (long long)w->orders.v[i].id);
    note(v, "%zu order keys answered 201, %zu orders", n, w->orders.n);
    free(ids);
}

/* 6. per user, the CHARGE ledger equals the charge keys answered 200; acknowledged charges kept */
static void check_charges(const struct world *w, struct verdict *v)
{
    int64_t *ledger = zalloc(w->users.n, sizeof(*ledger)),
            *keys = zalloc(w->users.n, sizeof(*keys));
    int64_t total = 0, acked = 0, unknown = 0;
    for (size_t i = 0; i < w->ledger.n; i++) {
        const struct ledger *l = &w->ledger.v[i];
        if (l->type != L_CHARGE)
            continue;
        long u = FIND(w->users, l->user_id);
        if (u >= 0)
            ledger[u] += l->amount;
        else
            flag(v, "CHARGE row %lld of missing user %lld", (long long)l->id,
                 (long long)l->user_id);
        total += l->amount;
    }
    for (size_t i = 0; i < w->idem.n; i++) {
        const struct idem *k = &w->idem.v[i];
        if (!k->charge || k->status != 200)
            continue;
        long u = FIND(w->users, k->user_id);
        if (k->amount < 0 || u < 0)
            flag(v, "charge key (user %lld, %s): %s", (long long)k->user_id, k->key,
                 u < 0 ? "missing user" : "no amount in its fingerprint");
        else
            keys[u] += k->amount;
    }
    for (size_t i = 0; i < w->users.n; i++)
        if (ledger[i] != keys[i])
            flag(v, "user %lld: CHARGE rows sum %lld, charge keys answered 200 sum %lld",
                 (long long)w->users.v[i].id, (long long)ledger[i], (long long)keys[i]);
    for (size_t i = 0; i < w->outcomes.n; i++) {
        const struct outcome *oc = &w->outcomes.v[i];
        if (strcmp(oc->op, "charge") != 0)
            continue;
        const struct idem *k = find_idem(w, oc->user, true, oc->key);
        if (oc->outcome == O_OK) {
            acked += oc->amount;
            if (!k || k->status != 200 || k->amount != oc->amount)
                flag(v, "acknowledged charge (user %lld, key %s, %lld): key %s",
                     (long long)oc->user, oc->key, (long long)oc->amount,
                     k ? "differs" : "missing");
        } else if (oc->outcome == O_REFUSED) {
            if (k && k->status == 200)
                flag(v, "refused charge (user %lld, key %s) has its key answered 200",
                     (long long)oc->user, oc->key);
        } else {
            unknown += oc->amount;
        }
    }
    note(v, "%lld points charged; journal: %lld acknowledged, %lld unknown", (long long)total,
         (long long)acked, (long long)unknown);
    free(ledger);
    free(keys);
}

struct pair {
    int64_t a, b, id;
};

static int cmp_pair(const void *x, const void *y)
{
    const struct pair *p = x, *q = y;
    int c = cmp_i64(p->a, q->a);
    return c ? c : cmp_i64(p->b, q->b);
}

/* does user coupon id exist and belong to this user and campaign? */
static bool ucoupon_is(const struct world *w, int64_t id, int64_t user, int64_t coupon)
{
    long u = FIND(w->ucoupons, id);
    return u >= 0 && w->ucoupons.v[u].user_id == user && w->ucoupons.v[u].coupon_id == coupon;
}

/* 7. campaigns never over-issued, one per user, issues kept, each coupon used once at most */
static void check_coupons(const struct world *w, struct verdict *v)
{
    size_t nu = w->ucoupons.n, issued_ok = 0;
    int64_t *count = zalloc(w->coupons.n, sizeof(*count));
    struct pair *pairs = zalloc(nu, sizeof(*pairs));
    int *uses = zalloc(nu, sizeof(*uses));
    for (size_t i = 0; i < nu; i++) {
        const struct ucoupon *u = &w->ucoupons.v[i];
        long c = FIND(w->coupons, u->coupon_id);
        if (c < 0)
            flag(v, "user coupon %lld of missing campaign %lld", (long long)u->id,
                 (long long)u->coupon_id);
        else
            count[c]++;
        pairs[i] = (struct pair){u->coupon_id, u->user_id, u->id};
    }
    for (size_t i = 0; i < w->coupons.n; i++) {
        const struct coupon *c = &w->coupons.v[i];
        if (count[i] != c->issued || c->issued > c->total)
            flag(v, "campaign %lld: %lld user coupons, issued %lld of %lld", (long long)c->id,
                 (long long)count[i], (long long)c->issued, (long long)c->total);
    }
    if (nu > 1)
        qsort(pairs, nu, sizeof(*pairs), cmp_pair);
    for (size_t i = 1; i < nu; i++)
        if (!cmp_pair(&pairs[i], &pairs[i - 1]))
            flag(v, "user %lld holds two of campaign %lld (%lld, %lld)", (long long)pairs[i].b,
                 (long long)pairs[i].a, (long long)pairs[i - 1].id, (long long)pairs[i].id);
    for (size_t i = 0; i < w->outcomes.n; i++) {
        const struct outcome *oc = &w->outcomes.v[i];
        if (strcmp(oc->op, "issue") != 0 || oc->outcome != O_OK)
            continue;
        issued_ok++;
        if (!ucoupon_is(w, oc->user_coupon_id, oc->user, oc->coupon))
            flag(v, "acknowledged issue of campaign %lld to user %lld: user coupon %lld missing",
                 (long long)oc->coupon, (long long)oc->user, (long long)oc->user_coupon_id);
    }
    for (size_t i = 0; i < w->orders.n; i++) {
        const struct order *o = &w->orders.v[i];
        if (!o->coupon_id)
            continue;
        long u = FIND(w->ucoupons, o->coupon_id);
        if (u < 0 || w->ucoupons.v[u].user_id != o->user_id) {
            flag(v, "order %lld uses user coupon %lld %s", (long long)o->id,
                 (long long)o->coupon_id, u < 0 ? "that is missing" : "of another user");
            continue;
        }
        uses[u] += o->paid;
    }
    for (size_t i = 0; i < nu; i++) {
        const struct ucoupon *u = &w->ucoupons.v[i];
        if (uses[i] > 1 || u->used != (uses[i] == 1))
            flag(v, "user coupon %lld: used by %d PAID orders, used_at %s", (long long)u->id,
                 uses[i], u->used ? "set" : "NULL");
    }
    note(v, "%zu campaigns, %zu user coupons, %zu acknowledged issues", w->coupons.n, nu,
         issued_ok);
    free(count);
    free(pairs);
    free(uses);
}

/* 8. every issue request decided; the ISSUED ones hold a real coupon */
static void check_issue_requests(const struct world *w, struct verdict *v)
{
    size_t journal = 0, unaccepted = 0, issued = 0, rejected = 0;
    for (size_t i = 0; i < w->outcomes.n; i++) {
        const struct outcome *oc = &w->outcomes.v[i];
        if (strcmp(oc->op, "issue_request") != 0)
            continue;
        journal++;
        /* unknown without a request id: the request may never have been accepted */
        if (oc->outcome != O_OK && oc->request_id <= 0) {
            unaccepted++;
            continue;
        }
        if (strcmp(oc->final_status, "PENDING") == 0)
            flag(v, "journal: request %lld (user %lld) ended PENDING", (long long)oc->request_id,
                 (long long)oc->user);
        else if (strcmp(oc->final_status, "ISSUED") == 0 &&
                 !ucoupon_is(w, oc->user_coupon_id, oc->user, oc->coupon))
            flag(v, "journal: request %lld ISSUED user coupon %lld, missing for user %lld",
                 (long long)oc->request_id, (long long)oc->user_coupon_id, (long long)oc->user);
    }
    for (size_t i = 0; i < w->creqs.n; i++) {
        const struct creq *r = &w->creqs.v[i];
        if (strcmp(r->status, "REJECTED") == 0) {
            rejected++;
        } else if (strcmp(r->status, "ISSUED") == 0) {
            issued++;
            if (!ucoupon_is(w, r->user_coupon_id, r->user_id, r->coupon_id))
                flag(v, "request %lld ISSUED user coupon %lld, missing for user %lld campaign %lld",
                     (long long)r->id, (long long)r->user_coupon_id, (long long)r->user_id,
                     (long long)r->coupon_id);
        } else {
            flag(v, "request %lld is %s", (long long)r->id,
                 r->status[0] ? r->status : "without a status");
        }
    }
    note(v,
         "%zu in the journal (%zu never accepted); Redis: %zu requests, %zu ISSUED, %zu REJECTED",
         journal, unaccepted, w->creqs.n, issued, rejected);
}

static int cmp_event_id(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 9. every order at the platform: ORDER_PAID, then ORDER_CANCELLED when cancelled */
static void check_events(const struct world *w, struct verdict *v)
{
    size_t no = w->orders.n, n_paid = 0, n_cancel = 0, dups = 0, late = 0;
    int *paid = zalloc(no, sizeof(*paid)), *cancel = zalloc(no, sizeof(*cancel));
    size_t *paid_pos = zalloc(no, sizeof(*paid_pos)), *cancel_pos = zalloc(no, sizeof(*cancel_pos));
    int64_t *paid_ms = zalloc(no, sizeof(*paid_ms)), *cancel_ms = zalloc(no, sizeof(*cancel_ms));
    int64_t max_lag = 0;
    const char **ids = zalloc(w->events.n, sizeof(*ids));
    if (w->bad_event_lines)
        flag(v, "%zu lines of the event file do not parse", w->bad_event_lines);
    for (size_t i = 0; i < w->events.n; i++) {
        const struct event *e = &w->events.v[i];
        ids[i] = e->event_id;
        int64_t lag = e->received_ms - e->occurred_ms;
        if (lag > max_lag)
            max_lag = lag;
        late += lag > w->late_ms;
        if (e->type == E_OTHER) {
            flag(v, "event %s of an unknown type", e->event_id);
            continue;
        }
        long o = FIND(w->orders, e->order_id);
        if (o < 0) {
            flag(v, "event %s for missing order %lld", e->event_id, (long long)e->order_id);
            continue;
        }
        bool is_paid = e->type == E_PAID;
        int *count = is_paid ? paid : cancel;
        if (!count[o]++) {
            (is_paid ? paid_pos : cancel_pos)[o] = e->pos;
            (is_paid ? paid_ms : cancel_ms)[o] = e->received_ms;
        } else {
            dups++; /* a second event id for the same order and type */
        }
        *(is_paid ? &n_paid : &n_cancel) += 1;
    }
    if (w->events.n > 1)
        qsort(ids, w->events.n, sizeof(*ids), cmp_event_id);
    for (size_t i = 1; i < w->events.n; i++)
        dups += strcmp(ids[i], ids[i - 1]) == 0;
    for (size_t i = 0; i < no; i++) {
        const struct order *o = &w->orders.v[i];
        if (!paid[i])
            flag(v, "order %lld: no ORDER_PAID", (long long)o->id);
        if (o->paid && cancel[i])
            flag(v, "order %lld is PAID but has an ORDER_CANCELLED", (long long)o->id);
        if (!o->paid && !cancel[i])
            flag(v, "order %lld: CANCELLED without ORDER_CANCELLED", (long long)o->id);
        if (!o->paid && paid[i] && cancel[i] &&
            (cancel_pos[i] < paid_pos[i] || cancel_ms[i] < paid_ms[i]))
            flag(v, "order %lld: ORDER_CANCELLED received before its ORDER_PAID", (long long)o->id);
    }
    note(v,
         "%zu events (%zu ORDER_PAID, %zu ORDER_CANCELLED) for %zu orders; duplicates %zu, "
         "late (> %lld ms) %zu, max lag %lld ms; outbox still holds %lld (%lld FAILED)",
         w->events.n, n_paid, n_cancel, no, dups, (long long)w->late_ms, late, (long long)max_lag,
         (long long)w->outbox_pending, (long long)w->outbox_failed);
    free(paid);
    free(cancel);
    free(paid_pos);
    free(cancel_pos);
    free(paid_ms);
    free(cancel_ms);
    free(ids);
}

/* 10. product_sales_daily == PAID lines by (UTC day, product); Redis ranking == that table */
static void check_ranking(const struct world *w, struct verdict *v)
{
    struct sale *want = zalloc(w->lines.n, sizeof(*want));
    size_t n = 0;
    for (size_t i = 0; i < w->lines.n; i++) {
        long o = FIND(w->orders, w->lines.v[i].order_id);
        if (o < 0 || !w->orders.v[o].paid)
            continue;
        struct sale *s = &want[n++];
        memcpy(s->day, w->orders.v[o].day, sizeof(s->day));
        s->product_id = w->lines.v[i].product_id;
        s->quantity = w->lines.v[i].quantity;
    }
    if (n > 1)
        qsort(want, n, sizeof(*want), cmp_sale);
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        if (m && !cmp_sale(&want[m - 1], &want[i]))
            want[m - 1].quantity += want[i].quantity;
        else
            want[m++] = want[i];
    }
    /* merge join: want (from orders) with the table; rows at 0 count as absent */
    size_t i = 0, j = 0, days = 0;
    while (i < m || j < w->sales.n) {
        const struct sale *a = i < m ? &want[i] : NULL, *b = j < w->sales.n ? &w->sales.v[j] : NULL;
        int c = !a ? 1 : !b ? -1 : cmp_sale(a, b);
        int64_t qa = c <= 0 ? a->quantity : 0, qb = c >= 0 ? b->quantity : 0;
        const struct sale *at = c <= 0 ? a : b;
        if (qa != qb)
            flag(v, "%s product %lld: PAID lines %lld, product_sales_daily %lld", at->day,
                 (long long)at->product_id, (long long)qa, (long long)qb);
        i += c <= 0;
        j += c >= 0;
    }
    /* the table with Redis (loaded for the table's days only) */
    i = j = 0;
    while (i < w->sales.n || j < w->ranks.n) {
        const struct sale *a = i < w->sales.n ? &w->sales.v[i] : NULL,
                          *b = j < w->ranks.n ? &w->ranks.v[j] : NULL;
        int c = !a ? 1 : !b ? -1 : cmp_sale(a, b);
        int64_t qa = c <= 0 ? a->quantity : 0, qb = c >= 0 ? b->quantity : 0;
        const struct sale *at = c <= 0 ? a : b;
        if ((qa > 0 || qb > 0) && qa != qb)
            flag(v, "%s product %lld: product_sales_daily %lld, Redis ranking %lld", at->day,
                 (long long)at->product_id, (long long)qa, (long long)qb);
        if (a && c <= 0 && (i == 0 || strcmp(w->sales.v[i - 1].day, a->day) != 0))
            days++;
        i += c <= 0;
        j += c >= 0;
    }
    note(v, "%zu days, %zu (day, product) rows, %zu Redis members", days, w->sales.n, w->ranks.n);
    free(want);
}

struct contract {
    const char *op;
    int allowed[10];
};

static const struct contract contracts[] = {
    {"order", {201, 400, 401, 403, 404, 409, 422, 503, 0, -1}},
    {"cancel", {200, 404, 409, 503, 0, -1}},
    {"charge", {200, 400, 404, 409, 503, 0, -1}},
    {"issue", {201, 404, 409, 503, 0, -1}},
    {"issue_request", {202, 404, 409, 503, 0, -1}},
    {"issue_poll", {200, 404, 503, 0, -1}},
    {"read", {200, 404, 503, 0, -1}},
};

/* 11. every answer the storm saw is in the contract of its operation */
static void check_answers(const struct world *w, struct verdict *v)
{
    size_t ok = 0, client = 0, unavailable = 0, transport = 0;
    if (w->bad_journal_lines)
        flag(v, "%zu journal lines do not parse", w->bad_journal_lines);
    for (size_t i = 0; i < w->attempts.n; i++) {
        const struct attempt *a = &w->attempts.v[i];
        const struct contract *c = NULL;
        for (size_t k = 0; k < sizeof(contracts) / sizeof(contracts[0]); k++)
            if (strcmp(contracts[k].op, a->op) == 0)
                c = &contracts[k];
        bool allowed = false;
        for (size_t k = 0; c && c->allowed[k] >= 0; k++)
            allowed |= c->allowed[k] == a->status;
        if (!allowed)
            flag(v, "attempts line %zu: %s answered %d %s", a->line, a->op, a->status, a->code);
        ok += a->status >= 200 && a->status < 300;
        client += a->status >= 400 && a->status < 500;
        unavailable += a->status == 503;
        transport += a->status == 0;
    }
    note(v, "%zu attempts: %zu 2xx, %zu 4xx, %zu 503, %zu transport errors", w->attempts.n, ok,
         client, unavailable, transport);
}

/* ---------------------------------------------------------------- plants */

static int64_t max_ledger_id(const struct world *w)
{
    return w->ledger.n ? w->ledger.v[w->ledger.n - 1].id : 0;
}

static bool plant_stock(struct world *w)
{
    if (!w->products.n)
        return false;
    w->products.v[0].stock += 1; /* one unit appeared from nowhere */
    return true;
}

static bool plant_balance(struct world *w)
{
    if (!w->users.n)
        return false;
    w->users.v[0].balance += 1;
    return true;
}

static bool plant_payments(struct world *w)
{
    if (!w->orders.n)
        return false;
    const struct order *o = &w->orders.v[0]; /* paid twice */
    int64_t id = max_ledger_id(w) + 1;
    *PUSH(w->ledger) = (struct ledger){id, o->user_id, -o->total, o->id, L_USE};
    return true;
}

static bool plant_orders_acknowledged(struct world *w)
{
    for (size_t i = 0; i < w->outcomes.n; i++) {
        const struct outcome *oc = &w->outcomes.v[i];
        long o = strcmp(oc->op, "order") == 0 && oc->outcome == O_OK ? FIND(w->orders, oc->order_id)
                                                                     : -1;
        if (o >= 0) {
            w->orders.v[o].total += 1; /* stored unlike what was acknowledged */
            return true;
        }
    }
    return false;
}

static bool plant_one_order_per_key(struct world *w)
{
    for (size_t i = 0; i < w->idem.n; i++) {
        if (w->idem.v[i].charge || w->idem.v[i].status != 201)
            continue;
        struct idem copy = w->idem.v[i]; /* a second key naming the same order */
        snprintf(copy.key, sizeof(copy.key), "planted-%zu", i);
        *PUSH(w->idem) = copy;
        return true;
    }
    return false;
}

static bool plant_charges(struct world *w)
{
    if (!w->users.n)
        return false;
    int64_t id = max_ledger_id(w) + 1; /* a charge applied without its key */
    *PUSH(w->ledger) = (struct ledger){id, w->users.v[0].id, 7, 0, L_CHARGE};
    return true;
}

static bool plant_coupons(struct world *w)
{
    if (!w->ucoupons.n)
        return false;
    struct ucoupon copy = w->ucoupons.v[0]; /* a second of the same campaign for the same user */
    copy.id = w->ucoupons.v[w->ucoupons.n - 1].id + 1;
    copy.used = false;
    *PUSH(w->ucoupons) = copy;
    return true;
}

static bool plant_issue_requests(struct world *w)
{
    int64_t id = w->creqs.n ? w->creqs.v[w->creqs.n - 1].id + 1 : 1;
    struct creq *r = PUSH(w->creqs); /* never decided */
    *r = (struct creq){.id = id, .coupon_id = 1, .user_id = 1};
    snprintf(r->status, sizeof(r->status), "PENDING");
    return true;
}

static bool plant_events(struct world *w)
{
    for (size_t i = 0; i < w->events.n; i++)
        if (w->events.v[i].type == E_PAID) {
            w->events.v[i].order_id = -1; /* the order's ORDER_PAID lost, one for no order */
            return true;
        }
    return false;
}

static bool plant_ranking(struct world *w)
{
    if (w->ranks.n) {
        w->ranks.v[0].quantity += 1;
        return true;
    }
    if (w->sales.n) {
        w->sales.v[0].quantity += 1;
        return true;
    }
    return false;
}

static bool plant_answers(struct world *w)
{
    struct attempt *a = PUSH(w->attempts);
    snprintf(a->op, sizeof(a->op), "order");
    a->status = 500;
    snprintf(a->code, sizeof(a->code), "INTERNAL");
    a->line = 0;
    return true;
}

struct check {
    const char *name;
    void (*run)(const struct world *, struct verdict *);
    bool (*plant)(struct world *);
};

static const struct check checks[] = {
    {"stock", check_stock, plant_stock},
    {"balance", check_balance, plant_balance},
    {"payments", check_payments, plant_payments},
    {"orders_acknowledged", check_orders_acknowledged, plant_orders_acknowledged},
    {"one_order_per_key", check_one_order_per_key, plant_one_order_per_key},
    {"charges", check_charges, plant_charges},
    {"coupons", check_coupons, plant_coupons},
    {"issue_requests", check_issue_requests, plant_issue_requests},
    {"events", check_events, plant_events},
    {"ranking", check_ranking, plant_ranking},
    {"answers", check_answers, plant_answers},
};
enum { N_CHECKS = sizeof(checks) / sizeof(checks[0]) };

/* --------------------------------------------------------------- loading */

__attribute__((format(printf, 1, 2), noreturn)) static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("chaos-check: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

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

static void load_pg(struct world *w, const char *url)
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

static void load_redis(struct world *w, const char *url, const char *ns)
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

/* ------------------------------------------------------------------ main */

static void usage(void)
{
    fprintf(stderr, "usage: chaos-check --db URL --redis URL --namespace NS --events FILE"
                    " --journal DIR --initial-stock N [--late-ms MS] [--self-test]\n");
    exit(2);
}

static void print_verdict(const char *name, const struct verdict *v)
{
    if (!v->bad)
        printf("PASS %s: %s\n", name, v->detail);
    else
        printf("FAIL %s: %s; %ld violation%s: %s%s\n", name, v->detail, v->bad,
               v->bad == 1 ? "" : "s", v->first, v->bad > FIRST_MAX ? "; …" : "");
}

int main(int argc, char **argv)
{
    const char *db = NULL, *redis = NULL, *ns = NULL, *events = NULL, *journal = NULL,
               *stock = NULL, *late = "5000";
    bool self_test = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **slot = strcmp(a, "--db") == 0              ? &db
                            : strcmp(a, "--redis") == 0         ? &redis
                            : strcmp(a, "--namespace") == 0     ? &ns
                            : strcmp(a, "--events") == 0        ? &events
                            : strcmp(a, "--journal") == 0       ? &journal
                            : strcmp(a, "--initial-stock") == 0 ? &stock
                            : strcmp(a, "--late-ms") == 0       ? &late
                                                                : NULL;
        if (slot && i + 1 < argc)
            *slot = argv[++i];
        else if (strcmp(a, "--self-test") == 0)
            self_test = true;
        else
            usage();
    }
    if (!db || !redis || !ns || !events || !journal || !stock)
        usage();

    struct world w = {.initial_stock = i64(stock), .late_ms = i64(late)};
    load_pg(&w, db);
    world_index(&w); /* the sales by day, for the Redis ranking */
    load_redis(&w, redis, ns);
    w.bad_event_lines = each_json_line(events, &w, on_event);
    char path[4096];
    snprintf(path, sizeof(path), "%s/outcomes.jsonl", journal);
    w.bad_journal_lines = each_json_line(path, &w, on_outcome);
    snprintf(path, sizeof(path), "%s/attempts.jsonl", journal);
    w.bad_journal_lines += each_json_line(path, &w, on_attempt);
    world_index(&w);

    int failed = 0;
    for (size_t i = 0; i < N_CHECKS; i++) {
        struct verdict base = {0};
        checks[i].run(&w, &base);
        if (!self_test) {
            print_verdict(checks[i].name, &base);
            failed += base.bad > 0;
            continue;
        }
        struct world copy;
        world_copy(&copy, &w);
        bool planted = checks[i].plant(&copy);
        world_index(&copy);
        struct verdict after = {0};
        if (planted)
            checks[i].run(&copy, &after);
        world_free(&copy);
        if (planted && after.bad > base.bad) {
            printf("CAUGHT %s: %s%s\n", checks[i].name, after.first,
                   base.bad ? " (it fails without the plant too)" : "");
        } else {
            printf("MISSED %s%s\n", checks[i].name,
                   planted ? "" : ": nothing in the data to plant the violation into");
            failed++;
        }
    }
    world_free(&w);
    return failed ? 1 : 0;
}
