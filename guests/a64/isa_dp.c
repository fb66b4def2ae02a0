/* ISA exercise, data processing: add/sub (shifted, extended, immediate, carry), flags,
 * conditional select/compare, logical (register and bitmask immediate), move wide, shifts. */
#include "isa.h"

/* Binary op with flag result: r = a OP b, then NZCV. */
#define FLAGOP(insn)                                                                              \
    do {                                                                                          \
        uint64_t r_, f_;                                                                          \
        __asm__ volatile(insn "\n\tmrs %1, nzcv" : "=&r"(r_), "=&r"(f_) : "r"(a), "r"(b) : "cc"); \
        mix(r_);                                                                                  \
        mix(f_);                                                                                  \
    } while (0)

/* Same with a carry-in: NZCV is preset from c before the op. */
#define CARRYOP(insn, cin)                                                               \
    do {                                                                                 \
        uint64_t r_, f_;                                                                 \
        __asm__ volatile("msr nzcv, %4\n\t" insn "\n\tmrs %1, nzcv"                      \
                         : "=&r"(r_), "=&r"(f_)                                          \
                         : "r"(a), "r"(b), "r"((uint64_t)(cin) << 29)                    \
                         : "cc");                                                        \
        mix(r_);                                                                         \
        mix(f_);                                                                         \
    } while (0)

/* Unary op with an immediate encoded in the instruction. */
#define UNOP(insn)                                             \
    do {                                                       \
        uint64_t r_;                                           \
        __asm__ volatile(insn : "=&r"(r_) : "r"(a) : "cc");    \
        mix(r_);                                               \
    } while (0)

#define BINOP(insn)                                                 \
    do {                                                            \
        uint64_t r_;                                                \
        __asm__ volatile(insn : "=&r"(r_) : "r"(a), "r"(b) : "cc"); \
        mix(r_);                                                    \
    } while (0)

static void addsub(void) {
    group_begin();
    for (int i = 0; i < NVALS; i++) {
        for (int j = 0; j < NVALS; j++) {
            uint64_t a = kVals[i], b = kVals[j];
            FLAGOP("adds %0, %2, %3");
            FLAGOP("adds %w0, %w2, %w3");
            FLAGOP("subs %0, %2, %3");
            FLAGOP("subs %w0, %w2, %w3");
            FLAGOP("adds %0, %2, %3, lsl #3");
            FLAGOP("subs %0, %2, %3, asr #7");
            FLAGOP("adds %w0, %w2, %w3, lsr #31");
            FLAGOP("subs %0, %2, %w3, uxtb #2");
            FLAGOP("adds %0, %2, %w3, sxth");
            FLAGOP("subs %0, %2, %w3, sxtw #1");
            FLAGOP("adds %0, %2, %w3, uxtw #4");
            FLAGOP("subs %w0, %w2, %w3, sxtb #3");
            FLAGOP("adds %0, %2, %3, sxtx #2");
            BINOP("add %0, %1, %2, lsl #63");
            BINOP("sub %w0, %w1, %w2, lsr #5");
            BINOP("add %0, %1, %w2, uxth #1");
            CARRYOP("adcs %0, %2, %3", 0);
            CARRYOP("adcs %0, %2, %3", 1);
            CARRYOP("adcs %w0, %w2, %w3", 1);
            CARRYOP("sbcs %0, %2, %3", 0);
            CARRYOP("sbcs %0, %2, %3", 1);
            CARRYOP("sbcs %w0, %w2, %w3", 0);
            CARRYOP("adc %0, %2, %3", 1);
            CARRYOP("sbc %w0, %w2, %w3", 0);
            CARRYOP("ngcs %0, %3", 1);
        }
    }
    group_end("addsub");

    group_begin();
    for (int i = 0; i < NVALS; i++) {
        uint64_t a = kVals[i], b = 0;
        FLAGOP("adds %0, %2, #0xfff");
        FLAGOP("subs %0, %2, #1");
        FLAGOP("subs %w0, %w2, #1, lsl #12");
        FLAGOP("adds %w0, %w2, #0x80");
        FLAGOP("cmp %2, #0\n\tmov %0, %3");
        FLAGOP("cmn %w2, #1\n\tmov %0, %3");
        FLAGOP("negs %0, %2");
        FLAGOP("negs %w0, %w2");
        UNOP("add %0, %1, #4095, lsl #12");
        UNOP("sub %w0, %w1, #7");
        {
            /* ADD (extended register) is the form that takes SP as the first source. */
            uint64_t r_;
            __asm__ volatile("add %0, sp, %1\n\tmov x9, sp\n\tsub %0, %0, x9" : "=&r"(r_) : "r"(a) : "x9");
            mix(r_);
        }
    }
    group_end("addsub-imm");
}

/* All 16 condition codes evaluated under the flags in f, one bit each. */
static unsigned cond_mask(uint64_t f) {
    unsigned m = 0;
#define COND(c, bit)                                                                             \
    do {                                                                                         \
        uint64_t r_;                                                                             \
        __asm__ volatile("msr nzcv, %1\n\tcsinc %w0, wzr, wzr, " #c : "=r"(r_) : "r"(f) : "cc"); \
        m |= (unsigned)(r_ == 0) << (bit);                                                      \
    } while (0)
    COND(eq, 0);
    COND(ne, 1);
    COND(cs, 2);
    COND(cc, 3);
    COND(mi, 4);
    COND(pl, 5);
    COND(vs, 6);
    COND(vc, 7);
    COND(hi, 8);
    COND(ls, 9);
    COND(ge, 10);
    COND(lt, 11);
    COND(gt, 12);
    COND(le, 13);
    COND(al, 14);
    COND(nv, 15);
#undef COND
    return m;
}

static void conditional(void) {
    /* Truth table of every condition under every NZCV value: printed in full. */
    uart_puts("cond-table:");
    for (uint64_t nzcv = 0; nzcv < 16; nzcv++) uart_printf(" %04x", cond_mask(nzcv << 28));
    uart_puts("\n");

    group_begin();
    for (int i = 0; i < NVALS; i++) {
        for (int j = 0; j < NVALS; j++) {
            uint64_t a = kVals[i], b = kVals[j];
            uint64_t f;
            __asm__ volatile("cmp %1, %2\n\tmrs %0, nzcv" : "=r"(f) : "r"(a), "r"(b) : "cc");
            mix(cond_mask(f));
            __asm__ volatile("cmp %w1, %w2\n\tmrs %0, nzcv" : "=r"(f) : "r"(a), "r"(b) : "cc");
            mix(cond_mask(f));
            BINOP("cmp %1, %2\n\tcsel %0, %1, %2, lt");
            BINOP("cmp %1, %2\n\tcsel %0, %1, %2, hi");
            BINOP("cmp %w1, %w2\n\tcsinc %w0, %w1, %w2, ge");
            BINOP("cmp %1, %2\n\tcsinv %0, %1, %2, le");
            BINOP("cmp %1, %2\n\tcsneg %0, %1, %2, vs");
            BINOP("cmp %w1, %w2\n\tcsneg %w0, %w1, %w2, mi");
            BINOP("cmn %1, %2\n\tcset %0, cs");
            BINOP("cmn %w1, %w2\n\tcsetm %w0, vc");
            BINOP("tst %1, %2\n\tcinc %0, %1, eq");
            BINOP("cmp %1, #0\n\tcinv %0, %2, ne");
            BINOP("cmp %1, %2\n\tcneg %0, %1, pl");
            FLAGOP("cmp %2, #5\n\tccmp %2, %3, #0x4, ne\n\tcset %0, eq");
            FLAGOP("cmp %2, #5\n\tccmp %2, %3, #0xb, eq\n\tcset %0, gt");
            FLAGOP("cmp %w2, %w3\n\tccmn %w2, #3, #0x2, lo\n\tcset %0, hs");
            FLAGOP("tst %2, #1\n\tccmn %2, %3, #0xf, ne\n\tcset %0, lt");
            FLAGOP("subs %0, %2, %3\n\tccmp %w3, #31, #0, le");
        }
    }
    group_end("condsel");
}

static void logical(void) {
    group_begin();
    for (int i = 0; i < NVALS; i++) {
        for (int j = 0; j < NVALS; j++) {
            uint64_t a = kVals[i], b = kVals[j] ^ 0x0f0f0f0f0f0f0f0fUL;
            BINOP("and %0, %1, %2");
            BINOP("orr %0, %1, %2, lsl #17");
            BINOP("eor %0, %1, %2, lsr #9");
            BINOP("bic %0, %1, %2, asr #40");
            BINOP("orn %0, %1, %2, ror #13");
            BINOP("eon %w0, %w1, %w2, ror #7");
            BINOP("and %w0, %w1, %w2, asr #3");
            BINOP("orr %w0, %w1, %w2");
            BINOP("bic %w0, %w1, %w2, lsl #31");
            FLAGOP("ands %0, %2, %3");
            FLAGOP("ands %w0, %w2, %w3, lsl #1");
            FLAGOP("bics %0, %2, %3, ror #63");
            FLAGOP("bics %w0, %w2, %w3");
            FLAGOP("tst %2, %3, lsr #1\n\tmov %0, #0");
        }
    }
    group_end("logical");

    group_begin();
    for (int i = 0; i < NVALS; i++) {
        uint64_t a = kVals[i], b = 0;
        UNOP("and %0, %1, #0xff");
        UNOP("and %0, %1, #0x00ff00ff00ff00ff");
        UNOP("orr %0, %1, #0x5555555555555555");
        UNOP("orr %0, %1, #0x8000000000000001");
        UNOP("eor %0, %1, #0xfffffffffffffffe");
        UNOP("eor %0, %1, #0x0000ffff0000ffff");
        UNOP("and %0, %1, #0x7ffffffffffff800");
        UNOP("orr %w0, %w1, #0x3c");
        UNOP("eor %w0, %w1, #0xf00ff00f");
        UNOP("and %w0, %w1, #0x80000001");
        UNOP("mov %0, #0x3333333333333333\n\tand %0, %0, %1");
        FLAGOP("ands %0, %2, #0x8000000000000000");
        FLAGOP("ands %w0, %w2, #0xfffe");
        FLAGOP("tst %w2, #0x1\n\tmov %0, #1");
    }
    group_end("logical-imm");
}

static void move_wide(void) {
    uint64_t r[12];
    __asm__ volatile("movz %0, #0x1234, lsl #48" : "=r"(r[0]));
    __asm__ volatile("movz %w0, #0xbeef, lsl #16" : "=r"(r[1]));
    __asm__ volatile("movn %0, #0x1234, lsl #16" : "=r"(r[2]));
    __asm__ volatile("movn %w0, #0x1" : "=r"(r[3]));
    __asm__ volatile("mov %0, #-1\n\tmovk %0, #0xabcd, lsl #32" : "=&r"(r[4]));
    __asm__ volatile("mov %w0, #-1\n\tmovk %w0, #0x5a5a, lsl #16" : "=&r"(r[5]));
    __asm__ volatile("movz %0, #1\n\tmovk %0, #2, lsl #16\n\tmovk %0, #3, lsl #32\n\tmovk %0, #4, lsl #48"
                     : "=&r"(r[6]));
    __asm__ volatile("movn %w0, #0xffff, lsl #16" : "=r"(r[7]));
    __asm__ volatile("mov %0, #0xffffffffffff0000" : "=r"(r[8]));
    __asm__ volatile("mov %w0, #0x80000000" : "=r"(r[9]));
    __asm__ volatile("mov %0, xzr\n\tmovk %0, #0xffff, lsl #48" : "=&r"(r[10]));
    __asm__ volatile("mov %0, #-2\n\tmov %w0, %w0" : "=&r"(r[11]));
    uart_puts("movewide:");
    for (int i = 0; i < 12; i++) uart_printf(" %lx", r[i]);
    uart_puts("\n");
}

static void shifts(void) {
    static const uint64_t kAmounts[] = {0, 1, 7, 31, 32, 33, 63, 64, 65, 0xffffffffffffffffUL};
    group_begin();
    for (int i = 0; i < NVALS; i++) {
        for (unsigned j = 0; j < sizeof(kAmounts) / sizeof(kAmounts[0]); j++) {
            uint64_t a = kVals[i], b = kAmounts[j];
            BINOP("lslv %0, %1, %2");
            BINOP("lsrv %0, %1, %2");
            BINOP("asrv %0, %1, %2");
            BINOP("rorv %0, %1, %2");
            BINOP("lslv %w0, %w1, %w2");
            BINOP("lsrv %w0, %w1, %w2");
            BINOP("asrv %w0, %w1, %w2");
            BINOP("rorv %w0, %w1, %w2");
        }
        uint64_t a = kVals[i];
        UNOP("lsl %0, %1, #13");
        UNOP("lsr %0, %1, #63");
        UNOP("asr %0, %1, #35");
        UNOP("ror %0, %1, #1");
        UNOP("lsl %w0, %w1, #31");
        UNOP("lsr %w0, %w1, #4");
        UNOP("asr %w0, %w1, #31");
        UNOP("ror %w0, %w1, #16");
    }
    group_end("shifts");
}

void isa_data_processing(void) {
    addsub();
    conditional();
    logical();
    move_wide();
    shifts();
}
