/* Shared helpers of the x86 integer benchmark guests: sizes (full or -DSMALL) and the result
 * line that bench/x86_guest_bench.py parses. */
#ifndef CORVID_X86BENCH_BENCH_H
#define CORVID_X86BENCH_BENCH_H

#include <stdint.h>

#include "runtime.h"

/* SCALE(full, small): the full size for timing, the small one for callgrind runs. */
#ifdef SMALL
#define SCALE(full, small) (small)
#else
#define SCALE(full, small) (full)
#endif

/* One line the harness parses: "<name> checksum 0x<hex>". */
static inline void bench_result(const char* name, uint64_t checksum) { printf("%s checksum 0x%lx\n", name, checksum); }

/* A small deterministic generator for the inputs (xorshift64). */
static inline uint64_t bench_next(uint64_t* s) {
    uint64_t x = *s;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    *s = x;
    return x;
}

#endif
