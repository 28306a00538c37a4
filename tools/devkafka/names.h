/*
 * names — Kafka protocol names for the control channel: request types
 * (ApiKeys: "Produce", "JoinGroup", …) and broker error codes
 * ("NOT_LEADER_OR_FOLLOWER", …), by name or by number.
 */
#ifndef DEVKAFKA_NAMES_H
#define DEVKAFKA_NAMES_H

#include <stdbool.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

/* Parses an ApiKey given as a name (case-insensitive, e.g. "Produce") or a
 * number (0..32767) into *out. Returns false when it is neither. */
bool dk_apikey_parse(const char *text, int16_t *out);

/* The name of ApiKey `key`, or "?" when this table does not know it. */
const char *dk_apikey_name(int16_t key);

/* Parses a broker error code given as a name (case-insensitive, optionally
 * prefixed "ERR_" or "RD_KAFKA_RESP_ERR_", current Kafka aliases such as
 * NOT_LEADER_OR_FOLLOWER accepted) or a number into *out. Only codes a broker
 * can send (> 0) are accepted. Returns false otherwise. */
bool dk_errcode_parse(const char *text, rd_kafka_resp_err_t *out);

/* Parses a whole decimal number in [min, max] into *out. */
bool dk_parse_long(const char *text, long min, long max, long *out);

#endif
