/* ISA exercise: system registers and a few small compiled programs (sieve, sort, crc, fib). */
#include "isa.h"

void isa_sysregs(void) {
    uint64_t el = READ_SYSREG(CurrentEL);
    uint64_t midr = READ_SYSREG(midr_el1);
    uint64_t mpidr = READ_SYSREG(mpidr_el1);
    uint64_t spsel = READ_SYSREG(spsel);
    uint64_t daif = READ_SYSREG(daif);
    uart_printf("sysreg: CurrentEL=%lx (EL%lu) MIDR=%lx MPIDR=%lx SPSel=%lx DAIF=%lx\n", el, el >> 2, midr,
                mpidr, spsel, daif);

    WRITE_SYSREG(tpidr_el0, 0x1122334455667788UL);
    WRITE_SYSREG(tpidr_el1, 0x99aabbccddeeff00UL);
    WRITE_SYSREG(tpidrro_el0, 0x0fedcba987654321UL);
    uint64_t t0 = READ_SYSREG(tpidr_el0), t1 = READ_SYSREG(tpidr_el1), t2 = READ_SYSREG(tpidrro_el0);
    uart_printf("sysreg: TPIDR_EL0=%lx TPIDR_EL1=%lx TPIDRRO_EL0=%lx\n", t0, t1, t2);

    /* NZCV keeps only bits 31:28; DAIF set/clear through the immediate forms. */
    WRITE_SYSREG(nzcv, 0xffffffffffffffffUL);
    uint64_t nzcv_all = READ_SYSREG(nzcv);
    WRITE_SYSREG(nzcv, 0x60000000UL);
    uint64_t nzcv_zc = READ_SYSREG(nzcv);
    __asm__ volatile("msr daifclr, #0x4" ::: "memory");
    uint64_t daif_a = READ_SYSREG(daif);
    __asm__ volatile("msr daifset, #0xf" ::: "memory");
    uint64_t daif_b = READ_SYSREG(daif);
    uart_printf("sysreg: NZCV=%lx,%lx DAIF after clr A=%lx after set all=%lx\n", nzcv_all, nzcv_zc, daif_a,
                daif_b);

    uint64_t frq = READ_SYSREG(cntfrq_el0);
    uint64_t c0 = READ_SYSREG(cntvct_el0);
    for (volatile int i = 0; i < 1000; i++) {
    }
    uint64_t c1 = READ_SYSREG(cntvct_el0);
    uart_printf("sysreg: CNTFRQ=%lu counter monotonic=%s\n", frq, c1 >= c0 ? "yes" : "no");
}

static unsigned sieve(unsigned n) {
    static uint8_t composite[10001];
    unsigned count = 0;
    for (unsigned i = 2; i <= n; i++) {
        if (composite[i]) continue;
        count++;
        for (unsigned j = i * i; j <= n; j += i) composite[j] = 1;
    }
    return count;
}

static uint32_t crc32_sw(const uint8_t* p, unsigned n) {
    uint32_t c = 0xffffffffu;
    while (n--) {
        c ^= *p++;
        for (int k = 0; k < 8; k++) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
    }
    return ~c;
}

static uint64_t sort_check(void) {
    static uint32_t a[256];
    uint32_t x = 12345;
    for (int i = 0; i < 256; i++) {
        x = x * 1103515245u + 12345u;
        a[i] = x >> 8;
    }
    for (int i = 1; i < 256; i++) {
        uint32_t v = a[i];
        int j = i - 1;
        while (j >= 0 && a[j] > v) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = v;
    }
    uint64_t h = 0;
    for (int i = 0; i < 256; i++) h = h * 131 + a[i];
    return h;
}

void isa_programs(void) {
    static const char kText[] = "The quick brown fox jumps over the lazy dog";
    uint64_t f0 = 0, f1 = 1;
    for (int i = 0; i < 90; i++) {
        uint64_t t = f0 + f1;
        f0 = f1;
        f1 = t;
    }
    uart_printf("programs: primes<=10000=%u crc32=%08x sort=%lx fib90=%lu\n", sieve(10000),
                crc32_sw((const uint8_t*)kText, sizeof(kText) - 1), sort_check(), f0);
}
