/* isa: integer ISA exercise. Each group runs its instructions over a table of operands and
 * folds results and the *defined* flags (masked per instruction) into one FNV-1a hash per
 * group, so a translator can be checked against QEMU line by line. Deterministic; exit 1. */
#include "runtime.h"

#define CF 0x001ull
#define PF 0x004ull
#define AF 0x010ull
#define ZF 0x040ull
#define SF 0x080ull
#define OF 0x800ull
#define ARITH (CF | PF | AF | ZF | SF | OF)

static const uint64_t vals[] = {
    0, 1, 2, 3, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xffff, 0x12345, 0x7fffffff, 0x80000000, 0xffffffff,
    0x100000000ull, 0x7fffffffffffffffull, 0x8000000000000000ull, 0xffffffffffffffffull, 0x123456789abcdef0ull,
    0xfedcba9876543210ull, 0x00000000deadbeefull, 0x5555555555555555ull, 0xaaaaaaaaaaaaaaaaull,
};
#define NVALS (sizeof vals / sizeof vals[0])
/* Flags going in: all clear, or all arithmetic flags set (checks what an op preserves). */
static const uint64_t fins[] = {0x2, 0x2 | ARITH};

static uint64_t h;
static unsigned n;

static void fold(uint64_t result, uint64_t flags, uint64_t mask) {
    h = hash_u64(h, result);
    h = hash_u64(h, flags & mask);
    n++;
}

static void group_start(void) {
    h = HASH_INIT;
    n = 0;
}

static void group_end(const char* name) { printf("%s: n=%u hash=%016lx\n", name, n, h); }

/* op src, dst at 8/16/32/64 bits with the given flags in; returns dst, *fl = flags out. */
#define FL_IN "pushq %[fin]\n\tpopfq\n\t"
#define FL_OUT "\n\tpushfq\n\tpopq %[f]"
#define DEF_BIN(op)                                                                                               \
    static uint64_t op##_op(int sz, uint64_t a, uint64_t b, uint64_t fin, uint64_t* fl) {                        \
        uint64_t f;                                                                                               \
        switch (sz) {                                                                                             \
            case 64:                                                                                              \
                __asm__ volatile(FL_IN #op "q %q[b], %q[a]" FL_OUT : [a] "+r"(a), [f] "=&r"(f) : [b] "r"(b), [fin] "r"(fin) : "cc"); \
                break;                                                                                            \
            case 32:                                                                                              \
                __asm__ volatile(FL_IN #op "l %k[b], %k[a]" FL_OUT : [a] "+r"(a), [f] "=&r"(f) : [b] "r"(b), [fin] "r"(fin) : "cc"); \
                break;                                                                                            \
            case 16:                                                                                              \
                __asm__ volatile(FL_IN #op "w %w[b], %w[a]" FL_OUT : [a] "+r"(a), [f] "=&r"(f) : [b] "r"(b), [fin] "r"(fin) : "cc"); \
                break;                                                                                            \
            default:                                                                                              \
                __asm__ volatile(FL_IN #op "b %b[b], %b[a]" FL_OUT : [a] "+q"(a), [f] "=&r"(f) : [b] "q"(b), [fin] "r"(fin) : "cc"); \
                break;                                                                                            \
        }                                                                                                         \
        *fl = f;                                                                                                  \
        return a;                                                                                                 \
    }
DEF_BIN(add)
DEF_BIN(adc)
DEF_BIN(sub)
DEF_BIN(sbb)
DEF_BIN(cmp)
DEF_BIN(and)
DEF_BIN(or)
DEF_BIN(xor)
DEF_BIN(test)

/* Unary: op dst. */
#define DEF_UN(op)                                                                                                \
    static uint64_t op##_op(int sz, uint64_t a, uint64_t fin, uint64_t* fl) {                                    \
        uint64_t f;                                                                                               \
        switch (sz) {                                                                                             \
            case 64: __asm__ volatile(FL_IN #op "q %q[a]" FL_OUT : [a] "+r"(a), [f] "=&r"(f) : [fin] "r"(fin) : "cc"); break; \
            case 32: __asm__ volatile(FL_IN #op "l %k[a]" FL_OUT : [a] "+r"(a), [f] "=&r"(f) : [fin] "r"(fin) : "cc"); break; \
            case 16: __asm__ volatile(FL_IN #op "w %w[a]" FL_OUT : [a] "+r"(a), [f] "=&r"(f) : [fin] "r"(fin) : "cc"); break; \
            default: __asm__ volatile(FL_IN #op "b %b[a]" FL_OUT : [a] "+q"(a), [f] "=&r"(f) : [fin] "r"(fin) : "cc"); break; \
        }                                                                                                         \
        *fl = f;                                                                                                  \
        return a;                                                                                                 \
    }
DEF_UN(inc)
DEF_UN(dec)
DEF_UN(neg)
DEF_UN(not)
static uint64_t bswap_op(int sz, uint64_t a, uint64_t fin, uint64_t* fl) {
    uint64_t f;
    if (sz == 64) {
        __asm__ volatile(FL_IN "bswapq %q[a]" FL_OUT : [a] "+r"(a), [f] "=&r"(f) : [fin] "r"(fin) : "cc");
    } else {
        __asm__ volatile(FL_IN "bswapl %k[a]" FL_OUT : [a] "+r"(a), [f] "=&r"(f) : [fin] "r"(fin) : "cc");
    }
    *fl = f;
    return a;
}

/* Shift/rotate by %cl. */
#define DEF_SH(op)                                                                                                \
    static uint64_t op##_op(int sz, uint64_t a, uint64_t c, uint64_t fin, uint64_t* fl) {                        \
        uint64_t f;                                                                                               \
        switch (sz) {                                                                                             \
            case 64: __asm__ volatile(FL_IN #op "q %%cl, %q[a]" FL_OUT : [a] "+r"(a), [f] "=&r"(f) : "c"(c), [fin] "r"(fin) : "cc"); break; \
            case 32: __asm__ volatile(FL_IN #op "l %%cl, %k[a]" FL_OUT : [a] "+r"(a), [f] "=&r"(f) : "c"(c), [fin] "r"(fin) : "cc"); break; \
            case 16: __asm__ volatile(FL_IN #op "w %%cl, %w[a]" FL_OUT : [a] "+r"(a), [f] "=&r"(f) : "c"(c), [fin] "r"(fin) : "cc"); break; \
            default: __asm__ volatile(FL_IN #op "b %%cl, %b[a]" FL_OUT : [a] "+q"(a), [f] "=&r"(f) : "c"(c), [fin] "r"(fin) : "cc"); break; \
        }                                                                                                         \
        *fl = f;                                                                                                  \
        return a;                                                                                                 \
    }
DEF_SH(shl)
DEF_SH(shr)
DEF_SH(sar)
DEF_SH(rol)
DEF_SH(ror)
DEF_SH(rcl)
DEF_SH(rcr)

static const int sizes[] = {8, 16, 32, 64};

static void group_addsub(void) {
    typedef uint64_t (*binop)(int, uint64_t, uint64_t, uint64_t, uint64_t*);
    static const binop ops[] = {add_op, adc_op, sub_op, sbb_op, cmp_op};
    group_start();
    for (unsigned o = 0; o < 5; o++)
        for (unsigned s = 0; s < 4; s++)
            for (unsigned i = 0; i < NVALS; i++)
                for (unsigned j = 0; j < NVALS; j++)
                    for (unsigned k = 0; k < 2; k++) {
                        uint64_t fl, r = ops[o](sizes[s], vals[i], vals[j], fins[k] & ~(k ? 0 : CF), &fl);
                        fold(r, fl, ARITH);
                    }
    group_end("add/adc/sub/sbb/cmp");
}

static void group_logic(void) {
    typedef uint64_t (*binop)(int, uint64_t, uint64_t, uint64_t, uint64_t*);
    static const binop ops[] = {and_op, or_op, xor_op, test_op};
    group_start();
    for (unsigned o = 0; o < 4; o++)
        for (unsigned s = 0; s < 4; s++)
            for (unsigned i = 0; i < NVALS; i++)
                for (unsigned j = 0; j < NVALS; j++) {
                    uint64_t fl, r = ops[o](sizes[s], vals[i], vals[j], fins[1], &fl);
                    fold(r, fl, ARITH & ~AF); /* AF is undefined after logic ops */
                }
    for (unsigned s = 0; s < 4; s++)
        for (unsigned i = 0; i < NVALS; i++) {
            uint64_t fl, r = not_op(sizes[s], vals[i], fins[1], &fl);
            fold(r, fl, ARITH); /* not changes no flags */
        }
    group_end("and/or/xor/test/not");
}

static void group_incdec(void) {
    typedef uint64_t (*unop)(int, uint64_t, uint64_t, uint64_t*);
    static const unop ops[] = {inc_op, dec_op, neg_op};
    group_start();
    for (unsigned o = 0; o < 3; o++)
        for (unsigned s = 0; s < 4; s++)
            for (unsigned i = 0; i < NVALS; i++)
                for (unsigned k = 0; k < 2; k++) {
                    uint64_t fl, r = ops[o](sizes[s], vals[i], fins[k], &fl);
                    fold(r, fl, ARITH);
                }
    group_end("inc/dec/neg");
}

static void group_shifts(void) {
    typedef uint64_t (*shop)(int, uint64_t, uint64_t, uint64_t, uint64_t*);
    static const shop shifts[] = {shl_op, shr_op, sar_op};
    static const shop rots[] = {rol_op, ror_op, rcl_op, rcr_op};
    static const uint64_t counts[] = {0, 1, 2, 3, 4, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65};
    group_start();
    for (unsigned s = 0; s < 4; s++) {
        const int sz = sizes[s];
        const uint64_t cmask = sz == 64 ? 63 : 31;
        for (unsigned c = 0; c < sizeof counts / sizeof counts[0]; c++) {
            const uint64_t mc = counts[c] & cmask;
            for (unsigned i = 0; i < NVALS; i++)
                for (unsigned k = 0; k < 2; k++) {
                    uint64_t fl, r;
                    /* Shifts: with a masked count of 0 nothing changes; OF only for 1; AF never;
                     * counts of the operand size or more leave 8/16-bit results undefined. */
                    if (mc < (uint64_t)sz) {
                        const uint64_t m = mc == 0 ? ARITH : (CF | PF | ZF | SF | (mc == 1 ? OF : 0));
                        for (unsigned o = 0; o < 3; o++) {
                            r = shifts[o](sz, vals[i], counts[c], fins[k], &fl);
                            fold(r, fl, m);
                        }
                    }
                    /* Rotates: CF (and OF for a count of 1) change; the other flags stay.
                     * Counts past the width of an 8/16-bit operand are left out: vendors
                     * differ on the flags there. */
                    if (mc >= (uint64_t)sz) continue;
                    for (unsigned o = 0; o < 4; o++) {
                        r = rots[o](sz, vals[i], counts[c], fins[k], &fl);
                        fold(r, fl, mc == 1 ? ARITH : (ARITH & ~OF));
                    }
                }
        }
    }
    group_end("shifts/rotates");
}

static void group_muldiv(void) {
    group_start();
    for (unsigned i = 0; i < NVALS; i++)
        for (unsigned j = 0; j < NVALS; j++) {
            uint64_t a = vals[i], b = vals[j], lo, hi, f;
            /* One-operand forms: only CF/OF are defined. */
            lo = a;
            __asm__ volatile("mulb %b[b]\n\tpushfq\n\tpopq %[f]" : "+a"(lo), [f] "=r"(f) : [b] "q"(b) : "cc");
            fold(lo, f, CF | OF);
            lo = a;
            __asm__ volatile("imulb %b[b]\n\tpushfq\n\tpopq %[f]" : "+a"(lo), [f] "=r"(f) : [b] "q"(b) : "cc");
            fold(lo, f, CF | OF);
            lo = a;
            hi = 0x1111;
            __asm__ volatile("mulw %w[b]\n\tpushfq\n\tpopq %[f]" : "+a"(lo), "+d"(hi), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(lo ^ (hi << 32), f, CF | OF);
            lo = a;
            __asm__ volatile("imulw %w[b]\n\tpushfq\n\tpopq %[f]" : "+a"(lo), "+d"(hi), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(lo ^ (hi << 32), f, CF | OF);
            lo = a;
            __asm__ volatile("mull %k[b]\n\tpushfq\n\tpopq %[f]" : "+a"(lo), "+d"(hi), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(lo, f, CF | OF);
            fold(hi, 0, 0);
            lo = a;
            __asm__ volatile("imull %k[b]\n\tpushfq\n\tpopq %[f]" : "+a"(lo), "+d"(hi), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(lo, f, CF | OF);
            fold(hi, 0, 0);
            lo = a;
            __asm__ volatile("mulq %[b]\n\tpushfq\n\tpopq %[f]" : "+a"(lo), "=d"(hi), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(lo, f, CF | OF);
            fold(hi, 0, 0);
            lo = a;
            __asm__ volatile("imulq %[b]\n\tpushfq\n\tpopq %[f]" : "+a"(lo), "=d"(hi), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(lo, f, CF | OF);
            fold(hi, 0, 0);
            /* Two- and three-operand imul. */
            lo = a;
            __asm__ volatile("imulw %w[b], %w[a]\n\tpushfq\n\tpopq %[f]" : [a] "+r"(lo), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(lo, f, CF | OF);
            lo = a;
            __asm__ volatile("imull %k[b], %k[a]\n\tpushfq\n\tpopq %[f]" : [a] "+r"(lo), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(lo, f, CF | OF);
            lo = a;
            __asm__ volatile("imulq %[b], %[a]\n\tpushfq\n\tpopq %[f]" : [a] "+r"(lo), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(lo, f, CF | OF);
            __asm__ volatile("imulq $-3, %[b], %[a]\n\tpushfq\n\tpopq %[f]" : [a] "=r"(lo), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(lo, f, CF | OF);
            __asm__ volatile("imull $0x12345, %k[b], %k[a]\n\tpushfq\n\tpopq %[f]" : [a] "=r"(lo), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(lo, f, CF | OF);
            __asm__ volatile("imulw $-300, %w[b], %w[a]\n\tpushfq\n\tpopq %[f]" : [a] "=r"(lo), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(lo & 0xffff, f, CF | OF);
            /* Division where the quotient fits (no #DE); flags are undefined. */
            if (b != 0) {
                lo = a;
                hi = 0;
                __asm__ volatile("divq %[b]" : "+a"(lo), "+d"(hi) : [b] "r"(b) : "cc");
                fold(lo, hi, ~0ull);
                const int64_t sa = (int64_t)a, sb = (int64_t)b;
                if (!(sa == INT64_MIN && sb == -1)) {
                    lo = a;
                    __asm__ volatile("cqto\n\tidivq %[b]" : "+a"(lo), "=d"(hi) : [b] "r"(b) : "cc");
                    fold(lo, hi, ~0ull);
                }
            }
            if ((uint32_t)b != 0) {
                lo = (uint32_t)a;
                hi = 0;
                __asm__ volatile("divl %k[b]" : "+a"(lo), "+d"(hi) : [b] "r"(b) : "cc");
                fold(lo, hi, ~0ull);
                const int32_t sa = (int32_t)a, sb = (int32_t)b;
                if (!(sa == INT32_MIN && sb == -1)) {
                    lo = (uint32_t)a;
                    __asm__ volatile("cltd\n\tidivl %k[b]" : "+a"(lo), "=d"(hi) : [b] "r"(b) : "cc");
                    fold(lo, hi, ~0ull);
                }
            }
            if ((uint16_t)b != 0) {
                lo = (uint16_t)a;
                hi = 0xabcd0000;
                __asm__ volatile("divw %w[b]" : "+a"(lo), "+d"(hi) : [b] "r"(b) : "cc");
                fold(lo, hi, ~0ull);
            }
            if ((uint8_t)b != 0 && (uint8_t)b > (uint8_t)(a >> 8)) {
                lo = a & 0xffff;
                __asm__ volatile("divb %b[b]" : "+a"(lo) : [b] "q"(b) : "cc");
                fold(lo, 0, 0);
            }
            if ((int8_t)b != 0 && (int8_t)b != -1) {
                lo = (uint64_t)(int64_t)(int8_t)a & 0xffff; /* AX = sign-extended AL: quotient fits */
                __asm__ volatile("idivb %b[b]" : "+a"(lo) : [b] "q"(b) : "cc");
                fold(lo, 0, 0);
            }
        }
    group_end("mul/imul/div/idiv");
}

static void group_bits(void) {
    group_start();
    for (unsigned i = 0; i < NVALS; i++)
        for (unsigned j = 0; j < NVALS; j++) {
            uint64_t a = vals[i], b = vals[j] & 0xff, r, f;
            r = a;
            __asm__ volatile("btq %[b], %[a]\n\tpushfq\n\tpopq %[f]" : [a] "+r"(r), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(r, f, CF);
            r = a;
            __asm__ volatile("btsq %[b], %[a]\n\tpushfq\n\tpopq %[f]" : [a] "+r"(r), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(r, f, CF);
            r = a;
            __asm__ volatile("btrl %k[b], %k[a]\n\tpushfq\n\tpopq %[f]" : [a] "+r"(r), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(r, f, CF);
            r = a;
            __asm__ volatile("btcw %w[b], %w[a]\n\tpushfq\n\tpopq %[f]" : [a] "+r"(r), [f] "=r"(f) : [b] "r"(b) : "cc");
            fold(r, f, CF);
        }
    /* bt with a register offset into memory addresses beyond the operand. */
    static uint64_t mem[4];
    for (unsigned j = 0; j < 256; j += 7) {
        uint64_t f;
        mem[0] = 0x0123456789abcdefull;
        mem[1] = 0xfedcba9876543210ull;
        mem[2] = mem[3] = 0x5555555555555555ull;
        __asm__ volatile("btsq %[b], %[m]\n\tpushfq\n\tpopq %[f]" : [m] "+m"(mem[0]), [f] "=r"(f) : [b] "r"((uint64_t)j) : "cc", "memory");
        fold(hash_bytes(HASH_INIT, mem, sizeof mem), f, CF);
        __asm__ volatile("btq $37, %[m]\n\tpushfq\n\tpopq %[f]" : [m] "+m"(mem[0]), [f] "=r"(f)::"cc");
        fold(0, f, CF);
    }
    for (unsigned i = 0; i < NVALS; i++) {
        uint64_t a = vals[i], r, f;
        if (a == 0) continue; /* bsf/bsr leave the destination undefined for 0 */
        __asm__ volatile("bsfq %[a], %[r]\n\tpushfq\n\tpopq %[f]" : [r] "=r"(r), [f] "=r"(f) : [a] "r"(a) : "cc");
        fold(r, f, ZF);
        __asm__ volatile("bsrq %[a], %[r]\n\tpushfq\n\tpopq %[f]" : [r] "=r"(r), [f] "=r"(f) : [a] "r"(a) : "cc");
        fold(r, f, ZF);
        if ((uint32_t)a) {
            __asm__ volatile("bsfl %k[a], %k[r]\n\tpushfq\n\tpopq %[f]" : [r] "=r"(r), [f] "=r"(f) : [a] "r"(a) : "cc");
            fold(r, f, ZF);
            __asm__ volatile("bsrl %k[a], %k[r]\n\tpushfq\n\tpopq %[f]" : [r] "=r"(r), [f] "=r"(f) : [a] "r"(a) : "cc");
            fold(r, f, ZF);
        }
    }
    for (unsigned s = 0; s < 4; s++)
        for (unsigned i = 0; i < NVALS; i++)
            if (sizes[s] >= 32) {
                uint64_t fl, r = bswap_op(sizes[s], vals[i], fins[1], &fl);
                fold(r, fl, ARITH);
            }
    group_end("bt/bts/btr/btc/bsf/bsr/bswap");
}

static void cpuid(uint32_t leaf, uint32_t sub, uint32_t* a, uint32_t* b, uint32_t* c, uint32_t* d) {
    __asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d) : "a"(leaf), "c"(sub));
}

/* lzcnt/tzcnt/popcnt where CPUID reports them, checked against a C reference; the line is
 * the same whether they were checked or skipped (qemu64 lacks some of them). */
static void group_bitcount(void) {
    uint32_t a, b, c, d, max, maxext;
    cpuid(0, 0, &max, &b, &c, &d);
    cpuid(0x80000000u, 0, &maxext, &b, &c, &d);
    cpuid(1, 0, &a, &b, &c, &d);
    const int has_popcnt = (c >> 23) & 1;
    int has_lzcnt = 0, has_tzcnt = 0;
    if (maxext >= 0x80000001u) {
        cpuid(0x80000001u, 0, &a, &b, &c, &d);
        has_lzcnt = (c >> 5) & 1;
    }
    if (max >= 7) {
        cpuid(7, 0, &a, &b, &c, &d);
        has_tzcnt = (b >> 3) & 1;
    }
    unsigned bad = 0;
    for (unsigned i = 0; i < NVALS; i++) {
        const uint64_t v = vals[i];
        unsigned pop = 0, lz = 64, tz = 64;
        for (int k = 0; k < 64; k++) pop += (v >> k) & 1;
        for (int k = 63; k >= 0; k--)
            if ((v >> k) & 1) {
                lz = 63 - k;
                break;
            }
        for (int k = 0; k < 64; k++)
            if ((v >> k) & 1) {
                tz = k;
                break;
            }
        uint64_t r, f;
        if (has_popcnt) {
            __asm__ volatile("popcntq %[a], %[r]\n\tpushfq\n\tpopq %[f]" : [r] "=r"(r), [f] "=r"(f) : [a] "r"(v) : "cc");
            bad += r != pop || ((f & ZF) != 0) != (v == 0) || (f & (CF | OF | SF | AF | PF));
        }
        if (has_lzcnt) {
            __asm__ volatile("lzcntq %[a], %[r]\n\tpushfq\n\tpopq %[f]" : [r] "=r"(r), [f] "=r"(f) : [a] "r"(v) : "cc");
            bad += r != lz || ((f & CF) != 0) != (v == 0) || ((f & ZF) != 0) != (r == 0);
        }
        if (has_tzcnt) {
            __asm__ volatile("tzcntq %[a], %[r]\n\tpushfq\n\tpopq %[f]" : [r] "=r"(r), [f] "=r"(f) : [a] "r"(v) : "cc");
            bad += r != tz || ((f & CF) != 0) != (v == 0) || ((f & ZF) != 0) != (r == 0);
        }
    }
    printf("lzcnt/tzcnt/popcnt: %s\n", bad ? "MISMATCH" : "ok");
}

static void group_setcc(void) {
    group_start();
    /* All flag combinations of CF PF ZF SF OF through every condition. */
    for (unsigned m = 0; m < 32; m++) {
        uint64_t fin = 0x2 | ((m & 1) ? CF : 0) | ((m & 2) ? PF : 0) | ((m & 4) ? ZF : 0) | ((m & 8) ? SF : 0) |
                       ((m & 16) ? OF : 0);
        uint64_t r = 0, c = 0;
#define SETCC(cc)                                                                                            \
    do {                                                                                                     \
        uint64_t t = 0, u = 0x1111, v = 0x2222;                                                            \
        __asm__ volatile(FL_IN "set" #cc " %b[t]\n\tcmov" #cc "q %[v], %[u]" : [t] "+q"(t), [u] "+r"(u) : [v] "r"(v), [fin] "r"(fin) : "cc"); \
        r = (r << 1) | t;                                                                                    \
        c = c * 3 + u;                                                                                       \
    } while (0)
        SETCC(o); SETCC(no); SETCC(b); SETCC(ae); SETCC(e); SETCC(ne); SETCC(be); SETCC(a);
        SETCC(s); SETCC(ns); SETCC(p); SETCC(np); SETCC(l); SETCC(ge); SETCC(le); SETCC(g);
        fold(r, c, ~0ull);
    }
    /* cmovl with a 32-bit operand zero-extends even when the condition is false. */
    uint64_t u = 0xffffffffffffffffull;
    __asm__ volatile("xorl %%eax, %%eax\n\tcmovnel %k[u], %k[u]" : [u] "+r"(u)::"rax", "cc");
    fold(u, 0, 0);
    group_end("setcc/cmovcc");
}

static void group_movs(void) {
    group_start();
    for (unsigned i = 0; i < NVALS; i++) {
        const uint64_t v = vals[i];
        uint64_t r;
        __asm__ volatile("movzbl %b[v], %k[r]" : [r] "=r"(r) : [v] "q"(v));
        fold(r, 0, 0);
        __asm__ volatile("movzwq %w[v], %[r]" : [r] "=r"(r) : [v] "r"(v));
        fold(r, 0, 0);
        __asm__ volatile("movsbq %b[v], %[r]" : [r] "=r"(r) : [v] "q"(v));
        fold(r, 0, 0);
        __asm__ volatile("movswl %w[v], %k[r]" : [r] "=r"(r) : [v] "r"(v));
        fold(r, 0, 0);
        __asm__ volatile("movslq %k[v], %[r]" : [r] "=r"(r) : [v] "r"(v));
        fold(r, 0, 0);
        /* Partial writes: 32-bit zero-extends, 16/8-bit merge, AH is bits 8-15. */
        r = 0xfedcba9876543210ull;
        __asm__ volatile("movl %k[v], %k[r]" : [r] "+r"(r) : [v] "r"(v));
        fold(r, 0, 0);
        r = 0xfedcba9876543210ull;
        __asm__ volatile("movw %w[v], %w[r]" : [r] "+r"(r) : [v] "r"(v));
        fold(r, 0, 0);
        r = 0xfedcba9876543210ull;
        __asm__ volatile("movb %b[v], %%ah\n\tincb %%ah" : "+a"(r) : [v] "b"(v) : "cc");
        fold(r, 0, 0);
        r = v;
        __asm__ volatile("xchgb %%ah, %%al\n\tcbw\n\tcwde\n\tcdqe" : "+a"(r));
        fold(r, 0, 0);
        /* lea with base, index, scale and displacement; 32-bit lea truncates. */
        __asm__ volatile("leaq 0x7f(%[a],%[b],8), %[r]" : [r] "=r"(r) : [a] "r"(v), [b] "r"(vals[(i + 5) % NVALS]));
        fold(r, 0, 0);
        __asm__ volatile("leal -0x80(%[a],%[b],2), %k[r]" : [r] "=r"(r) : [a] "r"(v), [b] "r"(vals[(i + 7) % NVALS]));
        fold(r, 0, 0);
        __asm__ volatile("leaq 0x12345678(,%[b],4), %[r]" : [r] "=r"(r) : [b] "r"(v));
        fold(r, 0, 0);
        /* push/pop of a 16-bit value, and a memory operand with a negative displacement. */
        uint64_t mem[2] = {v, ~v};
        __asm__ volatile("pushw %w[v]\n\tpopw %w[r]" : [r] "=r"(r) : [v] "r"(~v), "0"(v) : "memory");
        fold(r, 0, 0);
        __asm__ volatile("movq -8(%[p]), %[r]" : [r] "=r"(r) : [p] "r"(&mem[1]), "m"(mem[0]));
        fold(r, 0, 0);
    }
    group_end("mov/movzx/movsx/lea");
}

static void group_strings(void) {
    static uint8_t src[256], dst[256];
    group_start();
    for (unsigned i = 0; i < sizeof src; i++) src[i] = (uint8_t)(i * 7 + 3);
    for (unsigned len = 0; len < 40; len += 3) {
        memset(dst, 0xcc, sizeof dst);
        void* d = dst + 5;
        const void* s = src + 1;
        uint64_t c = len;
        __asm__ volatile("rep movsb" : "+D"(d), "+S"(s), "+c"(c) : : "memory");
        fold(hash_bytes(HASH_INIT, dst, sizeof dst), (uint64_t)((uint8_t*)d - dst) ^ ((uint64_t)c << 32), ~0ull);
        d = dst;
        s = src;
        c = len / 8 + 1;
        __asm__ volatile("rep movsq" : "+D"(d), "+S"(s), "+c"(c) : : "memory");
        fold(hash_bytes(HASH_INIT, dst, sizeof dst), (uint64_t)((uint8_t*)d - dst), ~0ull);
        d = dst + 100;
        c = len;
        __asm__ volatile("rep stosw" : "+D"(d), "+c"(c) : "a"(0xbeef + len) : "memory");
        fold(hash_bytes(HASH_INIT, dst, sizeof dst), (uint64_t)((uint8_t*)d - dst), ~0ull);
        /* Backwards with DF set. */
        d = dst + 200;
        s = src + 200;
        c = len;
        __asm__ volatile("std\n\trep movsb\n\tcld" : "+D"(d), "+S"(s), "+c"(c) : : "memory", "cc");
        fold(hash_bytes(HASH_INIT, dst, sizeof dst), (uint64_t)((uint8_t*)d - dst), ~0ull);
        /* repe cmpsb stops at the first difference; repne scasb at the first match. */
        memcpy(dst, src, sizeof dst);
        dst[len] ^= 0x40;
        const void* p = dst;
        s = src;
        c = 64;
        uint64_t f;
        __asm__ volatile("repe cmpsb\n\tpushfq\n\tpopq %[f]" : "+D"(p), "+S"(s), "+c"(c), [f] "=r"(f) : : "memory", "cc");
        fold(c, f, ARITH);
        p = src;
        c = 100;
        __asm__ volatile("repne scasb\n\tpushfq\n\tpopq %[f]" : "+D"(p), "+c"(c), [f] "=r"(f) : "a"(src[len]) : "memory", "cc");
        fold(c, f, ARITH);
        s = src + len;
        uint64_t r;
        __asm__ volatile("lodsq" : "=a"(r), "+S"(s) : : "memory");
        fold(r, (uint64_t)((const uint8_t*)s - src), ~0ull);
    }
    group_end("string ops");
}

static void group_atomics(void) {
    group_start();
    for (unsigned i = 0; i < NVALS; i++)
        for (unsigned j = 0; j < NVALS; j += 3) {
            uint64_t mem = vals[i], r = vals[j], f;
            __asm__ volatile("xchgq %[r], %[m]" : [r] "+r"(r), [m] "+m"(mem));
            fold(r, mem, ~0ull);
            mem = vals[i];
            r = vals[j];
            __asm__ volatile("lock xaddq %[r], %[m]\n\tpushfq\n\tpopq %[f]" : [r] "+r"(r), [m] "+m"(mem), [f] "=r"(f) : : "cc");
            fold(r ^ mem, f, ARITH);
            mem = vals[i];
            r = vals[j];
            __asm__ volatile("xaddl %k[r], %k[m]\n\tpushfq\n\tpopq %[f]" : [r] "+r"(r), [m] "+m"(mem), [f] "=r"(f) : : "cc");
            fold(r ^ mem, f, ARITH);
            /* cmpxchg: succeeds when RAX equals the memory operand. */
            for (int hit = 0; hit < 2; hit++) {
                uint64_t a = hit ? vals[i] : vals[j];
                mem = vals[i];
                __asm__ volatile("lock cmpxchgq %[n], %[m]\n\tpushfq\n\tpopq %[f]" : "+a"(a), [m] "+m"(mem), [f] "=r"(f) : [n] "r"(~vals[j]) : "cc");
                fold(a ^ mem, f, ARITH);
                a = hit ? vals[i] : vals[j];
                mem = vals[i];
                __asm__ volatile("cmpxchgw %w[n], %w[m]\n\tpushfq\n\tpopq %[f]" : "+a"(a), [m] "+m"(mem), [f] "=r"(f) : [n] "r"(~vals[j]) : "cc");
                fold(a ^ mem, f, ARITH);
            }
        }
    group_end("xchg/cmpxchg/xadd");
}

static void group_cpuid(void) {
    uint32_t a, v[3];
    cpuid(0, 0, &a, &v[0], &v[2], &v[1]);
    char s[13];
    memcpy(s, v, 12);
    s[12] = 0;
    printf("cpuid vendor: %s\n", s);
}

int main(void) {
    printf("isa: start\n");
    group_addsub();
    group_logic();
    group_incdec();
    group_shifts();
    group_muldiv();
    group_bits();
    group_bitcount();
    group_setcc();
    group_movs();
    group_strings();
    group_atomics();
    group_cpuid();
    printf("isa: done\n");
    return 0;
}
