/*
 * main.c — shopd: read configuration, build the app, serve until SIGINT/SIGTERM.
 * shopd --routes prints the route table and exits (nothing else is touched).
 */
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "composition/app.h"
#include "core/config.h"
#include "core/log.h"
#include "http/server.h"

/*
 * Every open connection holds a descriptor: raise the soft limit toward
 * max_connections plus room for database and Redis connections, up to the
 * hard limit. Past the limit the server still answers 503 (a spare
 * descriptor per worker), so this only moves where that starts.
 */
static void raise_fd_limit(unsigned max_connections)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)max_connections + 512;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur >= want)
        return;
    rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= want ? want : rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < want)
        log_warn("open files limited to %llu: fewer than SHOPD_MAX_CONNECTIONS (%u) can be served",
                 (unsigned long long)rl.rlim_cur, max_connections);
}

/* shopd --routes: prints "METHOD PATTERN" per route of the route table. Returns 0. */
static int print_routes(void)
{
    const char *method, *pattern;
    for (size_t i = 0; app_route_spec(i, &method, &pattern); i++)
        printf("%s %s\n", method, pattern);
    return fflush(stdout) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--routes") == 0)
        return print_routes();
    if (argc > 1) {
        fprintf(stderr, "usage: shopd [--routes]  (settings come from SHOPD_* variables)\n");
        return 2;
    }
    struct config cfg;
    struct err e;
    err_clear(&e);
    if (config_load(&cfg, config_lookup_env, NULL, &e) != ERR_OK) {
        fprintf(stderr, "shopd: bad configuration: %s\n", e.detail);
        return 2;
    }
    log_set_level(cfg.log_level);
    raise_fd_limit(cfg.max_connections);
    if (cfg.admin_token_is_default)
        log_warn("SHOPD_ADMIN_TOKEN is not set: using the development token");

    /* Signals are taken synchronously by this thread; workers never see them. */
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct app *app = app_new(&cfg, &e);
    if (!app) {
        /* a value only the infrastructure can judge (e.g. a Redis URL) is still configuration */
        bool bad_config = e.code == ERR_INVALID_REQUEST;
        log_error("start-up failed: %s%s", bad_config ? "bad configuration: " : "", e.detail);
        return bad_config ? 2 : 1;
    }
    struct http_server_config http_cfg;
    app_http_config(app, &http_cfg);
    struct http_server *server =
        http_server_start(&http_cfg, app_router(app), app_metrics(app), &e);
    if (!server) {
        log_error("start-up failed: %s", e.detail);
        app_free(app);
        return 1;
    }
    log_info("shopd listening on %s:%u with %u threads", cfg.listen_host,
             (unsigned)http_server_port(server), cfg.threads);

    int sig = 0;
    sigwait(&stop_signals, &sig);
    log_info("received %s: draining requests (at most %u ms)", sig == SIGINT ? "SIGINT" : "SIGTERM",
             cfg.shutdown_timeout_ms);
    http_server_stop(server, cfg.shutdown_timeout_ms);
    app_free(app);
    log_info("shopd stopped");
    return 0;
}
