/*
 * test_kafka_env.h — what the tests that run shopd against devkafka share:
 * the brokers, a server config that publishes there, and a reader that
 * consumes a topic for the test to look at.
 */
#ifndef SHOPD_TESTS_TEST_KAFKA_ENV_H
#define SHOPD_TESTS_TEST_KAFKA_ENV_H

#include "core/config.h"
#include "infra/kafka_consumer.h"
#include "infra/kafka_producer.h"

/*
 * $SHOPD_TEST_KAFKA_BROKERS (devkafka's bootstrap list). Exits the program
 * when unset: a Kafka test never passes silently without Kafka. Any thread.
 */
const char *test_kafka_brokers(void);

/*
 * test_server_config(cfg, database_url), then Kafka on test_kafka_brokers()
 * with librdkafka settings for the mock cluster (fast reconnects and group
 * joins, not product ones) and consumer groups named after group_prefix.
 * Adjust cfg further before starting. Main thread (exits when unset).
 */
void test_kafka_server_config(struct config *cfg, const char *database_url,
                              const char *group_prefix);

/* A consumer that reads a topic for a test, and the producer its runner needs for dead letters. */
struct test_kafka_reader {
    struct kafka_producer *dlq;
    struct kafka_consumer *consumer;
};

/*
 * Starts r: a consumer in group of topic on test_kafka_brokers(), with
 * short session, heartbeat, fetch-wait and metadata intervals, that hands
 * each record to handle with ctx (borrowed until test_kafka_reader_stop);
 * what handle dead-letters would go to dlq_topic. Fails the test when the
 * producer or the consumer cannot start. Main thread.
 */
void test_kafka_reader_start(struct test_kafka_reader *r, const char *group, const char *topic,
                             kafka_handler_fn handle, void *ctx, const char *dlq_topic);

/* Stops r's consumer, then frees its producer (waiting up to 1 s). Main thread. */
void test_kafka_reader_stop(struct test_kafka_reader *r);

#endif
