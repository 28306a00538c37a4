/* storm.c — chaos-storm: a careful client storming one or more shopd instances while faults
 * are injected from outside.
 *
 * Every operation whose outcome is unknown (transport error or timeout, any 5xx, 409
 * REQUEST_IN_PROGRESS) is retried later with the same Idempotency-Key and the same body, on
 * the next instance, with a backoff of 200 ms doubling to 2 s, until a definite answer or
 * the final deadline. Accepted coupon issue requests are polled until decided. Every HTTP
 * attempt goes to DIR/attempts.jsonl and every operation's final outcome to
 * DIR/outcomes.jsonl (reads: attempts only).
 *
 * Each worker thread owns a disjoint subset of the users (user index % threads), so the
 * per-user state (available coupons, paid orders that may be cancelled) needs no lock; the
 * journal buffers are per thread, flushed into the shared files under a mutex.
 *
 * Exit status: 0 every operation reached a definite outcome, 3 some stayed unknown at the
 * deadline (journaled as "unknown"), 1 usage or setup error.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include <pthread.h>

#include <curl/curl.h>
#include <jansson.h>

#define MAX_BASES 16
#define CONNECT_TIMEOUT_MS 1000L
#define ATTEMPT_TIMEOUT_MS 5000L
#define BACKOFF_START_MS 200
#define BACKOFF_MAX_MS 2000
#define INITIAL_CHARGE 500000
#define JOURNAL_FLUSH_BYTES (64 * 1024)
/* open (unknown, being retried or polled) operations per thread; at the cap a thread starts
 * nothing new, so an outage does not pile up an ever-growing retry storm */
#define MAX_OPEN_PER_THREAD 64

/* ---------------------------------------------------------------- configuration */

struct user {
    long long id;
    char *token;
    /* owned by one worker thread */
    long long *coupons; /* available (unused) user coupon ids */
    size_t ncoupons, capcoupons;
    struct paid {
        long long order_id, coupon_id;
    } * paid; /* acknowledged PAID orders not yet cancelled */
    size_t npaid, cappaid;
    bool sync_held;             /* known to hold the --coupon campaign's coupon */
    bool async_held;            /* known to hold (or have queued) the --async-coupon campaign's */
    bool sync_busy, async_busy; /* an issue op of that campaign is still open */
};

static struct {
    const char *bases[MAX_BASES];
    int nbases;
    const char *users_file;
    long long prod_first, prod_last;
    long long coupon, async_coupon;
    int seconds, threads, grace;
    const char *journal_dir;
    unsigned long long seed;
    struct user *users;
    size_t nusers;
} cfg = {.grace = 60};

/* ---------------------------------------------------------------- time, rng */

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double mono_ms_f(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static int64_t unix_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int64_t ms)
{
    if (ms <= 0)
        return;
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

static uint64_t rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

/* uniform in [lo, hi] */
static long long rng_range(uint64_t *s, long long lo, long long hi)
{
    if (hi <= lo)
        return lo;
    return lo + (long long)(rng_next(s) % (uint64_t)(hi - lo + 1));
}

/* ---------------------------------------------------------------- journal */

static pthread_mutex_t journal_mu = PTHREAD_MUTEX_INITIALIZER;
static FILE *attempts_fp, *outcomes_fp;

struct sbuf {
    char *data;
    size_t len, cap;
};

static void sbuf_put(struct sbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->data, cap);
        if (!p) {
            fprintf(stderr, "chaos-storm: out of memory\n");
            abort();
        }
        b->data = p;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void flush_buf(struct sbuf *b, FILE *fp)
{
    if (!b->len)
        return;
    pthread_mutex_lock(&journal_mu);
    fwrite(b->data, 1, b->len, fp);
    pthread_mutex_unlock(&journal_mu);
    b->len = 0;
}

/* ---------------------------------------------------------------- HTTP */

struct resp {
    long status; /* 0: transport error */
    char code[64];
    bool replayed;
    json_t *json; /* parsed body or NULL */
    struct sbuf body;
    int64_t t_start_ms, t_end_ms;
};

enum op_kind { OP_ORDER, OP_CANCEL, OP_CHARGE, OP_ISSUE, OP_ISSUE_REQ, OP_KINDS };
static const char *const op_names[OP_KINDS] = {"order", "cancel", "charge", "issue",
                                               "issue_request"};

enum outcome { OUT_OK, OUT_REFUSED, OUT_UNKNOWN, OUT_KINDS };
static const char *const outcome_names[OUT_KINDS] = {"ok", "refused", "unknown"};

struct worker {
    int index;
    pthread_t thread;
    CURL *curl;
    uint64_t rng;
    unsigned long long key_counter;
    struct user **users;
    size_t nusers;
    struct op **pending;
    size_t npending, cappending;
    int next_inst;
    int64_t storm_end, deadline; /* monotonic ms */
    struct sbuf attempts, outcomes;
    long counts[OP_KINDS][OUT_KINDS];
    long nattempts, nreads;
};

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct sbuf *b = ud;
    size_t n = size * nmemb;
    if (b->len + n > 4 * 1024 * 1024)
        return 0;
    sbuf_put(b, ptr, n);
    return n;
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *ud)
{
    struct resp *r = ud;
    size_t n = size * nmemb;
    static const char name[] = "idempotent-replayed:";
    size_t nl = sizeof(name) - 1;
    if (n > nl && strncasecmp(ptr, name, nl) == 0) {
        const char *v = ptr + nl;
        size_t vl = n - nl;
        while (vl && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        r->replayed = vl >= 4 && strncasecmp(v, "true", 4) == 0;
    }
    return n;
}

/* keep codes to [A-Z0-9_] so they can be written into JSON as they are */
static void set_code(char *dst, size_t cap, const char *src)
{
    size_t j = 0;
    for (size_t i = 0; src && src[i] && j + 1 < cap; i++) {
        char c = src[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')
            dst[j++] = c;
    }
    dst[j] = '\0';
}

static void resp_clear(struct resp *r)
{
    if (r->json)
        json_decref(r->json);
    free(r->body.data);
    memset(r, 0, sizeof(*r));
}

/* One attempt; journals it as op `opname` against instance `inst`. */
static void http_do(struct worker *w, const char *opname, int inst, bool post, const char *path,
                    const char *token, const char *idem_key, const char *body, struct resp *r)
{
    resp_clear(r);
    char url[1024];
    snprintf(url, sizeof(url), "%s%s", cfg.bases[inst], path);
    struct curl_slist *hl = NULL;
    char hdr[1024];
    if (token) {
        snprintf(hdr, sizeof(hdr), "Authorization: Bearer %s", token);
        hl = curl_slist_append(hl, hdr);
    }
    if (idem_key) {
        snprintf(hdr, sizeof(hdr), "Idempotency-Key: %s", idem_key);
        hl = curl_slist_append(hl, hdr);
    }
    if (post)
        hl = curl_slist_append(hl, "Content-Type: application/json");
    hl = curl_slist_append(hl, "Expect:");

    long timeout = ATTEMPT_TIMEOUT_MS;
    int64_t left = w->deadline - mono_ms();
    if (left < timeout)
        timeout = left < 500 ? 500 : (long)left;

    CURL *c = w->curl;
    curl_easy_setopt(c, CURLOPT_URL, url);
    if (post) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)(body ? strlen(body) : 0));
    } else {
        curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
    }
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);

    r->t_start_ms = unix_ms();
    double t0 = mono_ms_f();
    CURLcode rc = curl_easy_perform(c);
    double latency = mono_ms_f() - t0;
    r->t_end_ms = unix_ms();
    curl_slist_free_all(hl);

    if (rc == CURLE_OK) {
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
        if (r->body.len) {
            r->json = json_loadb(r->body.data, r->body.len, 0, NULL);
            if (r->json && json_is_object(r->json) && r->status >= 400)
                set_code(r->code, sizeof(r->code),
                         json_string_value(json_object_get(r->json, "code")));
        }
    } else {
        r->status = 0;
        r->replayed = false;
    }

    char line[512];
    int n = snprintf(line, sizeof(line),
                     "{\"t_ms\":%" PRId64 ",\"latency_ms\":%.3f,\"op\":\"%s\",\"instance\":%d,"
                     "\"status\":%ld,\"code\":\"%s\"}\n",
                     r->t_start_ms, latency, opname, inst, r->status, r->code);
    if (n > 0 && (size_t)n < sizeof(line))
        sbuf_put(&w->attempts, line, (size_t)n);
    if (w->attempts.len >= JOURNAL_FLUSH_BYTES)
        flush_buf(&w->attempts, attempts_fp);
    w->nattempts++;
}

static bool is_unknown(const struct resp *r)
{
    return r->status == 0 || r->status >= 500 ||
           (r->status == 409 && strcmp(r->code, "REQUEST_IN_PROGRESS") == 0);
}

static long long jint(const json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);
    return json_is_integer(v) ? (long long)json_integer_value(v) : 0;
}

/* ---------------------------------------------------------------- per-user state */

static void coupon_add(struct user *u, long long id)
{
    if (id <= 0)
        return;
    for (size_t i = 0; i < u->ncoupons; i++)
        if (u->coupons[i] == id)
            return;
    if (u->ncoupons == u->capcoupons) {
        u->capcoupons = u->capcoupons ? u->capcoupons * 2 : 4;
        u->coupons = realloc(u->coupons, u->capcoupons * sizeof(*u->coupons));
        if (!u->coupons)
            abort();
    }
    u->coupons[u->ncoupons++] = id;
}

static long long coupon_take(struct user *u, uint64_t *rng)
{
    if (!u->ncoupons)
        return 0;
    size_t i = (size_t)rng_range(rng, 0, (long long)u->ncoupons - 1);
    long long id = u->coupons[i];
    u->coupons[i] = u->coupons[--u->ncoupons];
    return id;
}

static void paid_add(struct user *u, long long order_id, long long coupon_id)
{
    if (u->npaid == u->cappaid) {
        u->cappaid = u->cappaid ? u->cappaid * 2 : 8;
        u->paid = realloc(u->paid, u->cappaid * sizeof(*u->paid));
        if (!u->paid)
            abort();
    }
    u->paid[u->npaid].order_id = order_id;
    u->paid[u->npaid].coupon_id = coupon_id;
    u->npaid++;
}

/* ---------------------------------------------------------------- operations */

enum phase { PH_SEND, PH_LOOKUP, PH_POLL };

struct op {
    enum op_kind kind;
    enum phase phase;
    struct user *u;
    char key[96];
    char path[160];
    char body[1024];
    int nitems;
    long long items[3][2];
    long long coupon_id; /* order: the user coupon sent; cancel: the order's coupon */
    long long amount;
    long long order_id;
    long long campaign;
    char request_id[64];
    int attempts;
    bool had_unknown;
    bool confirmed_by_409;
    int inst;
    int backoff_ms;
    int64_t due; /* monotonic ms */
    int64_t t0_ms, t1_ms;
    /* the final answer (or the last one) */
    long status;
    char code[64];
    bool replayed;
    long long total;
    long long balance;
    long long user_coupon_id;
    const char *final_status; /* issue_request */
};

static int pick_inst(struct worker *w)
{
    int i = w->next_inst;
    w->next_inst = (w->next_inst + 1) % cfg.nbases;
    return i;
}

static void schedule_retry(struct op *op)
{
    op->due = mono_ms() + op->backoff_ms;
    op->backoff_ms = op->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : op->backoff_ms * 2;
    op->inst = (op->inst + 1) % cfg.nbases;
}

static void enter_phase(struct op *op, enum phase ph)
{
    op->phase = ph;
    op->backoff_ms = BACKOFF_START_MS;
    schedule_retry(op);
}

static void note_answer(struct op *op, const struct resp *r)
{
    op->status = r->status;
    snprintf(op->code, sizeof(op->code), "%s", r->code);
    op->replayed = r->replayed;
    op->t1_ms = r->t_end_ms;
}

static void finish(struct worker *w, struct op *op, enum outcome out)
{
    struct user *u = op->u;
    json_t *o = json_object();
    json_object_set_new(o, "op", json_string(op_names[op->kind]));
    json_object_set_new(o, "user", json_integer(u->id));
    json_object_set_new(o, "attempts", json_integer(op->attempts));
    json_object_set_new(o, "t0_ms", json_integer(op->t0_ms));
    json_object_set_new(o, "t1_ms", json_integer(op->t1_ms ? op->t1_ms : op->t0_ms));
    json_object_set_new(o, "status", json_integer(out == OUT_UNKNOWN ? 0 : op->status));
    json_object_set_new(o, "code", json_string(out == OUT_UNKNOWN ? "" : op->code));
    json_object_set_new(o, "outcome", json_string(outcome_names[out]));
    switch (op->kind) {
    case OP_ORDER: {
        json_object_set_new(o, "key", json_string(op->key));
        json_object_set_new(o, "body", json_string(op->body));
        json_object_set_new(o, "order_id", json_integer(out == OUT_OK ? op->order_id : 0));
        json_object_set_new(o, "total", json_integer(out == OUT_OK ? op->total : 0));
        json_object_set_new(o, "replayed", json_boolean(out != OUT_UNKNOWN && op->replayed));
        json_t *items = json_array();
        for (int i = 0; i < op->nitems; i++)
            json_array_append_new(
                items, json_pack("[II]", (json_int_t)op->items[i][0], (json_int_t)op->items[i][1]));
        json_object_set_new(o, "items", items);
        json_object_set_new(o, "coupon_id", json_integer(op->coupon_id));
        break;
    }
    case OP_CANCEL:
        json_object_set_new(o, "order_id", json_integer(op->order_id));
        json_object_set_new(o, "confirmed_by_409", json_boolean(op->confirmed_by_409));
        break;
    case OP_CHARGE:
        json_object_set_new(o, "key", json_string(op->key));
        json_object_set_new(o, "amount", json_integer(op->amount));
        json_object_set_new(o, "balance", json_integer(out == OUT_OK ? op->balance : -1));
        break;
    case OP_ISSUE:
        json_object_set_new(o, "coupon", json_integer(op->campaign));
        json_object_set_new(o, "user_coupon_id",
                            json_integer(out == OUT_OK ? op->user_coupon_id : 0));
        json_object_set_new(o, "confirmed_by_409", json_boolean(op->confirmed_by_409));
        break;
    case OP_ISSUE_REQ:
        json_object_set_new(o, "coupon", json_integer(op->campaign));
        json_object_set_new(o, "request_id", json_string(op->request_id));
        json_object_set_new(o, "final_status",
                            json_string(out == OUT_UNKNOWN ? "PENDING"
                                        : op->final_status ? op->final_status
                                                           : "REJECTED"));
        json_object_set_new(o, "user_coupon_id",
                            json_integer(out == OUT_OK ? op->user_coupon_id : 0));
        break;
    case OP_KINDS:
        break;
    }
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (s) {
        sbuf_put(&w->outcomes, s, strlen(s));
        sbuf_put(&w->outcomes, "\n", 1);
        free(s);
    }
    if (w->outcomes.len >= JOURNAL_FLUSH_BYTES)
        flush_buf(&w->outcomes, outcomes_fp);
    w->counts[op->kind][out]++;

    /* the per-user state after a final outcome */
    switch (op->kind) {
    case OP_ORDER:
        if (out == OUT_REFUSED && op->coupon_id && strcmp(op->code, "COUPON_NOT_USABLE") != 0)
            coupon_add(u, op->coupon_id); /* nothing was taken: the coupon is still ours */
        break;
    case OP_CANCEL:
        if (out == OUT_OK && op->coupon_id)
            coupon_add(u, op->coupon_id); /* a cancel gives the coupon back */
        break;
    case OP_ISSUE:
        u->sync_busy = false;
        if (out == OUT_OK) {
            u->sync_held = true;
            coupon_add(u, op->user_coupon_id);
        }
        break;
    case OP_ISSUE_REQ:
        u->async_busy = false;
        if (out == OUT_REFUSED && op->request_id[0] &&
            strcmp(op->code, "COUPON_ALREADY_ISSUED") != 0)
            u->async_held = false; /* accepted, then rejected: nothing queued any more */
        if (out == OUT_OK) {
            u->async_held = true;
            coupon_add(u, op->user_coupon_id);
        }
        break;
    default:
        break;
    }
    free(op);
}

/* Looks up the user's coupon of op->campaign: 1 found (op->user_coupon_id set), 0 not held,
 * -1 no definite answer. */
static int lookup_coupon(struct worker *w, struct op *op)
{
    char path[128];
    snprintf(path, sizeof(path), "/api/v1/users/%lld/coupons", op->u->id);
    struct resp r = {0};
    http_do(w, "read", op->inst, false, path, op->u->token, NULL, NULL, &r);
    int found = -1;
    if (r.status == 200 && json_is_object(r.json)) {
        found = 0;
        size_t i;
        json_t *it;
        json_array_foreach(json_object_get(r.json, "items"), i, it)
        {
            if (jint(it, "coupon_id") == op->campaign) {
                op->user_coupon_id = jint(it, "id");
                found = 1;
                break;
            }
        }
    }
    resp_clear(&r);
    return found;
}

/* One step of an operation. Returns true when the op is final (journaled and freed). */
static bool step(struct worker *w, struct op *op)
{
    struct resp r = {0};
    struct user *u = op->u;
    const char *name = op_names[op->kind];

    if (op->phase == PH_LOOKUP) {
        /* issue / issue_request: a 409 after an unknown attempt; is the coupon the user's? */
        int found = lookup_coupon(w, op);
        if (found == 1) {
            op->confirmed_by_409 = true;
            op->final_status = "ISSUED";
            finish(w, op, OUT_OK);
            return true;
        }
        if (found == 0 && (op->kind == OP_ISSUE || strcmp(op->code, "COUPON_SOLD_OUT") == 0)) {
            op->final_status = "REJECTED";
            finish(w, op, OUT_REFUSED);
            return true;
        }
        /* no answer, or an async request of this user may still be queued: look again */
        schedule_retry(op);
        return false;
    }

    if (op->phase == PH_POLL) {
        char path[160];
        snprintf(path, sizeof(path), "/api/v1/coupon-issue-requests/%s", op->request_id);
        http_do(w, "issue_poll", op->inst, false, path, u->token, NULL, NULL, &r);
        if (r.status == 200 && json_is_object(r.json)) {
            const char *st = json_string_value(json_object_get(r.json, "status"));
            op->t1_ms = r.t_end_ms;
            if (st && strcmp(st, "ISSUED") == 0) {
                op->final_status = "ISSUED";
                op->user_coupon_id = jint(r.json, "user_coupon_id");
                resp_clear(&r);
                finish(w, op, OUT_OK);
                return true;
            }
            if (st && strcmp(st, "REJECTED") == 0) {
                op->final_status = "REJECTED";
                set_code(op->code, sizeof(op->code),
                         json_string_value(json_object_get(r.json, "code")));
                resp_clear(&r);
                finish(w, op, OUT_REFUSED);
                return true;
            }
        }
        resp_clear(&r);
        schedule_retry(op);
        if (op->backoff_ms > 1000)
            op->backoff_ms = 1000;
        return false;
    }

    /* PH_SEND */
    bool post = true;
    const char *key = NULL;
    if (op->kind == OP_ORDER || op->kind == OP_CHARGE)
        key = op->key;
    const char *body = op->kind == OP_CANCEL ? NULL : op->body;
    http_do(w, name, op->inst, post, op->path, u->token, key, body, &r);
    if (!op->attempts)
        op->t0_ms = r.t_start_ms;
    op->attempts++;
    note_answer(op, &r);

    if (is_unknown(&r)) {
        op->had_unknown = true;
        resp_clear(&r);
        schedule_retry(op);
        return false;
    }

    enum outcome out = OUT_REFUSED;
    switch (op->kind) {
    case OP_ORDER:
        if (r.status == 201) {
            out = OUT_OK;
            op->order_id = jint(r.json, "id");
            op->total = jint(r.json, "total");
            const char *st = json_string_value(json_object_get(r.json, "status"));
            if (op->order_id > 0 && st && strcmp(st, "PAID") == 0)
                paid_add(u, op->order_id, op->coupon_id);
        }
        break;
    case OP_CANCEL:
        if (r.status == 200) {
            out = OUT_OK;
        } else if (r.status == 409 && strcmp(r.code, "ORDER_NOT_CANCELLABLE") == 0 &&
                   op->had_unknown) {
            out = OUT_OK;
            op->confirmed_by_409 = true;
        }
        break;
    case OP_CHARGE:
        if (r.status == 200) {
            out = OUT_OK;
            op->balance = jint(r.json, "balance");
        }
        break;
    case OP_ISSUE:
        if (r.status == 201) {
            out = OUT_OK;
            op->user_coupon_id = jint(r.json, "id");
        } else if (r.status == 409 && op->had_unknown && !u->sync_held &&
                   (strcmp(r.code, "COUPON_ALREADY_ISSUED") == 0 ||
                    strcmp(r.code, "COUPON_SOLD_OUT") == 0)) {
            /* maybe our own earlier attempt took it: ask the user's coupon list */
            resp_clear(&r);
            enter_phase(op, PH_LOOKUP);
            op->due = 0;
            return step(w, op);
        }
        break;
    case OP_ISSUE_REQ:
        if (r.status == 202 && json_is_object(r.json)) {
            json_t *rid = json_object_get(r.json, "request_id");
            if (json_is_string(rid))
                snprintf(op->request_id, sizeof(op->request_id), "%s", json_string_value(rid));
            else if (json_is_integer(rid))
                snprintf(op->request_id, sizeof(op->request_id), "%" JSON_INTEGER_FORMAT,
                         json_integer_value(rid));
            u->async_held = true; /* queued: a later request of this user is refused */
            resp_clear(&r);
            if (!op->request_id[0]) {
                op->final_status = "PENDING";
                finish(w, op, OUT_UNKNOWN);
                return true;
            }
            enter_phase(op, PH_POLL);
            return false;
        }
        if (r.status == 409 && op->had_unknown && !u->async_held &&
            (strcmp(r.code, "COUPON_ALREADY_ISSUED") == 0 ||
             strcmp(r.code, "COUPON_SOLD_OUT") == 0)) {
            resp_clear(&r);
            enter_phase(op, PH_LOOKUP);
            op->due = 0;
            return step(w, op);
        }
        op->final_status = "REJECTED";
        break;
    case OP_KINDS:
        break;
    }
    resp_clear(&r);
    finish(w, op, out);
    return true;
}

/* ---------------------------------------------------------------- the storm */

static struct op *new_op(struct worker *w, enum op_kind kind, struct user *u)
{
    struct op *op = calloc(1, sizeof(*op));
    if (!op)
        abort();
    op->kind = kind;
    op->u = u;
    op->inst = pick_inst(w);
    op->backoff_ms = BACKOFF_START_MS;
    op->balance = -1;
    return op;
}

static void next_key(struct worker *w, struct op *op)
{
    snprintf(op->key, sizeof(op->key), "storm-%llu-%d-%llu", cfg.seed, w->index, ++w->key_counter);
}

static void run_op(struct worker *w, struct op *op)
{
    if (step(w, op))
        return;
    if (w->npending == w->cappending) {
        w->cappending = w->cappending ? w->cappending * 2 : 16;
        w->pending = realloc(w->pending, w->cappending * sizeof(*w->pending));
        if (!w->pending)
            abort();
    }
    w->pending[w->npending++] = op;
}

static void start_charge(struct worker *w, struct user *u, long long amount)
{
    struct op *op = new_op(w, OP_CHARGE, u);
    next_key(w, op);
    op->amount = amount;
    snprintf(op->path, sizeof(op->path), "/api/v1/users/%lld/points/charge", u->id);
    snprintf(op->body, sizeof(op->body), "{\"amount\":%lld}", amount);
    run_op(w, op);
}

static void start_order(struct worker *w, struct user *u)
{
    struct op *op = new_op(w, OP_ORDER, u);
    next_key(w, op);
    long long span = cfg.prod_last - cfg.prod_first + 1;
    int n = (int)rng_range(&w->rng, 1, 3);
    if (n > span)
        n = (int)span;
    op->nitems = 0;
    while (op->nitems < n) {
        long long p = rng_range(&w->rng, cfg.prod_first, cfg.prod_last);
        bool dup = false;
        for (int i = 0; i < op->nitems; i++)
            dup = dup || op->items[i][0] == p;
        if (dup)
            continue;
        op->items[op->nitems][0] = p;
        op->items[op->nitems][1] = rng_range(&w->rng, 1, 2);
        op->nitems++;
    }
    if (u->ncoupons && rng_range(&w->rng, 0, 99) < 30)
        op->coupon_id = coupon_take(u, &w->rng);
    snprintf(op->path, sizeof(op->path), "/api/v1/orders");
    size_t len =
        (size_t)snprintf(op->body, sizeof(op->body), "{\"user_id\":%lld,\"items\":[", u->id);
    for (int i = 0; i < op->nitems; i++)
        len += (size_t)snprintf(op->body + len, sizeof(op->body) - len,
                                "%s{\"product_id\":%lld,\"quantity\":%lld}", i ? "," : "",
                                op->items[i][0], op->items[i][1]);
    if (op->coupon_id)
        snprintf(op->body + len, sizeof(op->body) - len, "],\"coupon_id\":%lld}", op->coupon_id);
    else
        snprintf(op->body + len, sizeof(op->body) - len, "]}");
    run_op(w, op);
}

static void do_read(struct worker *w, struct user *u)
{
    char path[160];
    switch (rng_range(&w->rng, 0, 2)) {
    case 0:
        snprintf(path, sizeof(path), "/api/v1/users/%lld/points", u->id);
        break;
    case 1:
        snprintf(path, sizeof(path), "/api/v1/users/%lld/orders?limit=5", u->id);
        break;
    default:
        snprintf(path, sizeof(path), "/api/v1/products/%lld",
                 rng_range(&w->rng, cfg.prod_first, cfg.prod_last));
        break;
    }
    struct resp r = {0};
    http_do(w, "read", pick_inst(w), false, path, u->token, NULL, NULL, &r);
    resp_clear(&r);
    w->nreads++;
}

static void start_random(struct worker *w)
{
    struct user *u = w->users[rng_range(&w->rng, 0, (long long)w->nusers - 1)];
    long long roll = rng_range(&w->rng, 0, 99);
    if (roll < 40) {
        start_order(w, u);
    } else if (roll < 50) {
        if (!u->npaid) {
            do_read(w, u);
            return;
        }
        size_t i = (size_t)rng_range(&w->rng, 0, (long long)u->npaid - 1);
        struct paid p = u->paid[i];
        u->paid[i] = u->paid[--u->npaid];
        struct op *op = new_op(w, OP_CANCEL, u);
        op->order_id = p.order_id;
        op->coupon_id = p.coupon_id;
        snprintf(op->path, sizeof(op->path), "/api/v1/orders/%lld/cancel", p.order_id);
        run_op(w, op);
    } else if (roll < 70) {
        start_charge(w, u, rng_range(&w->rng, 1000, 50000));
    } else if (roll < 85) {
        bool sync = roll < 78;
        if (sync ? u->sync_busy : u->async_busy) {
            do_read(w, u); /* one open issue op per user and campaign */
            return;
        }
        struct op *op = new_op(w, sync ? OP_ISSUE : OP_ISSUE_REQ, u);
        op->campaign = sync ? cfg.coupon : cfg.async_coupon;
        snprintf(op->path, sizeof(op->path),
                 sync ? "/api/v1/coupons/%lld/issue" : "/api/v1/coupons/%lld/issue-requests",
                 op->campaign);
        snprintf(op->body, sizeof(op->body), "{\"user_id\":%lld}", u->id);
        if (sync)
            u->sync_busy = true;
        else
            u->async_busy = true;
        run_op(w, op);
    } else {
        do_read(w, u);
    }
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    for (size_t i = 0; i < w->nusers && mono_ms() < w->storm_end; i++)
        start_charge(w, w->users[i], INITIAL_CHARGE);
    for (;;) {
        int64_t now = mono_ms();
        if (now >= w->deadline)
            break;
        size_t best = SIZE_MAX;
        for (size_t i = 0; i < w->npending; i++)
            if (best == SIZE_MAX || w->pending[i]->due < w->pending[best]->due)
                best = i;
        if (best != SIZE_MAX && w->pending[best]->due <= now) {
            struct op *op = w->pending[best];
            w->pending[best] = w->pending[--w->npending];
            run_op(w, op); /* back on the list when still open */
            continue;
        }
        if (now < w->storm_end && w->npending < MAX_OPEN_PER_THREAD) {
            start_random(w);
            continue;
        }
        if (best == SIZE_MAX)
            break; /* grace: nothing left open */
        int64_t until = w->pending[best]->due < w->deadline ? w->pending[best]->due : w->deadline;
        if (now < w->storm_end && until > w->storm_end)
            until = w->storm_end;
        sleep_ms(until - now);
    }
    for (size_t i = 0; i < w->npending; i++)
        finish(w, w->pending[i], OUT_UNKNOWN);
    w->npending = 0;
    flush_buf(&w->attempts, attempts_fp);
    flush_buf(&w->outcomes, outcomes_fp);
    return NULL;
}

/* ---------------------------------------------------------------- setup */

static void usage(void)
{
    fprintf(stderr,
            "usage: chaos-storm --base URL [--base URL ...] --users FILE --products FIRST-LAST\n"
            "                   --coupon ID --async-coupon ID --seconds N --threads N\n"
            "                   --journal DIR --seed N [--grace-seconds N]\n");
}

static bool parse_ll(const char *s, long long min, long long *out)
{
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end || v < min)
        return false;
    *out = v;
    return true;
}

static bool load_users(const char *file)
{
    FILE *fp = fopen(file, "r");
    if (!fp) {
        fprintf(stderr, "chaos-storm: %s: %s\n", file, strerror(errno));
        return false;
    }
    char line[4096];
    size_t cap = 0;
    while (fgets(line, sizeof(line), fp)) {
        char *save = NULL;
        char *id = strtok_r(line, " \t\r\n", &save);
        if (!id || id[0] == '#')
            continue;
        char *tok = strtok_r(NULL, " \t\r\n", &save);
        long long uid;
        if (!tok || !parse_ll(id, 1, &uid)) {
            fprintf(stderr, "chaos-storm: %s: bad line (want \"user_id token\")\n", file);
            fclose(fp);
            return false;
        }
        if (cfg.nusers == cap) {
            cap = cap ? cap * 2 : 64;
            cfg.users = realloc(cfg.users, cap * sizeof(*cfg.users));
            if (!cfg.users)
                abort();
        }
        memset(&cfg.users[cfg.nusers], 0, sizeof(cfg.users[0]));
        cfg.users[cfg.nusers].id = uid;
        cfg.users[cfg.nusers].token = strdup(tok);
        cfg.nusers++;
    }
    fclose(fp);
    if (!cfg.nusers) {
        fprintf(stderr, "chaos-storm: %s: no users\n", file);
        return false;
    }
    return true;
}

static bool parse_args(int argc, char **argv)
{
    long long v;
    bool have_products = false, have_coupon = false, have_async = false, have_seconds = false,
         have_threads = false, have_seed = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (i + 1 >= argc) {
            fprintf(stderr, "chaos-storm: %s needs a value\n", a);
            return false;
        }
        const char *val = argv[++i];
        if (strcmp(a, "--base") == 0) {
            if (cfg.nbases == MAX_BASES) {
                fprintf(stderr, "chaos-storm: at most %d --base\n", MAX_BASES);
                return false;
            }
            size_t n = strlen(val);
            char *b = strdup(val);
            while (n && b[n - 1] == '/')
                b[--n] = '\0';
            cfg.bases[cfg.nbases++] = b;
        } else if (strcmp(a, "--users") == 0) {
            cfg.users_file = val;
        } else if (strcmp(a, "--products") == 0) {
            const char *dash = strchr(val, '-');
            char first[32];
            if (!dash || (size_t)(dash - val) >= sizeof(first))
                goto bad;
            memcpy(first, val, (size_t)(dash - val));
            first[dash - val] = '\0';
            if (!parse_ll(first, 1, &cfg.prod_first) || !parse_ll(dash + 1, 1, &cfg.prod_last) ||
                cfg.prod_last < cfg.prod_first)
                goto bad;
            have_products = true;
        } else if (strcmp(a, "--coupon") == 0) {
            if (!parse_ll(val, 1, &cfg.coupon))
                goto bad;
            have_coupon = true;
        } else if (strcmp(a, "--async-coupon") == 0) {
            if (!parse_ll(val, 1, &cfg.async_coupon))
                goto bad;
            have_async = true;
        } else if (strcmp(a, "--seconds") == 0) {
            if (!parse_ll(val, 1, &v) || v > INT_MAX / 1000)
                goto bad;
            cfg.seconds = (int)v;
            have_seconds = true;
        } else if (strcmp(a, "--threads") == 0) {
            if (!parse_ll(val, 1, &v) || v > 1024)
                goto bad;
            cfg.threads = (int)v;
            have_threads = true;
        } else if (strcmp(a, "--journal") == 0) {
            cfg.journal_dir = val;
        } else if (strcmp(a, "--seed") == 0) {
            if (!parse_ll(val, 0, &v))
                goto bad;
            cfg.seed = (unsigned long long)v;
            have_seed = true;
        } else if (strcmp(a, "--grace-seconds") == 0) {
            if (!parse_ll(val, 0, &v) || v > INT_MAX / 1000)
                goto bad;
            cfg.grace = (int)v;
        } else {
            fprintf(stderr, "chaos-storm: unknown option %s\n", a);
            return false;
        }
        continue;
    bad:
        fprintf(stderr, "chaos-storm: bad value for %s: %s\n", a, val);
        return false;
    }
    if (!cfg.nbases || !cfg.users_file || !have_products || !have_coupon || !have_async ||
        !have_seconds || !have_threads || !cfg.journal_dir || !have_seed) {
        fprintf(stderr, "chaos-storm: missing option\n");
        return false;
    }
    return true;
}

static FILE *open_journal(const char *name)
{
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", cfg.journal_dir, name);
    FILE *fp = fopen(path, "w");
    if (!fp)
        fprintf(stderr, "chaos-storm: %s: %s\n", path, strerror(errno));
    return fp;
}

int main(int argc, char **argv)
{
    if (!parse_args(argc, argv)) {
        usage();
        return 1;
    }
    if (!load_users(cfg.users_file))
        return 1;
    if (mkdir(cfg.journal_dir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "chaos-storm: %s: %s\n", cfg.journal_dir, strerror(errno));
        return 1;
    }
    attempts_fp = open_journal("attempts.jsonl");
    outcomes_fp = open_journal("outcomes.jsonl");
    if (!attempts_fp || !outcomes_fp)
        return 1;
    if (curl_global_init(CURL_GLOBAL_ALL) != CURLE_OK) {
        fprintf(stderr, "chaos-storm: curl_global_init failed\n");
        return 1;
    }

    int nthreads = cfg.threads;
    if ((size_t)nthreads > cfg.nusers)
        nthreads = (int)cfg.nusers;
    struct worker *ws = calloc((size_t)nthreads, sizeof(*ws));
    if (!ws)
        return 1;
    int64_t start = mono_ms();
    int64_t storm_end = start + (int64_t)cfg.seconds * 1000;
    int64_t deadline = storm_end + (int64_t)cfg.grace * 1000;
    for (int t = 0; t < nthreads; t++) {
        struct worker *w = &ws[t];
        w->index = t;
        w->rng = cfg.seed * 0x100000001b3ULL + (uint64_t)t * 0x9e3779b97f4a7c15ULL + 1;
        w->storm_end = storm_end;
        w->deadline = deadline;
        w->next_inst = t % cfg.nbases;
        w->curl = curl_easy_init();
        w->users = calloc(cfg.nusers, sizeof(*w->users));
        if (!w->curl || !w->users) {
            fprintf(stderr, "chaos-storm: setup failed\n");
            return 1;
        }
        for (size_t i = (size_t)t; i < cfg.nusers; i += (size_t)nthreads)
            w->users[w->nusers++] = &cfg.users[i];
    }
    for (int t = 0; t < nthreads; t++)
        if (pthread_create(&ws[t].thread, NULL, worker_main, &ws[t]) != 0) {
            fprintf(stderr, "chaos-storm: pthread_create failed\n");
            return 1;
        }

    long counts[OP_KINDS][OUT_KINDS] = {{0}};
    long nattempts = 0, nreads = 0, unknown = 0;
    for (int t = 0; t < nthreads; t++) {
        pthread_join(ws[t].thread, NULL);
        for (int k = 0; k < OP_KINDS; k++)
            for (int o = 0; o < OUT_KINDS; o++)
                counts[k][o] += ws[t].counts[k][o];
        nattempts += ws[t].nattempts;
        nreads += ws[t].nreads;
        curl_easy_cleanup(ws[t].curl);
        free(ws[t].users);
        free(ws[t].pending);
        free(ws[t].attempts.data);
        free(ws[t].outcomes.data);
    }
    free(ws);
    int rc_a = fclose(attempts_fp), rc_o = fclose(outcomes_fp);
    if (rc_a || rc_o)
        fprintf(stderr, "chaos-storm: writing the journal failed\n");

    fprintf(stderr, "chaos-storm: %ld attempts (%ld reads)\n", nattempts, nreads);
    for (int k = 0; k < OP_KINDS; k++) {
        fprintf(stderr, "  %-14s ok %6ld  refused %6ld  unknown %6ld\n", op_names[k],
                counts[k][OUT_OK], counts[k][OUT_REFUSED], counts[k][OUT_UNKNOWN]);
        unknown += counts[k][OUT_UNKNOWN];
    }

    for (size_t i = 0; i < cfg.nusers; i++) {
        free(cfg.users[i].token);
        free(cfg.users[i].coupons);
        free(cfg.users[i].paid);
    }
    free(cfg.users);
    for (int i = 0; i < cfg.nbases; i++)
        free((void *)cfg.bases[i]);
    curl_global_cleanup();
    if (rc_a || rc_o)
        return 1;
    return unknown ? 3 : 0;
}
