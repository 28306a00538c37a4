/*
 * check_world.h — chaos-check's data model: what was read from PostgreSQL,
 * Redis, the data platform's event file and the storm's journal (struct
 * world), the growable arrays it is made of, and the sorted lookups the
 * checks use. Single-threaded tool code: nothing here is thread-safe; out of
 * memory ends the process (exit 2).
 */
#ifndef CHAOS_CHECK_WORLD_H
#define CHAOS_CHECK_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define VEC(T)                                                                                     \
    struct {                                                                                       \
        T *v;                                                                                      \
        size_t n, cap;                                                                             \
    }

/* a pointer to a new, zeroed last element of vec */
#define PUSH(vec)                                                                                  \
    ((vec).v = grow((vec).v, &(vec).cap, (vec).n, sizeof(*(vec).v)),                               \
     memset(&(vec).v[(vec).n], 0, sizeof(*(vec).v)), &(vec).v[(vec).n++])

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

/* ---- allocation (exit 2 when out of memory) ---- */

/* Returns p grown (realloc) to hold more than n elements of size bytes; updates *cap. */
void *grow(void *p, size_t *cap, size_t n, size_t size);

/* Returns a malloc'd copy of size bytes of p (NULL when size is 0). */
void *dup_mem(const void *p, size_t size);

/* Returns n zeroed elements of size bytes (calloc; at least one). */
void *zalloc(size_t n, size_t size);

/* Prints "chaos-check: <message>" to stderr and exits 2 (the inputs could not be read). */
__attribute__((format(printf, 1, 2), noreturn)) void die(const char *fmt, ...);

/* ---- the world ---- */

/* Frees every array of w (not w itself). */
void world_free(struct world *w);

/* Makes dst a deep copy of src (free it with world_free). */
void world_copy(struct world *dst, const struct world *src);

/* Sorts what the checks look up and links orders to their lines; safe to call again. */
void world_index(struct world *w);

/* ---- sorting and lookup ---- */

/* -1, 0 or 1 as a < b, a == b, a > b. */
int cmp_i64(int64_t a, int64_t b);

/*
 * qsort/bsearch comparators, ascending: by the first int64_t member (every record looked up by
 * id), by an int64_t, by (order, product), by (user, scope, key), by (day, product), by product.
 */

int cmp_first_id(const void *a, const void *b);

int cmp_i64p(const void *a, const void *b);

int cmp_line(const void *a, const void *b);

int cmp_idem(const void *a, const void *b);

int cmp_sale(const void *a, const void *b);

int cmp_item(const void *a, const void *b);

/* index of the element with this id in an array sorted by its first int64_t member, or -1 */
long find_id(const void *base, size_t n, size_t size, int64_t id);

#define FIND(vec, id) find_id((vec).v, (vec).n, sizeof(*(vec).v), (id))

#define SORT(vec, cmp)                                                                             \
    do {                                                                                           \
        if ((vec).n > 1)                                                                           \
            qsort((vec).v, (vec).n, sizeof(*(vec).v), (cmp));                                      \
    } while (0)

/* The idempotency key (user, scope, key) in w->idem (sorted by world_index), or NULL. */
const struct idem *find_idem(const struct world *w, int64_t user, bool charge, const char *key);

/* The largest ledger id in w (0 when empty): where planted rows get their ids. */
int64_t max_ledger_id(const struct world *w);

#endif
