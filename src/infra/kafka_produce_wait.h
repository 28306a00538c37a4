/* kafka_produce_wait.h — produce one record and wait for its delivery report (bounded). */
#ifndef SHOPD_INFRA_KAFKA_PRODUCE_WAIT_H
#define SHOPD_INFRA_KAFKA_PRODUCE_WAIT_H

#include <stdbool.h>

#include "core/err.h"
#include "infra/kafka_producer.h"

/*
 * Produces r through p and blocks the caller until its delivery report
 * arrived or timeout_ms passed. ERR_OK only when the record was delivered
 * (acknowledged by the partition's in-sync replicas: acks=all). Otherwise
 * ERR_UNAVAILABLE (not accepted locally, delivery failed transiently, or no
 * report within timeout_ms: the record may still be delivered later) or
 * ERR_INVALID_REQUEST (can never be delivered), with e->detail saying why.
 * Choose timeout_ms ≥ the producer's message timeout so a report always
 * comes in time. Thread-safe; never call it from a delivery callback.
 */
enum err_code kafka_produce_wait(struct kafka_producer *p, const struct kafka_record *r,
                                 unsigned timeout_ms, struct err *e);

/*
 * Like kafka_produce_wait, and also gives up (ERR_UNAVAILABLE, "gave up
 * waiting") as soon as give_up(ud) returns true; it is asked about every
 * 50 ms (e.g. a consumer that is stopping). give_up may be NULL.
 */
enum err_code kafka_produce_wait_or(struct kafka_producer *p, const struct kafka_record *r,
                                    unsigned timeout_ms, bool (*give_up)(void *ud), void *ud,
                                    struct err *e);

#endif
