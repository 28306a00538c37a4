/* coupon_issuer.h — the coupon-issuer consumer: queued issue requests → PostgreSQL, in batches. */
#ifndef SHOPD_COUPON_COUPON_ISSUER_H
#define SHOPD_COUPON_COUPON_ISSUER_H

#include "core/err.h"
#include "coupon/coupon_requests_redis.h"
#include "coupon/coupon_service.h"
#include "infra/kafka_consumer.h"
#include "infra/kafka_producer.h"

struct coupon_issuer_config {
    const char *brokers;                  /* bootstrap list */
    const char *group_id;                 /* e.g. "shopd.coupon-issuer" */
    const char *dlq_topic;                /* shop.coupon.issue.requests.dlq */
    const char *const *extra;             /* NULL-terminated librdkafka "key=value"; NULL = none */
    struct kafka_producer *dlq;           /* borrowed; outlives the issuer */
    const struct coupon_service *coupons; /* borrowed: repository (issue_batch) and gate */
    struct coupon_requests *requests;     /* borrowed: where outcomes are recorded */
    const char *ns;                       /* this deployment's SHOPD_REDIS_NAMESPACE (copied) */
    unsigned batch_max;                   /* requests per PostgreSQL transaction; 0 = 100 */
};

struct coupon_issuer;

/*
 * Starts a consumer of shop.coupon.issue.requests in group_id. Each batch
 * the runner polls (up to batch_max requests, several partitions) is
 * decided in one PostgreSQL statement, in arrival order
 * (repo.issue_batch); after the commit the gate follows every refusal
 * (coupon_service_gate_follow) and each request's outcome is recorded
 * (coupon_requests_decide). Idempotent: a request already decided is
 * skipped, a redelivered one whose batch committed is found ISSUED by its
 * request id. Records of another namespace (header) are skipped; a value
 * that is not an issue request is dead-lettered; PostgreSQL or Redis away
 * is KAFKA_WAIT (never the DLQ: an accepted request must be decided).
 * Returns NULL with e set.
 */
struct coupon_issuer *coupon_issuer_start(const struct coupon_issuer_config *cfg, struct err *e);

/* The consumer behind s, for lag and counters (borrowed). */
struct kafka_consumer *coupon_issuer_consumer(struct coupon_issuer *s);

/* Stops the consumer (stored offsets committed) and frees s. NULL-safe. */
void coupon_issuer_stop(struct coupon_issuer *s);

#endif
