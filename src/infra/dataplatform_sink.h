/* dataplatform_sink.h — the consumer that feeds the data platform from shop.order.events. */
#ifndef SHOPD_INFRA_DATAPLATFORM_SINK_H
#define SHOPD_INFRA_DATAPLATFORM_SINK_H

#include "core/err.h"
#include "infra/kafka_consumer.h"
#include "infra/kafka_producer.h"

struct dataplatform_sink_config {
    const char *brokers;        /* bootstrap list */
    const char *group_id;       /* e.g. "shopd.dataplatform-sink" */
    const char *topic;          /* shop.order.events */
    const char *dlq_topic;      /* shop.order.events.dlq */
    const char *const *extra;   /* NULL-terminated librdkafka "key=value" properties; NULL = none */
    struct kafka_producer *dlq; /* borrowed; outlives the sink */
    const char *url;            /* the platform's endpoint; "" = log events */
    unsigned timeout_ms;        /* per POST */
    unsigned batch_max;         /* events per POST: 1 (or 0) = one event object per POST; more =
                                   a JSON array of up to batch_max events per POST */
};

struct dataplatform_sink;

/*
 * Starts a consumer in group_id that POSTs every event to the data platform,
 * in partition order (so per order), at least once (the offset is stored
 * after the platform's 2xx; the platform drops duplicates by event_id). The
 * platform down or failing (no answer, 5xx, 408/425/429) is KAFKA_WAIT: the
 * event waits, with backoff, for as long as the outage lasts; a 4xx refusal
 * of the event itself dead-letters it to dlq_topic. With batch_max > 1 the
 * events of one poll go as JSON arrays of up to batch_max events; a 4xx to a
 * batch sends its events one by one, so only the refused one is
 * dead-lettered. Returns NULL with e set.
 */
struct dataplatform_sink *dataplatform_sink_start(const struct dataplatform_sink_config *cfg,
                                                  struct err *e);

/* The consumer behind s, for lag and counters (borrowed). */
struct kafka_consumer *dataplatform_sink_consumer(struct dataplatform_sink *s);

/* Stops the consumer (stored offsets committed) and frees s. NULL-safe. */
void dataplatform_sink_stop(struct dataplatform_sink *s);

#endif
