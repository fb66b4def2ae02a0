/* Shared helpers of the integer benchmark guests (the same programs for AArch64 and x86, built by
 * guests/a64bench and guests/x86bench on their arch's runtime): sizes (full or -DSMALL) and the
 * result line bench/guest_bench.py and bench/x86_guest_bench.py parse. */
#ifndef CORVID_BENCH_H
#define CORVID_BENCH_H

#include <stdint.h>

#include "runtime.h"

/* Each runtime's console printf (runtime.h of guests/a64 or guests/x86). */
#if defined(__aarch64__)
#define bench_printf uart_printf
#else
#define bench_printf printf
#endif

/* SCALE(full, small): the full size for timing, the small one for callgrind runs. */
#ifdef SMALL
#define SCALE(full, small) (small)
#else
#define SCALE(full, small) (full)
#endif

/* One line the harness parses: "<name> checksum 0x<hex>". */
static inline void bench_result(const char* name, uint64_t checksum) {
    bench_printf("%s checksum 0x%lx\n", name, checksum);
}

#endif
