/* app.h — the composition root: config → infra → services → routes. */
#ifndef SHOPD_COMPOSITION_APP_H
#define SHOPD_COMPOSITION_APP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/config.h"
#include "core/err.h"
#include "http/metrics.h"
#include "http/router.h"

struct app;

/*
 * Builds everything shopd runs on from cfg (copied): database and Redis
 * pools, migrations (when cfg->migrate), services, the route table and the
 * metrics. Returns the app or NULL with e set (ERR_UNAVAILABLE when the
 * database cannot be reached for migrations). Free with app_free.
 */
struct app *app_new(const struct config *cfg, struct err *e);

/* The route table (owned by app). */
const struct router *app_router(struct app *a);

/*
 * The i-th route (0-based) of the route table as declared, without building
 * an app (no configuration, database or Redis): its method ("GET") and path
 * pattern ("/api/v1/products/{id}"). Returns false, leaving both untouched,
 * when i is past the last route. The strings are static and never freed.
 * Thread-safe: reads constant data only. (shopd --routes, the OpenAPI check.)
 */
bool app_route_spec(size_t i, const char **method, const char **pattern);

/* The metrics registry (owned by app). */
struct metrics *app_metrics(struct app *a);

/* The configuration the app was built with (owned by app). */
const struct config *app_config(struct app *a);

struct http_server_config;

/*
 * Fills the HTTP server settings from the app's configuration (64 KiB body
 * limit, threads, admin token borrowed from the app, access log).
 */
void app_http_config(struct app *a, struct http_server_config *out);

/* Frees everything; call after the HTTP server has stopped. NULL-safe. */
void app_free(struct app *a);

#endif
