/* ISA exercise: bitfield moves, extract, bit counting/reversal, multiply and divide. */
#include "isa.h"

#define UNOP(insn)                                          \
    do {                                                    \
        uint64_t r_;                                        \
        __asm__ volatile(insn : "=&r"(r_) : "r"(a) : "cc"); \
        mix(r_);                                            \
    } while (0)

#define BINOP(insn)                                                 \
    do {                                                            \
        uint64_t r_;                                                \
        __asm__ volatile(insn : "=&r"(r_) : "r"(a), "r"(b) : "cc"); \
        mix(r_);                                                    \
    } while (0)

/* Insert-type ops read their destination: start from b. */
#define INSOP(insn)                                          \
    do {                                                     \
        uint64_t r_ = b;                                     \
        __asm__ volatile(insn : "+r"(r_) : "r"(a) : "cc");   \
        mix(r_);                                             \
    } while (0)

#define TERNOP(insn)                                                          \
    do {                                                                      \
        uint64_t r_;                                                          \
        __asm__ volatile(insn : "=&r"(r_) : "r"(a), "r"(b), "r"(c) : "cc");   \
        mix(r_);                                                              \
    } while (0)

static void bitfield(void) {
    group_begin();
    for (int i = 0; i < NVALS; i++) {
        uint64_t a = kVals[i], b = kVals[(i + 5) % NVALS];
        UNOP("ubfx %0, %1, #4, #8");
        UNOP("ubfx %0, %1, #60, #4");
        UNOP("sbfx %0, %1, #60, #4");
        UNOP("sbfx %0, %1, #0, #1");
        UNOP("sbfx %w0, %w1, #3, #5");
        UNOP("ubfx %w0, %w1, #31, #1");
        UNOP("ubfiz %0, %1, #12, #20");
        UNOP("sbfiz %0, %1, #33, #7");
        UNOP("sbfiz %w0, %w1, #4, #28");
        UNOP("sxtb %0, %w1");
        UNOP("sxth %0, %w1");
        UNOP("sxtw %0, %w1");
        UNOP("sxtb %w0, %w1");
        UNOP("uxtb %w0, %w1");
        UNOP("uxth %w0, %w1");
        UNOP("ubfm %0, %1, #60, #3");
        UNOP("sbfm %0, %1, #8, #2");
        UNOP("sbfm %w0, %w1, #30, #1");
        INSOP("bfi %0, %1, #8, #16");
        INSOP("bfi %w0, %w1, #28, #4");
        INSOP("bfxil %0, %1, #40, #24");
        INSOP("bfxil %w0, %w1, #0, #1");
        INSOP("bfm %0, %1, #62, #5");
        INSOP("bfi %0, xzr, #3, #50");
        BINOP("extr %0, %1, %2, #13");
        BINOP("extr %0, %1, %2, #0");
        BINOP("extr %w0, %w1, %w2, #31");
        BINOP("extr %w0, %w1, %w2, #1");
    }
    group_end("bitfield");
}

static void bit_ops(void) {
    group_begin();
    for (int i = 0; i < NVALS; i++) {
        for (int k = 0; k < 3; k++) {
            uint64_t a = kVals[i] >> (k * 5);
            if (k == 2) a = ~a;
            UNOP("clz %0, %1");
            UNOP("cls %0, %1");
            UNOP("rbit %0, %1");
            UNOP("rev %0, %1");
            UNOP("rev16 %0, %1");
            UNOP("rev32 %0, %1");
            UNOP("clz %w0, %w1");
            UNOP("cls %w0, %w1");
            UNOP("rbit %w0, %w1");
            UNOP("rev %w0, %w1");
            UNOP("rev16 %w0, %w1");
        }
    }
    group_end("bitops");

    /* A few results spelled out so a mismatch is easy to read. */
    uint64_t a = 0x00f0000000000001UL;
    uint64_t r0, r1, r2, r3;
    __asm__("clz %0, %1" : "=r"(r0) : "r"(a));
    __asm__("cls %0, %1" : "=r"(r1) : "r"(~a));
    __asm__("rbit %0, %1" : "=r"(r2) : "r"(a));
    __asm__("rev %0, %1" : "=r"(r3) : "r"(a));
    uart_printf("bitops-sample: %lx %lx %lx %lx\n", r0, r1, r2, r3);
}

static void muldiv(void) {
    group_begin();
    for (int i = 0; i < NVALS; i++) {
        for (int j = 0; j < NVALS; j++) {
            uint64_t a = kVals[i], b = kVals[j], c = kVals[(i + j) % NVALS];
            BINOP("mul %0, %1, %2");
            BINOP("mul %w0, %w1, %w2");
            BINOP("mneg %0, %1, %2");
            TERNOP("madd %0, %1, %2, %3");
            TERNOP("msub %0, %1, %2, %3");
            TERNOP("madd %w0, %w1, %w2, %w3");
            TERNOP("msub %w0, %w1, %w2, %w3");
            TERNOP("smaddl %0, %w1, %w2, %3");
            TERNOP("umaddl %0, %w1, %w2, %3");
            TERNOP("smsubl %0, %w1, %w2, %3");
            TERNOP("umsubl %0, %w1, %w2, %3");
            BINOP("smull %0, %w1, %w2");
            BINOP("umull %0, %w1, %w2");
            BINOP("smulh %0, %1, %2");
            BINOP("umulh %0, %1, %2");
            BINOP("udiv %0, %1, %2");
            BINOP("sdiv %0, %1, %2");
            BINOP("udiv %w0, %w1, %w2");
            BINOP("sdiv %w0, %w1, %w2");
        }
    }
    group_end("muldiv");

    /* Division corner cases spelled out: by zero gives 0, INT_MIN / -1 gives INT_MIN. */
    uint64_t r[6];
    uint64_t zero = 0, m1 = ~0UL, min64 = 0x8000000000000000UL, min32 = 0x80000000UL, seven = 7;
    __asm__("udiv %0, %1, %2" : "=r"(r[0]) : "r"(seven), "r"(zero));
    __asm__("sdiv %0, %1, %2" : "=r"(r[1]) : "r"(m1), "r"(zero));
    __asm__("sdiv %0, %1, %2" : "=r"(r[2]) : "r"(min64), "r"(m1));
    __asm__("sdiv %w0, %w1, %w2" : "=r"(r[3]) : "r"(min32), "r"(m1));
    __asm__("sdiv %0, %1, %2" : "=r"(r[4]) : "r"(m1 - 6), "r"(seven - 5));
    __asm__("umulh %0, %1, %2" : "=r"(r[5]) : "r"(m1), "r"(m1));
    uart_printf("div-corner: %lx %lx %lx %lx %lx %lx\n", r[0], r[1], r[2], r[3], r[4], r[5]);
}

void isa_bits_and_muldiv(void) {
    bitfield();
    bit_ops();
    muldiv();
}
