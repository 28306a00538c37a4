/*
 * dataplatform_sink.c — one POST per event, or per batch of events; an outage
 * waits, a refusal is dead-lettered.
 */
#include "infra/dataplatform_sink.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "infra/dataplatform.h"

struct dataplatform_sink {
    struct dataplatform *client; /* NULL: log events; used on the consumer thread only */
    struct kafka_consumer *consumer;
};

static enum kafka_handled deliver(void *ctx, const struct kafka_message *m, struct err *e)
{
    struct dataplatform_sink *s = ctx;
    if (!s->client) {
        log_info("event %.*s", (int)m->len, (const char *)m->value);
        return KAFKA_DONE;
    }
    bool permanent = false;
    if (dataplatform_send(s->client, m->value, m->len, &permanent, e) == ERR_OK)
        return KAFKA_DONE;
    return permanent ? KAFKA_POISON : KAFKA_WAIT;
}

/*
 * A poll's events as one JSON array "[v0,v1,…]" (each value is an event
 * object as the relay produced it): 2xx delivers them all, an outage waits
 * for all of them, and a 4xx — something in the batch refused — sends them
 * one by one, so the refused event alone goes to the DLQ.
 */
static void deliver_batch(void *ctx, const struct kafka_message *msgs, size_t n,
                          enum kafka_handled *out, struct err *errs)
{
    struct dataplatform_sink *s = ctx;
    size_t len = 2 + n; /* brackets and commas (one spare) */
    for (size_t i = 0; i < n; i++)
        len += msgs[i].len;
    char *body = s->client ? malloc(len) : NULL;
    if (!body) { /* logging only, or out of memory: one at a time */
        for (size_t i = 0; i < n; i++)
            out[i] = deliver(s, &msgs[i], &errs[i]);
        return;
    }
    size_t at = 0;
    body[at++] = '[';
    for (size_t i = 0; i < n; i++) {
        if (i)
            body[at++] = ',';
        memcpy(body + at, msgs[i].value, msgs[i].len);
        at += msgs[i].len;
    }
    body[at++] = ']';
    bool permanent = false;
    struct err e;
    err_clear(&e);
    enum err_code rc = dataplatform_send(s->client, body, at, &permanent, &e);
    free(body);
    for (size_t i = 0; i < n; i++) {
        if (rc == ERR_OK) {
            out[i] = KAFKA_DONE;
        } else if (!permanent) {
            out[i] = KAFKA_WAIT;
            errs[i] = e;
        } else {
            out[i] = deliver(s, &msgs[i], &errs[i]);
        }
    }
}

struct dataplatform_sink *dataplatform_sink_start(const struct dataplatform_sink_config *cfg,
                                                  struct err *e)
{
    struct dataplatform_sink *s = calloc(1, sizeof(*s));
    if (!s) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    if (cfg->url && cfg->url[0] && !(s->client = dataplatform_new(cfg->url, cfg->timeout_ms))) {
        free(s);
        err_set(e, ERR_INTERNAL, "cannot create the data platform client");
        return NULL;
    }
    const char *topics[] = {cfg->topic, NULL};
    struct kafka_consumer_config kc = {
        .brokers = cfg->brokers,
        .group_id = cfg->group_id,
        .client_id = "shopd-dataplatform-sink",
        .topics = topics,
        .extra = cfg->extra,
        .handle = cfg->batch_max > 1 ? NULL : deliver,
        .handle_batch = cfg->batch_max > 1 ? deliver_batch : NULL,
        .batch_max = cfg->batch_max > 1 ? cfg->batch_max : 0,
        .ctx = s,
        .dlq_topic = cfg->dlq_topic,
        .dlq = cfg->dlq,
        /* an outage is probed at least once a second: with 5 s the sink resumed up to
           4 s after the platform came back (docs/reliability.md) */
        .backoff_base_ms = 200,
        .backoff_max_ms = 1000,
    };
    s->consumer = kafka_consumer_start(&kc, e);
    if (!s->consumer) {
        dataplatform_free(s->client);
        free(s);
        return NULL;
    }
    return s;
}

struct kafka_consumer *dataplatform_sink_consumer(struct dataplatform_sink *s)
{
    return s->consumer;
}

void dataplatform_sink_stop(struct dataplatform_sink *s)
{
    if (!s)
        return;
    kafka_consumer_stop(s->consumer);
    dataplatform_free(s->client);
    free(s);
}
