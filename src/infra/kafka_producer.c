/* kafka_producer.c — idempotent producer + a poll thread that serves delivery reports. */
#include "infra/kafka_producer.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "infra/kafka_conf.h"

struct kafka_producer {
    rd_kafka_t *rk;
    kafka_delivery_fn on_delivery; /* default; may be NULL */
    void *ctx;
    pthread_t poller;
    atomic_bool stopping;
    atomic_bool fatal;
    atomic_int_fast64_t in_flight; /* accepted by kafka_produce, report not yet returned */
    atomic_uint_fast64_t delivered, failed;
};

/* Carried through librdkafka as the message opaque: who gets the report. */
struct kafka_envelope {
    kafka_delivery_fn fn;
    void *ctx;
    void *opaque;
};

static bool permanent_error(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION:
    case RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR__BAD_MSG:
    case RD_KAFKA_RESP_ERR__FATAL:
        return true;
    default:
        return false;
    }
}

static void on_dr(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct kafka_producer *p = opaque;
    struct kafka_envelope *env = m->_private;
    bool fatal = false;
    if (m->err) {
        char why[256];
        fatal = rd_kafka_fatal_error(rk, why, sizeof(why)) != RD_KAFKA_RESP_ERR_NO_ERROR;
        if (fatal)
            atomic_store(&p->fatal, true);
    }
    /*
     * "Delivered" without an offset: librdkafka acknowledged the record
     * implicitly (a later request of its partition succeeded) or as a
     * duplicate of an earlier write, and cannot say where it is. Both are
     * uncertain: a test broker that appends over a sequence gap (devkafka,
     * docs/reliability.md) makes the first one a lost record. Resending is
     * safe (at least once; consumers drop duplicates by event id), losing is
     * not: report it TRANSIENT, so the caller produces it again.
     */
    bool unplaced = !m->err && m->offset < 0;
    struct kafka_delivery d = {
        .status = KAFKA_DELIVERED,
        .error = "",
        .message = "",
        .topic = m->rkt ? rd_kafka_topic_name(m->rkt) : "",
        .partition = m->partition,
        .offset = m->offset >= 0 ? m->offset : -1,
        .producer_fatal = fatal,
    };
    if (m->err) {
        d.status = fatal || permanent_error(m->err) ? KAFKA_PERMANENT : KAFKA_TRANSIENT;
        d.error = rd_kafka_err2name(m->err);
        d.message = rd_kafka_err2str(m->err);
    } else if (unplaced) {
        d.status = KAFKA_TRANSIENT;
        d.error = KAFKA_ERROR_NO_OFFSET;
        d.message = "acknowledged without an offset (implicitly or as a duplicate): not known to "
                    "be written";
    }
    if (d.status != KAFKA_DELIVERED)
        atomic_fetch_add(&p->failed, 1);
    else
        atomic_fetch_add(&p->delivered, 1);
    if (env) {
        if (env->fn)
            env->fn(env->ctx, env->opaque, &d);
        free(env);
    }
    atomic_fetch_sub(&p->in_flight, 1);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct kafka_producer *p = opaque;
    if (err == RD_KAFKA_RESP_ERR__FATAL) {
        char why[256];
        rd_kafka_resp_err_t orig = rd_kafka_fatal_error(rk, why, sizeof(why));
        atomic_store(&p->fatal, true);
        log_error("kafka producer: fatal error %s: %s", rd_kafka_err2name(orig), why);
        return;
    }
    log_warn("kafka producer: %s: %s", rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

static void *poll_main(void *arg)
{
    struct kafka_producer *p = arg;
    while (!atomic_load(&p->stopping))
        rd_kafka_poll(p->rk, 50);
    return NULL;
}

static int64_t now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

static void nap_ms(long ms)
{
    struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* Waits until no report is outstanding; false on timeout. */
static bool drain(struct kafka_producer *p, unsigned timeout_ms)
{
    int64_t until = now_ms() + timeout_ms;
    while (atomic_load(&p->in_flight) > 0) {
        if (now_ms() >= until)
            return false;
        nap_ms(2);
    }
    return true;
}

struct kafka_producer *kafka_producer_new(const struct kafka_producer_config *cfg, struct err *e)
{
    struct kafka_producer *p = calloc(1, sizeof(*p));
    if (!p) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    p->on_delivery = cfg->on_delivery;
    p->ctx = cfg->ctx;
    atomic_init(&p->stopping, false);
    atomic_init(&p->fatal, false);
    atomic_init(&p->in_flight, 0);
    atomic_init(&p->delivered, 0);
    atomic_init(&p->failed, 0);

    rd_kafka_conf_t *conf = kafka_conf_new(cfg->brokers, cfg->client_id, e);
    if (!conf)
        goto out_free_p;
    char timeout[16];
    snprintf(timeout, sizeof(timeout), "%u",
             cfg->message_timeout_ms ? cfg->message_timeout_ms : 30000);
    if (kafka_conf_set(conf, "enable.idempotence", "true", e) ||
        kafka_conf_set(conf, "linger.ms", "5", e) ||
        kafka_conf_set(conf, "message.timeout.ms", timeout, e) ||
        kafka_conf_apply(conf, cfg->extra, e))
        goto out_free_conf;
    rd_kafka_conf_set_opaque(conf, p);
    rd_kafka_conf_set_dr_msg_cb(conf, on_dr);
    rd_kafka_conf_set_error_cb(conf, on_error);
    rd_kafka_conf_set_log_cb(conf, kafka_conf_log);

    char reason[512];
    p->rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, reason, sizeof(reason));
    if (!p->rk) {
        err_set(e, ERR_INVALID_REQUEST, "cannot create the kafka producer: %s", reason);
        goto out_free_conf;
    }
    /* conf is now owned by p->rk */
    if (pthread_create(&p->poller, NULL, poll_main, p) != 0) {
        err_set(e, ERR_INTERNAL, "cannot start the kafka producer poll thread");
        rd_kafka_destroy(p->rk);
        goto out_free_p;
    }
    return p;

out_free_conf:
    rd_kafka_conf_destroy(conf);
out_free_p:
    free(p);
    return NULL;
}

enum err_code kafka_produce_cb(struct kafka_producer *p, const struct kafka_record *r,
                               kafka_delivery_fn on_delivery, void *ctx, void *msg_opaque,
                               struct err *e)
{
    if (!r->topic || !r->topic[0])
        return err_set(e, ERR_INVALID_REQUEST, "kafka record has no topic");
    struct kafka_envelope *env = malloc(sizeof(*env));
    if (!env)
        return err_set(e, ERR_INTERNAL, "out of memory");
    *env = (struct kafka_envelope){.fn = on_delivery, .ctx = ctx, .opaque = msg_opaque};
    rd_kafka_headers_t *hdrs = NULL;
    if (r->n_headers) {
        hdrs = rd_kafka_headers_new(r->n_headers);
        for (size_t i = 0; i < r->n_headers; i++)
            rd_kafka_header_add(hdrs, r->headers[i].name, -1, r->headers[i].value,
                                (ssize_t)r->headers[i].len);
    }
    atomic_fetch_add(&p->in_flight, 1);
    rd_kafka_resp_err_t err = rd_kafka_producev(
        p->rk, RD_KAFKA_V_TOPIC(r->topic), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_KEY(r->key, r->key_len), RD_KAFKA_V_VALUE((void *)r->value, r->len),
        RD_KAFKA_V_HEADERS(hdrs), RD_KAFKA_V_OPAQUE(env), RD_KAFKA_V_END);
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        return ERR_OK;

    atomic_fetch_sub(&p->in_flight, 1);
    if (hdrs)
        rd_kafka_headers_destroy(hdrs); /* ownership passes to librdkafka on success only */
    free(env);
    switch (err) {
    case RD_KAFKA_RESP_ERR__QUEUE_FULL:
        return err_set(e, ERR_UNAVAILABLE, "kafka producer queue is full");
    case RD_KAFKA_RESP_ERR__FATAL: {
        char why[256];
        rd_kafka_fatal_error(p->rk, why, sizeof(why));
        atomic_store(&p->fatal, true);
        return err_set(e, ERR_UNAVAILABLE, "kafka producer is in a fatal state: %s", why);
    }
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
        return err_set(e, ERR_INVALID_REQUEST, "kafka record for \"%s\" refused: %s", r->topic,
                       rd_kafka_err2str(err));
    default:
        return err_set(e, ERR_UNAVAILABLE, "kafka record for \"%s\" not queued: %s", r->topic,
                       rd_kafka_err2str(err));
    }
}

enum err_code kafka_produce(struct kafka_producer *p, const struct kafka_record *r,
                            void *msg_opaque, struct err *e)
{
    return kafka_produce_cb(p, r, p->on_delivery, p->ctx, msg_opaque, e);
}

enum err_code kafka_producer_flush(struct kafka_producer *p, unsigned timeout_ms, struct err *e)
{
    if (!drain(p, timeout_ms))
        return err_set(e, ERR_UNAVAILABLE, "kafka flush timed out with %lld records queued",
                       (long long)atomic_load(&p->in_flight));
    return ERR_OK;
}

void kafka_producer_free(struct kafka_producer *p, unsigned flush_timeout_ms)
{
    if (!p)
        return;
    if (!drain(p, flush_timeout_ms)) {
        log_warn("kafka producer: %lld records not delivered at shutdown, purging",
                 (long long)atomic_load(&p->in_flight));
        rd_kafka_purge(p->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
        if (!drain(p, 5000))
            log_error("kafka producer: %lld delivery reports lost at shutdown",
                      (long long)atomic_load(&p->in_flight));
    }
    atomic_store(&p->stopping, true);
    pthread_join(p->poller, NULL);
    rd_kafka_destroy(p->rk);
    free(p);
}

int64_t kafka_producer_queue_depth(struct kafka_producer *p)
{
    return atomic_load(&p->in_flight);
}

uint64_t kafka_producer_delivery_errors(struct kafka_producer *p)
{
    return atomic_load(&p->failed);
}

uint64_t kafka_producer_delivered(struct kafka_producer *p)
{
    return atomic_load(&p->delivered);
}

bool kafka_producer_fatal(struct kafka_producer *p)
{
    return atomic_load(&p->fatal);
}
