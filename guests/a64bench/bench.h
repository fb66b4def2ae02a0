/* Shared helpers of the AArch64 benchmark guests: sizes (full or -DSMALL) and the result line. */
#ifndef CORVID_A64BENCH_H
#define CORVID_A64BENCH_H

#include <stdint.h>

#include "runtime.h"

/* SCALE(full, small): the full size for timing, the small one for callgrind runs. */
#ifdef SMALL
#define SCALE(full, small) (small)
#else
#define SCALE(full, small) (full)
#endif

/* One line the harness parses: "<name> checksum 0x<hex>". */
static inline void bench_result(const char* name, uint64_t checksum) {
    uart_printf("%s checksum 0x%lx\n", name, checksum);
}

#endif
