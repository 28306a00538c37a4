/* outbox_sink_http.h — the outbox delivered straight to the data platform (POST per event). */
#ifndef SHOPD_INFRA_OUTBOX_SINK_HTTP_H
#define SHOPD_INFRA_OUTBOX_SINK_HTTP_H

#include "infra/outbox_sink.h"

struct outbox_sink_http;

/*
 * A sink POSTing each event to url with timeout_ms per request; NULL or ""
 * url logs each event instead (development without a platform). 2xx is
 * SENT; a 4xx other than 408/425/429 is PARK (the platform refuses the
 * event itself); anything else, or no answer, is RETRY. Returns NULL on
 * OOM. Used by one relay thread at a time.
 */
struct outbox_sink_http *outbox_sink_http_new(const char *url, unsigned timeout_ms);

/* The port over s (borrowed). */
struct outbox_sink outbox_sink_http(struct outbox_sink_http *s);

/* Frees s (NULL-safe). */
void outbox_sink_http_free(struct outbox_sink_http *s);

#endif
