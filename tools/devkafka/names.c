/*
 * names — ApiKey and error code lookup. The ApiKey numbers are fixed by the
 * Kafka protocol (librdkafka keeps its own table private); error names come
 * from rd_kafka_err2name over the rd_kafka_resp_err_t range, plus the names
 * newer Kafka versions gave to old codes.
 */
#include "names.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const apikeys[] = {
    "Produce",
    "Fetch",
    "ListOffsets",
    "Metadata",
    "LeaderAndIsr",
    "StopReplica",
    "UpdateMetadata",
    "ControlledShutdown",
    "OffsetCommit",
    "OffsetFetch",
    "FindCoordinator",
    "JoinGroup",
    "Heartbeat",
    "LeaveGroup",
    "SyncGroup",
    "DescribeGroups",
    "ListGroups",
    "SaslHandshake",
    "ApiVersions",
    "CreateTopics",
    "DeleteTopics",
    "DeleteRecords",
    "InitProducerId",
    "OffsetForLeaderEpoch",
    "AddPartitionsToTxn",
    "AddOffsetsToTxn",
    "EndTxn",
    "WriteTxnMarkers",
    "TxnOffsetCommit",
    "DescribeAcls",
    "CreateAcls",
    "DeleteAcls",
    "DescribeConfigs",
    "AlterConfigs",
    "AlterReplicaLogDirs",
    "DescribeLogDirs",
    "SaslAuthenticate",
    "CreatePartitions",
    "CreateDelegationToken",
    "RenewDelegationToken",
    "ExpireDelegationToken",
    "DescribeDelegationToken",
    "DeleteGroups",
    "ElectLeaders",
    "IncrementalAlterConfigs",
    "AlterPartitionReassignments",
    "ListPartitionReassignments",
    "OffsetDelete",
};
enum { APIKEY_COUNT = sizeof apikeys / sizeof apikeys[0] };

/* Names Kafka uses today for codes librdkafka 2.0 still calls by older names. */
static const struct {
    const char *name;
    rd_kafka_resp_err_t code;
} error_aliases[] = {
    {"NOT_LEADER_OR_FOLLOWER", RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION},
    {"GROUP_LOAD_IN_PROGRESS", RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS},
    {"GROUP_COORDINATOR_NOT_AVAILABLE", RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE},
    {"NOT_COORDINATOR_FOR_GROUP", RD_KAFKA_RESP_ERR_NOT_COORDINATOR},
};

bool dk_parse_long(const char *text, long min, long max, long *out)
{
    char *end;
    long v;

    if (text == NULL || *text == '\0')
        return false;
    errno = 0;
    v = strtol(text, &end, 10);
    if (errno != 0 || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

bool dk_apikey_parse(const char *text, int16_t *out)
{
    long n;

    for (int i = 0; i < APIKEY_COUNT; i++) {
        if (strcasecmp(text, apikeys[i]) == 0) {
            *out = (int16_t)i;
            return true;
        }
    }
    if (dk_parse_long(text, 0, INT16_MAX, &n)) {
        *out = (int16_t)n;
        return true;
    }
    return false;
}

const char *dk_apikey_name(int16_t key)
{
    if (key >= 0 && key < APIKEY_COUNT)
        return apikeys[key];
    return "?";
}

bool dk_errcode_parse(const char *text, rd_kafka_resp_err_t *out)
{
    long n;

    if (dk_parse_long(text, 1, RD_KAFKA_RESP_ERR_END_ALL - 1, &n)) {
        *out = (rd_kafka_resp_err_t)n;
        return true;
    }
    if (strncasecmp(text, "RD_KAFKA_RESP_ERR_", 18) == 0)
        text += 18;
    else if (strncasecmp(text, "ERR_", 4) == 0)
        text += 4;
    for (size_t i = 0; i < sizeof error_aliases / sizeof error_aliases[0]; i++) {
        if (strcasecmp(text, error_aliases[i].name) == 0) {
            *out = error_aliases[i].code;
            return true;
        }
    }
    /* broker (wire) errors only: the negative ones are librdkafka-internal */
    for (int code = 1; code < RD_KAFKA_RESP_ERR_END_ALL; code++) {
        const char *name = rd_kafka_err2name((rd_kafka_resp_err_t)code);
        if (name != NULL && strcasecmp(text, name) == 0) {
            *out = (rd_kafka_resp_err_t)code;
            return true;
        }
    }
    return false;
}
