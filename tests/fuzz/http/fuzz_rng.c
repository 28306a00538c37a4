/* fuzz_rng.c — splitmix64, seeded per thread. */
#include "fuzz_rng.h"

void fuzz_rng_seed(struct fuzz_rng *r, uint64_t seed, uint64_t stream)
{
    r->state = seed ^ (stream * 0x9e3779b97f4a7c15ULL) ^ 0x5851f42d4c957f2dULL;
    (void)fuzz_rng_next(r);
}

uint64_t fuzz_rng_next(struct fuzz_rng *r)
{
    uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

uint64_t fuzz_rng_below(struct fuzz_rng *r, uint64_t n)
{
    return n ? fuzz_rng_next(r) % n : 0;
}

int64_t fuzz_rng_range(struct fuzz_rng *r, int64_t lo, int64_t hi)
{
    uint64_t span = (uint64_t)hi - (uint64_t)lo + 1;
    if (span == 0) /* the whole int64 range */
        return (int64_t)fuzz_rng_next(r);
    return (int64_t)((uint64_t)lo + fuzz_rng_below(r, span));
}

bool fuzz_rng_chance(struct fuzz_rng *r, unsigned pct)
{
    return fuzz_rng_below(r, 100) < pct;
}

const char *fuzz_rng_pick(struct fuzz_rng *r, const char *const *list, size_t n)
{
    return list[fuzz_rng_below(r, n)];
}
