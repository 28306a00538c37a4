/* coupon_async.h — asynchronous issuance: admit a request, queue it in Kafka, read its status. */
#ifndef SHOPD_COUPON_COUPON_ASYNC_H
#define SHOPD_COUPON_COUPON_ASYNC_H

#include "coupon/coupon.h"
#include "coupon/coupon_requests_redis.h"
#include "coupon/coupon_service.h"
#include "infra/kafka_producer.h"

#define COUPON_ISSUE_REQUESTS_TOPIC "shop.coupon.issue.requests"
/* header naming the deployment (SHOPD_REDIS_NAMESPACE) whose request store holds the request */
#define COUPON_ISSUE_REQUEST_NS_HEADER "namespace"

/* What the endpoints need (all borrowed). Plain data; share across threads freely. */
struct coupon_async {
    const struct coupon_service *coupons; /* repository + gate */
    struct coupon_requests *requests;     /* NULL: the endpoints answer 503 */
    struct kafka_producer *producer;      /* NULL (no SHOPD_KAFKA_BROKERS): POST answers 503 */
    const char *ns;                       /* SHOPD_REDIS_NAMESPACE, sent as a header */
    unsigned wait_ms;                     /* longest wait for the delivery report */
};

/*
 * Admits user_id's request for coupon_id: the gate answers sold out /
 * already issued / unknown / expired at once (coupon_service_reserve); a
 * reserved request is recorded PENDING in Redis and produced to
 * COUPON_ISSUE_REQUESTS_TOPIC (key = coupon id), and ERR_OK is returned only
 * once Kafka acknowledged it (out filled). When it cannot be queued the
 * record is marked REJECTED (code SERVICE_UNAVAILABLE), the gate slot is
 * given back and ERR_UNAVAILABLE returned. now: epoch seconds.
 */
enum err_code coupon_async_accept(const struct coupon_async *a, int64_t coupon_id, int64_t user_id,
                                  int64_t now, struct coupon_request *out, struct err *e);

/*
 * Reads request id; with acting_user > 0 only that user's (another user's
 * answers ERR_ISSUE_REQUEST_NOT_FOUND, as if it did not exist).
 * ERR_ISSUE_REQUEST_NOT_FOUND, ERR_UNAVAILABLE.
 */
enum err_code coupon_async_get(const struct coupon_async *a, int64_t id, int64_t acting_user,
                               struct coupon_request *out, struct err *e);

/*
 * The queued record's value, {"request_id":"…","coupon_id":…,"user_id":…,
 * "requested_at":"…"}: a malloc'd string, or NULL (out of memory).
 */
char *coupon_async_message(const struct coupon_request *r);

/*
 * Parses a queued record's value (exactly the four members). false when it
 * is not one (not JSON, a member missing, mistyped or unknown).
 */
bool coupon_async_parse_message(const void *value, size_t len, struct coupon_request *out);

#endif
