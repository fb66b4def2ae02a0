/* Integer ISA exercise: runs each instruction group over fixed operands and prints one line
 * of results per group. The output is deterministic and compared against QEMU. */
#include "isa.h"

const uint64_t kVals[NVALS] = {
    0x0000000000000000UL, 0x0000000000000001UL, 0x0000000000000002UL, 0x000000000000007fUL,
    0x0000000000000080UL, 0x000000007fffffffUL, 0x0000000080000000UL, 0x00000000ffffffffUL,
    0x0000000100000000UL, 0x7fffffffffffffffUL, 0x8000000000000000UL, 0xffffffffffffffffUL,
    0x123456789abcdef0UL, 0xfedcba9876543210UL, 0x5555555555555555UL, 0xfffffffffffffffeUL,
};

static uint64_t g_hash;
static unsigned g_count;

void group_begin(void) {
    g_hash = 0xcbf29ce484222325UL;
    g_count = 0;
}

void mix(uint64_t v) {
    g_hash = (g_hash ^ v) * 0x100000001b3UL;
    g_hash ^= g_hash >> 29;
    g_count++;
}

void group_end(const char* name) { uart_printf("%s: n=%u hash=%016lx\n", name, g_count, g_hash); }

int main(void) {
    uart_puts("isa: start\n");
    isa_data_processing();
    isa_bits_and_muldiv();
    isa_branches();
    isa_load_store();
    isa_sysregs();
    isa_programs();
    uart_puts("isa: done\n");
    return 0;
}
