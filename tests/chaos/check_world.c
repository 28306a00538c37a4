/* check_world.c — chaos-check's data model: allocation, copies, sorting, lookup. */
#include "check_world.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

void *grow(void *p, size_t *cap, size_t n, size_t size)
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

void *dup_mem(const void *p, size_t size)
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

void world_free(struct world *w)
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

void world_copy(struct world *dst, const struct world *src)
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

void *zalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "chaos-check: out of memory\n");
        exit(2);
    }
    return p;
}

__attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("chaos-check: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

int cmp_i64(int64_t a, int64_t b)
{
    return a < b ? -1 : a > b;
}

int cmp_first_id(const void *a, const void *b)
{
    return cmp_i64(*(const int64_t *)a, *(const int64_t *)b);
}

int cmp_i64p(const void *a, const void *b)
{
    return cmp_i64(*(const int64_t *)a, *(const int64_t *)b);
}

int cmp_line(const void *a, const void *b)
{
    const struct line *x = a, *y = b;
    int c = cmp_i64(x->order_id, y->order_id);
    return c ? c : cmp_i64(x->product_id, y->product_id);
}

int cmp_idem(const void *a, const void *b)
{
    const struct idem *x = a, *y = b;
    int c = cmp_i64(x->user_id, y->user_id);
    if (!c)
        c = (int)x->charge - (int)y->charge;
    return c ? c : strcmp(x->key, y->key);
}

int cmp_sale(const void *a, const void *b)
{
    const struct sale *x = a, *y = b;
    int c = strcmp(x->day, y->day);
    return c ? c : cmp_i64(x->product_id, y->product_id);
}

int cmp_item(const void *a, const void *b)
{
    return cmp_i64(((const struct item *)a)->product_id, ((const struct item *)b)->product_id);
}

/* index of the element with this id in an array sorted by its first int64_t member, or -1 */
long find_id(const void *base, size_t n, size_t size, int64_t id)
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

/* Sorts what the checks look up and links orders to their lines; safe to call again. */
void world_index(struct world *w)
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

const struct idem *find_idem(const struct world *w, int64_t user, bool charge, const char *key)
{
    struct idem probe = {.user_id = user, .charge = charge};
    snprintf(probe.key, sizeof(probe.key), "%s", key);
    return w->idem.n ? bsearch(&probe, w->idem.v, w->idem.n, sizeof(probe), cmp_idem) : NULL;
}

int64_t max_ledger_id(const struct world *w)
{
    return w->ledger.n ? w->ledger.v[w->ledger.n - 1].id : 0;
}
