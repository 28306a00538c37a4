/* ranking_consumer.c — order events → versioned copies into the Redis ranking. */
#include "ranking/ranking_consumer.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/timefmt.h"

struct ranking_consumer {
    struct ranking_redis *ranking;
    struct kafka_consumer *consumer;
};

/* The product ids of items (an array of line objects) into out; false when malformed. */
static bool decode_items(json_t *items, struct ranking_sale *out)
{
    size_t n = json_array_size(items);
    if (!json_is_array(items) || n == 0 || n > RANKING_EVENT_MAX_ITEMS)
        return false;
    for (size_t i = 0; i < n; i++) {
        json_t *id = json_object_get(json_array_get(items, i), "product_id");
        if (!json_is_integer(id) || json_integer_value(id) <= 0)
            return false;
        out->product_ids[i] = (int64_t)json_integer_value(id);
    }
    out->n = n;
    return true;
}

enum err_code ranking_event_decode(const void *value, size_t len, struct ranking_sale *out,
                                   struct err *e)
{
    memset(out, 0, sizeof(*out));
    json_error_t jerr;
    json_t *ev = json_loadb(value, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!ev)
        return err_set(e, ERR_INVALID_JSON, "event is not JSON: %s", jerr.text);
    enum err_code rc = ERR_OK;
    const char *type = json_string_value(json_object_get(ev, "type"));
    json_t *order = json_object_get(ev, "order");
    const char *created = json_string_value(json_object_get(order, "created_at"));
    if (!json_is_object(ev) || !type) {
        rc = err_set(e, ERR_INVALID_JSON, "event has no type");
    } else if (strcmp(type, "ORDER_PAID") != 0 && strcmp(type, "ORDER_CANCELLED") != 0) {
        out->relevant = false; /* not a sale: nothing for the ranking */
    } else if (!json_is_object(order) || !created ||
               !timefmt_parse_rfc3339(created, &out->sold_at)) {
        rc = err_set(e, ERR_INVALID_JSON, "%s event without an order created_at", type);
    } else if (!decode_items(json_object_get(order, "items"), out)) {
        rc = err_set(e, ERR_INVALID_JSON, "%s event without valid order items", type);
    } else {
        out->relevant = true;
    }
    json_decref(ev);
    return rc;
}

static enum kafka_handled apply(void *ctx, const struct kafka_message *m, struct err *e)
{
    struct ranking_consumer *c = ctx;
    struct ranking_sale *sale = malloc(sizeof(*sale));
    if (!sale) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return KAFKA_RETRY;
    }
    enum kafka_handled out = KAFKA_DONE; /* the runner logs waits and dead letters */
    if (ranking_event_decode(m->value, m->len, sale, e) != ERR_OK)
        out = KAFKA_POISON;
    else if (sale->relevant && ranking_redis_copy_sales(c->ranking, sale->sold_at,
                                                        sale->product_ids, sale->n, e) != ERR_OK)
        out = e->code == ERR_UNAVAILABLE ? KAFKA_WAIT : KAFKA_RETRY;
    free(sale);
    return out;
}

struct ranking_consumer *ranking_consumer_start(const struct ranking_consumer_config *cfg,
                                                struct err *e)
{
    struct ranking_consumer *c = calloc(1, sizeof(*c));
    if (!c) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    c->ranking = cfg->ranking;
    const char *topics[] = {cfg->topic, NULL};
    struct kafka_consumer_config kc = {
        .brokers = cfg->brokers,
        .group_id = cfg->group_id,
        .client_id = "shopd-ranking",
        .topics = topics,
        .extra = cfg->extra,
        .handle = apply,
        .ctx = c,
        .dlq_topic = cfg->dlq_topic,
        .dlq = cfg->dlq,
        .backoff_base_ms = 100,
        .backoff_max_ms = 2000,
    };
    c->consumer = kafka_consumer_start(&kc, e);
    if (!c->consumer) {
        free(c);
        return NULL;
    }
    return c;
}

struct kafka_consumer *ranking_consumer_kafka(struct ranking_consumer *c)
{
    return c->consumer;
}

void ranking_consumer_stop(struct ranking_consumer *c)
{
    if (!c)
        return;
    kafka_consumer_stop(c->consumer);
    free(c);
}
