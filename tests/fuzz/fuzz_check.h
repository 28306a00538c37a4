/*
 * fuzz_check.h — the one assertion the libFuzzer harnesses use: a property
 * that does not hold prints where and why, then aborts, so libFuzzer saves
 * the input as a crash artifact. Not assert(): it stays on in every build.
 */
#ifndef SHOPD_TESTS_FUZZ_CHECK_H
#define SHOPD_TESTS_FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond, ...)                                                                      \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: property failed: %s: ", __FILE__, __LINE__, #cond);            \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

#endif
