/* test_platform.h — the fake data platform as a child process for tests. */
#ifndef SHOPD_TESTS_TEST_PLATFORM_H
#define SHOPD_TESTS_TEST_PLATFORM_H

#include <stdbool.h>
#include <sys/types.h>

#include <jansson.h>

struct test_platform {
    pid_t pid;
    int port;
    char base[64];  /* http://127.0.0.1:PORT */
    char url[96];   /* base + /events: what SHOPD_DATAPLATFORM_URL points at */
    char file[128]; /* its JSONL store */
};

/* Starts $FAKE_DATAPLATFORM_BINARY on a free port with a fresh store; aborts on failure. */
void test_platform_start(struct test_platform *p);

/* Stops it (SIGTERM, wait) and removes its store. */
void test_platform_stop(struct test_platform *p);

/* Makes it answer 503 to every event (fail = true) or accept them again. */
void test_platform_fail(struct test_platform *p, bool fail);

/* Makes it answer 422 to every event (reject = true: a permanent refusal) or accept them again. */
void test_platform_reject(struct test_platform *p, bool reject);

/* GET /events: {"events":[…],"received","duplicates","refused","failing"} (new reference). */
json_t *test_platform_state(struct test_platform *p);

/* Waits up to timeout_ms until at least n events are stored; returns the number stored. */
size_t test_platform_wait_events(struct test_platform *p, size_t n, int timeout_ms);

#endif
