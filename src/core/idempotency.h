/* idempotency.h — what claiming an Idempotency-Key found: shared by every port that claims keys
 * (orders, charges) and the adapters that fill it. No I/O. */
#ifndef SHOPD_CORE_IDEMPOTENCY_H
#define SHOPD_CORE_IDEMPOTENCY_H

#include <stdbool.h>

#include "core/err.h"

/* A recorded first outcome, in the encoding its endpoint wrote it (opaque to use cases). */
struct recorded_outcome {
    int status;
    char *body; /* malloc'd, owned by whoever holds the outcome */
};

/* A claim of (user, scope, key), filled by whoever ran it. */
struct idempotency_claim {
    const char *fingerprint;        /* in: this request's canonical text (borrowed while it runs) */
    bool locked;                    /* false: another transaction holds the key right now */
    bool found;                     /* an outcome is recorded under the key */
    bool same_request;              /* ... and it was recorded for this fingerprint */
    struct recorded_outcome stored; /* found && same_request: that outcome (body owned here) */
};

/*
 * Reads a claim that has run: ERR_OK with *replay telling whether
 * claim->stored is this request's first outcome; ERR_REQUEST_IN_PROGRESS
 * (another transaction holds the key) or ERR_IDEMPOTENCY_KEY_REUSED
 * (recorded for another request) with e set. Pure; thread-safe.
 */
enum err_code idempotency_claim_result(const struct idempotency_claim *claim, bool *replay,
                                       struct err *e);

/* Frees out->body and zeroes out. NULL-safe body. */
void recorded_outcome_cleanup(struct recorded_outcome *out);

#endif
