/*
 * ranking_dirty.c — per day slot, an open-addressing hash set of product ids
 * (0 = empty, linear probing, at most half full), preallocated; a day whose
 * set is full becomes "whole"; days beyond the slots widen one range of
 * whole days. Nothing added is ever dropped: only widened.
 */
#include "ranking/ranking_dirty.h"

#include <stdlib.h>
#include <string.h>

enum { DIRTY_DEFAULT_CAP = 1024 };

struct dirty_day {
    bool used, whole;
    int64_t day;
    size_t n;       /* ids held (0 when whole) */
    int64_t *table; /* d->table_size slots */
};

struct ranking_dirty {
    size_t cap;        /* ids per day */
    size_t table_size; /* power of two >= 2 × cap */
    struct dirty_day days[RANKING_DIRTY_DAYS];
    bool has_range; /* whole days range_lo..range_hi (inclusive) */
    int64_t range_lo, range_hi;
};

struct ranking_dirty *ranking_dirty_new(size_t cap)
{
    struct ranking_dirty *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->cap = cap ? cap : DIRTY_DEFAULT_CAP;
    d->table_size = 2;
    while (d->table_size < 2 * d->cap)
        d->table_size *= 2;
    for (size_t i = 0; i < RANKING_DIRTY_DAYS; i++) {
        d->days[i].table = calloc(d->table_size, sizeof(int64_t));
        if (!d->days[i].table) {
            ranking_dirty_free(d);
            return NULL;
        }
    }
    return d;
}

void ranking_dirty_free(struct ranking_dirty *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < RANKING_DIRTY_DAYS; i++)
        free(d->days[i].table);
    free(d);
}

size_t ranking_dirty_cap(const struct ranking_dirty *d)
{
    return d->cap;
}

static void make_whole(struct dirty_day *s, size_t table_size)
{
    if (!s->whole && s->n)
        memset(s->table, 0, table_size * sizeof(int64_t));
    s->whole = true;
    s->n = 0;
}

/* Inserts id (> 0) into s's table; false when s is full (id not yet there). */
static bool insert(struct ranking_dirty *d, struct dirty_day *s, int64_t id)
{
    size_t mask = d->table_size - 1;
    size_t i = (size_t)(((uint64_t)id * 0x9E3779B97F4A7C15ull) >> 32) & mask;
    for (;; i = (i + 1) & mask) {
        if (s->table[i] == id)
            return true;
        if (s->table[i] == 0)
            break;
    }
    if (s->n == d->cap)
        return false;
    s->table[i] = id;
    s->n++;
    return true;
}

/* The slot of day: the one holding it, else a free one (claimed); NULL when all are taken. */
static struct dirty_day *slot_of(struct ranking_dirty *d, int64_t day)
{
    struct dirty_day *free_slot = NULL;
    for (size_t i = 0; i < RANKING_DIRTY_DAYS; i++) {
        struct dirty_day *s = &d->days[i];
        if (s->used && s->day == day)
            return s;
        if (!s->used && !free_slot)
            free_slot = s;
    }
    if (free_slot)
        *free_slot = (struct dirty_day){.used = true, .day = day, .table = free_slot->table};
    return free_slot;
}

void ranking_dirty_add(struct ranking_dirty *d, int64_t day, const int64_t *ids, size_t n)
{
    if (ids && n == 0)
        return; /* nothing changed */
    if (d->has_range && day >= d->range_lo && day <= d->range_hi)
        return; /* the whole day is already remembered */
    struct dirty_day *s = slot_of(d, day);
    if (!s) { /* every slot holds another day: widen the range of whole days */
        if (!d->has_range) {
            d->has_range = true;
            d->range_lo = d->range_hi = day;
        } else if (day < d->range_lo) {
            d->range_lo = day;
        } else {
            d->range_hi = day;
        }
        return;
    }
    if (s->whole)
        return;
    if (!ids) {
        make_whole(s, d->table_size);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (ids[i] <= 0 || !insert(d, s, ids[i])) {
            make_whole(s, d->table_size); /* full (or an id it cannot hold): copy the whole day */
            return;
        }
    }
}

int64_t ranking_dirty_count(const struct ranking_dirty *d)
{
    int64_t count = d->has_range ? d->range_hi - d->range_lo + 1 : 0;
    for (size_t i = 0; i < RANKING_DIRTY_DAYS; i++)
        if (d->days[i].used)
            count += d->days[i].whole ? 1 : (int64_t)d->days[i].n;
    return count;
}

bool ranking_dirty_take(struct ranking_dirty *d, int64_t *day, bool *whole, int64_t *ids, size_t *n)
{
    for (size_t i = 0; i < RANKING_DIRTY_DAYS; i++) {
        struct dirty_day *s = &d->days[i];
        if (!s->used)
            continue;
        *day = s->day;
        *whole = s->whole;
        *n = 0;
        if (!s->whole) {
            for (size_t k = 0; k < d->table_size; k++)
                if (s->table[k])
                    ids[(*n)++] = s->table[k];
            memset(s->table, 0, d->table_size * sizeof(int64_t));
        }
        *s = (struct dirty_day){.table = s->table};
        return true;
    }
    if (!d->has_range)
        return false;
    *day = d->range_lo;
    *whole = true;
    *n = 0;
    if (d->range_lo == d->range_hi)
        d->has_range = false;
    else
        d->range_lo++;
    return true;
}
