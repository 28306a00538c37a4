/*
 * options — argument parsing for devkafka (getopt_long).
 */
#include "options.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

/* shopd's topics and their partition counts */
static const struct dk_topic default_topics[] = {
    {"shop.order.events", 6},
    {"shop.order.events.dlq", 1},
    {"shop.coupon.issue.requests", 6},
    {"shop.coupon.issue.requests.dlq", 1},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: devkafka [--brokers N] [--topic NAME:PARTITIONS]... [--bootstrap-file PATH]\n"
            "                [--control-file PATH] [--control-port PORT] [--pid-file PATH]\n"
            "                [--debug CONTEXTS]\n"
            "A librdkafka mock Kafka cluster on 127.0.0.1 with a fault-injection control port.\n"
            "Default topics: shop.order.events:6 shop.order.events.dlq:1\n"
            "                shop.coupon.issue.requests:6 shop.coupon.issue.requests.dlq:1\n"
            "(any --topic replaces them). See tools/devkafka/README.md.\n");
}

/* Parses "name:partitions" into *t. */
static bool parse_topic(const char *arg, struct dk_topic *t)
{
    const char *colon = strrchr(arg, ':');
    long partitions;
    size_t len;

    if (colon == NULL || colon == arg)
        return false;
    len = (size_t)(colon - arg);
    if (len > DK_MAX_TOPIC_NAME || !dk_parse_long(colon + 1, 1, 10000, &partitions))
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = arg[i];
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        if (!ok)
            return false;
    }
    memcpy(t->name, arg, len);
    t->name[len] = '\0';
    t->partitions = (int)partitions;
    return true;
}

int dk_options_parse(struct dk_options *opts, int argc, char **argv)
{
    static const struct option longopts[] = {
        {"brokers", required_argument, NULL, 'b'},
        {"topic", required_argument, NULL, 't'},
        {"bootstrap-file", required_argument, NULL, 'B'},
        {"control-file", required_argument, NULL, 'C'},
        {"control-port", required_argument, NULL, 'P'},
        {"pid-file", required_argument, NULL, 'p'},
        {"debug", required_argument, NULL, 'd'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    long n;
    int c;

    memset(opts, 0, sizeof *opts);
    opts->brokers = 3;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (!dk_parse_long(optarg, 1, DK_MAX_BROKERS, &n)) {
                fprintf(stderr, "devkafka: --brokers wants 1..%d, not '%s'\n", DK_MAX_BROKERS,
                        optarg);
                return 2;
            }
            opts->brokers = (int)n;
            break;
        case 't':
            if (opts->topic_count == DK_MAX_TOPICS) {
                fprintf(stderr, "devkafka: at most %d topics\n", DK_MAX_TOPICS);
                return 2;
            }
            if (!parse_topic(optarg, &opts->topics[opts->topic_count])) {
                fprintf(stderr,
                        "devkafka: --topic wants NAME:PARTITIONS (name of [A-Za-z0-9._-], "
                        "1..10000 partitions), not '%s'\n",
                        optarg);
                return 2;
            }
            opts->topic_count++;
            break;
        case 'B':
            opts->bootstrap_file = optarg;
            break;
        case 'C':
            opts->control_file = optarg;
            break;
        case 'P':
            if (!dk_parse_long(optarg, 0, 65535, &n)) {
                fprintf(stderr, "devkafka: --control-port wants 0..65535, not '%s'\n", optarg);
                return 2;
            }
            opts->control_port = (int)n;
            break;
        case 'p':
            opts->pid_file = optarg;
            break;
        case 'd':
            opts->debug = optarg;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "devkafka: unexpected argument '%s'\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    if (opts->topic_count == 0) {
        opts->topic_count = (int)(sizeof default_topics / sizeof default_topics[0]);
        memcpy(opts->topics, default_topics, sizeof default_topics);
    }
    return 0;
}
