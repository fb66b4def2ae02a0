/* The native reference for the KVM benchmark: the same compute loop as the guest, timed with
 * rdtsc on the host. Usage: native_loop ITERS */
#include <stdio.h>
#include <stdlib.h>

#include "workload.h"

int main(int argc, char** argv) {
    uint64_t iters = argc > 1 ? strtoull(argv[1], NULL, 10) : 200000000ull;
    uint64_t t0 = rdtsc_now();
    uint64_t r = workload(iters);
    uint64_t t1 = rdtsc_now();
    printf("native iters=%lu cycles=%lu result=%lx\n", (unsigned long)iters, (unsigned long)(t1 - t0),
           (unsigned long)r);
    return 0;
}
