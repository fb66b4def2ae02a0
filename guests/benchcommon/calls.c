/* Calls: naive recursive Fibonacci (call/return, stack traffic, compare-and-branch). */
#include "bench.h"

/* noinline + noclone keep the recursion a real call tree at -O2. */
__attribute__((noinline, noclone)) static uint64_t fib(uint32_t n) {
    if (n < 2) return n;
    return fib(n - 1) + fib(n - 2);
}

int main(void) {
    const uint32_t n = SCALE(37, 28);
    bench_result("calls", fib(n));
    return 0;
}
