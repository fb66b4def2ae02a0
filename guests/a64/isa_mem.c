/* ISA exercise: load/store forms (sizes, sign extension, offsets, pre/post index, register
 * offset, literal, pairs, exclusives, acquire/release). All accesses are naturally aligned:
 * with the MMU off memory is Device-typed and unaligned accesses fault. */
#include "isa.h"

static uint64_t buf[16] __attribute__((aligned(64)));

static void fill(void) {
    for (int i = 0; i < 16; i++) buf[i] = 0x8091a2b3c4d5e6f7UL * (uint64_t)(i + 1) ^ ((uint64_t)i << 56);
}

static void mix_buf(void) {
    for (int i = 0; i < 16; i++) mix(buf[i]);
}

static void basic_forms(void) {
    uint8_t* base = (uint8_t*)buf;
    group_begin();
    fill();
    uint64_t r0, r1, r2, r3, r4, r5, r6, r7;
    __asm__ volatile(
        "ldrb %w0, [%8, #15]\n\t"
        "ldrsb %w1, [%8, #7]\n\t"
        "ldrsb %2, [%8, #6]\n\t"
        "ldrh %w3, [%8, #14]\n\t"
        "ldrsh %w4, [%8, #22]\n\t"
        "ldrsh %5, [%8, #30]\n\t"
        "ldrsw %6, [%8, #36]\n\t"
        "ldr %w7, [%8, #44]\n\t"
        : "=&r"(r0), "=&r"(r1), "=&r"(r2), "=&r"(r3), "=&r"(r4), "=&r"(r5), "=&r"(r6), "=&r"(r7)
        : "r"(base)
        : "memory");
    mix(r0), mix(r1), mix(r2), mix(r3), mix(r4), mix(r5), mix(r6), mix(r7);
    __asm__ volatile(
        "ldr %0, [%8, #120]\n\t"
        "ldur %1, [%8, #-8]\n\t"
        "ldurb %w2, [%8, #-1]\n\t"
        "ldursh %3, [%8, #-2]\n\t"
        "ldursw %4, [%8, #-4]\n\t"
        "ldur %w5, [%8, #-12]\n\t"
        "ldurh %w6, [%8, #-6]\n\t"
        "ldursb %w7, [%8, #-3]\n\t"
        : "=&r"(r0), "=&r"(r1), "=&r"(r2), "=&r"(r3), "=&r"(r4), "=&r"(r5), "=&r"(r6), "=&r"(r7)
        : "r"(base + 64)
        : "memory");
    mix(r0), mix(r1), mix(r2), mix(r3), mix(r4), mix(r5), mix(r6), mix(r7);
    uint64_t v = 0x0123456789abcdefUL;
    __asm__ volatile(
        "strb %w1, [%0, #1]\n\t"
        "strh %w1, [%0, #10]\n\t"
        "str %w1, [%0, #20]\n\t"
        "str %1, [%0, #32]\n\t"
        "sturb %w1, [%2, #-61]\n\t"
        "sturh %w1, [%2, #-50]\n\t"
        "stur %w1, [%2, #-36]\n\t"
        "stur %1, [%2, #-24]\n\t"
        "str xzr, [%0, #48]\n\t"
        "strb wzr, [%0, #57]\n\t"
        :
        : "r"(base), "r"(v), "r"(base + 64)
        : "memory");
    __asm__ volatile("" ::: "memory");
    mix_buf();
    group_end("ldst-imm");
}

static void index_forms(void) {
    uint8_t* base = (uint8_t*)buf;
    group_begin();
    fill();
    uint64_t p, a, b;
    /* Pre-index and post-index: the loaded value and the written-back base. */
    p = (uint64_t)(base + 64);
    __asm__ volatile("ldr %0, [%1, #8]!" : "=r"(a), "+r"(p)::"memory");
    mix(a), mix(p - (uint64_t)base);
    __asm__ volatile("ldr %0, [%1], #-16" : "=r"(a), "+r"(p)::"memory");
    mix(a), mix(p - (uint64_t)base);
    __asm__ volatile("ldrb %w0, [%1, #-3]!" : "=r"(a), "+r"(p)::"memory");
    mix(a), mix(p - (uint64_t)base);
    __asm__ volatile("ldrsh %0, [%1, #-1]!" : "=r"(a), "+r"(p)::"memory");
    mix(a), mix(p - (uint64_t)base);
    __asm__ volatile("ldrh %w0, [%1], #4" : "=r"(a), "+r"(p)::"memory");
    mix(a), mix(p - (uint64_t)base);
    __asm__ volatile("ldrsw %0, [%1, #4]!" : "=r"(a), "+r"(p)::"memory");
    mix(a), mix(p - (uint64_t)base);
    __asm__ volatile("str %w2, [%1, #-4]!\n\tstrb %w2, [%1], #255" : "=r"(a), "+r"(p) : "r"(0xa5a5a5a5UL) : "memory");
    mix(p - (uint64_t)base);
    p = (uint64_t)(base + 16);
    __asm__ volatile("str %2, [%1], #8\n\tstrh %w2, [%1, #6]!" : "=r"(a), "+r"(p) : "r"(0x1122334455667788UL) : "memory");
    mix(p - (uint64_t)base);
    mix_buf();

    /* Register offsets with shifts and extends, including a negative 32-bit index. */
    fill();
    uint64_t idx = 3;
    uint64_t nidx = (uint64_t)-2; /* w-register: 0xfffffffe, sign-extended by sxtw */
    uint8_t* mid = base + 64;
    __asm__ volatile("ldr %0, [%1, %2, lsl #3]" : "=r"(a) : "r"(base), "r"(idx) : "memory");
    mix(a);
    __asm__ volatile("ldr %w0, [%1, %w2, uxtw #2]" : "=r"(a) : "r"(base), "r"(idx) : "memory");
    mix(a);
    __asm__ volatile("ldr %0, [%1, %w2, sxtw #3]" : "=r"(a) : "r"(mid), "r"(nidx) : "memory");
    mix(a);
    __asm__ volatile("ldrsh %0, [%1, %w2, sxtw]" : "=r"(a) : "r"(mid), "r"(nidx) : "memory");
    mix(a);
    __asm__ volatile("ldrb %w0, [%1, %2]" : "=r"(a) : "r"(base), "r"(idx) : "memory");
    mix(a);
    __asm__ volatile("ldrsb %0, [%1, %2, lsl #0]" : "=r"(a) : "r"(base), "r"(idx + 4) : "memory");
    mix(a);
    __asm__ volatile("ldrh %w0, [%1, %2, lsl #1]" : "=r"(a) : "r"(base), "r"(idx) : "memory");
    mix(a);
    __asm__ volatile("ldrsw %0, [%1, %2, lsl #2]" : "=r"(a) : "r"(base), "r"(idx) : "memory");
    mix(a);
    __asm__ volatile("str %2, [%0, %1, lsl #3]" ::"r"(base), "r"(idx + 8), "r"(0xdeadbeefcafef00dUL) : "memory");
    __asm__ volatile("strh %w2, [%0, %w1, sxtw #1]" ::"r"(mid), "r"(nidx), "r"(0x7777UL) : "memory");
    __asm__ volatile("prfm pldl1keep, [%0, #64]\n\tprfm pstl2strm, [%0, %1]" ::"r"(base), "r"(idx) : "memory");
    mix_buf();
    group_end("ldst-index");
    (void)b;
}

static void literal_forms(void) {
    uint64_t a, b, c, d;
    __asm__ volatile(
        "ldr %0, 1f\n\t"
        "ldr %w1, 2f\n\t"
        "ldrsw %2, 2f\n\t"
        "ldr %3, =0xbadc0ffee0ddf00d\n\t"
        "b 3f\n\t"
        ".balign 8\n"
        "1: .quad 0x0123456789abcdef\n"
        "2: .word 0x89abcdef\n"
        ".ltorg\n"
        "3:"
        : "=&r"(a), "=&r"(b), "=&r"(c), "=&r"(d));
    uart_printf("ldr-literal: %lx %lx %lx %lx\n", a, b, c, d);
}

static void pair_forms(void) {
    uint8_t* base = (uint8_t*)buf;
    group_begin();
    fill();
    uint64_t a, b, p;
    __asm__ volatile("ldp %0, %1, [%2, #16]" : "=&r"(a), "=&r"(b) : "r"(base) : "memory");
    mix(a), mix(b);
    __asm__ volatile("ldp %w0, %w1, [%2, #-8]" : "=&r"(a), "=&r"(b) : "r"(base + 64) : "memory");
    mix(a), mix(b);
    __asm__ volatile("ldpsw %0, %1, [%2, #24]" : "=&r"(a), "=&r"(b) : "r"(base) : "memory");
    mix(a), mix(b);
    __asm__ volatile("ldnp %0, %1, [%2, #32]" : "=&r"(a), "=&r"(b) : "r"(base) : "memory");
    mix(a), mix(b);
    p = (uint64_t)(base + 64);
    __asm__ volatile("ldp %0, %1, [%2, #-32]!" : "=&r"(a), "=&r"(b), "+r"(p)::"memory");
    mix(a), mix(b), mix(p - (uint64_t)base);
    __asm__ volatile("ldp %0, %1, [%2], #48" : "=&r"(a), "=&r"(b), "+r"(p)::"memory");
    mix(a), mix(b), mix(p - (uint64_t)base);
    __asm__ volatile("stp %1, %2, [%0, #-16]!" : "+r"(p) : "r"(0x1111UL), "r"(0x2222UL) : "memory");
    mix(p - (uint64_t)base);
    __asm__ volatile("stp %w1, %w2, [%0], #-8" : "+r"(p) : "r"(0x33333333UL), "r"(0x44444444UL) : "memory");
    mix(p - (uint64_t)base);
    __asm__ volatile("stp xzr, %1, [%0, #-48]" ::"r"(p), "r"(0x5555UL) : "memory");
    __asm__ volatile("stnp %1, %2, [%0]" ::"r"(base), "r"(0x66UL), "r"(0x77UL) : "memory");
    mix_buf();
    group_end("ldst-pair");
}

static void exclusive_forms(void) {
    uint8_t* base = (uint8_t*)buf;
    group_begin();
    fill();
    uint64_t v, s, v2;
    __asm__ volatile("ldxr %0, [%2]\n\tadd %0, %0, #1\n\tstxr %w1, %0, [%2]"
                     : "=&r"(v), "=&r"(s)
                     : "r"(base)
                     : "memory");
    mix(v), mix(s);
    __asm__ volatile("ldaxr %w0, [%2]\n\teor %w0, %w0, #0xff\n\tstlxr %w1, %w0, [%2]"
                     : "=&r"(v), "=&r"(s)
                     : "r"(base + 8)
                     : "memory");
    mix(v), mix(s);
    __asm__ volatile("ldxrb %w0, [%2]\n\tstxrb %w1, %w0, [%2, #0]" : "=&r"(v), "=&r"(s) : "r"(base + 17) : "memory");
    mix(v), mix(s);
    __asm__ volatile("ldaxrh %w0, [%2]\n\tadd %w0, %w0, #2\n\tstlxrh %w1, %w0, [%2]"
                     : "=&r"(v), "=&r"(s)
                     : "r"(base + 18)
                     : "memory");
    mix(v), mix(s);
    __asm__ volatile("ldxp %0, %1, [%3]\n\tstxp %w2, %1, %0, [%3]"
                     : "=&r"(v), "=&r"(v2), "=&r"(s)
                     : "r"(base + 32)
                     : "memory");
    mix(v), mix(v2), mix(s);
    __asm__ volatile("ldaxp %w0, %w1, [%3]\n\tstlxp %w2, %w1, %w0, [%3]"
                     : "=&r"(v), "=&r"(v2), "=&r"(s)
                     : "r"(base + 48)
                     : "memory");
    mix(v), mix(v2), mix(s);
    /* After clrex the monitor is open: the store must fail and leave memory alone. */
    __asm__ volatile("ldxr %0, [%2]\n\tclrex\n\tstxr %w1, xzr, [%2]" : "=&r"(v), "=&r"(s) : "r"(base + 56) : "memory");
    mix(v), mix(s);
    unsigned fail_status = (unsigned)s;
    /* Acquire/release loads and stores. */
    __asm__ volatile("ldar %0, [%1]" : "=r"(v) : "r"(base + 64) : "memory");
    mix(v);
    __asm__ volatile("ldarb %w0, [%1]" : "=r"(v) : "r"(base + 73) : "memory");
    mix(v);
    __asm__ volatile("ldarh %w0, [%1]" : "=r"(v) : "r"(base + 82) : "memory");
    mix(v);
    __asm__ volatile("ldar %w0, [%1]" : "=r"(v) : "r"(base + 92) : "memory");
    mix(v);
    __asm__ volatile("stlr %0, [%1]" ::"r"(0xabcdUL), "r"(base + 96) : "memory");
    __asm__ volatile("stlrb %w0, [%1]" ::"r"(0xefUL), "r"(base + 105) : "memory");
    __asm__ volatile("stlrh %w0, [%1]" ::"r"(0x1234UL), "r"(base + 110) : "memory");
    __asm__ volatile("stlr %w0, [%1]" ::"r"(0x98765432UL), "r"(base + 116) : "memory");
    __asm__ volatile("dmb ish\n\tdsb sy\n\tisb" ::: "memory");
    mix_buf();
    group_end("ldst-excl");
    uart_printf("exclusive: stxr after clrex -> %u\n", fail_status);
}

void isa_load_store(void) {
    basic_forms();
    index_forms();
    literal_forms();
    pair_forms();
    exclusive_forms();
}
