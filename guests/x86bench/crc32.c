/* CRC32 (IEEE, reflected, table driven, one byte per step) over a 64 KiB buffer, repeated. */
#include "bench.h"

#define BUF 65536

static uint8_t buf[BUF];
static uint32_t table[256];

static void make_table(void) {
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

__attribute__((noinline)) static uint32_t crc32(uint32_t crc, const uint8_t* p, long n) {
    crc = ~crc;
    for (long i = 0; i < n; i++) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

int main(void) {
    make_table();
    uint64_t s = 0x2545f4914f6cdd1dull;
    for (long i = 0; i < BUF; i += 8) {
        uint64_t v = bench_next(&s);
        for (int k = 0; k < 8; k++) buf[i + k] = (uint8_t)(v >> (8 * k));
    }
    uint64_t sum = 0;
    uint32_t crc = 0;
    for (unsigned r = 0; r < SCALE(1000, 20); r++) {
        crc = crc32(crc, buf, BUF);
        sum = sum * 31 + crc;
    }
    bench_result("crc32", sum);
    return 0;
}
