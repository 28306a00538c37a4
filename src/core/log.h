/* log.h — leveled log lines to stderr, one write(2) per line. */
#ifndef SHOPD_CORE_LOG_H
#define SHOPD_CORE_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/*
 * Sets the minimum level written (the module's only state: configuration,
 * set by the composition root). Thread-safe: an atomic that logging threads
 * read (tests start a second app while the first one's threads log).
 */
void log_set_level(enum log_level level);

/* Parses "debug", "info", "warn" or "error" into *out. Returns false if unknown. */
bool log_level_parse(const char *text, enum log_level *out);

/*
 * Writes "<UTC time> <LEVEL> <message>\n" to stderr when level is enabled.
 * Lines longer than 2 KiB are truncated. Thread-safe (one write per line).
 */
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
