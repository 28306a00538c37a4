/* ranking_consumer.c — order events → the ranking service's versioned copies into Redis. */
#include "ranking/ranking_consumer.h"

#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/timefmt.h"

struct ranking_consumer {
    const struct ranking_service *ranking;
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

/* One UTC day of a batch: the products sold or cancelled that day, to copy once. */
struct batch_day {
    int64_t day;     /* epoch day number */
    int64_t sold_at; /* any instant of that day */
    int64_t *ids;
    size_t n, cap;
    enum kafka_handled outcome;
    struct err err; /* why the copy failed (outcome not DONE) */
};

enum { BATCH_MAX_DAYS = 8 };

/* Adds ids to the day of sold_at in days[] (at most BATCH_MAX_DAYS); its index, or -1. */
static int add_to_day(struct batch_day *days, size_t *n_days, const struct ranking_sale *sale)
{
    int64_t day = sale->sold_at / 86400;
    size_t k = 0;
    while (k < *n_days && days[k].day != day)
        k++;
    if (k == *n_days) {
        if (*n_days == BATCH_MAX_DAYS)
            return -1;
        days[k] = (struct batch_day){.day = day, .sold_at = sale->sold_at};
        err_clear(&days[k].err);
        (*n_days)++;
    }
    struct batch_day *d = &days[k];
    if (d->n + sale->n > d->cap) {
        size_t cap = d->cap ? d->cap * 2 : 256;
        while (cap < d->n + sale->n)
            cap *= 2;
        int64_t *ids = realloc(d->ids, cap * sizeof(*ids));
        if (!ids)
            return -1;
        d->ids = ids;
        d->cap = cap;
    }
    memcpy(d->ids + d->n, sale->product_ids, sale->n * sizeof(*sale->product_ids));
    d->n += sale->n;
    return (int)k;
}

/* What a failed copy means for the runner: an outage waits, anything else is retried. */
static enum kafka_handled copy_outcome(enum err_code rc)
{
    return rc == ERR_OK ? KAFKA_DONE : rc == ERR_UNAVAILABLE ? KAFKA_WAIT : KAFKA_RETRY;
}

/*
 * A batch of events: each UTC day's products are copied once for the whole
 * batch (the copy reads the current versioned totals, so once covers every
 * event of that day in the batch, in any order). A day beyond
 * BATCH_MAX_DAYS is copied per event. Malformed events are poison. Each
 * event's error goes to its own errs[i]: a failed day copy to every event of
 * that day, out of memory to all of them.
 */
static void apply_batch(void *ctx, const struct kafka_message *msgs, size_t n,
                        enum kafka_handled *out, struct err *errs)
{
    struct ranking_consumer *c = ctx;
    struct ranking_sale *sale = malloc(sizeof(*sale));
    int *day_of_msg = malloc(n * sizeof(*day_of_msg));
    struct batch_day days[BATCH_MAX_DAYS];
    size_t n_days = 0;
    if (!sale || !day_of_msg) {
        for (size_t i = 0; i < n; i++) {
            out[i] = KAFKA_RETRY;
            err_set(&errs[i], ERR_INTERNAL, "out of memory");
        }
        goto out_free;
    }
    for (size_t i = 0; i < n; i++) {
        day_of_msg[i] = -1;
        if (ranking_event_decode(msgs[i].value, msgs[i].len, sale, &errs[i]) != ERR_OK) {
            out[i] = KAFKA_POISON;
            continue;
        }
        out[i] = KAFKA_DONE;
        if (!sale->relevant)
            continue;
        day_of_msg[i] = add_to_day(days, &n_days, sale);
        if (day_of_msg[i] < 0) /* a ninth day in one batch: on its own */
            out[i] = copy_outcome(ranking_service_copy_sales(c->ranking, sale->sold_at,
                                                             sale->product_ids, sale->n, &errs[i]));
    }
    for (size_t k = 0; k < n_days; k++)
        days[k].outcome = copy_outcome(ranking_service_copy_sales(
            c->ranking, days[k].sold_at, days[k].ids, days[k].n, &days[k].err));
    for (size_t i = 0; i < n; i++) {
        if (day_of_msg[i] < 0)
            continue;
        out[i] = days[day_of_msg[i]].outcome;
        if (out[i] != KAFKA_DONE)
            errs[i] = days[day_of_msg[i]].err;
    }
out_free:
    for (size_t k = 0; k < n_days; k++)
        free(days[k].ids);
    free(day_of_msg);
    free(sale);
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
        .handle_batch = apply_batch,
        .batch_max = 100,
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
