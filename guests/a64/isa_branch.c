/* ISA exercise: every branch kind (b, bl, br, blr, ret, b.cond, cbz/cbnz, tbz/tbnz). */
#include "isa.h"

/* b.cond under flags f: bit set when taken. */
static unsigned bcond_mask(uint64_t f) {
    unsigned m = 0;
#define BC(c, bit)                                                      \
    do {                                                                \
        unsigned t_;                                                    \
        __asm__ volatile("msr nzcv, %1\n\tmov %w0, #1\n\tb." #c " 1f\n\t" \
                         "mov %w0, #0\n1:"                              \
                         : "=&r"(t_)                                    \
                         : "r"(f)                                       \
                         : "cc");                                       \
        m |= t_ << (bit);                                               \
    } while (0)
    BC(eq, 0);
    BC(ne, 1);
    BC(hs, 2);
    BC(lo, 3);
    BC(mi, 4);
    BC(pl, 5);
    BC(vs, 6);
    BC(vc, 7);
    BC(hi, 8);
    BC(ls, 9);
    BC(ge, 10);
    BC(lt, 11);
    BC(gt, 12);
    BC(le, 13);
    BC(al, 14);
    BC(nv, 15);
#undef BC
    return m;
}

static unsigned __attribute__((noinline)) callee(unsigned x) { return x * 3 + 1; }

void isa_branches(void) {
    uart_puts("bcond-table:");
    for (uint64_t nzcv = 0; nzcv < 16; nzcv++) uart_printf(" %04x", bcond_mask(nzcv << 28));
    uart_puts("\n");

    group_begin();
    for (int i = 0; i < NVALS; i++) {
        uint64_t v = kVals[i];
        unsigned t;
        __asm__ volatile("mov %w0, #1\n\tcbz %1, 1f\n\tmov %w0, #0\n1:" : "=&r"(t) : "r"(v));
        mix(t);
        __asm__ volatile("mov %w0, #1\n\tcbnz %w1, 1f\n\tmov %w0, #0\n1:" : "=&r"(t) : "r"(v));
        mix(t);
        __asm__ volatile("mov %w0, #1\n\ttbz %1, #63, 1f\n\tmov %w0, #0\n1:" : "=&r"(t) : "r"(v));
        mix(t);
        __asm__ volatile("mov %w0, #1\n\ttbnz %w1, #0, 1f\n\tmov %w0, #0\n1:" : "=&r"(t) : "r"(v));
        mix(t);
        __asm__ volatile("mov %w0, #1\n\ttbnz %1, #32, 1f\n\tmov %w0, #0\n1:" : "=&r"(t) : "r"(v));
        mix(t);
        __asm__ volatile("mov %w0, #1\n\ttbz %w1, #7, 1f\n\tmov %w0, #0\n1:" : "=&r"(t) : "r"(v));
        mix(t);
    }
    group_end("cbz-tbz");

    /* b (forward and backward), bl/ret, br and blr through registers, ret to another register. */
    uint64_t trace = 0;
    __asm__ volatile(
        "b 2f\n"
        "1: orr %0, %0, #0x2\n\t"
        "b 3f\n"
        "2: orr %0, %0, #0x1\n\t"
        "b 1b\n"
        "3: bl 4f\n\t"
        "orr %0, %0, #0x8\n\t"
        "b 5f\n"
        "4: orr %0, %0, #0x4\n\t"
        "ret\n"
        "5: adr x9, 6f\n\t"
        "br x9\n\t"
        "orr %0, %0, #0x8000\n"
        "6: orr %0, %0, #0x10\n\t"
        "adr x10, 7f\n\t"
        "blr x10\n\t"
        "orr %0, %0, #0x40\n\t"
        "b 8f\n"
        "7: orr %0, %0, #0x20\n\t"
        "mov x11, x30\n\t"
        "ret x11\n"
        "8:"
        : "+r"(trace)
        :
        : "x9", "x10", "x11", "x30", "memory");
    uart_printf("branches: trace=%lx\n", trace);

    /* Link register value and a computed jump table. */
    uint64_t lr_off;
    __asm__ volatile(
        "adr x9, 1f\n\t"
        "bl 2f\n"
        "1: b 3f\n"
        "2: sub %0, x30, x9\n\t"
        "ret\n"
        "3:"
        : "=&r"(lr_off)
        :
        : "x9", "x30", "memory");
    unsigned sum = 0;
    for (unsigned k = 0; k < 8; k++) {
        unsigned r;
        __asm__ volatile(
            "adr x9, 1f\n\t"
            "add x9, x9, %x1, lsl #3\n\t"
            "br x9\n"
            "1: mov %w0, #10\n\tb 9f\n"
            "   mov %w0, #11\n\tb 9f\n"
            "   mov %w0, #12\n\tb 9f\n"
            "   mov %w0, #13\n\tb 9f\n"
            "   mov %w0, #14\n\tb 9f\n"
            "   mov %w0, #15\n\tb 9f\n"
            "   mov %w0, #16\n\tb 9f\n"
            "   mov %w0, #17\n\tb 9f\n"
            "9:"
            : "=&r"(r)
            : "r"(k)
            : "x9", "memory");
        sum = sum * 31 + r;
    }
    unsigned (*volatile fp)(unsigned) = callee;
    unsigned c = 0;
    for (unsigned k = 0; k < 10; k++) c = fp(c) & 0xffff;
    uart_printf("branches: lr=insn+%lu table=%x indirect-call=%x\n", lr_off, sum, c);
}
