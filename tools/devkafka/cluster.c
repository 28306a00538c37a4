/*
 * cluster — wraps rdkafka_mock.h. Every mock call is a request to the mock's
 * own thread, so any thread may make them; devkafka makes them from its
 * control loop only.
 */
#include "cluster.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* librdkafka's log lines, to stderr; the host handle has no bootstrap.servers
 * by design, so that warning is dropped. */
static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    if (strcmp(fac, "CONFWARN") == 0 && strstr(buf, "bootstrap.servers") != NULL)
        return;
    fprintf(stderr, "devkafka: rdkafka %d %s: %s\n", level, fac, buf);
}

int dk_cluster_start(struct dk_cluster *c, int brokers, const char *debug, char *err, size_t errlen)
{
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    memset(c, 0, sizeof *c);
    rd_kafka_conf_set_log_cb(conf, log_cb);
    if (debug != NULL && rd_kafka_conf_set(conf, "debug", debug, err, errlen) != RD_KAFKA_CONF_OK) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    c->host = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, errlen);
    if (c->host == NULL) {
        rd_kafka_conf_destroy(conf);
        return -1;
    }
    c->mock = rd_kafka_mock_cluster_new(c->host, brokers);
    if (c->mock == NULL) {
        snprintf(err, errlen, "rd_kafka_mock_cluster_new(%d) failed", brokers);
        rd_kafka_destroy(c->host);
        c->host = NULL;
        return -1;
    }
    c->brokers = brokers;
    return 0;
}

int dk_cluster_create_topics(struct dk_cluster *c, const struct dk_topic *topics, int count,
                             char *err, size_t errlen)
{
    int replicas = c->brokers < 3 ? c->brokers : 3;

    for (int i = 0; i < count; i++) {
        rd_kafka_resp_err_t e =
            rd_kafka_mock_topic_create(c->mock, topics[i].name, topics[i].partitions, replicas);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(err, errlen, "topic %s: %s", topics[i].name, rd_kafka_err2name(e));
            return -1;
        }
    }
    c->topics = topics;
    c->topic_count = count;
    return 0;
}

const char *dk_cluster_bootstraps(const struct dk_cluster *c)
{
    return rd_kafka_mock_cluster_bootstraps(c->mock);
}

/* Checks a broker id: 1..brokers, or 0 (all) when all_ok. */
static int check_id(const struct dk_cluster *c, int id, bool all_ok, char *err, size_t errlen)
{
    if ((id == 0 && all_ok) || (id >= 1 && id <= c->brokers))
        return 0;
    snprintf(err, errlen, "no broker %d (brokers are 1..%d)", id, c->brokers);
    return -1;
}

int dk_cluster_set_up(struct dk_cluster *c, int id, bool up, char *err, size_t errlen)
{
    if (check_id(c, id, true, err, errlen) != 0)
        return -1;
    for (int b = id == 0 ? 1 : id; b <= (id == 0 ? c->brokers : id); b++) {
        rd_kafka_resp_err_t e = up ? rd_kafka_mock_broker_set_up(c->mock, b)
                                   : rd_kafka_mock_broker_set_down(c->mock, b);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(err, errlen, "broker %d: %s", b, rd_kafka_err2name(e));
            return -1;
        }
        c->down[b] = !up;
    }
    return 0;
}

int dk_cluster_set_rtt(struct dk_cluster *c, int id, int ms, char *err, size_t errlen)
{
    if (check_id(c, id, true, err, errlen) != 0)
        return -1;
    for (int b = id == 0 ? 1 : id; b <= (id == 0 ? c->brokers : id); b++) {
        rd_kafka_resp_err_t e = rd_kafka_mock_broker_set_rtt(c->mock, b, ms);
        if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
            snprintf(err, errlen, "broker %d: %s", b, rd_kafka_err2name(e));
            return -1;
        }
        c->rtt_ms[b] = ms;
    }
    return 0;
}

int dk_cluster_push_errors(struct dk_cluster *c, int16_t apikey, size_t count,
                           rd_kafka_resp_err_t code, char *err, size_t errlen)
{
    rd_kafka_resp_err_t *codes = malloc(count * sizeof *codes);

    if (codes == NULL) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < count; i++)
        codes[i] = code;
    rd_kafka_mock_push_request_errors_array(c->mock, apikey, count, codes);
    free(codes);
    return 0;
}

void dk_cluster_clear_errors(struct dk_cluster *c, int16_t apikey)
{
    rd_kafka_mock_clear_request_errors(c->mock, apikey);
}

int dk_cluster_set_leader(struct dk_cluster *c, const char *topic, int partition, int id, char *err,
                          size_t errlen)
{
    rd_kafka_resp_err_t e;

    if (id != -1 && check_id(c, id, false, err, errlen) != 0)
        return -1;
    e = rd_kafka_mock_partition_set_leader(c->mock, topic, partition, id);
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR) {
        snprintf(err, errlen, "%s [%d]: %s", topic, partition, rd_kafka_err2name(e));
        return -1;
    }
    return 0;
}

/* Appends to out (at *used), truncating silently when full. */
static void append(char *out, size_t outlen, size_t *used, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void append(char *out, size_t outlen, size_t *used, const char *fmt, ...)
{
    va_list ap;
    int n;

    if (*used >= outlen)
        return;
    va_start(ap, fmt);
    n = vsnprintf(out + *used, outlen - *used, fmt, ap);
    va_end(ap);
    if (n > 0)
        *used += (size_t)n < outlen - *used ? (size_t)n : outlen - *used;
}

void dk_cluster_status(const struct dk_cluster *c, char *out, size_t outlen)
{
    size_t used = 0;

    out[0] = '\0';
    append(out, outlen, &used, "brokers");
    for (int b = 1; b <= c->brokers; b++) {
        append(out, outlen, &used, " %d:%s", b, c->down[b] ? "down" : "up");
        if (c->rtt_ms[b] != 0)
            append(out, outlen, &used, ",rtt=%d", c->rtt_ms[b]);
    }
    append(out, outlen, &used, " topics");
    for (int i = 0; i < c->topic_count; i++)
        append(out, outlen, &used, " %s:%d", c->topics[i].name, c->topics[i].partitions);
}

void dk_cluster_stop(struct dk_cluster *c)
{
    if (c->mock != NULL)
        rd_kafka_mock_cluster_destroy(c->mock);
    if (c->host != NULL)
        rd_kafka_destroy(c->host);
    c->mock = NULL;
    c->host = NULL;
}
