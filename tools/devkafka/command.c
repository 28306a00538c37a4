/*
 * command — parsing and dispatch of control commands.
 */
#include "command.h"

#include <stdio.h>
#include <string.h>

#include "names.h"

enum { MAX_WORDS = 8, MAX_ERROR_COUNT = 100000, MAX_RTT_MS = 600000 };

static const char help_text[] =
    "ok commands: down all|ID; up all|ID; errors APIKEY COUNT ERROR; clear APIKEY; "
    "rtt all|ID MS; leader TOPIC PARTITION ID|-1; status; help; quit";

/* Parses a broker id or "all" (→ 0). */
static bool parse_broker(const char *word, int *id)
{
    long n;

    if (strcmp(word, "all") == 0) {
        *id = 0;
        return true;
    }
    if (!dk_parse_long(word, 1, DK_MAX_BROKERS, &n))
        return false;
    *id = (int)n;
    return true;
}

/* Writes "error <why>" into reply. */
static void fail(char *reply, size_t replylen, const char *why)
{
    snprintf(reply, replylen, "error %s", why);
}

static void cmd_updown(struct dk_cluster *c, char **w, int n, bool up, char *reply, size_t replylen)
{
    char err[200];
    int id;

    if (n != 2 || !parse_broker(w[1], &id)) {
        fail(reply, replylen, up ? "usage: up all|ID" : "usage: down all|ID");
        return;
    }
    if (dk_cluster_set_up(c, id, up, err, sizeof err) != 0) {
        fail(reply, replylen, err);
        return;
    }
    fprintf(stderr, "devkafka: broker %s %s\n", w[1], up ? "up" : "down");
    snprintf(reply, replylen, "ok");
}

static void cmd_errors(struct dk_cluster *c, char **w, int n, char *reply, size_t replylen)
{
    char err[200];
    int16_t apikey;
    long count;
    rd_kafka_resp_err_t code;

    if (n != 4) {
        fail(reply, replylen, "usage: errors APIKEY COUNT ERROR");
        return;
    }
    if (!dk_apikey_parse(w[1], &apikey)) {
        snprintf(err, sizeof err, "unknown ApiKey '%s' (a name such as Produce, or a number)",
                 w[1]);
        fail(reply, replylen, err);
        return;
    }
    if (!dk_parse_long(w[2], 1, MAX_ERROR_COUNT, &count)) {
        snprintf(err, sizeof err, "count must be 1..%d", MAX_ERROR_COUNT);
        fail(reply, replylen, err);
        return;
    }
    if (!dk_errcode_parse(w[3], &code)) {
        snprintf(err, sizeof err,
                 "unknown error '%s' (a broker error name such as REQUEST_TIMED_OUT, or a "
                 "code > 0)",
                 w[3]);
        fail(reply, replylen, err);
        return;
    }
    if (dk_cluster_push_errors(c, apikey, (size_t)count, code, err, sizeof err) != 0) {
        fail(reply, replylen, err);
        return;
    }
    fprintf(stderr, "devkafka: next %ld %s requests fail with %s (%d)\n", count,
            dk_apikey_name(apikey), rd_kafka_err2name(code), (int)code);
    snprintf(reply, replylen, "ok");
}

static void cmd_clear(struct dk_cluster *c, char **w, int n, char *reply, size_t replylen)
{
    int16_t apikey;

    if (n != 2 || !dk_apikey_parse(w[1], &apikey)) {
        fail(reply, replylen, "usage: clear APIKEY");
        return;
    }
    dk_cluster_clear_errors(c, apikey);
    fprintf(stderr, "devkafka: queued %s errors cleared\n", dk_apikey_name(apikey));
    snprintf(reply, replylen, "ok");
}

static void cmd_rtt(struct dk_cluster *c, char **w, int n, char *reply, size_t replylen)
{
    char err[200];
    int id;
    long ms;

    if (n != 3 || !parse_broker(w[1], &id) || !dk_parse_long(w[2], 0, MAX_RTT_MS, &ms)) {
        fail(reply, replylen, "usage: rtt all|ID MS (0..600000)");
        return;
    }
    if (dk_cluster_set_rtt(c, id, (int)ms, err, sizeof err) != 0) {
        fail(reply, replylen, err);
        return;
    }
    fprintf(stderr, "devkafka: broker %s rtt %ld ms\n", w[1], ms);
    snprintf(reply, replylen, "ok");
}

static void cmd_leader(struct dk_cluster *c, char **w, int n, char *reply, size_t replylen)
{
    char err[300];
    long partition, id;

    if (n != 4 || !dk_parse_long(w[2], 0, 100000, &partition) ||
        !dk_parse_long(w[3], -1, DK_MAX_BROKERS, &id) || id == 0) {
        fail(reply, replylen, "usage: leader TOPIC PARTITION ID|-1");
        return;
    }
    if (dk_cluster_set_leader(c, w[1], (int)partition, (int)id, err, sizeof err) != 0) {
        fail(reply, replylen, err);
        return;
    }
    fprintf(stderr, "devkafka: %s [%ld] leader %ld\n", w[1], partition, id);
    snprintf(reply, replylen, "ok");
}

void dk_command_run(struct dk_cluster *c, char *line, char *reply, size_t replylen, bool *quit)
{
    char *w[MAX_WORDS + 1];
    char *save = NULL;
    int n = 0;

    for (char *tok = strtok_r(line, " \t\r\n", &save); tok != NULL && n <= MAX_WORDS;
         tok = strtok_r(NULL, " \t\r\n", &save))
        w[n++] = tok;
    if (n == 0) {
        fail(reply, replylen, "empty command (try help)");
    } else if (n > MAX_WORDS) {
        fail(reply, replylen, "too many words");
    } else if (strcmp(w[0], "down") == 0 || strcmp(w[0], "up") == 0) {
        cmd_updown(c, w, n, w[0][0] == 'u', reply, replylen);
    } else if (strcmp(w[0], "errors") == 0) {
        cmd_errors(c, w, n, reply, replylen);
    } else if (strcmp(w[0], "clear") == 0) {
        cmd_clear(c, w, n, reply, replylen);
    } else if (strcmp(w[0], "rtt") == 0) {
        cmd_rtt(c, w, n, reply, replylen);
    } else if (strcmp(w[0], "leader") == 0) {
        cmd_leader(c, w, n, reply, replylen);
    } else if (strcmp(w[0], "status") == 0 && n == 1) {
        size_t used;
        snprintf(reply, replylen, "ok ");
        used = strlen(reply);
        dk_cluster_status(c, reply + used, replylen - used);
    } else if (strcmp(w[0], "help") == 0 && n == 1) {
        snprintf(reply, replylen, "%s", help_text);
    } else if (strcmp(w[0], "quit") == 0 && n == 1) {
        *quit = true;
        snprintf(reply, replylen, "ok");
    } else {
        char err[120];
        snprintf(err, sizeof err, "unknown command '%.60s' (try help)", w[0]);
        fail(reply, replylen, err);
    }
}
