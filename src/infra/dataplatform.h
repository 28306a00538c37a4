/* dataplatform.h — the external data platform's HTTP client (libcurl). */
#ifndef SHOPD_INFRA_DATAPLATFORM_H
#define SHOPD_INFRA_DATAPLATFORM_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

struct dataplatform;

/*
 * A client POSTing JSON events to url (copied) with timeout_ms per request.
 * Returns NULL on OOM. One client per thread (it owns a curl handle).
 */
struct dataplatform *dataplatform_new(const char *url, unsigned timeout_ms);

/* Frees d (NULL-safe). */
void dataplatform_free(struct dataplatform *d);

/*
 * POSTs body (len bytes of JSON). Returns ERR_OK on a 2xx answer, else
 * ERR_UNAVAILABLE with e->detail saying why (status, or transport error) and
 * *permanent set when retrying cannot help: a 4xx other than 408, 425 and
 * 429 (the platform refuses this event). Not thread-safe per client.
 */
enum err_code dataplatform_send(struct dataplatform *d, const char *body, size_t len,
                                bool *permanent, struct err *e);

#endif
