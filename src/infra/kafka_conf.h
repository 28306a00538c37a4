/* kafka_conf.h — builds librdkafka configurations (internal to shopd_infra's Kafka clients). */
#ifndef SHOPD_INFRA_KAFKA_CONF_H
#define SHOPD_INFRA_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>

#include "core/err.h"

/*
 * Sets one property on conf. Returns ERR_OK, or ERR_INVALID_REQUEST with
 * e->detail naming the property and librdkafka's reason. Thread-safe for
 * distinct confs.
 */
enum err_code kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                             struct err *e);

/*
 * Applies a NULL-terminated list of "key=value" strings (extra may be NULL);
 * they override what was set before. Returns ERR_OK or ERR_INVALID_REQUEST
 * (an entry without '=' or a property librdkafka refuses). Thread-safe for
 * distinct confs.
 */
enum err_code kafka_conf_apply(rd_kafka_conf_t *conf, const char *const *extra, struct err *e);

/*
 * A new configuration with bootstrap.servers, client.id and
 * reconnect.backoff.max.ms (1 s, see kafka_conf.c) set. Returns it
 * (owned by the caller: pass it to rd_kafka_new or rd_kafka_conf_destroy),
 * or NULL with e set. Thread-safe.
 */
rd_kafka_conf_t *kafka_conf_new(const char *brokers, const char *client_id, struct err *e);

/* librdkafka's log callback: its syslog levels into shopd's log. Thread-safe. */
void kafka_conf_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf);

#endif
