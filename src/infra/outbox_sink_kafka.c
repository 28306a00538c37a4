/* outbox_sink_kafka.c — produce, and let the delivery report decide the outcome. */
#include "infra/outbox_sink_kafka.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/err.h"

struct outbox_sink_kafka {
    struct kafka_producer *producer;
    char *topic;
    unsigned message_timeout_ms;
};

/* What a delivery report needs to reach the relay's batch; freed by the report. */
struct pending {
    outbox_done_fn done;
    void *done_ctx;
    size_t index;
};

struct outbox_sink_kafka *outbox_sink_kafka_new(struct kafka_producer *producer, const char *topic,
                                                unsigned message_timeout_ms)
{
    struct outbox_sink_kafka *s = calloc(1, sizeof(*s));
    if (!s || !(s->topic = strdup(topic))) {
        free(s);
        return NULL;
    }
    s->producer = producer;
    s->message_timeout_ms = message_timeout_ms ? message_timeout_ms : 30000;
    return s;
}

void outbox_sink_kafka_free(struct outbox_sink_kafka *s)
{
    if (!s)
        return;
    free(s->topic);
    free(s);
}

/* On the producer's poll thread. */
static void on_delivery(void *ctx, void *msg_opaque, const struct kafka_delivery *d)
{
    (void)ctx;
    struct pending *p = msg_opaque;
    char why[160];
    snprintf(why, sizeof(why), "kafka: %s %s", d->error, d->message);
    enum outbox_outcome outcome = d->status == KAFKA_DELIVERED ? OUTBOX_SENT
                                  : d->status == KAFKA_PERMANENT && !d->producer_fatal
                                      ? OUTBOX_PARK
                                      : OUTBOX_RETRY;
    p->done(p->done_ctx, p->index, outcome, outcome == OUTBOX_SENT ? NULL : why);
    free(p);
}

static void kafka_send(void *self, const struct outbox_event *ev, size_t index, outbox_done_fn done,
                       void *done_ctx)
{
    struct outbox_sink_kafka *s = self;
    struct pending *p = malloc(sizeof(*p));
    if (!p) {
        done(done_ctx, index, OUTBOX_RETRY, "out of memory");
        return;
    }
    *p = (struct pending){done, done_ctx, index};
    char key[24];
    int key_len = snprintf(key, sizeof(key), "%" PRId64, ev->aggregate_id);
    const struct kafka_header headers[] = {
        {"event_id", ev->event_id, strlen(ev->event_id)},
        {"event_type", ev->type, strlen(ev->type)},
    };
    const struct kafka_record rec = {
        .topic = s->topic,
        .key = key,
        .key_len = (size_t)key_len,
        .value = ev->body,
        .len = ev->body_len,
        .headers = headers,
        .n_headers = 2,
    };
    struct err e;
    err_clear(&e);
    enum err_code rc = kafka_produce_cb(s->producer, &rec, on_delivery, s, p, &e);
    if (rc != ERR_OK) { /* no report will come */
        free(p);
        done(done_ctx, index, rc == ERR_INVALID_REQUEST ? OUTBOX_PARK : OUTBOX_RETRY, e.detail);
    }
}

static unsigned kafka_batch_time_ms(void *self, size_t n)
{
    (void)n; /* a batch is produced at once: every report comes within the message timeout */
    struct outbox_sink_kafka *s = self;
    return s->message_timeout_ms + 5000;
}

static const struct outbox_sink_ops kafka_ops = {
    .send = kafka_send,
    .batch_time_ms = kafka_batch_time_ms,
    .sequential = 0,
};

struct outbox_sink outbox_sink_kafka(struct outbox_sink_kafka *s)
{
    return (struct outbox_sink){.ops = &kafka_ops, .self = s};
}
