/*
 * devkafka — a Kafka broker for development and tests: librdkafka's mock
 * cluster (the real Kafka protocol over TCP on 127.0.0.1) in its own process,
 * with shopd's topics created and a control port for fault injection.
 *
 * Start-up order: cluster → topics → control port → control file → pid file
 * → bootstrap file (last, so whoever sees it can connect and control). Runs
 * until SIGINT/SIGTERM or `quit`, then removes its files and destroys the
 * cluster. Logs to stderr; prints the bootstrap list on stdout.
 */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "atomic_file.h"
#include "cluster.h"
#include "control.h"
#include "options.h"

/* Blocks SIGINT and SIGTERM (before librdkafka starts threads, so they
 * inherit the mask) and returns a signalfd that reports them, or -1. */
static int signals_to_fd(void)
{
    sigset_t set;

    signal(SIGPIPE, SIG_IGN);
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    if (sigprocmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    return signalfd(-1, &set, SFD_CLOEXEC);
}

/* Writes the control port, pid and bootstrap files that were asked for. */
static int write_files(const struct dk_options *o, const struct dk_cluster *c, int port)
{
    char text[32];

    if (o->control_file != NULL) {
        snprintf(text, sizeof text, "%d", port);
        if (dk_write_file_atomic(o->control_file, text) != 0)
            return -1;
    }
    if (o->pid_file != NULL) {
        snprintf(text, sizeof text, "%ld", (long)getpid());
        if (dk_write_file_atomic(o->pid_file, text) != 0)
            return -1;
    }
    if (o->bootstrap_file != NULL &&
        dk_write_file_atomic(o->bootstrap_file, dk_cluster_bootstraps(c)) != 0)
        return -1;
    return 0;
}

/* Removes the files written at start, bootstrap first (it means "ready"). */
static void remove_files(const struct dk_options *o)
{
    const char *files[] = {o->bootstrap_file, o->control_file, o->pid_file};

    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        if (files[i] != NULL)
            unlink(files[i]);
    }
}

int main(int argc, char **argv)
{
    static struct dk_options opts;
    struct dk_cluster cluster;
    char err[512];
    int sfd, listener, port, rc;

    rc = dk_options_parse(&opts, argc, argv);
    if (rc != 0)
        return rc == 1 ? 0 : 2;
    sfd = signals_to_fd();
    if (sfd < 0) {
        perror("devkafka: signalfd");
        return 1;
    }
    if (dk_cluster_start(&cluster, opts.brokers, opts.debug, err, sizeof err) != 0) {
        fprintf(stderr, "devkafka: %s\n", err);
        close(sfd);
        return 1;
    }
    rc = 1;
    if (dk_cluster_create_topics(&cluster, opts.topics, opts.topic_count, err, sizeof err) != 0) {
        fprintf(stderr, "devkafka: %s\n", err);
        goto out_cluster;
    }
    listener = dk_control_listen(opts.control_port, &port);
    if (listener < 0)
        goto out_cluster;
    if (write_files(&opts, &cluster, port) != 0)
        goto out_files;

    fprintf(stderr, "devkafka: %d brokers on %s, %d topics, control port 127.0.0.1:%d\n",
            opts.brokers, dk_cluster_bootstraps(&cluster), opts.topic_count, port);
    printf("%s\n", dk_cluster_bootstraps(&cluster));
    fflush(stdout);

    rc = dk_control_serve(listener, sfd, &cluster) == 0 ? 0 : 1;

out_files:
    remove_files(&opts);
    close(listener);
out_cluster:
    dk_cluster_stop(&cluster);
    close(sfd);
    fprintf(stderr, "devkafka: stopped\n");
    return rc;
}
