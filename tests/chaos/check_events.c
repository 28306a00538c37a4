/* check_events.c — every order's events at the data platform, the ranking equal to the daily sales.
 */
#include "check_invariants.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_event_id(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* 9. every order at the platform: ORDER_PAID, then ORDER_CANCELLED when cancelled */
void check_events(const struct world *w, struct verdict *v)
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

bool plant_events(struct world *w)
{
    for (size_t i = 0; i < w->events.n; i++)
        if (w->events.v[i].type == E_PAID) {
            w->events.v[i].order_id = -1; /* the order's ORDER_PAID lost, one for no order */
            return true;
        }
    return false;
}

/* 10. product_sales_daily == PAID lines by (UTC day, product); Redis ranking == that table */
void check_ranking(const struct world *w, struct verdict *v)
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

bool plant_ranking(struct world *w)
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
