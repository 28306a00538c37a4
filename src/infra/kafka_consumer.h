/* kafka_consumer.h — a consumer-group runner thread: at-least-once handling with retry and DLQ. */
#ifndef SHOPD_INFRA_KAFKA_CONSUMER_H
#define SHOPD_INFRA_KAFKA_CONSUMER_H

#include <stddef.h>
#include <stdint.h>

#include "core/err.h"
#include "infra/kafka_producer.h"

/*
 * Design. One thread per runner owns one librdkafka consumer in a group
 * (auto.offset.reset=earliest). It hands each message to the handler, one at
 * a time, in partition order. Delivery is at least once:
 * enable.auto.offset.store=false and enable.auto.commit=true, and the runner
 * stores a message's offset (rd_kafka_offsets_store) only after
 *   - the handler returned KAFKA_DONE (its effect happened), or
 *   - its dead-letter record was confirmed delivered (KAFKA_POISON at once,
 *     KAFKA_RETRY after max_attempts). A DLQ write that fails is retried
 *     with backoff until it succeeds or the runner stops; it is never
 *     skipped.
 * librdkafka commits stored offsets every auto.commit.interval.ms, when a
 * partition is revoked and when the consumer closes. A message whose offset
 * was not stored (crash, stop during its retries, revocation) is handed again
 * to whichever consumer owns its partition next, so handlers must be
 * idempotent (orders carry event ids).
 *
 * KAFKA_RETRY waits on the runner thread (exponential backoff from
 * backoff_base_ms, doubling, capped at backoff_max_ms) and hands the same
 * message again: later messages of every partition of this runner wait
 * meanwhile, which keeps partition order simple. Keep max_attempts ×
 * backoff_max_ms well under max.poll.interval.ms (default 300 s), or the
 * group evicts the runner (its messages are then redelivered elsewhere).
 *
 * A DLQ record has the original key, value and headers plus dlq_topic,
 * dlq_partition, dlq_offset (decimal text), dlq_group and dlq_error (the
 * handler's error detail for that very message — e->detail, or errs[i].detail
 * of a batch — or "gave up after N attempts: …"). After it, the partition
 * moves on.
 */

struct kafka_message {
    const char *topic;
    int32_t partition;
    int64_t offset;
    const void *key; /* NULL when the record has no key */
    size_t key_len;
    const void *value;
    size_t len;
    const struct kafka_header *headers;
    size_t n_headers;
    int64_t timestamp_ms; /* -1 if unknown */
    unsigned attempt;     /* 1 on the first hand-over of this message */
};

enum kafka_handled {
    KAFKA_DONE,   /* effect done: store the offset */
    KAFKA_RETRY,  /* transient failure: hand the same message again after a backoff */
    KAFKA_POISON, /* can never succeed: dead-letter it at once, then move on */
    KAFKA_WAIT,   /* the downstream the handler writes to is away (not the message's fault):
                     hand the same message again after a backoff, without limit and never to
                     the DLQ; meanwhile every assigned partition is paused and the runner keeps
                     polling, so it stays in the group and serves rebalances */
};

/*
 * Handles one message; everything m points to is borrowed for the call.
 * Runs on the runner's thread only. e->detail (if set) becomes dlq_error.
 */
typedef enum kafka_handled (*kafka_handler_fn)(void *ctx, const struct kafka_message *m,
                                               struct err *e);

/*
 * Handles a batch: msgs[0..n) as one poll returned them (several partitions,
 * each in partition order); sets out[i] for every message. The runner then
 * goes through them in order: DONE stores the offset, POISON dead-letters it
 * (then stores); at the first RETRY or WAIT it stops, backs off (RETRY:
 * bounded by max_attempts, then that message is dead-lettered; WAIT:
 * unbounded, partitions paused) and hands that message and every later one of
 * the batch again. Handlers must be idempotent.
 *
 * Errors are per message: errs[i] belongs to msgs[i] (the runner clears
 * errs[0..n) before each call). For a message it does not mark DONE the
 * handler sets errs[i]: for POISON its detail becomes that message's
 * dlq_error; for RETRY/WAIT it is logged and ends up in "gave up after N
 * attempts: …". A failure that concerns several messages (out of memory, a
 * failed write for the whole batch) is set on the slot of each message it
 * affects, never left to another message's slot.
 *
 * Ownership: msgs, out and errs are the runner's and borrowed for the call
 * only (keep no pointer into them); out and errs have exactly n entries.
 * Thread-safety: runs on the runner's thread only, one call at a time per
 * runner; ctx is shared with nothing else by the runner.
 */
typedef void (*kafka_batch_handler_fn)(void *ctx, const struct kafka_message *msgs, size_t n,
                                       enum kafka_handled *out, struct err *errs);

struct kafka_consumer_config {
    const char *brokers;
    const char *group_id;
    const char *client_id;               /* NULL = "shopd" */
    const char *const *topics;           /* NULL-terminated; at least one */
    const char *const *extra;            /* NULL-terminated "key=value" properties applied last
                                            (tests: session.timeout.ms=…); NULL = none */
    kafka_handler_fn handle;             /* one message at a time; or: */
    kafka_batch_handler_fn handle_batch; /* batches (exactly one of the two is set) */
    unsigned batch_max;                  /* handle_batch: most messages per batch; 0 = 100 */
    unsigned batch_wait_ms;     /* handle_batch: after the first message, how long to wait for more
                                   (0 = 5) */
    void *ctx;                  /* borrowed until kafka_consumer_stop */
    const char *dlq_topic;      /* where poison messages go */
    struct kafka_producer *dlq; /* borrowed; must outlive the consumer */
    unsigned max_attempts;      /* hand-overs before a RETRY message is dead-lettered; 0 = 5 */
    unsigned backoff_base_ms;   /* first retry delay; 0 = 100 */
    unsigned backoff_max_ms;    /* cap on the delay (also between DLQ write attempts); 0 = 5000 */
};

struct kafka_consumer;

/*
 * Creates the consumer, subscribes and starts the runner thread. Joining the
 * group happens on the thread (no broker is contacted here). Returns NULL
 * with e set (ERR_INVALID_REQUEST for a bad configuration). Thread-safe.
 */
struct kafka_consumer *kafka_consumer_start(const struct kafka_consumer_config *cfg, struct err *e);

/*
 * Stops the runner: interrupts a retry backoff or DLQ wait (that message's
 * offset is not stored), lets a running handler finish, closes the consumer
 * (commits stored offsets, leaves the group; librdkafka bounds this by about
 * session.timeout.ms), joins the thread and frees c. NULL-safe; not
 * thread-safe against other calls on c.
 */
void kafka_consumer_stop(struct kafka_consumer *c);

/* Lag of one assigned partition (as of the last refresh, about once a second). */
struct kafka_lag {
    char topic[128];
    int32_t partition;
    int64_t next_offset;    /* first offset not yet stored (committed or to be); -1 unknown */
    int64_t high_watermark; /* -1 unknown (cached from fetch responses) */
    int64_t lag;            /* high_watermark - next_offset, or -1 unknown */
};

/*
 * Copies up to cap entries, one per currently assigned partition, into out.
 * Returns the number of assigned partitions (may exceed cap). Thread-safe.
 */
size_t kafka_consumer_lag(struct kafka_consumer *c, struct kafka_lag *out, size_t cap);

struct kafka_consumer_stats {
    uint64_t processed; /* handler returned DONE */
    uint64_t retried;   /* handler returned RETRY */
    uint64_t waited;    /* handler returned WAIT */
    uint64_t dlq;       /* messages dead-lettered (DLQ delivery confirmed) */
    uint64_t revoked;   /* partitions given up in rebalances (only those that move: cooperative) */
};

/* Counters since start. Thread-safe (for /metrics). */
void kafka_consumer_stats(struct kafka_consumer *c, struct kafka_consumer_stats *out);

#endif
