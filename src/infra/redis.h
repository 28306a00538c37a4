/* redis.h — Redis access: one lazy hiredis context per thread. */
#ifndef SHOPD_INFRA_REDIS_H
#define SHOPD_INFRA_REDIS_H

#include <stdbool.h>
#include <stdint.h>

#include <hiredis/hiredis.h>

#include "core/err.h"

struct redis_pool;

/*
 * Parses url ("redis://[:password@]host:port[/db]") and creates a pool that
 * connects lazily, one context per calling thread, with timeout_ms for
 * connect and each command. Returns NULL with e set (ERR_INVALID_REQUEST for
 * a bad URL). Free with redis_pool_free.
 */
struct redis_pool *redis_pool_new(const char *url, unsigned timeout_ms, struct err *e);

/* Closes every context and frees the pool; after all users stopped. NULL-safe. */
void redis_pool_free(struct redis_pool *p);

/*
 * Runs one command (hiredis printf-style format) on this thread's context,
 * (re)connecting as needed. Returns the reply (caller freeReplyObject()s it;
 * it may be a REDIS_REPLY_ERROR) or NULL with ERR_UNAVAILABLE when Redis
 * cannot be reached; the context is then rebuilt on next use. Thread-safe.
 */
redisReply *redis_command(struct redis_pool *p, struct err *e, const char *fmt, ...);

/* Like redis_command with an argument vector (argvlen NULL = NUL-terminated strings). */
redisReply *redis_command_argv(struct redis_pool *p, struct err *e, int argc, const char **argv,
                               const size_t *argvlen);

/*
 * Sends one command on this thread's context without waiting for its reply
 * (read and dropped before the thread's next command): for effects the
 * caller need not confirm. True when it was written to the socket; false
 * when Redis cannot be reached (nothing sent, or unknown). Thread-safe.
 */
bool redis_send_argv(struct redis_pool *p, int argc, const char **argv, const size_t *argvlen);

/*
 * The reply of the last command this thread sent with redis_send_argv, when
 * the caller wants it after all (e.g. to overlap a Redis round trip with
 * other work): call before any other command on this thread. Returns the
 * reply (caller frees) or NULL with ERR_UNAVAILABLE (no reply in time: the
 * command may or may not have been applied; the context is rebuilt).
 */
redisReply *redis_receive(struct redis_pool *p, struct err *e);

/* Number of open contexts (for /metrics). Thread-safe. */
int64_t redis_pool_open_count(void *pool);

#endif
