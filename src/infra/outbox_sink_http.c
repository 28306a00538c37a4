/* outbox_sink_http.c — one POST per event, outcome known before send returns. */
#include "infra/outbox_sink_http.h"

#include <stdbool.h>
#include <stdlib.h>

#include "core/err.h"
#include "core/log.h"
#include "infra/dataplatform.h"

struct outbox_sink_http {
    struct dataplatform *client; /* NULL: log events */
    unsigned timeout_ms;
};

struct outbox_sink_http *outbox_sink_http_new(const char *url, unsigned timeout_ms)
{
    struct outbox_sink_http *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->timeout_ms = timeout_ms ? timeout_ms : 2000;
    if (url && url[0] && !(s->client = dataplatform_new(url, s->timeout_ms))) {
        free(s);
        return NULL;
    }
    return s;
}

void outbox_sink_http_free(struct outbox_sink_http *s)
{
    if (!s)
        return;
    dataplatform_free(s->client);
    free(s);
}

static void http_send(void *self, const struct outbox_event *ev, size_t index, outbox_done_fn done,
                      void *done_ctx)
{
    struct outbox_sink_http *s = self;
    if (!s->client) {
        log_info("event %.*s", (int)ev->body_len, ev->body);
        done(done_ctx, index, OUTBOX_SENT, NULL);
        return;
    }
    struct err e;
    err_clear(&e);
    bool permanent = false;
    if (dataplatform_send(s->client, ev->body, ev->body_len, &permanent, &e) == ERR_OK)
        done(done_ctx, index, OUTBOX_SENT, NULL);
    else
        done(done_ctx, index, permanent ? OUTBOX_PARK : OUTBOX_RETRY, e.detail);
}

static unsigned http_batch_time_ms(void *self, size_t n)
{
    struct outbox_sink_http *s = self;
    /* connect + request, each bounded by the timeout */
    return (unsigned)(n * 2 * (size_t)s->timeout_ms);
}

static const struct outbox_sink_ops http_ops = {
    .send = http_send,
    .batch_time_ms = http_batch_time_ms,
    .sequential = 1,
};

struct outbox_sink outbox_sink_http(struct outbox_sink_http *s)
{
    return (struct outbox_sink){.ops = &http_ops, .self = s};
}
