/*
 * http_fuzz.c — black-box HTTP fuzzer for shopd (issue 8). For --seconds it
 * sends valid, hostile, mutated and badly framed requests to
 * 127.0.0.1:--port from --connections threads and checks every answer
 * (fuzz_check.h): framing, allowed statuses, problem+json errors, JSON
 * successes, no silent close of a request it owed an answer. Prints the
 * seed, each finding with the exact request bytes (bash $'...' escaped) and
 * a summary; exits 1 on any finding, 2 on bad usage.
 *
 * Usage: http-fuzz --port P --seconds N --seed S [--admin-token T]
 *                  [--connections C] [--idle-timeout S] [--ids N] [--created-log FILE]
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz_check.h"
#include "fuzz_conn.h"
#include "fuzz_gen.h"

enum {
    MAX_THREADS = 64,
    MAX_PIPELINE = 8,
    ANSWER_TIMEOUT_MS = 20000, /* a well-framed request is answered within this */
    AFTER_CLOSE_MS = 3000,     /* after Connection: close, the server closes within this */
    MORE_ANSWERS_MS = 30,      /* unknown framing: how long to wait for further answers */
    MAX_REPORTED = 40,         /* findings printed in full */
    N_STATUS = 600,
    N_GENS = 32
};

struct options {
    uint16_t port;
    int seconds;
    uint64_t seed;
    const char *admin_token;
    int connections;
    int idle_timeout_s;
    int ids;
    const char *created_log;
};

static struct options opt = {0, 0, 0, "dev-admin-token", 8, 2, 8, NULL};
static int64_t run_deadline_ms;

/* ---- statistics, shared by the threads (under stats_lock) ---- */

static pthread_mutex_t stats_lock = PTHREAD_MUTEX_INITIALIZER;
static uint64_t statuses[N_STATUS];
static uint64_t n_requests, n_answers, n_findings, n_connections, n_interim;
static uint64_t n_closed_during_send, n_half_sent, n_slow, n_connect_failures, n_head_with_body;
static struct {
    const char *name;
    uint64_t sent;
} gens[N_GENS];
static FILE *created_log;

static void count_sent(const char *gen, size_t n)
{
    pthread_mutex_lock(&stats_lock);
    n_requests += n;
    size_t i = 0;
    while (i < N_GENS && gens[i].name && strcmp(gens[i].name, gen) != 0)
        i++;
    if (i < N_GENS) {
        gens[i].name = gen;
        gens[i].sent += n;
    }
    pthread_mutex_unlock(&stats_lock);
}

static void count_answer(int status, const struct fuzz_created *created)
{
    pthread_mutex_lock(&stats_lock);
    n_answers++;
    if (status >= 0 && status < N_STATUS)
        statuses[status]++;
    if (created->product && created_log) {
        fprintf(created_log, "%" PRId64 " %" PRId64 "\n", created->id, created->stock);
        fflush(created_log);
    }
    pthread_mutex_unlock(&stats_lock);
}

static void bump(uint64_t *counter)
{
    pthread_mutex_lock(&stats_lock);
    (*counter)++;
    pthread_mutex_unlock(&stats_lock);
}

/* Reports a finding: the reason, the exact request bytes, what came back. */
static void finding(int thread, const char *gen, const char *why, const struct fuzz_buf *sent,
                    const char *got, size_t got_len)
{
    pthread_mutex_lock(&stats_lock);
    uint64_t k = ++n_findings;
    if (k <= MAX_REPORTED) {
        fprintf(stderr, "FINDING #%" PRIu64 " [thread %d, generator %s, seed %" PRIu64 "]: %s\n", k,
                thread, gen, opt.seed, why);
        fprintf(stderr, "  request (%zu bytes): $'", sent->len);
        fuzz_buf_escape(stderr, sent->p ? sent->p : "", sent->len, 4096);
        fprintf(stderr, "'\n  received (%zu bytes): $'", got_len);
        fuzz_buf_escape(stderr, got ? got : "", got_len, 2048);
        fprintf(stderr, "'\n");
        if (k == MAX_REPORTED)
            fprintf(stderr, "(further findings are counted, not printed)\n");
    }
    pthread_mutex_unlock(&stats_lock);
}

/* ---- one exchange: send requests, read and check their answers ---- */

struct worker {
    int id;
    struct fuzz_rng rng;
    struct fuzz_gen_cfg cfg;
    struct fuzz_req reqs[MAX_PIPELINE];
    struct fuzz_buf wire, in;
};

/* What the connection can do after an exchange. */
enum after { AFTER_REUSABLE, AFTER_CLOSE };

/*
 * After an answer with Connection: close (its last byte at w->in[off]),
 * nothing more may come and the server must close. A refused HEAD request
 * may carry a body (the server refused the head before it knew the
 * method): that is counted, not reported.
 */
static void expect_close(struct worker *w, int fd, const char *gen, size_t start, size_t off,
                         bool head)
{
    int64_t deadline = fuzz_now_ms() + AFTER_CLOSE_MS;
    long n;
    while ((n = fuzz_conn_read(fd, &w->in, deadline)) > 0) {
    }
    if (off < w->in.len && head) {
        struct fuzz_resp r;
        char why[256];
        if (fuzz_resp_parse(w->in.p + start, w->in.len - start, false, &r, why, sizeof(why)) ==
                FUZZ_RESP_DONE &&
            start + r.total == w->in.len) {
            bump(&n_head_with_body);
            off = w->in.len;
        }
    }
    if (off < w->in.len)
        finding(w->id, gen, "bytes after a Connection: close answer", &w->wire, w->in.p, w->in.len);
    if (n == FUZZ_READ_TIMEOUT)
        finding(w->id, gen, "connection still open 3 s after a Connection: close answer", &w->wire,
                w->in.p, w->in.len);
}

/*
 * Sends reqs[0..n) back to back (pipelined when n > 1), split into small
 * writes when split, and checks every answer. All known: n answers are
 * owed (fewer only after Connection: close). Otherwise at least one.
 */
static enum after exchange(struct worker *w, int fd, size_t n, bool split)
{
    bool known = true;
    fuzz_buf_clear(&w->wire);
    fuzz_buf_clear(&w->in);
    for (size_t i = 0; i < n; i++) {
        fuzz_buf_put(&w->wire, w->reqs[i].bytes.p, w->reqs[i].bytes.len);
        known = known && w->reqs[i].known;
        count_sent(w->reqs[i].gen, 1);
    }
    const char *gen = n > 1 ? "pipelined" : w->reqs[0].gen;
    bool sent = fuzz_conn_send(fd, w->wire.p, w->wire.len, split ? &w->rng : NULL, 200);
    size_t owed = known ? n : 1, answered = 0, off = 0;
    int64_t deadline = fuzz_now_ms() + ANSWER_TIMEOUT_MS;
    bool window = false; /* unknown framing, first answer in: a short wait for more */
    for (;;) {
        /* take every complete answer in the buffer */
        for (;;) {
            const struct fuzz_req *req = &w->reqs[answered < n ? answered : n - 1];
            struct fuzz_resp r;
            char why[512];
            if (off >= w->in.len)
                break;
            enum fuzz_resp_result pr = fuzz_resp_parse(
                w->in.p + off, w->in.len - off, req->head && answered < n, &r, why, sizeof(why));
            if (pr == FUZZ_RESP_INCOMPLETE)
                break;
            if (pr == FUZZ_RESP_BAD) {
                finding(w->id, gen, why, &w->wire, w->in.p, w->in.len);
                return AFTER_CLOSE;
            }
            const char *resp = w->in.p + off;
            off += r.total;
            if (r.status < 200) {
                bump(&n_interim);
                if (r.status != 100 || !req->expect_continue)
                    finding(w->id, gen, "unexpected interim (1xx) answer", &w->wire, w->in.p,
                            w->in.len);
                continue;
            }
            struct fuzz_created created;
            if (!fuzz_check_response(req, resp, &r, &created, why, sizeof(why)))
                finding(w->id, gen, why, &w->wire, resp, r.total);
            count_answer(r.status, &created);
            answered++;
            if (answered > n && known)
                finding(w->id, gen, "more answers than requests", &w->wire, w->in.p, w->in.len);
            if (r.conn_close) {
                expect_close(w, fd, gen, off - r.total, off, req->head);
                return AFTER_CLOSE;
            }
            if (known && answered == n) {
                if (off < w->in.len)
                    finding(w->id, gen, "bytes after the last owed answer", &w->wire, w->in.p,
                            w->in.len);
                return sent && off == w->in.len ? AFTER_REUSABLE : AFTER_CLOSE;
            }
            if (!known && !window) {
                window = true;
                deadline = fuzz_now_ms() + MORE_ANSWERS_MS;
            }
        }
        long got = fuzz_conn_read(fd, &w->in, deadline);
        if (got > 0)
            continue;
        if (got == FUZZ_READ_TIMEOUT) {
            if (window && off == w->in.len)
                return AFTER_CLOSE; /* unknown framing, nothing more pending: done */
            if (window) {           /* part of a further answer is in: let it finish */
                window = false;
                deadline = fuzz_now_ms() + ANSWER_TIMEOUT_MS;
                continue;
            }
            char why[160];
            snprintf(why, sizeof(why), "no answer within %d ms (%zu of %zu owed answers came)",
                     ANSWER_TIMEOUT_MS, answered, owed);
            finding(w->id, gen, why, &w->wire, w->in.p, w->in.len);
            return AFTER_CLOSE;
        }
        /* EOF or reset */
        if (off < w->in.len)
            finding(w->id, gen, "connection closed in the middle of an answer", &w->wire, w->in.p,
                    w->in.len);
        else if (answered < owed && !sent)
            bump(&n_closed_during_send); /* it stopped reading us: answers may be lost to RST */
        else if (answered < owed)
            finding(w->id, gen,
                    got == FUZZ_READ_EOF ? "connection closed without an owed answer"
                                         : "connection reset without an owed answer",
                    &w->wire, w->in.p, w->in.len);
        return AFTER_CLOSE;
    }
}

/* Sends a prefix of a request and hangs up; answers that came meanwhile are checked. */
static void half_sent(struct worker *w)
{
    int fd = fuzz_conn_open(opt.port);
    if (fd < 0) {
        bump(&n_connect_failures);
        return;
    }
    struct fuzz_req *req = &w->reqs[0];
    fuzz_req_reset(req);
    fuzz_gen_valid(&w->rng, &w->cfg, req);
    size_t cut = req->bytes.len > 1 ? 1 + (size_t)fuzz_rng_below(&w->rng, req->bytes.len - 1) : 1;
    fuzz_buf_clear(&w->wire);
    fuzz_buf_put(&w->wire, req->bytes.p, cut);
    count_sent("half-sent", 1);
    bump(&n_half_sent);
    (void)fuzz_conn_send(fd, w->wire.p, w->wire.len, fuzz_rng_chance(&w->rng, 50) ? &w->rng : NULL,
                         50);
    if (fuzz_rng_chance(&w->rng, 50))
        fuzz_sleep_ms((int)fuzz_rng_below(&w->rng, 30));
    if (fuzz_rng_chance(&w->rng, 30))
        shutdown(fd, SHUT_WR); /* a half-close: the server must not answer an incomplete request */
    close(fd);
}

/*
 * Slow requests (bounded): a head or body that never completes, or one
 * trickled byte by byte. The server owes a 408 problem within its request
 * timeout (+ its 1 s sweep) and closes.
 */
static void slow_request(struct worker *w)
{
    int fd = fuzz_conn_open(opt.port);
    if (fd < 0) {
        bump(&n_connect_failures);
        return;
    }
    bump(&n_slow);
    static const char *const starts[] = {
        "GET /healthz HTTP/1.1\r\nHost: x\r\n",
        "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"name\":",
        "POST /api/v1/users HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n",
        "GET /api/v1/products/1 HT",
    };
    fuzz_buf_clear(&w->wire);
    fuzz_buf_clear(&w->in);
    fuzz_buf_puts(&w->wire, FUZZ_PICK(&w->rng, starts));
    count_sent("slow", 1);
    int64_t t0 = fuzz_now_ms();
    int64_t limit = t0 + (opt.idle_timeout_s + 3) * 1000;
    bool trickle = fuzz_rng_chance(&w->rng, 50);
    if (trickle) { /* a byte every 250 ms: the whole request still has one timeout */
        for (size_t i = 0; i < w->wire.len && fuzz_now_ms() < limit; i++) {
            if (!fuzz_conn_send(fd, w->wire.p + i, 1, NULL, 0))
                break;
            long got = fuzz_conn_read(fd, &w->in, fuzz_now_ms() + 250);
            if (got != FUZZ_READ_TIMEOUT)
                break;
        }
    } else {
        (void)fuzz_conn_send(fd, w->wire.p, w->wire.len, NULL, 0);
    }
    for (;;) {
        struct fuzz_resp r;
        char why[512];
        enum fuzz_resp_result pr =
            w->in.len ? fuzz_resp_parse(w->in.p, w->in.len, false, &r, why, sizeof(why))
                      : FUZZ_RESP_INCOMPLETE;
        if (pr == FUZZ_RESP_BAD) {
            finding(w->id, "slow", why, &w->wire, w->in.p, w->in.len);
            break;
        }
        if (pr == FUZZ_RESP_DONE) {
            struct fuzz_req req = {.gen = "slow", .known = true};
            struct fuzz_created created;
            if (!fuzz_check_response(&req, w->in.p, &r, &created, why, sizeof(why)))
                finding(w->id, "slow", why, &w->wire, w->in.p, w->in.len);
            else if (r.status != 408 || !r.conn_close)
                finding(w->id, "slow", "a request that never completes did not get 408 + close",
                        &w->wire, w->in.p, w->in.len);
            count_answer(r.status, &created);
            break;
        }
        long got = fuzz_conn_read(fd, &w->in, limit);
        if (got > 0)
            continue;
        finding(w->id, "slow",
                got == FUZZ_READ_TIMEOUT ? "no 408 within the request timeout + 3 s"
                                         : "closed without a 408 while the request was pending",
                &w->wire, w->in.p, w->in.len);
        break;
    }
    close(fd);
}

/* Fills reqs[i] from one of the per-request generators. */
static void generate(struct worker *w, struct fuzz_req *req, unsigned kind)
{
    fuzz_req_reset(req);
    if (kind < 50)
        fuzz_gen_valid(&w->rng, &w->cfg, req);
    else if (kind < 78)
        fuzz_gen_hostile(&w->rng, &w->cfg, req);
    else if (kind < 94)
        fuzz_gen_mutated(&w->rng, &w->cfg, req);
    else
        fuzz_gen_chunked(&w->rng, &w->cfg, req);
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    int fd = -1;
    int64_t fd_used_ms = 0; /* a kept connection idle longer than half the timeout is dropped */
    int slow_left = 3;      /* slow requests per thread per run */
    while (fuzz_now_ms() < run_deadline_ms) {
        unsigned pick = (unsigned)fuzz_rng_below(&w->rng, 1000);
        int64_t left = run_deadline_ms - fuzz_now_ms();
        if (pick < 6 && slow_left > 0 && left > (opt.idle_timeout_s + 4) * 1000) {
            slow_left--;
            slow_request(w);
            continue;
        }
        if (pick < 40) {
            half_sent(w);
            continue;
        }
        size_t n = 1;
        if (pick < 110) { /* a pipeline of well-framed requests */
            n = 2 + (size_t)fuzz_rng_below(&w->rng, MAX_PIPELINE - 1);
            for (size_t i = 0; i < n; i++)
                generate(w, &w->reqs[i], (unsigned)fuzz_rng_below(&w->rng, 78));
        } else {
            generate(w, &w->reqs[0], (unsigned)fuzz_rng_below(&w->rng, 100));
        }
        bool known = true;
        for (size_t i = 0; i < n; i++)
            known = known && w->reqs[i].known;
        bool stale = fuzz_now_ms() - fd_used_ms > opt.idle_timeout_s * 500;
        if (fd >= 0 && (!known || stale || fuzz_rng_chance(&w->rng, 25))) {
            close(fd);
            fd = -1;
        }
        if (fd < 0) {
            fd = fuzz_conn_open(opt.port);
            if (fd < 0) {
                bump(&n_connect_failures);
                fuzz_sleep_ms(10);
                continue;
            }
            bump(&n_connections);
        }
        bool split = fuzz_rng_chance(&w->rng, 15);
        if (exchange(w, fd, n, split) != AFTER_REUSABLE) {
            close(fd);
            fd = -1;
        }
        fd_used_ms = fuzz_now_ms();
    }
    if (fd >= 0)
        close(fd);
    return NULL;
}

/* ---- command line and summary ---- */

static void usage(void)
{
    fprintf(stderr, "usage: http-fuzz --port P --seconds N --seed S [--admin-token T] "
                    "[--connections C] [--idle-timeout S] [--ids N] [--created-log FILE]\n");
    exit(2);
}

static long long number_arg(const char *v, long long lo, long long hi)
{
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 10);
    if (errno || *end || x < lo || x > hi)
        usage();
    return x;
}

static void parse_args(int argc, char **argv)
{
    bool seeded = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!v)
            usage();
        if (strcmp(a, "--port") == 0)
            opt.port = (uint16_t)number_arg(v, 1, 65535);
        else if (strcmp(a, "--seconds") == 0)
            opt.seconds = (int)number_arg(v, 1, 86400);
        else if (strcmp(a, "--seed") == 0) {
            char *end;
            errno = 0;
            opt.seed = strtoull(v, &end, 10);
            if (errno || *end || !*v)
                usage();
            seeded = true;
        } else if (strcmp(a, "--admin-token") == 0)
            opt.admin_token = v;
        else if (strcmp(a, "--connections") == 0)
            opt.connections = (int)number_arg(v, 1, MAX_THREADS);
        else if (strcmp(a, "--idle-timeout") == 0)
            opt.idle_timeout_s = (int)number_arg(v, 1, 60);
        else if (strcmp(a, "--ids") == 0)
            opt.ids = (int)number_arg(v, 1, 1000000);
        else if (strcmp(a, "--created-log") == 0)
            opt.created_log = v;
        else
            usage();
        i++;
    }
    if (!opt.port || !opt.seconds || !seeded)
        usage();
}

static void summary(double elapsed_s)
{
    printf("http-fuzz: seed %" PRIu64 ", %d s, %d connections\n", opt.seed, opt.seconds,
           opt.connections);
    printf("  requests %" PRIu64 " (%.0f/s), answers %" PRIu64 ", connections %" PRIu64
           ", interim 100 %" PRIu64 "\n",
           n_requests, (double)n_requests / elapsed_s, n_answers, n_connections, n_interim);
    printf("  half-sent %" PRIu64 ", slow %" PRIu64 ", server stopped reading mid-send %" PRIu64
           ", connect failures %" PRIu64 "\n",
           n_half_sent, n_slow, n_closed_during_send, n_connect_failures);
    printf("  refused HEAD requests answered with a body: %" PRIu64 "\n", n_head_with_body);
    printf("  statuses:");
    for (int s = 0; s < N_STATUS; s++)
        if (statuses[s])
            printf(" %d=%" PRIu64, s, statuses[s]);
    printf("\n  generators:");
    for (int i = 0; i < N_GENS && gens[i].name; i++)
        printf(" %s=%" PRIu64, gens[i].name, gens[i].sent);
    printf("\n  findings: %" PRIu64 "\n", n_findings);
}

int main(int argc, char **argv)
{
    parse_args(argc, argv);
    setvbuf(stdout, NULL, _IOLBF, 0);
    printf("http-fuzz: seed %" PRIu64 " (replay with --seed %" PRIu64 "), port %u, %d s, %d "
           "connections\n",
           opt.seed, opt.seed, (unsigned)opt.port, opt.seconds, opt.connections);
    if (opt.created_log) {
        created_log = fopen(opt.created_log, "a");
        if (!created_log) {
            perror(opt.created_log);
            return 2;
        }
    }
    int64_t start = fuzz_now_ms();
    run_deadline_ms = start + (int64_t)opt.seconds * 1000;
    static struct worker workers[MAX_THREADS];
    pthread_t threads[MAX_THREADS];
    int started = 0;
    for (int i = 0; i < opt.connections; i++) {
        workers[i].id = i;
        fuzz_rng_seed(&workers[i].rng, opt.seed, (uint64_t)i);
        workers[i].cfg = (struct fuzz_gen_cfg){opt.admin_token, opt.ids};
        if (pthread_create(&threads[i], NULL, worker_main, &workers[i]) != 0)
            break;
        started++;
    }
    for (int i = 0; i < started; i++)
        pthread_join(threads[i], NULL);
    double elapsed = (double)(fuzz_now_ms() - start) / 1000.0;
    for (int i = 0; i < started; i++) {
        for (int k = 0; k < MAX_PIPELINE; k++)
            fuzz_buf_free(&workers[i].reqs[k].bytes);
        fuzz_buf_free(&workers[i].wire);
        fuzz_buf_free(&workers[i].in);
    }
    if (created_log)
        fclose(created_log);
    summary(elapsed > 0 ? elapsed : 1);
    if (started != opt.connections) {
        fprintf(stderr, "http-fuzz: only %d of %d threads started\n", started, opt.connections);
        return 2;
    }
    if (n_requests == 0 || n_answers == 0) {
        fprintf(stderr, "http-fuzz: no answers at all (is shopd on port %u?)\n",
                (unsigned)opt.port);
        return 1;
    }
    return n_findings ? 1 : 0;
}
