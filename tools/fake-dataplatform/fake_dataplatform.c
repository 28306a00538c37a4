/*
 * fake-dataplatform — a stand-in for the external data platform, as its own
 * process. Accepts events (POST /events: one event, or a JSON array of
 * events as one batch), stores each event_id once in a JSONL
 * file, lists them (GET /events; GET /stats: the counts alone), and can be
 * told to fail (PUT /control
 * {"fail":true}: 503, an outage) or to refuse events ({"reject":true}: 422,
 * a permanent refusal).
 *
 * Environment: FAKE_DP_LISTEN (default 127.0.0.1:18500; port 0 = any free
 * port), FAKE_DP_FILE (default fake-dataplatform.jsonl). Prints
 * "listening on <port>" on stdout once ready. Stops on SIGINT/SIGTERM.
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>
#include <microhttpd.h>

enum { MAX_BODY = 1 << 20 };

/* All state; the server runs one thread, the lock keeps it honest anyway. */
struct platform {
    pthread_mutex_t lock;
    json_t *events;  /* array of stored events */
    json_t *seen;    /* object: event_id → true */
    long posts;      /* POST /events requests with a well-formed body */
    long received;   /* events accepted (stored or duplicate) */
    long duplicates; /* events whose event_id was already stored */
    long refused;    /* POSTs answered 503 while failing */
    bool failing;
    bool rejecting; /* answer 422 to every event: a permanent refusal */
    FILE *file;
};

struct request {
    char *body;
    size_t len;
    bool too_large;
};

static enum MHD_Result answer(struct MHD_Connection *c, unsigned status, json_t *doc)
{
    char *text = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
    json_decref(doc);
    if (!text) { /* out of memory building the answer */
        status = MHD_HTTP_INTERNAL_SERVER_ERROR;
        text = strdup("{}");
        if (!text)
            return MHD_NO;
    }
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(text), text, MHD_RESPMEM_MUST_FREE);
    MHD_add_response_header(r, "Content-Type", "application/json");
    enum MHD_Result ok = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ok;
}

/* Stores event once (by event_id; the caller holds the lock). Returns true when it was new. */
static bool store(struct platform *p, json_t *event)
{
    const char *id = json_string_value(json_object_get(event, "event_id"));
    p->received++;
    if (json_object_get(p->seen, id)) {
        p->duplicates++;
        return false;
    }
    json_object_set_new(p->seen, id, json_true());
    /* when it arrived (epoch ms), for commit-to-platform latency (bench/events) */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    json_object_set_new(event, "_received_ms",
                        json_integer((json_int_t)now.tv_sec * 1000 + now.tv_nsec / 1000000));
    json_array_append(p->events, event);
    if (p->file) {
        json_dumpf(event, p->file, JSON_COMPACT);
        fputc('\n', p->file);
    }
    return true;
}

/*
 * POST /events: one event object, or a JSON array of them (a batch: every
 * element must have an event_id, else the whole batch is refused with 400;
 * failing or rejecting applies to the whole request).
 */
static enum MHD_Result post_event(struct platform *p, struct MHD_Connection *c,
                                  const struct request *rq)
{
    json_t *doc = rq->body ? json_loadb(rq->body, rq->len, 0, NULL) : NULL;
    bool batch = json_is_array(doc);
    size_t n = batch ? json_array_size(doc) : 1;
    bool valid = doc && n > 0;
    for (size_t i = 0; valid && i < n; i++)
        valid = json_is_string(json_object_get(batch ? json_array_get(doc, i) : doc, "event_id"));
    if (!valid) {
        json_decref(doc);
        return answer(c, 400, json_pack("{s:s}", "error", "every event needs an event_id"));
    }
    pthread_mutex_lock(&p->lock);
    p->posts++;
    unsigned status = 200;
    json_t *reply;
    if (p->failing) {
        p->refused++;
        status = 503;
        reply = json_pack("{s:s}", "error", "failing on purpose");
    } else if (p->rejecting) {
        p->refused++;
        status = 422;
        reply = json_pack("{s:s}", "error", "rejecting on purpose");
    } else {
        size_t stored = 0;
        for (size_t i = 0; i < n; i++)
            stored += store(p, batch ? json_array_get(doc, i) : doc);
        if (p->file)
            fflush(p->file);
        reply = batch    ? json_pack("{s:I, s:I}", "stored", (json_int_t)stored, "duplicates",
                                     (json_int_t)(n - stored))
                : stored ? json_pack("{s:b}", "stored", 1)
                         : json_pack("{s:b}", "duplicate", 1);
    }
    pthread_mutex_unlock(&p->lock);
    json_decref(doc);
    return answer(c, status, reply);
}

static enum MHD_Result get_events(struct platform *p, struct MHD_Connection *c)
{
    pthread_mutex_lock(&p->lock);
    /* a copy, not a reference: the array is written to after the lock is let go */
    json_t *doc = json_pack("{s:o, s:I, s:I, s:I, s:I, s:b}", "events", json_deep_copy(p->events),
                            "posts", (json_int_t)p->posts, "received", (json_int_t)p->received,
                            "duplicates", (json_int_t)p->duplicates, "refused",
                            (json_int_t)p->refused, "failing", p->failing);
    pthread_mutex_unlock(&p->lock);
    return answer(c, 200, doc);
}

/* The counts alone: cheap to poll while a load runs (GET /events copies every event). */
static enum MHD_Result get_stats(struct platform *p, struct MHD_Connection *c)
{
    pthread_mutex_lock(&p->lock);
    json_t *doc = json_pack(
        "{s:I, s:I, s:I, s:I, s:I, s:b}", "events", (json_int_t)json_array_size(p->events), "posts",
        (json_int_t)p->posts, "received", (json_int_t)p->received, "duplicates",
        (json_int_t)p->duplicates, "refused", (json_int_t)p->refused, "failing", p->failing);
    pthread_mutex_unlock(&p->lock);
    return answer(c, 200, doc);
}

static enum MHD_Result put_control(struct platform *p, struct MHD_Connection *c,
                                   const struct request *rq)
{
    json_t *doc = rq->body ? json_loadb(rq->body, rq->len, 0, NULL) : NULL;
    json_t *fail = json_object_get(doc, "fail"), *reject = json_object_get(doc, "reject");
    if (!json_is_boolean(fail) && !json_is_boolean(reject)) {
        json_decref(doc);
        return answer(c, 400,
                      json_pack("{s:s}", "error",
                                "body must be {\"fail\":true|false} or {\"reject\":true|false}"));
    }
    pthread_mutex_lock(&p->lock);
    if (json_is_boolean(fail))
        p->failing = json_is_true(fail);
    if (json_is_boolean(reject))
        p->rejecting = json_is_true(reject);
    json_t *reply = json_pack("{s:b, s:b}", "failing", p->failing, "rejecting", p->rejecting);
    pthread_mutex_unlock(&p->lock);
    json_decref(doc);
    return answer(c, 200, reply);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *data,
                                  size_t *size, void **state)
{
    (void)version;
    struct platform *p = cls;
    struct request *rq = *state;
    if (!rq) {
        *state = calloc(1, sizeof(*rq));
        return *state ? MHD_YES : MHD_NO;
    }
    if (*size) {
        if (rq->len + *size > MAX_BODY) {
            rq->too_large = true;
        } else if (!rq->too_large) {
            char *b = realloc(rq->body, rq->len + *size + 1);
            if (!b)
                return MHD_NO;
            memcpy(b + rq->len, data, *size);
            rq->body = b;
            rq->len += *size;
            b[rq->len] = '\0';
        }
        *size = 0;
        return MHD_YES;
    }
    if (rq->too_large)
        return answer(c, 413, json_pack("{s:s}", "error", "body too large"));
    if (strcmp(url, "/events") == 0 && strcmp(method, "POST") == 0)
        return post_event(p, c, rq);
    if (strcmp(url, "/events") == 0 && strcmp(method, "GET") == 0)
        return get_events(p, c);
    if (strcmp(url, "/stats") == 0 && strcmp(method, "GET") == 0)
        return get_stats(p, c);
    if (strcmp(url, "/control") == 0 && strcmp(method, "PUT") == 0)
        return put_control(p, c, rq);
    return answer(c, 404, json_pack("{s:s}", "error", "no such endpoint"));
}

static void on_completed(void *cls, struct MHD_Connection *c, void **state,
                         enum MHD_RequestTerminationCode code)
{
    (void)cls;
    (void)c;
    (void)code;
    struct request *rq = *state;
    if (rq) {
        free(rq->body);
        free(rq);
    }
    *state = NULL;
}

/* Reloads earlier events so a restart keeps dropping their duplicates. */
static void load_file(struct platform *p, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    char line[1 << 16];
    while (fgets(line, sizeof(line), f)) {
        json_t *event = json_loads(line, 0, NULL);
        const char *id = json_string_value(json_object_get(event, "event_id"));
        if (id && !json_object_get(p->seen, id)) {
            json_object_set_new(p->seen, id, json_true());
            json_array_append(p->events, event);
        }
        json_decref(event);
    }
    fclose(f);
}

int main(void)
{
    const char *listen = getenv("FAKE_DP_LISTEN");
    const char *path = getenv("FAKE_DP_FILE");
    if (!listen || !*listen)
        listen = "127.0.0.1:18500";
    if (!path || !*path)
        path = "fake-dataplatform.jsonl";
    char host[64];
    const char *colon = strrchr(listen, ':');
    struct sockaddr_in addr = {.sin_family = AF_INET};
    if (!colon || (size_t)(colon - listen) >= sizeof(host)) {
        fprintf(stderr, "fake-dataplatform: FAKE_DP_LISTEN must be host:port\n");
        return 2;
    }
    memcpy(host, listen, (size_t)(colon - listen));
    host[colon - listen] = '\0';
    addr.sin_port = htons((uint16_t)atoi(colon + 1));
    if (inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "fake-dataplatform: bad address %s\n", host);
        return 2;
    }

    struct platform p = {.events = json_array(), .seen = json_object()};
    pthread_mutex_init(&p.lock, NULL);
    load_file(&p, path);
    p.file = fopen(path, "a");

    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGINT);
    sigaddset(&stop, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop, NULL);

    struct MHD_Daemon *d =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG, 0,
                         NULL, NULL, on_request, &p, MHD_OPTION_SOCK_ADDR, &addr,
                         MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "fake-dataplatform: cannot listen on %s\n", listen);
        return 1;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
    printf("listening on %u\n", info ? (unsigned)info->port : 0u);
    fflush(stdout);
    int sig;
    sigwait(&stop, &sig);
    MHD_stop_daemon(d);
    if (p.file)
        fclose(p.file);
    json_decref(p.events);
    json_decref(p.seen);
    return 0;
}
