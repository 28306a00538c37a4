/* idempotency.c — reading a claim's findings. */
#include "core/idempotency.h"

#include <stdlib.h>
#include <string.h>

enum err_code idempotency_claim_result(const struct idempotency_claim *claim, bool *replay,
                                       struct err *e)
{
    *replay = false;
    if (!claim->locked)
        return err_set(e, ERR_REQUEST_IN_PROGRESS,
                       "a request with this Idempotency-Key is being processed");
    if (!claim->found)
        return ERR_OK;
    if (!claim->same_request)
        return err_set(e, ERR_IDEMPOTENCY_KEY_REUSED,
                       "this Idempotency-Key was used with a different request");
    *replay = true;
    return ERR_OK;
}

void recorded_outcome_cleanup(struct recorded_outcome *out)
{
    free(out->body);
    memset(out, 0, sizeof(*out));
}
