/* Calls: doubly recursive Fibonacci (call/ret, stack frames, one compare per call), plus a
 * mutually recursive pair so that not every call is the same site. */
#include "bench.h"

__attribute__((noinline)) static uint64_t fib(unsigned n) { return n < 2 ? n : fib(n - 1) + fib(n - 2); }

__attribute__((noinline)) static uint64_t odd(uint64_t n, uint64_t acc);
__attribute__((noinline)) static uint64_t even(uint64_t n, uint64_t acc) {
    return n == 0 ? acc : odd(n - 1, acc * 3 + n);
}
__attribute__((noinline)) static uint64_t odd(uint64_t n, uint64_t acc) {
    return n == 0 ? acc ^ 1 : even(n - 1, acc + (n << 1));
}

int main(void) {
    uint64_t sum = fib(SCALE(36, 25));
    for (unsigned i = 0; i < SCALE(200, 4); i++) sum += even(5000 + i, i);
    bench_result("calls", sum);
    return 0;
}
