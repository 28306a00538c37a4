/*
 * options — devkafka's command line: broker count, topics, and where to write
 * the bootstrap list, the control port and the pid.
 */
#ifndef DEVKAFKA_OPTIONS_H
#define DEVKAFKA_OPTIONS_H

#include <stdbool.h>

enum { DK_MAX_BROKERS = 32, DK_MAX_TOPICS = 64, DK_MAX_TOPIC_NAME = 249 };

struct dk_topic {
    char name[DK_MAX_TOPIC_NAME + 1];
    int partitions;
};

struct dk_options {
    int brokers; /* --brokers N (default 3) */
    struct dk_topic topics[DK_MAX_TOPICS];
    int topic_count;            /* shopd's topics unless --topic is given */
    const char *bootstrap_file; /* --bootstrap-file PATH, or NULL */
    const char *control_file;   /* --control-file PATH, or NULL */
    const char *pid_file;       /* --pid-file PATH, or NULL */
    int control_port;           /* --control-port P (default 0: the kernel picks) */
    const char *debug;          /* --debug CONTEXTS: librdkafka's debug property, or NULL */
};

/* Fills *opts from argv. Returns 0 to go on, 1 when --help was printed, and
 * 2 after printing a message on a bad argument. */
int dk_options_parse(struct dk_options *opts, int argc, char **argv);

#endif
