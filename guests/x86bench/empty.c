/* The start-up baseline for callgrind runs: prints a result line and exits. */
#include "bench.h"

int main(void) {
    bench_result("empty", 0);
    return 0;
}
