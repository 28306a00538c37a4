/* ranking_consumer.h — the consumer that keeps the Redis ranking from shop.order.events. */
#ifndef SHOPD_RANKING_RANKING_CONSUMER_H
#define SHOPD_RANKING_RANKING_CONSUMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "infra/kafka_consumer.h"
#include "infra/kafka_producer.h"
#include "ranking/ranking_service.h"

enum { RANKING_EVENT_MAX_ITEMS = 256 }; /* more lines than any order has: the event is refused */

/* What the ranking needs from one order event. */
struct ranking_sale {
    bool relevant;   /* ORDER_PAID or ORDER_CANCELLED; false: other types, nothing to do */
    int64_t sold_at; /* the order's created_at (epoch seconds): its sales row's UTC day */
    int64_t product_ids[RANKING_EVENT_MAX_ITEMS];
    size_t n;
};

/*
 * Decodes an event {"event_id","type","occurred_at","order":{…,"items":[{"product_id",…}],
 * "created_at"}} (other members ignored) into *out. Returns ERR_OK, or
 * ERR_INVALID_JSON with e set when the value is not such an event (not JSON,
 * no string type, or for ORDER_PAID / ORDER_CANCELLED: no order, no RFC 3339
 * created_at, items not an array of 1..RANKING_EVENT_MAX_ITEMS objects with a
 * positive integer product_id). Thread-safe.
 */
enum err_code ranking_event_decode(const void *value, size_t len, struct ranking_sale *out,
                                   struct err *e);

struct ranking_consumer_config {
    const char *brokers;        /* bootstrap list */
    const char *group_id;       /* e.g. "shopd.ranking" */
    const char *topic;          /* shop.order.events */
    const char *dlq_topic;      /* shop.order.events.dlq */
    const char *const *extra;   /* NULL-terminated librdkafka "key=value" properties; NULL = none */
    struct kafka_producer *dlq; /* borrowed; outlives the consumer */
    const struct ranking_service *ranking; /* borrowed; outlives the consumer */
};

struct ranking_consumer;

/*
 * Starts a consumer in group_id that, for each ORDER_PAID and
 * ORDER_CANCELLED event, copies the (quantity, version) of the order's
 * products on its created_at's UTC day from PostgreSQL into the Redis
 * ranking (ranking_service_copy_sales): values with versions, so a repeated or
 * reordered event never counts twice. Events come in batches (up to 100):
 * each UTC day's products are copied once per batch, not once per event.
 * PostgreSQL or Redis not answering is
 * KAFKA_WAIT (the event waits, without limit, never dead-lettered); a value
 * that is not such an event is dead-lettered to dlq_topic at once; other
 * failures are retried, then dead-lettered. Other event types are skipped.
 * Returns NULL with e set.
 */
struct ranking_consumer *ranking_consumer_start(const struct ranking_consumer_config *cfg,
                                                struct err *e);

/* The consumer behind c, for lag and counters (borrowed). */
struct kafka_consumer *ranking_consumer_kafka(struct ranking_consumer *c);

/* Stops the consumer (stored offsets committed) and frees c. NULL-safe. */
void ranking_consumer_stop(struct ranking_consumer *c);

#endif
