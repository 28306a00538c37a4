/* kafka_conf.c — property setting with errors in shopd's convention. */
#include "infra/kafka_conf.h"

#include <stdlib.h>
#include <string.h>

#include "core/log.h"

enum err_code kafka_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value,
                             struct err *e)
{
    char reason[256];
    if (rd_kafka_conf_set(conf, name, value, reason, sizeof(reason)) != RD_KAFKA_CONF_OK)
        return err_set(e, ERR_INVALID_REQUEST, "kafka property \"%s\" refused: %s", name, reason);
    return ERR_OK;
}

enum err_code kafka_conf_apply(rd_kafka_conf_t *conf, const char *const *extra, struct err *e)
{
    for (size_t i = 0; extra && extra[i]; i++) {
        const char *eq = strchr(extra[i], '=');
        if (!eq || eq == extra[i])
            return err_set(e, ERR_INVALID_REQUEST, "kafka property \"%s\" is not key=value",
                           extra[i]);
        size_t n = (size_t)(eq - extra[i]);
        char *name = malloc(n + 1);
        if (!name)
            return err_set(e, ERR_INTERNAL, "out of memory");
        memcpy(name, extra[i], n);
        name[n] = '\0';
        enum err_code rc = kafka_conf_set(conf, name, eq + 1, e);
        free(name);
        if (rc != ERR_OK)
            return rc;
    }
    return ERR_OK;
}

rd_kafka_conf_t *kafka_conf_new(const char *brokers, const char *client_id, struct err *e)
{
    if (!brokers || !brokers[0]) {
        err_set(e, ERR_INVALID_REQUEST, "kafka brokers are not set");
        return NULL;
    }
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    if (!conf) {
        err_set(e, ERR_INTERNAL, "out of memory");
        return NULL;
    }
    /*
     * reconnect.backoff.max.ms: librdkafka doubles the wait between connect
     * attempts up to 10 s, so after a 4 s outage of every broker the fault
     * suite saw the clients come back 6-7 s after the brokers, the consumers'
     * 6 s sessions expire then, and a rebalance stall every event for
     * seconds more (docs/reliability.md). With 1 s a client is back within a
     * second of its broker; a down broker costs each client one connect a
     * second. Operators may override it through SHOPD_KAFKA_PROPERTIES.
     */
    if (kafka_conf_set(conf, "bootstrap.servers", brokers, e) != ERR_OK ||
        kafka_conf_set(conf, "client.id", client_id && client_id[0] ? client_id : "shopd", e) !=
            ERR_OK ||
        kafka_conf_set(conf, "reconnect.backoff.max.ms", "1000", e) != ERR_OK) {
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

void kafka_conf_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    enum log_level l = level <= 3   ? LOG_ERROR
                       : level == 4 ? LOG_WARN
                       : level <= 6 ? LOG_INFO
                                    : LOG_DEBUG;
    log_msg(l, "kafka %s: %s", fac, buf);
}
