/*
 * command — one line of the control protocol in, one reply line out
 * ("ok …" or "error <why>"). See tools/devkafka/README.md for the commands.
 */
#ifndef DEVKAFKA_COMMAND_H
#define DEVKAFKA_COMMAND_H

#include <stdbool.h>
#include <stddef.h>

#include "cluster.h"

/* Runs the command in `line` (modified: it is split into words) against the
 * cluster and writes the reply, without newline, into reply. Sets *quit when
 * the command was `quit`. */
void dk_command_run(struct dk_cluster *c, char *line, char *reply, size_t replylen, bool *quit);

#endif
