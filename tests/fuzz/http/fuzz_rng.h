/*
 * fuzz_rng.h — a small seeded PRNG (splitmix64) for the HTTP fuzzer: the same
 * seed gives the same sequence of generated requests on each thread.
 */
#ifndef SHOPD_FUZZ_RNG_H
#define SHOPD_FUZZ_RNG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct fuzz_rng {
    uint64_t state;
};

/* Seeds r from seed and a stream number (one stream per thread). */
void fuzz_rng_seed(struct fuzz_rng *r, uint64_t seed, uint64_t stream);

/* Returns the next 64 random bits. Not thread-safe for one r. */
uint64_t fuzz_rng_next(struct fuzz_rng *r);

/* Returns a number in [0, n); 0 when n is 0. */
uint64_t fuzz_rng_below(struct fuzz_rng *r, uint64_t n);

/* Returns a number in [lo, hi] (lo <= hi). */
int64_t fuzz_rng_range(struct fuzz_rng *r, int64_t lo, int64_t hi);

/* True with probability pct/100. */
bool fuzz_rng_chance(struct fuzz_rng *r, unsigned pct);

/* Returns one of the n strings of list, chosen uniformly. */
const char *fuzz_rng_pick(struct fuzz_rng *r, const char *const *list, size_t n);

#define FUZZ_PICK(r, arr) fuzz_rng_pick((r), (arr), sizeof(arr) / sizeof((arr)[0]))

#endif
