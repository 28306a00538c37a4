/*
 * cluster — the librdkafka mock cluster devkafka hosts: its brokers, the
 * topics created at start, and the faults the control channel injects. Keeps
 * the state the mock does not report back (which brokers are down, their
 * round-trip delays) for `status`.
 */
#ifndef DEVKAFKA_CLUSTER_H
#define DEVKAFKA_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include "options.h"

struct dk_cluster {
    rd_kafka_t *host; /* a producer handle that only hosts the mock */
    rd_kafka_mock_cluster_t *mock;
    int brokers; /* ids 1..brokers */
    bool down[DK_MAX_BROKERS + 1];
    int rtt_ms[DK_MAX_BROKERS + 1];
    const struct dk_topic *topics;
    int topic_count;
};

/* Starts a mock cluster of `brokers` brokers on 127.0.0.1 (librdkafka debug
 * contexts `debug`, or NULL). Returns 0, or -1 with a message in err. */
int dk_cluster_start(struct dk_cluster *c, int brokers, const char *debug, char *err,
                     size_t errlen);

/* Creates the topics (replication factor min(3, brokers)); `topics` must
 * outlive the cluster. Returns 0, or -1 with a message in err. */
int dk_cluster_create_topics(struct dk_cluster *c, const struct dk_topic *topics, int count,
                             char *err, size_t errlen);

/* The bootstrap list, "127.0.0.1:port,…". */
const char *dk_cluster_bootstraps(const struct dk_cluster *c);

/* Takes broker `id` (1..brokers, or 0 for all) down or back up. Returns 0, or
 * -1 with a message in err. */
int dk_cluster_set_up(struct dk_cluster *c, int id, bool up, char *err, size_t errlen);

/* Delays every response of broker `id` (0 = all) by `ms`. */
int dk_cluster_set_rtt(struct dk_cluster *c, int id, int ms, char *err, size_t errlen);

/* Makes the next `count` requests of type `apikey` (on any broker) fail with
 * `code`. */
int dk_cluster_push_errors(struct dk_cluster *c, int16_t apikey, size_t count,
                           rd_kafka_resp_err_t code, char *err, size_t errlen);

/* Drops the errors still queued for `apikey`. */
void dk_cluster_clear_errors(struct dk_cluster *c, int16_t apikey);

/* Moves the leader of a topic's partition to broker `id` (-1: no leader). */
int dk_cluster_set_leader(struct dk_cluster *c, const char *topic, int partition, int id, char *err,
                          size_t errlen);

/* Writes "brokers 1:up 2:down,rtt=50 … topics name:partitions …" into out. */
void dk_cluster_status(const struct dk_cluster *c, char *out, size_t outlen);

/* Destroys the mock cluster (closing every connection) and its host handle. */
void dk_cluster_stop(struct dk_cluster *c);

#endif
