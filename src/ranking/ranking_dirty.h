/* ranking_dirty.h — a bounded, coalescing set of (UTC day, product) whose sales changed. */
#ifndef SHOPD_RANKING_RANKING_DIRTY_H
#define SHOPD_RANKING_RANKING_DIRTY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Days (since 1970-01-01 UTC) remembered one by one; more spill into one range of whole days. */
enum { RANKING_DIRTY_DAYS = 8 };

struct ranking_dirty;

/*
 * A set remembering, per UTC day (days since the epoch), up to cap products
 * whose sales changed (cap 0: 1024). All its memory is allocated here, so
 * adding never allocates and never fails. Returns NULL on OOM; the caller
 * owns it (ranking_dirty_free). Not thread-safe: its user locks.
 */
struct ranking_dirty *ranking_dirty_new(size_t cap);

/* Frees d (NULL-safe). */
void ranking_dirty_free(struct ranking_dirty *d);

/* Products one day holds at most: the size of the buffer ranking_dirty_take fills. */
size_t ranking_dirty_cap(const struct ranking_dirty *d);

/*
 * Remembers that the sales of ids[0..n) on day changed (ids NULL: every
 * product of the day). A product already remembered counts once. Never
 * forgets anything: when the day's products would exceed cap (or an id is
 * not positive) the whole day is remembered instead; when RANKING_DIRTY_DAYS
 * other days are already held, the day joins a range of whole days (from the
 * lowest to the highest day that spilled). Never fails, never allocates.
 */
void ranking_dirty_add(struct ranking_dirty *d, int64_t day, const int64_t *ids, size_t n);

/*
 * Units of work remembered: one per product, plus one per whole day (a
 * range counts each of its days). 0 when empty.
 */
int64_t ranking_dirty_count(const struct ranking_dirty *d);

/*
 * Takes one day out of the set: *day, and either *whole = true (copy every
 * product of the day; *n = 0) or the day's products in ids (capacity
 * ranking_dirty_cap, caller's) and *n. Returns false (nothing written) when
 * the set is empty. What was taken is forgotten: a caller that failed to
 * copy it gives it back with ranking_dirty_add.
 */
bool ranking_dirty_take(struct ranking_dirty *d, int64_t *day, bool *whole, int64_t *ids,
                        size_t *n);

#endif
