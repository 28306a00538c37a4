/* coupon_async.c — admit (gate), record (Redis), queue (Kafka, acknowledged) or give back. */
#include "coupon/coupon_async.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/timefmt.h"
#include "infra/kafka_produce_wait.h"

char *coupon_async_message(const struct coupon_request *r)
{
    char id[21], at[TIMEFMT_RFC3339_LEN];
    snprintf(id, sizeof(id), "%lld", (long long)r->id);
    if (!timefmt_rfc3339(r->requested_at, at))
        return NULL;
    json_t *v =
        json_pack("{s:s, s:I, s:I, s:s}", "request_id", id, "coupon_id", (json_int_t)r->coupon_id,
                  "user_id", (json_int_t)r->user_id, "requested_at", at);
    char *text = v ? json_dumps(v, JSON_COMPACT) : NULL;
    json_decref(v);
    return text;
}

bool coupon_async_parse_message(const void *value, size_t len, struct coupon_request *out)
{
    memset(out, 0, sizeof(*out));
    json_t *v = json_loadb(value, len, JSON_REJECT_DUPLICATES, NULL);
    const char *id = NULL, *at = NULL;
    json_int_t coupon = 0, user = 0;
    bool ok = v && json_object_size(v) == 4 &&
              json_unpack(v, "{s:s, s:I, s:I, s:s}", "request_id", &id, "coupon_id", &coupon,
                          "user_id", &user, "requested_at", &at) == 0;
    if (ok) {
        char *end = NULL;
        long long n = strtoll(id, &end, 10);
        ok = id[0] >= '1' && id[0] <= '9' && *end == '\0' && n > 0 && coupon > 0 && user > 0 &&
             timefmt_parse_rfc3339(at, &out->requested_at);
        out->id = n;
        out->coupon_id = coupon;
        out->user_id = user;
    }
    json_decref(v);
    return ok;
}

/* Produces r and waits for Kafka's acknowledgement. */
static enum err_code queue(const struct coupon_async *a, const struct coupon_request *r,
                           struct err *e)
{
    char *value = coupon_async_message(r);
    if (!value)
        return err_set(e, ERR_INTERNAL, "cannot encode issue request %lld", (long long)r->id);
    char key[21];
    snprintf(key, sizeof(key), "%lld", (long long)r->coupon_id);
    const struct kafka_header headers[] = {
        {COUPON_ISSUE_REQUEST_NS_HEADER, a->ns, strlen(a->ns)},
    };
    const struct kafka_record rec = {
        .topic = COUPON_ISSUE_REQUESTS_TOPIC,
        .key = key,
        .key_len = strlen(key),
        .value = value,
        .len = strlen(value),
        .headers = headers,
        .n_headers = 1,
    };
    enum err_code rc = kafka_produce_wait(a->producer, &rec, a->wait_ms, e);
    free(value);
    return rc;
}

enum err_code coupon_async_accept(const struct coupon_async *a, int64_t coupon_id, int64_t user_id,
                                  int64_t now, struct coupon_request *out, struct err *e)
{
    if (!a->producer || !a->requests)
        return err_set(e, ERR_UNAVAILABLE,
                       "asynchronous issuance needs Kafka, and SHOPD_KAFKA_BROKERS is not set");
    if (coupon_service_reserve(a->coupons, coupon_id, user_id, now, e))
        return e->code;
    memset(out, 0, sizeof(*out));
    out->coupon_id = coupon_id;
    out->user_id = user_id;
    out->requested_at = now;
    if (coupon_requests_create(a->requests, out, e)) {
        coupon_service_gate_follow(a->coupons, coupon_id, user_id, ERR_UNAVAILABLE);
        return e->code;
    }
    struct err why;
    err_clear(&why);
    if (queue(a, out, &why) == ERR_OK)
        return ERR_OK;
    /*
     * Not queued (or not known to be): the request ends REJECTED, and only the
     * one who makes that change gives the slot back. A record produced after
     * all finds it decided, and the issuer skips it.
     */
    log_warn("coupon issue request %lld not queued: %s", (long long)out->id, why.detail);
    struct coupon_request rejected = *out;
    rejected.status = COUPON_REQUEST_REJECTED;
    rejected.code = ERR_UNAVAILABLE;
    rejected.decided_at = now;
    bool changed = false;
    struct err ignored;
    err_clear(&ignored);
    if (coupon_requests_decide(a->requests, &rejected, &changed, &ignored) == ERR_OK && changed)
        coupon_service_gate_follow(a->coupons, coupon_id, user_id, ERR_UNAVAILABLE);
    return err_set(e, ERR_UNAVAILABLE, "the issue queue cannot take the request now, please retry");
}

enum err_code coupon_async_get(const struct coupon_async *a, int64_t id, int64_t acting_user,
                               struct coupon_request *out, struct err *e)
{
    if (id <= 0)
        return err_set(e, ERR_ISSUE_REQUEST_NOT_FOUND, "issue request %lld does not exist",
                       (long long)id);
    if (!a->requests)
        return err_set(e, ERR_UNAVAILABLE, "the issue request store is not configured");
    if (coupon_requests_get(a->requests, id, out, e) != ERR_OK)
        return e->code;
    if (acting_user && out->user_id != acting_user) /* another user's: as if it did not exist */
        return err_set(e, ERR_ISSUE_REQUEST_NOT_FOUND, "issue request %lld does not exist",
                       (long long)id);
    return ERR_OK;
}
