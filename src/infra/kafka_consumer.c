/* kafka_consumer.c — the runner thread: poll, hand over, retry, dead-letter, store offsets. */
#include "infra/kafka_consumer.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/thread_priority.h"
#include "infra/kafka_conf.h"
#include "infra/kafka_produce_wait.h"
#include "core/timefmt.h"

#define LAG_REFRESH_MS 1000
#define COMMITTED_QUERY_MS 200

struct lag_entry {
    struct kafka_lag pub;
    bool committed_asked; /* a committed-offset lookup was done once */
};

struct kafka_consumer {
    rd_kafka_t *rk;
    kafka_handler_fn handle;
    kafka_batch_handler_fn handle_batch; /* set: runner_main hands batches */
    unsigned batch_max, batch_wait_ms;
    void *ctx;
    char *group_id;
    char *dlq_topic;
    struct kafka_producer *dlq;
    unsigned max_attempts, backoff_base_ms, backoff_max_ms;
    pthread_t thread;

    pthread_mutex_t lock; /* guards stopping (with cond: interruptible waits) */
    pthread_cond_t cond;
    bool stopping;

    pthread_mutex_t lag_lock; /* guards lag, n_lag */
    struct lag_entry *lag;
    size_t n_lag;
    int64_t lag_refreshed_ms; /* runner thread only */

    atomic_uint_fast64_t processed, retried, dead_lettered, waited, revoked;
};

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static bool stopping(struct kafka_consumer *c)
{
    pthread_mutex_lock(&c->lock);
    bool s = c->stopping;
    pthread_mutex_unlock(&c->lock);
    return s;
}

/* Sleeps ms unless stop is asked; returns false when stopping. */
static bool nap(struct kafka_consumer *c, unsigned ms)
{
    struct timespec until = timefmt_deadline_ms(ms);
    pthread_mutex_lock(&c->lock);
    while (!c->stopping)
        if (pthread_cond_timedwait(&c->cond, &c->lock, &until) != 0)
            break;
    bool go_on = !c->stopping;
    pthread_mutex_unlock(&c->lock);
    return go_on;
}

static unsigned backoff_ms(const struct kafka_consumer *c, unsigned attempt)
{
    unsigned long long d = c->backoff_base_ms;
    for (unsigned i = 1; i < attempt && d < c->backoff_max_ms; i++)
        d *= 2;
    return d > c->backoff_max_ms ? c->backoff_max_ms : (unsigned)d;
}

/* ---- lag bookkeeping (runner thread writes, any thread reads) ---- */

static struct lag_entry *lag_find(struct kafka_consumer *c, const char *topic, int32_t partition)
{
    for (size_t i = 0; i < c->n_lag; i++)
        if (c->lag[i].pub.partition == partition && !strcmp(c->lag[i].pub.topic, topic))
            return &c->lag[i];
    return NULL;
}

static void lag_add(struct kafka_consumer *c, const rd_kafka_topic_partition_list_t *parts)
{
    pthread_mutex_lock(&c->lag_lock);
    struct lag_entry *grown = realloc(c->lag, (c->n_lag + (size_t)parts->cnt + 1) * sizeof(*grown));
    if (grown) {
        c->lag = grown;
        for (int i = 0; i < parts->cnt; i++) {
            if (lag_find(c, parts->elems[i].topic, parts->elems[i].partition))
                continue;
            struct lag_entry *le = &c->lag[c->n_lag++];
            memset(le, 0, sizeof(*le));
            snprintf(le->pub.topic, sizeof(le->pub.topic), "%s", parts->elems[i].topic);
            le->pub.partition = parts->elems[i].partition;
            le->pub.next_offset = le->pub.high_watermark = le->pub.lag = -1;
        }
    }
    pthread_mutex_unlock(&c->lag_lock);
}

static void lag_remove(struct kafka_consumer *c, const rd_kafka_topic_partition_list_t *parts)
{
    pthread_mutex_lock(&c->lag_lock);
    for (int i = 0; parts && i < parts->cnt; i++) {
        struct lag_entry *le = lag_find(c, parts->elems[i].topic, parts->elems[i].partition);
        if (le)
            *le = c->lag[--c->n_lag];
    }
    if (!parts)
        c->n_lag = 0;
    pthread_mutex_unlock(&c->lag_lock);
}

static void lag_set_next(struct kafka_consumer *c, const char *topic, int32_t partition,
                         int64_t next, bool only_if_unknown)
{
    pthread_mutex_lock(&c->lag_lock);
    struct lag_entry *le = lag_find(c, topic, partition);
    if (le && (!only_if_unknown || le->pub.next_offset < 0)) {
        le->pub.next_offset = next;
        if (le->pub.high_watermark >= 0)
            le->pub.lag = le->pub.high_watermark > next ? le->pub.high_watermark - next : 0;
    }
    pthread_mutex_unlock(&c->lag_lock);
}

/* Updates watermarks from librdkafka's cache; asks the group once per partition for unknowns. */
static void lag_refresh(struct kafka_consumer *c)
{
    int64_t now = now_ms();
    if (now - c->lag_refreshed_ms < LAG_REFRESH_MS)
        return;
    c->lag_refreshed_ms = now;
    rd_kafka_topic_partition_list_t *ask = rd_kafka_topic_partition_list_new(4);
    pthread_mutex_lock(&c->lag_lock);
    for (size_t i = 0; i < c->n_lag; i++) {
        struct kafka_lag *l = &c->lag[i].pub;
        int64_t lo, hi;
        if (rd_kafka_get_watermark_offsets(c->rk, l->topic, l->partition, &lo, &hi) ==
                RD_KAFKA_RESP_ERR_NO_ERROR &&
            hi >= 0)
            l->high_watermark = hi;
        if (l->next_offset >= 0 && l->high_watermark >= 0)
            l->lag = l->high_watermark > l->next_offset ? l->high_watermark - l->next_offset : 0;
        if (l->next_offset < 0 && !c->lag[i].committed_asked) {
            c->lag[i].committed_asked = true;
            rd_kafka_topic_partition_list_add(ask, l->topic, l->partition);
        }
    }
    pthread_mutex_unlock(&c->lag_lock);
    if (ask->cnt && rd_kafka_committed(c->rk, ask, COMMITTED_QUERY_MS) == 0)
        for (int i = 0; i < ask->cnt; i++)
            if (!ask->elems[i].err && ask->elems[i].offset >= 0)
                lag_set_next(c, ask->elems[i].topic, ask->elems[i].partition, ask->elems[i].offset,
                             true);
    rd_kafka_topic_partition_list_destroy(ask);
}

/* ---- group membership ---- */

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct kafka_consumer *c = opaque;
    bool cooperative = !strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE");
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        log_info("kafka consumer %s: %d partitions assigned", c->group_id, parts->cnt);
        lag_add(c, parts);
        if (cooperative) {
            rd_kafka_error_t *error = rd_kafka_incremental_assign(rk, parts);
            if (error) {
                log_error("kafka consumer %s: assign failed: %s", c->group_id,
                          rd_kafka_error_string(error));
                rd_kafka_error_destroy(error);
            }
        } else {
            rd_kafka_assign(rk, parts);
        }
    } else {
        log_info("kafka consumer %s: %d partitions revoked (%s)", c->group_id, parts->cnt,
                 rd_kafka_err2name(err));
        atomic_fetch_add(&c->revoked, (uint_fast64_t)parts->cnt);
        if (cooperative) {
            lag_remove(c, parts);
            rd_kafka_error_t *error = rd_kafka_incremental_unassign(rk, parts);
            if (error)
                rd_kafka_error_destroy(error);
        } else {
            lag_remove(c, NULL);
            rd_kafka_assign(rk, NULL);
        }
    }
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk;
    struct kafka_consumer *c = opaque;
    log_warn("kafka consumer %s: %s: %s", c->group_id, rd_kafka_err2name((rd_kafka_resp_err_t)err),
             reason);
}

/* ---- one message ---- */

static void store_offset(struct kafka_consumer *c, const rd_kafka_message_t *msg)
{
    const char *topic = rd_kafka_topic_name(msg->rkt);
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, topic, msg->partition)->offset = msg->offset + 1;
    rd_kafka_resp_err_t err = rd_kafka_offsets_store(c->rk, l);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        err = l->elems[0].err;
    rd_kafka_topic_partition_list_destroy(l);
    if (err) /* revoked meanwhile: the next owner sees the message again (at least once) */
        log_warn("kafka consumer %s: offset %s[%" PRId32 "]@%" PRId64 " not stored: %s",
                 c->group_id, topic, msg->partition, msg->offset + 1, rd_kafka_err2name(err));
    else
        lag_set_next(c, topic, msg->partition, msg->offset + 1, false);
}

static bool stopping_ud(void *ud)
{
    return stopping(ud);
}

/* Produces rec and waits for its report; true when delivered. Returns false on stop too. */
static bool dlq_send_once(struct kafka_consumer *c, const struct kafka_record *rec, char *why,
                          size_t why_size)
{
    struct err e;
    err_clear(&e);
    /* the producer reports every record within its message timeout: no limit of our own */
    if (kafka_produce_wait_or(c->dlq, rec, UINT32_MAX / 2, stopping_ud, c, &e) == ERR_OK)
        return true;
    snprintf(why, why_size, "%s", e.detail);
    return false;
}

/* Writes the DLQ record until it is delivered; false only when stopping. */
static bool dead_letter(struct kafka_consumer *c, const struct kafka_message *m, const char *reason)
{
    size_t n = m->n_headers + 5;
    struct kafka_header *h = calloc(n, sizeof(*h));
    if (!h)
        return false; /* not stored: redelivered later */
    if (m->n_headers)
        memcpy(h, m->headers, m->n_headers * sizeof(*h));
    char partition[16], offset[24];
    snprintf(partition, sizeof(partition), "%" PRId32, m->partition);
    snprintf(offset, sizeof(offset), "%" PRId64, m->offset);
    struct kafka_header *x = h + m->n_headers;
    x[0] = (struct kafka_header){"dlq_topic", m->topic, strlen(m->topic)};
    x[1] = (struct kafka_header){"dlq_partition", partition, strlen(partition)};
    x[2] = (struct kafka_header){"dlq_offset", offset, strlen(offset)};
    x[3] = (struct kafka_header){"dlq_group", c->group_id, strlen(c->group_id)};
    x[4] = (struct kafka_header){"dlq_error", reason, strlen(reason)};
    struct kafka_record rec = {
        .topic = c->dlq_topic,
        .key = m->key,
        .key_len = m->key_len,
        .value = m->value,
        .len = m->len,
        .headers = h,
        .n_headers = n,
    };
    bool delivered = false;
    for (unsigned attempt = 1; !delivered; attempt++) {
        char why[256];
        delivered = dlq_send_once(c, &rec, why, sizeof(why));
        if (delivered)
            break;
        if (stopping(c))
            break;
        log_warn("kafka consumer %s: dead-letter write of %s[%" PRId32 "]@%" PRId64
                 " failed (attempt %u): %s",
                 c->group_id, m->topic, m->partition, m->offset, attempt, why);
        if (!nap(c, backoff_ms(c, attempt)))
            break;
    }
    free(h);
    return delivered;
}

/* Collects the headers of msg into a malloc'd array (*out; NULL when none). */
static size_t message_headers(const rd_kafka_message_t *msg, struct kafka_header **out)
{
    *out = NULL;
    rd_kafka_headers_t *hdrs;
    if (rd_kafka_message_headers(msg, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR)
        return 0;
    size_t n = rd_kafka_header_cnt(hdrs);
    if (!n || !(*out = calloc(n, sizeof(**out))))
        return 0;
    for (size_t i = 0; i < n; i++) {
        const void *value;
        size_t size;
        rd_kafka_header_get_all(hdrs, i, &(*out)[i].name, &value, &size);
        (*out)[i].value = value;
        (*out)[i].len = size;
    }
    return n;
}

/* Pauses (true) or resumes every partition assigned now; true when msg's partition is one. */
static bool pause_assignment(struct kafka_consumer *c, const rd_kafka_message_t *msg, bool pause)
{
    rd_kafka_topic_partition_list_t *assigned = NULL;
    if (rd_kafka_assignment(c->rk, &assigned) != RD_KAFKA_RESP_ERR_NO_ERROR || !assigned)
        return false;
    if (pause)
        rd_kafka_pause_partitions(c->rk, assigned);
    else
        rd_kafka_resume_partitions(c->rk, assigned);
    bool ours = rd_kafka_topic_partition_list_find(assigned, rd_kafka_topic_name(msg->rkt),
                                                   msg->partition) != NULL;
    rd_kafka_topic_partition_list_destroy(assigned);
    return ours;
}

/* A message fetched while everything should be paused: read it again after the wait. */
static void seek_back(struct kafka_consumer *c, const rd_kafka_message_t *m)
{
    rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(l, rd_kafka_topic_name(m->rkt), m->partition)->offset =
        m->offset;
    rd_kafka_error_t *error = rd_kafka_seek_partitions(c->rk, l, 1000);
    if (error) {
        log_warn("kafka consumer %s: cannot seek back: %s", c->group_id,
                 rd_kafka_error_string(error));
        rd_kafka_error_destroy(error);
    }
    rd_kafka_topic_partition_list_destroy(l);
}

/*
 * KAFKA_WAIT: waits ms with every assigned partition paused while still
 * polling, so the group keeps this member (max.poll.interval.ms) and
 * rebalances are served, but nothing new is fetched; then resumes. Returns
 * false when stopping, or when msg's partition was revoked meanwhile (its
 * next owner handles it: the offset was not stored).
 */
static bool wait_for_downstream(struct kafka_consumer *c, const rd_kafka_message_t *msg,
                                unsigned ms)
{
    int64_t until = now_ms() + ms;
    bool ours = true;
    while (ours && !stopping(c) && now_ms() < until) {
        ours = pause_assignment(c, msg, true); /* again after any rebalance */
        rd_kafka_message_t *other = rd_kafka_consumer_poll(c->rk, 100);
        if (other && !other->err)
            seek_back(c, other);
        if (other)
            rd_kafka_message_destroy(other);
        lag_refresh(c);
    }
    pause_assignment(c, msg, false);
    return ours && !stopping(c);
}

/*
 * msg as a handler sees it, attempt 1 (headers malloc'd: the caller frees m->headers), and
 * the lag of its partition moved to it.
 */
static void message_fill(struct kafka_consumer *c, const rd_kafka_message_t *msg,
                         struct kafka_message *m)
{
    rd_kafka_timestamp_type_t tstype;
    struct kafka_header *headers;
    *m = (struct kafka_message){
        .topic = rd_kafka_topic_name(msg->rkt),
        .partition = msg->partition,
        .offset = msg->offset,
        .key = msg->key,
        .key_len = msg->key_len,
        .value = msg->payload,
        .len = msg->len,
        .timestamp_ms = rd_kafka_message_timestamp(msg, &tstype),
        .attempt = 1,
    };
    m->n_headers = message_headers(msg, &headers);
    m->headers = headers;
    lag_set_next(c, m->topic, m->partition, m->offset, true);
}

static void process(struct kafka_consumer *c, const rd_kafka_message_t *msg)
{
    struct kafka_message m;
    message_fill(c, msg, &m);

    char reason[300];
    unsigned retries = 0, waits = 0;
    for (m.attempt = 1;; m.attempt++) {
        struct err e;
        err_clear(&e);
        enum kafka_handled r = c->handle(c->ctx, &m, &e);
        if (r == KAFKA_DONE) {
            atomic_fetch_add(&c->processed, 1);
            store_offset(c, msg);
            goto out_free_headers;
        }
        if (r == KAFKA_POISON) {
            snprintf(reason, sizeof(reason), "%s", e.detail[0] ? e.detail : "poison message");
            break;
        }
        if (r == KAFKA_WAIT) { /* the downstream is away: not the message's fault, no limit */
            atomic_fetch_add(&c->waited, 1);
            if (waits++ == 0)
                log_warn("kafka consumer %s: waiting for the downstream: %s", c->group_id,
                         e.detail);
            if (!wait_for_downstream(c, msg, backoff_ms(c, waits)))
                goto out_free_headers; /* stopping or revoked: not stored, redelivered */
            continue;
        }
        atomic_fetch_add(&c->retried, 1);
        if (++retries >= c->max_attempts) {
            snprintf(reason, sizeof(reason), "gave up after %u attempts: %s", retries,
                     e.detail[0] ? e.detail : "retry");
            break;
        }
        if (!nap(c, backoff_ms(c, m.attempt)))
            goto out_free_headers; /* stopping: not stored, redelivered later */
    }
    log_warn("kafka consumer %s: dead-lettering %s[%" PRId32 "]@%" PRId64 ": %s", c->group_id,
             m.topic, m.partition, m.offset, reason);
    if (dead_letter(c, &m, reason)) {
        atomic_fetch_add(&c->dead_lettered, 1);
        store_offset(c, msg);
    }
out_free_headers:
    free((void *)m.headers);
}

/*
 * Hands raw[0..n) to the batch handler and acts on each outcome in order
 * (see kafka_batch_handler_fn): from the first RETRY/WAIT on, the rest is
 * handed again after the backoff. Stops early (offsets not stored) when
 * stopping or when a waiting message's partition was revoked.
 */
static void process_batch(struct kafka_consumer *c, rd_kafka_message_t **raw, size_t n)
{
    struct kafka_message *m = NULL;
    enum kafka_handled *out = NULL;
    struct err *errs = NULL; /* errs[i]: the error of m[i] */
    /* out of memory: wait for it rather than skip the batch (a later batch's stored offset
       would commit past it) */
    for (unsigned tries = 0; !m || !out || !errs; tries++) {
        free(m);
        free(out);
        free(errs);
        m = NULL, out = NULL, errs = NULL;
        if (tries && !nap(c, 200))
            return; /* stopping: not stored, redelivered */
        m = calloc(n, sizeof(*m));
        out = calloc(n, sizeof(*out));
        errs = calloc(n, sizeof(*errs));
    }
    for (size_t i = 0; i < n; i++)
        message_fill(c, raw[i], &m[i]);
    size_t head = 0;
    unsigned retries = 0, waits = 0;
    while (head < n && !stopping(c)) {
        for (size_t i = head; i < n; i++) {
            out[i] = KAFKA_RETRY; /* a handler that forgot one retries it */
            err_clear(&errs[i]);
        }
        c->handle_batch(c->ctx, m + head, n - head, out + head, errs + head);
        size_t i = head;
        for (; i < n; i++) {
            if (out[i] == KAFKA_DONE) {
                atomic_fetch_add(&c->processed, 1);
                store_offset(c, raw[i]);
            } else if (out[i] == KAFKA_POISON) {
                char reason[300];
                snprintf(reason, sizeof(reason), "%s",
                         errs[i].detail[0] ? errs[i].detail : "poison message");
                log_warn("kafka consumer %s: dead-lettering %s[%" PRId32 "]@%" PRId64 ": %s",
                         c->group_id, m[i].topic, m[i].partition, m[i].offset, reason);
                if (!dead_letter(c, &m[i], reason))
                    goto out_free; /* stopping */
                atomic_fetch_add(&c->dead_lettered, 1);
                store_offset(c, raw[i]);
            } else {
                break;
            }
        }
        if (i > head) { /* progress: the counters start again for the new head */
            retries = waits = 0;
            head = i;
            if (head == n)
                break;
            for (size_t j = head; j < n; j++)
                m[j].attempt = 1;
        }
        if (out[head] == KAFKA_WAIT) {
            atomic_fetch_add(&c->waited, 1);
            if (waits++ == 0)
                log_warn("kafka consumer %s: waiting for the downstream: %s", c->group_id,
                         errs[head].detail);
            if (!wait_for_downstream(c, raw[head], backoff_ms(c, waits)))
                goto out_free; /* stopping or revoked: not stored, redelivered */
        } else {
            atomic_fetch_add(&c->retried, 1);
            if (++retries >= c->max_attempts) {
                char reason[300];
                snprintf(reason, sizeof(reason), "gave up after %u attempts: %s", retries,
                         errs[head].detail[0] ? errs[head].detail : "retry");
                log_warn("kafka consumer %s: dead-lettering %s[%" PRId32 "]@%" PRId64 ": %s",
                         c->group_id, m[head].topic, m[head].partition, m[head].offset, reason);
                if (!dead_letter(c, &m[head], reason))
                    goto out_free;
                atomic_fetch_add(&c->dead_lettered, 1);
                store_offset(c, raw[head]);
                head++;
                retries = 0;
                continue;
            }
            if (!nap(c, backoff_ms(c, m[head].attempt)))
                goto out_free;
        }
        for (size_t j = head; j < n; j++)
            m[j].attempt++;
    }
out_free:
    for (size_t i = 0; m && i < n; i++)
        free((void *)m[i].headers);
    free(m);
    free(out);
    free(errs);
}

/* Polls one batch: the first message within 100 ms, then more for up to batch_wait_ms. */
static void run_batch_round(struct kafka_consumer *c, rd_kafka_message_t **raw)
{
    size_t n = 0;
    int64_t until = 0;
    while (n < c->batch_max) {
        int timeout = 100;
        if (n) {
            int64_t left = until - now_ms();
            timeout = left > 0 ? (int)left : 0;
        }
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(c->rk, timeout);
        if (!msg)
            break;
        if (msg->err) {
            if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                log_warn("kafka consumer %s: %s", c->group_id, rd_kafka_message_errstr(msg));
            rd_kafka_message_destroy(msg);
            if (!n)
                break;
            continue;
        }
        if (!n)
            until = now_ms() + c->batch_wait_ms;
        raw[n++] = msg;
    }
    lag_refresh(c);
    if (n)
        process_batch(c, raw, n);
    for (size_t i = 0; i < n; i++)
        rd_kafka_message_destroy(raw[i]);
}

static void *runner_main(void *arg)
{
    struct kafka_consumer *c = arg;
    thread_priority_background(); /* event work yields the CPU to requests */
    rd_kafka_message_t **raw = c->handle_batch ? calloc(c->batch_max, sizeof(*raw)) : NULL;
    if (c->handle_batch && !raw) {
        log_error("kafka consumer %s: out of memory, not consuming", c->group_id);
        pthread_mutex_lock(&c->lock);
        c->stopping = true;
        pthread_mutex_unlock(&c->lock);
    }
    while (!stopping(c)) {
        if (raw) {
            run_batch_round(c, raw);
            continue;
        }
        rd_kafka_message_t *msg = rd_kafka_consumer_poll(c->rk, 100);
        lag_refresh(c);
        if (!msg)
            continue;
        if (msg->err) {
            if (msg->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                log_warn("kafka consumer %s: %s", c->group_id, rd_kafka_message_errstr(msg));
        } else {
            process(c, msg);
        }
        rd_kafka_message_destroy(msg);
    }
    free(raw);
    rd_kafka_resp_err_t err = rd_kafka_consumer_close(c->rk); /* commits stored offsets */
    if (err)
        log_warn("kafka consumer %s: close: %s", c->group_id, rd_kafka_err2str(err));
    return NULL;
}

static void consumer_free(struct kafka_consumer *c)
{
    if (c->rk)
        rd_kafka_destroy(c->rk);
    pthread_mutex_destroy(&c->lock);
    pthread_cond_destroy(&c->cond);
    pthread_mutex_destroy(&c->lag_lock);
    free(c->lag);
    free(c->group_id);
    free(c->dlq_topic);
    free(c);
}

struct kafka_consumer *kafka_consumer_start(const struct kafka_consumer_config *cfg, struct err *e)
{
    if (!cfg->group_id || !cfg->group_id[0] || !cfg->topics || !cfg->topics[0] ||
        !cfg->handle == !cfg->handle_batch || !cfg->dlq_topic || !cfg->dlq_topic[0] || !cfg->dlq) {
        err_set(e, ERR_INVALID_REQUEST,
                "kafka consumer needs group_id, topics, one handler, dlq_topic and a producer");
        return NULL;
    }
    struct kafka_consumer *c = calloc(1, sizeof(*c));
    if (!c) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    pthread_condattr_t attr;
    pthread_condattr_init(&attr);
    pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
    pthread_cond_init(&c->cond, &attr);
    pthread_condattr_destroy(&attr);
    pthread_mutex_init(&c->lag_lock, NULL);
    atomic_init(&c->processed, 0);
    atomic_init(&c->waited, 0);
    atomic_init(&c->retried, 0);
    atomic_init(&c->dead_lettered, 0);
    c->handle = cfg->handle;
    c->handle_batch = cfg->handle_batch;
    c->batch_max = cfg->batch_max ? cfg->batch_max : 100;
    c->batch_wait_ms = cfg->batch_wait_ms ? cfg->batch_wait_ms : 5;
    c->ctx = cfg->ctx;
    c->dlq = cfg->dlq;
    c->max_attempts = cfg->max_attempts ? cfg->max_attempts : 5;
    c->backoff_base_ms = cfg->backoff_base_ms ? cfg->backoff_base_ms : 100;
    c->backoff_max_ms = cfg->backoff_max_ms ? cfg->backoff_max_ms : 5000;
    if (c->backoff_max_ms < c->backoff_base_ms)
        c->backoff_max_ms = c->backoff_base_ms;
    c->group_id = strdup(cfg->group_id);
    c->dlq_topic = strdup(cfg->dlq_topic);
    if (!c->group_id || !c->dlq_topic) {
        err_set(e, ERR_INTERNAL, "out of memory");
        goto out_free_c;
    }

    rd_kafka_conf_t *conf = kafka_conf_new(cfg->brokers, cfg->client_id, e);
    if (!conf)
        goto out_free_c;
    if (kafka_conf_set(conf, "group.id", cfg->group_id, e) ||
        kafka_conf_set(conf, "enable.auto.commit", "true", e) ||
        kafka_conf_set(conf, "enable.auto.offset.store", "false", e) ||
        kafka_conf_set(conf, "auto.offset.reset", "earliest", e) ||
        /*
         * A member that dies (kill -9, OOM) keeps its partitions until the
         * group gives up on it: librdkafka's 45 s stalled every event and
         * coupon request of those partitions for 45 s in the fault suite
         * (docs/reliability.md). 6 s is the brokers' default minimum; a
         * SIGSTOP or pause shorter than that keeps the member. Operators may
         * override both through SHOPD_KAFKA_PROPERTIES.
         */
        kafka_conf_set(conf, "session.timeout.ms", "6000", e) ||
        kafka_conf_set(conf, "heartbeat.interval.ms", "1000", e) ||
        /*
         * Incremental rebalancing: a member that joins or dies moves only the
         * partitions that change owner, and the others keep being consumed.
         * With the eager default every member gave up every partition: in the
         * fault suite a restart followed by a SIGSTOP stopped all event
         * delivery for 16 s (docs/reliability.md). on_rebalance handles both.
         */
        kafka_conf_set(conf, "partition.assignment.strategy", "cooperative-sticky", e) ||
        kafka_conf_apply(conf, cfg->extra, e))
        goto out_free_conf;
    rd_kafka_conf_set_opaque(conf, c);
    rd_kafka_conf_set_rebalance_cb(conf, on_rebalance);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, kafka_conf_log);
    char reason[512];
    c->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, reason, sizeof(reason));
    if (!c->rk) {
        err_set(e, ERR_INVALID_REQUEST, "cannot create the kafka consumer: %s", reason);
        goto out_free_conf;
    }
    rd_kafka_poll_set_consumer(c->rk);

    rd_kafka_topic_partition_list_t *subs = rd_kafka_topic_partition_list_new(4);
    for (size_t i = 0; cfg->topics[i]; i++)
        rd_kafka_topic_partition_list_add(subs, cfg->topics[i], RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(c->rk, subs);
    rd_kafka_topic_partition_list_destroy(subs);
    if (err) {
        err_set(e, ERR_INVALID_REQUEST, "kafka subscribe failed: %s", rd_kafka_err2str(err));
        goto out_free_c;
    }
    if (pthread_create(&c->thread, NULL, runner_main, c) != 0) {
        err_set(e, ERR_INTERNAL, "cannot start the kafka consumer thread");
        rd_kafka_consumer_close(c->rk);
        goto out_free_c;
    }
    return c;

out_free_conf:
    rd_kafka_conf_destroy(conf);
out_free_c:
    consumer_free(c);
    return NULL;
}

void kafka_consumer_stop(struct kafka_consumer *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&c->lock);
    c->stopping = true;
    pthread_cond_broadcast(&c->cond);
    pthread_mutex_unlock(&c->lock);
    pthread_join(c->thread, NULL);
    consumer_free(c);
}

size_t kafka_consumer_lag(struct kafka_consumer *c, struct kafka_lag *out, size_t cap)
{
    pthread_mutex_lock(&c->lag_lock);
    size_t n = c->n_lag;
    for (size_t i = 0; i < n && i < cap; i++)
        out[i] = c->lag[i].pub;
    pthread_mutex_unlock(&c->lag_lock);
    return n;
}

void kafka_consumer_stats(struct kafka_consumer *c, struct kafka_consumer_stats *out)
{
    out->processed = atomic_load(&c->processed);
    out->retried = atomic_load(&c->retried);
    out->waited = atomic_load(&c->waited);
    out->dlq = atomic_load(&c->dead_lettered);
    out->revoked = atomic_load(&c->revoked);
}
