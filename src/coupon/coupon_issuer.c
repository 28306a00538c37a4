/* coupon_issuer.c — a batch of requests: skip decided ones, one PostgreSQL statement, record. */
#include "coupon/coupon_issuer.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "coupon/coupon_async.h"

struct coupon_issuer {
    const struct coupon_service *coupons;
    struct coupon_requests *requests;
    char ns[64];
    struct kafka_consumer *consumer;
};

/* False when m carries another deployment's namespace (a topic shared by several). */
static bool ours(const struct coupon_issuer *s, const struct kafka_message *m)
{
    for (size_t i = 0; i < m->n_headers; i++) {
        const struct kafka_header *h = &m->headers[i];
        if (strcmp(h->name, COUPON_ISSUE_REQUEST_NS_HEADER) == 0)
            return h->value && h->len == strlen(s->ns) && memcmp(h->value, s->ns, h->len) == 0;
    }
    return true;
}

/* Every message of the batch gets outcome v, for the same reason why (a whole-batch failure). */
static void all(enum kafka_handled *out, struct err *errs, size_t n, enum kafka_handled v,
                const struct err *why)
{
    for (size_t i = 0; i < n; i++) {
        out[i] = v;
        errs[i] = *why;
    }
}

/*
 * Which of msgs still need a decision: fills items (and at[k] = its message)
 * and returns how many; sets out[] (and errs[] of poison) for the others.
 * false with e set when Redis is away (that concerns the whole batch).
 */
static bool select_pending(struct coupon_issuer *s, const struct kafka_message *msgs, size_t n,
                           enum kafka_handled *out, struct err *errs,
                           struct coupon_issue_item *items, struct coupon_request *reqs, size_t *at,
                           size_t *k, struct err *e)
{
    *k = 0;
    for (size_t i = 0; i < n; i++) {
        const struct kafka_message *m = &msgs[i];
        struct coupon_request req, rec;
        out[i] = KAFKA_DONE;
        if (!ours(s, m))
            continue;
        if (!coupon_async_parse_message(m->value, m->len, &req)) {
            out[i] = KAFKA_POISON;
            err_set(&errs[i], ERR_INVALID_REQUEST, "not an issue request");
            continue;
        }
        struct err re;
        err_clear(&re);
        enum err_code rc = coupon_requests_get(s->requests, req.id, &rec, &re);
        if (rc == ERR_OK && rec.status != COUPON_REQUEST_PENDING)
            continue; /* decided already (or rejected when it could not be queued) */
        if (rc == ERR_OK && (rec.coupon_id != req.coupon_id || rec.user_id != req.user_id)) {
            log_warn("coupon issuer: request %lld is another request's id here, skipped",
                     (long long)req.id);
            continue;
        }
        if (rc != ERR_OK && rc != ERR_ISSUE_REQUEST_NOT_FOUND) {
            err_set(e, rc, "%s", re.detail);
            return false;
        }
        /* PENDING, or its record is gone (Redis lost it): decide it all the same */
        reqs[*k] = req;
        items[*k] = (struct coupon_issue_item){
            .request_id = req.id, .coupon_id = req.coupon_id, .user_id = req.user_id};
        at[(*k)++] = i;
    }
    return true;
}

static void handle_batch(void *ctx, const struct kafka_message *msgs, size_t n,
                         enum kafka_handled *out, struct err *errs)
{
    struct coupon_issuer *s = ctx;
    struct coupon_issue_item *items = calloc(n, sizeof(*items));
    struct coupon_request *reqs = calloc(n, sizeof(*reqs));
    size_t *at = calloc(n, sizeof(*at));
    size_t k = 0;
    struct err be; /* a failure of the whole batch */
    err_clear(&be);
    if (!items || !reqs || !at) {
        err_set(&be, ERR_INTERNAL, "out of memory");
        all(out, errs, n, KAFKA_WAIT, &be);
        goto out_free;
    }
    if (!select_pending(s, msgs, n, out, errs, items, reqs, at, &k, &be)) {
        all(out, errs, n, KAFKA_WAIT, &be);
        goto out_free;
    }
    if (k && coupon_repo_issue_batch(&s->coupons->repo, items, k, &be) != ERR_OK) {
        for (size_t j = 0; j < k; j++) { /* nothing was written: the whole batch again */
            out[at[j]] = KAFKA_WAIT;
            errs[at[j]] = be;
        }
        goto out_free;
    }
    int64_t now = (int64_t)time(NULL);
    for (size_t j = 0; j < k; j++) {
        /* the gate first: repeated after a failed record below, it can only over-estimate */
        coupon_service_gate_follow(s->coupons, items[j].coupon_id, items[j].user_id,
                                   items[j].outcome);
        struct coupon_request *r = &reqs[j];
        r->status = items[j].outcome == ERR_OK ? COUPON_REQUEST_ISSUED : COUPON_REQUEST_REJECTED;
        r->code = items[j].outcome;
        r->user_coupon_id = items[j].outcome == ERR_OK ? items[j].user_coupon_id : 0;
        r->decided_at = now;
        bool changed;
        struct err re;
        err_clear(&re);
        if (coupon_requests_decide(s->requests, r, &changed, &re) != ERR_OK) {
            errs[at[j]] = re;
            out[at[j]] = KAFKA_WAIT;
        }
    }
out_free:
    free(items);
    free(reqs);
    free(at);
}

struct coupon_issuer *coupon_issuer_start(const struct coupon_issuer_config *cfg, struct err *e)
{
    struct coupon_issuer *s = calloc(1, sizeof(*s));
    if (!s) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    s->coupons = cfg->coupons;
    s->requests = cfg->requests;
    snprintf(s->ns, sizeof(s->ns), "%s", cfg->ns);
    const char *topics[] = {COUPON_ISSUE_REQUESTS_TOPIC, NULL};
    struct kafka_consumer_config kc = {
        .brokers = cfg->brokers,
        .group_id = cfg->group_id,
        .client_id = "shopd-coupon-issuer",
        .topics = topics,
        .extra = cfg->extra,
        .handle_batch = handle_batch,
        .batch_max = cfg->batch_max ? cfg->batch_max : 100,
        .batch_wait_ms = 5,
        .ctx = s,
        .dlq_topic = cfg->dlq_topic,
        .dlq = cfg->dlq,
        .backoff_base_ms = 100,
        .backoff_max_ms = 2000,
    };
    s->consumer = kafka_consumer_start(&kc, e);
    if (!s->consumer) {
        free(s);
        return NULL;
    }
    return s;
}

struct kafka_consumer *coupon_issuer_consumer(struct coupon_issuer *s)
{
    return s->consumer;
}

void coupon_issuer_stop(struct coupon_issuer *s)
{
    if (!s)
        return;
    kafka_consumer_stop(s->consumer);
    free(s);
}
