/* kafka_producer.h — the process's one idempotent Kafka producer: thread-safe, never-blocking send.
 */
#ifndef SHOPD_INFRA_KAFKA_PRODUCER_H
#define SHOPD_INFRA_KAFKA_PRODUCER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/err.h"

/*
 * Design. One producer per process, shared by every thread (librdkafka's
 * handle is thread-safe and batches across callers). enable.idempotence=true
 * (hence acks=all, max.in.flight ≤ 5, unlimited internal retries): librdkafka
 * retries every retriable broker error itself, without duplicates and
 * without reordering within a partition, until message_timeout_ms runs out.
 * A delivery report that says "failed" therefore means "not delivered within
 * message_timeout_ms" or "can never be delivered"; which one is the class:
 *
 *   class              librdkafka error (rd_kafka_err2name)                  what the caller does
 *   -----------------  ---------------------------------------------------- -----------------------
 *   KAFKA_DELIVERED    NO_ERROR, with the record's offset                    mark sent
 *   KAFKA_PERMANENT    MSG_SIZE_TOO_LARGE, INVALID_MSG (Kafka's               do not resend as is
 *                      CORRUPT_MESSAGE), INVALID_MSG_SIZE, INVALID_RECORD,    (outbox: mark FAILED;
 *                      RECORD_LIST_TOO_LARGE, INVALID_REQUIRED_ACKS,          consumer: DLQ)
 *                      TOPIC_AUTHORIZATION_FAILED,
 *                      CLUSTER_AUTHORIZATION_FAILED,
 *                      TRANSACTIONAL_ID_AUTHORIZATION_FAILED,
 *                      UNSUPPORTED_VERSION, UNSUPPORTED_FOR_MESSAGE_FORMAT,
 *                      TOPIC_EXCEPTION (invalid topic name), _INVALID_ARG,
 *                      _BAD_MSG, _FATAL, and any error while the producer
 *                      is in a fatal state (rd_kafka_fatal_error;
 *                      d->producer_fatal is then true: the record itself
 *                      may be fine, the producer is not)
 *   KAFKA_TRANSIENT    everything else, notably _MSG_TIMED_OUT, _TRANSPORT,   resend later (outbox:
 *                      _ALL_BROKERS_DOWN, NOT_LEADER_FOR_PARTITION,           schedule a retry)
 *                      LEADER_NOT_AVAILABLE, REQUEST_TIMED_OUT,
 *                      NOT_ENOUGH_REPLICAS(_AFTER_APPEND), UNKNOWN_TOPIC_OR_PART
 *                      / _UNKNOWN_TOPIC (a topic not created yet is an
 *                      operations problem, not a bad message),
 *                      _PURGE_QUEUE / _PURGE_INFLIGHT (shutdown), and
 *                      NO_ERROR without an offset (error KAFKA_ERROR_NO_OFFSET:
 *                      acknowledged implicitly, by a later request's success,
 *                      or as a duplicate; not known to be in the log)
 *
 * Resending after a TRANSIENT failure is the caller's job: call
 * kafka_produce again with the same bytes (the outbox relay leaves the row
 * PENDING with a backoff). A timed-out or purged in-flight message may in
 * fact have been written, so a resend can duplicate it: delivery is at least
 * once and consumers drop duplicates by event id. A producer whose fatal
 * flag is set (d->producer_fatal, kafka_producer_fatal) cannot send again:
 * the process must free it and make a new one (messages stay in the outbox).
 *
 * Delivery reports run on the producer's own poll thread, never on a caller's
 * thread; callbacks are called one at a time, in the order librdkafka reports
 * them (per partition that is production order). A callback must be quick
 * and must not call kafka_producer_flush or kafka_producer_free.
 */

/* One record header; name is a NUL-terminated string, value a byte string (NULL = null value). */
struct kafka_header {
    const char *name;
    const void *value;
    size_t len;
};

/* What kafka_produce sends. Every pointer is borrowed for the call only (the bytes are copied). */
struct kafka_record {
    const char *topic;
    const void *key; /* NULL = no key (spread over partitions) */
    size_t key_len;
    const void *value;
    size_t len;
    const struct kafka_header *headers;
    size_t n_headers;
};

enum kafka_delivery_class { KAFKA_DELIVERED, KAFKA_TRANSIENT, KAFKA_PERMANENT };

/* kafka_delivery.error of a record acknowledged without an offset (KAFKA_TRANSIENT). */
#define KAFKA_ERROR_NO_OFFSET "NO_OFFSET"

/* A delivery report; valid for the duration of the callback only. */
struct kafka_delivery {
    enum kafka_delivery_class status;
    const char *error;   /* librdkafka's error name ("MSG_TIMED_OUT"); "" when delivered */
    const char *message; /* librdkafka's error text; "" when delivered */
    const char *topic;
    int32_t partition; /* -1 if never assigned */
    int64_t offset;    /* where it was written: >= 0 when DELIVERED, else -1 if unknown */
    bool producer_fatal;
};

typedef void (*kafka_delivery_fn)(void *ctx, void *msg_opaque, const struct kafka_delivery *d);

struct kafka_producer_config {
    const char *brokers;           /* bootstrap.servers, "host:port,host:port" */
    const char *client_id;         /* client.id; NULL = "shopd" */
    unsigned message_timeout_ms;   /* message.timeout.ms: a message not delivered by then fails
                                      TRANSIENT; 0 = 30000 */
    const char *const *extra;      /* NULL-terminated "key=value" librdkafka properties applied last
                                      (tests: reconnect.backoff.ms=…); NULL = none */
    kafka_delivery_fn on_delivery; /* default report callback; NULL = count only */
    void *ctx;                     /* borrowed; passed to on_delivery */
};

struct kafka_producer;

/*
 * Creates the producer and starts its poll thread. Sets enable.idempotence,
 * linger.ms=5, message.timeout.ms and client.id, then the extra properties.
 * Connects lazily: an unreachable cluster is not an error here. Returns NULL
 * with e set (ERR_INVALID_REQUEST for a bad property). Thread-safe. The
 * strings of cfg are copied; ctx is borrowed until kafka_producer_free.
 */
struct kafka_producer *kafka_producer_new(const struct kafka_producer_config *cfg, struct err *e);

/*
 * Queues one record (the bytes are copied; nothing of r is kept). Never
 * blocks. Its delivery report goes to cfg->on_delivery with msg_opaque.
 * Returns ERR_OK (exactly one report will follow, on the poll thread),
 * ERR_UNAVAILABLE when the local queue is full (queue.buffering.max.messages
 * / .kbytes) or the producer is in a fatal state, ERR_INVALID_REQUEST when
 * the record can never be sent (too large, no topic); no report follows an
 * error. e->detail says which. Thread-safe.
 */
enum err_code kafka_produce(struct kafka_producer *p, const struct kafka_record *r,
                            void *msg_opaque, struct err *e);

/*
 * Like kafka_produce, but this record's report goes to on_delivery(ctx, …)
 * instead of the producer's default callback (still on the poll thread).
 * Lets several users (outbox relay, consumer DLQ writes) share the one
 * producer. on_delivery must not be NULL. Thread-safe.
 */
enum err_code kafka_produce_cb(struct kafka_producer *p, const struct kafka_record *r,
                               kafka_delivery_fn on_delivery, void *ctx, void *msg_opaque,
                               struct err *e);

/*
 * Waits until every queued record has been reported (callbacks returned) or
 * timeout_ms passed. Returns ERR_OK, or ERR_UNAVAILABLE on timeout (records
 * are still queued). Thread-safe; never call it from a delivery callback.
 */
enum err_code kafka_producer_flush(struct kafka_producer *p, unsigned timeout_ms, struct err *e);

/*
 * Flushes for up to flush_timeout_ms, then purges what is left (those records
 * are reported TRANSIENT, _PURGE_QUEUE/_PURGE_INFLIGHT, on the poll thread),
 * stops the poll thread and frees p. After it returns no callback runs.
 * NULL-safe. Not thread-safe against other calls on p.
 */
void kafka_producer_free(struct kafka_producer *p, unsigned flush_timeout_ms);

/* Records queued or in flight, reports not yet delivered included. Thread-safe (for /metrics). */
int64_t kafka_producer_queue_depth(struct kafka_producer *p);

/* Reports with status TRANSIENT or PERMANENT since creation. Thread-safe (for /metrics). */
uint64_t kafka_producer_delivery_errors(struct kafka_producer *p);

/* Reports with status DELIVERED since creation. Thread-safe (for /metrics). */
uint64_t kafka_producer_delivered(struct kafka_producer *p);

/* True once librdkafka raised a fatal error (idempotence broken): replace the producer.
 * Thread-safe. */
bool kafka_producer_fatal(struct kafka_producer *p);

#endif
