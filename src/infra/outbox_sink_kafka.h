/* outbox_sink_kafka.h — the outbox published to Kafka: one record per event, keyed by order. */
#ifndef SHOPD_INFRA_OUTBOX_SINK_KAFKA_H
#define SHOPD_INFRA_OUTBOX_SINK_KAFKA_H

#include "infra/kafka_producer.h"
#include "infra/outbox_sink.h"

struct outbox_sink_kafka;

/*
 * A sink producing each event to topic (copied) through producer
 * (borrowed; must outlive the sink and every outstanding delivery): key =
 * the order id in decimal, so an order's events share a partition and keep
 * their order; headers event_id and event_type; value = the event JSON.
 * The outcome comes from the delivery report (on the producer's thread):
 * delivered → SENT, transient → RETRY, permanent → PARK. message_timeout_ms
 * is the producer's, so a batch's outcomes are all known within it.
 * Returns NULL on OOM.
 */
struct outbox_sink_kafka *outbox_sink_kafka_new(struct kafka_producer *producer, const char *topic,
                                                unsigned message_timeout_ms);

/* The port over s (borrowed). */
struct outbox_sink outbox_sink_kafka(struct outbox_sink_kafka *s);

/* Frees s (NULL-safe). Deliveries already handed to the producer keep their own state. */
void outbox_sink_kafka_free(struct outbox_sink_kafka *s);

#endif
