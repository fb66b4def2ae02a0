/* CRC32 (IEEE, reflected, table-driven, byte at a time) over a 64 KiB buffer, many passes. */
#include "bench.h"

#define BUF 65536

static uint32_t table[256];
static uint8_t buf[BUF];

static void make_table(void) {
    for (uint32_t i = 0; i < 256; ++i) {
        uint32_t c = i;
        for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xedb88320u ^ (c >> 1) : c >> 1;
        table[i] = c;
    }
}

static uint32_t crc32(uint32_t crc, const uint8_t* p, long n) {
    crc = ~crc;
    for (long i = 0; i < n; ++i) crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

int main(void) {
    make_table();
    uint32_t x = 1;
    for (long i = 0; i < BUF; ++i) {
        x = x * 1103515245u + 12345u;
        buf[i] = (uint8_t)(x >> 16);
    }
    /* Known answer first: CRC32("123456789") = 0xcbf43926. */
    if (crc32(0, (const uint8_t*)"123456789", 9) != 0xcbf43926u) bench_printf("crc32: WRONG known answer\n");
    uint32_t crc = 0;
    const int passes = SCALE(2000, 40);
    for (int r = 0; r < passes; ++r) crc = crc32(crc, buf, BUF);
    bench_result("crc32", crc);
    return 0;
}
