/*
 * control — the fault-injection channel: a TCP line protocol on 127.0.0.1,
 * one command per line, one reply line each. Fault injection only works in
 * the process that owns the mock cluster, hence a channel into it.
 */
#ifndef DEVKAFKA_CONTROL_H
#define DEVKAFKA_CONTROL_H

#include "cluster.h"

/* Listens on 127.0.0.1:port (0: the kernel picks) and stores the bound port
 * in *bound. Returns the listening socket, or -1 after logging why. */
int dk_control_listen(int port, int *bound);

/* Serves control connections on `listener` until `quit` arrives or a signal
 * is readable on `signal_fd` (a signalfd). Returns 0, or -1 on a fatal error. */
int dk_control_serve(int listener, int signal_fd, struct dk_cluster *c);

#endif
