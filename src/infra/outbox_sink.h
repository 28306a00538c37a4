/*
 * outbox_sink.h — where the outbox relay delivers events: a port, so the
 * relay's claiming, ordering, retry and parking do not depend on whether
 * events go to Kafka (outbox_sink_kafka.c) or straight to the data platform
 * over HTTP (outbox_sink_http.c).
 */
#ifndef SHOPD_INFRA_OUTBOX_SINK_H
#define SHOPD_INFRA_OUTBOX_SINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One claimed outbox row, ready to deliver. Strings are borrowed for the send call only. */
struct outbox_event {
    int64_t id;           /* outbox_events.id */
    const char *event_id; /* uuid, stable across redeliveries */
    const char *type;     /* ORDER_PAID, ORDER_CANCELLED */
    int64_t aggregate_id; /* the order id: the Kafka key, the unit of ordering */
    const char *body;     /* the event JSON of docs/api.md */
    size_t body_len;
};

enum outbox_outcome {
    OUTBOX_SENT,  /* the destination has it */
    OUTBOX_RETRY, /* transient: try again after a backoff, for as long as it takes */
    OUTBOX_PARK   /* permanent (e.g. too large, refused as malformed): park until requeued */
};

/*
 * Called exactly once per send with the outcome and a short reason (NULL when
 * sent; borrowed for the call). May run on the sender's thread before send
 * returns, or later on a thread the sink owns.
 */
typedef void (*outbox_done_fn)(void *done_ctx, size_t index, enum outbox_outcome outcome,
                               const char *why);

/* Called through the wrappers below, which state the contracts. */
struct outbox_sink_ops {
    void (*send)(void *self, const struct outbox_event *ev, size_t index, outbox_done_fn done,
                 void *done_ctx);
    unsigned (*batch_time_ms)(void *self, size_t n);
    int sequential;
};

struct outbox_sink {
    const struct outbox_sink_ops *ops;
    void *self;
};

/*
 * Starts delivering ev (borrowed for the call only); reports through
 * done(done_ctx, index, ...) exactly once, perhaps before this returns.
 */
static inline void outbox_sink_send(const struct outbox_sink *s, const struct outbox_event *ev,
                                    size_t index, outbox_done_fn done, void *done_ctx)
{
    s->ops->send(s->self, ev, index, done, done_ctx);
}

/* The longest a batch of n sends may take to report every outcome, in ms. */
static inline unsigned outbox_sink_batch_time_ms(const struct outbox_sink *s, size_t n)
{
    return s->ops->batch_time_ms(s->self, n);
}

/* One send at a time (true: the relay checks for a stop between sends). */
static inline bool outbox_sink_sequential(const struct outbox_sink *s)
{
    return s->ops->sequential != 0;
}

#endif
