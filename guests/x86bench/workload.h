/* The compute loop shared by the ring-3 guest and the native reference program, so both run
 * exactly the same code: a xorshift generator summed over `iters` steps. */
#ifndef CORVID_X86BENCH_WORKLOAD_H
#define CORVID_X86BENCH_WORKLOAD_H

#include <stdint.h>

static inline uint64_t rdtsc_now(void) {
    uint32_t lo, hi;
    __asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi)::"memory");
    return ((uint64_t)hi << 32) | lo;
}

__attribute__((noinline)) static uint64_t workload(uint64_t iters) {
    uint64_t x = 0x9e3779b97f4a7c15ull, sum = 0;
    for (uint64_t i = 0; i < iters; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        sum += x ^ (sum >> 3);
    }
    return sum;
}

#endif
