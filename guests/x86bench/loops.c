/* Arithmetic loops: nested counted loops of adds, multiplies, shifts, rotates and a data
 * dependent branch, all in registers. */
#include "bench.h"

__attribute__((noinline)) static uint64_t kernel(uint64_t outer, uint64_t inner) {
    uint64_t a = 1, b = 0x243f6a8885a308d3ull, c = 0;
    for (uint64_t i = 0; i < outer; i++) {
        for (uint64_t j = 0; j < inner; j++) {
            a = a * 6364136223846793005ull + j;
            b ^= a >> 29;
            b = (b << 7) | (b >> 57);
            c += (uint32_t)a * (uint64_t)(uint32_t)b;
            if ((a & 0x30) == 0x10) c ^= i;
        }
        c = (c >> 3) + (c << 5) + i;
    }
    return a ^ b ^ c;
}

int main(void) {
    bench_result("loops", kernel(SCALE(8000, 160), 25000));
    return 0;
}
