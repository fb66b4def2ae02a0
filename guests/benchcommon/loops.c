/* Arithmetic loops: a nest of integer mixing steps (add, mul, xor, shifts, rotates, division
 * by a loop-invariant value) with data-dependent branches, no memory traffic. */
#include "bench.h"

static uint64_t rotl(uint64_t v, unsigned s) { return (v << s) | (v >> (64 - s)); }

int main(void) {
    const uint32_t outer = SCALE(1500, 30);
    uint64_t a = 0x0123456789abcdefull, b = 0x9e3779b97f4a7c15ull, c = 7;
    for (uint32_t i = 0; i < outer; ++i) {
        for (uint32_t j = 0; j < 100000; ++j) {
            a += b ^ (uint64_t)j;
            b = rotl(b, 13) * 0x2545f4914f6cdd1dull;
            if ((a >> 61) == 3) c += a / (uint64_t)(j | 1);
            else c ^= a >> 7;
            a ^= c << 3;
        }
    }
    bench_result("loops", a ^ b ^ c);
    return 0;
}
