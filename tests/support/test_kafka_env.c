/* test_kafka_env.c — devkafka for the tests: brokers, server config, readers. */
#include "support/test_kafka_env.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "support/test_server.h"

const char *test_kafka_brokers(void)
{
    const char *brokers = getenv("SHOPD_TEST_KAFKA_BROKERS");
    if (!brokers || !*brokers) {
        fprintf(stderr, "SHOPD_TEST_KAFKA_BROKERS is not set (devkafka): run the tests with "
                        "`make test`\n");
        exit(1);
    }
    return brokers;
}

void test_kafka_server_config(struct config *cfg, const char *database_url,
                              const char *group_prefix)
{
    test_server_config(cfg, database_url);
    snprintf(cfg->kafka_brokers, sizeof(cfg->kafka_brokers), "%s", test_kafka_brokers());
    snprintf(cfg->kafka_properties, sizeof(cfg->kafka_properties), "%s",
             "reconnect.backoff.ms=10,reconnect.backoff.max.ms=100,session.timeout.ms=3000,"
             "heartbeat.interval.ms=100,auto.commit.interval.ms=100,fetch.wait.max.ms=50,"
             "topic.metadata.refresh.interval.ms=1000");
    snprintf(cfg->kafka_group_prefix, sizeof(cfg->kafka_group_prefix), "%s", group_prefix);
}

void test_kafka_reader_start(struct test_kafka_reader *r, const char *group, const char *topic,
                             kafka_handler_fn handle, void *ctx, const char *dlq_topic)
{
    const char *brokers = test_kafka_brokers();
    const char *topics[] = {topic, NULL};
    static const char *const extra[] = {"session.timeout.ms=3000", "heartbeat.interval.ms=100",
                                        "fetch.wait.max.ms=50",
                                        "topic.metadata.refresh.interval.ms=1000", NULL};
    struct err e;
    err_clear(&e);
    r->dlq = kafka_producer_new(&(struct kafka_producer_config){.brokers = brokers}, &e);
    if (!r->dlq)
        fail_msg("reader of %s: producer: %s", topic, e.detail);
    r->consumer = kafka_consumer_start(&(struct kafka_consumer_config){.brokers = brokers,
                                                                       .group_id = group,
                                                                       .topics = topics,
                                                                       .extra = extra,
                                                                       .handle = handle,
                                                                       .ctx = ctx,
                                                                       .dlq_topic = dlq_topic,
                                                                       .dlq = r->dlq},
                                       &e);
    if (!r->consumer) {
        kafka_producer_free(r->dlq, 1000);
        fail_msg("reader of %s: %s", topic, e.detail);
    }
}

void test_kafka_reader_stop(struct test_kafka_reader *r)
{
    kafka_consumer_stop(r->consumer);
    kafka_producer_free(r->dlq, 1000);
}
