/* Exceptions guest: takes synchronous exceptions through VBAR_EL1 and resumes after each,
 * printing the ESR_EL1 fields and ELR relative to the faulting instruction. */
#include "runtime.h"

/* Unmapped on QEMU virt and on Corvid's virt: the gap between the virtio-mmio transports
 * (0x0a000000-0x0a003fff) and the platform bus (0x0c000000). QEMU 7.2 raises a synchronous
 * external abort here (DFSC 0x10). Not 0x10000000: that is the PCIe MMIO window, where QEMU
 * reads as all-ones/zero without any abort. */
#define UNMAPPED_ADDR 0x0b000000UL

static volatile unsigned taken;
static volatile uint64_t last_esr, last_elr, last_far;

void exception_handler(struct exc_frame* f, unsigned vector) {
    uint64_t esr = READ_SYSREG(esr_el1);
    if (vector != 4) {
        uart_printf("unexpected vector %u esr %lx elr %lx\n", vector, esr, f->elr);
        psci_system_off();
    }
    taken++;
    last_esr = esr;
    last_elr = f->elr;
    last_far = READ_SYSREG(far_el1);
    /* SVC/HVC report the preferred return address after the instruction; everything else
     * points at the faulting instruction, which we skip. */
    unsigned ec = (unsigned)(esr >> 26) & 0x3f;
    if (ec != 0x15 && ec != 0x16) f->elr += 4;
}

static void report(const char* name, uint64_t insn_addr, unsigned before, int show_far) {
    unsigned ec = (unsigned)(last_esr >> 26) & 0x3f;
    unsigned il = (unsigned)(last_esr >> 25) & 1;
    unsigned iss = (unsigned)last_esr & 0x1ffffff;
    if (taken != before + 1) {
        uart_printf("%s: no exception taken\n", name);
        return;
    }
    uart_printf("%s: ec=0x%02x il=%u iss=0x%07x elr=insn%c%u", name, ec, il, iss,
                last_elr >= insn_addr ? '+' : '-',
                (unsigned)(last_elr >= insn_addr ? last_elr - insn_addr : insn_addr - last_elr));
    if (show_far) uart_printf(" far=0x%lx", last_far);
    uart_puts("\n");
}

int main(void) {
    uint64_t pc;
    unsigned before;

    uart_puts("exceptions: start\n");

    before = taken;
    __asm__ volatile("adr %0, 1f\n1: udf #0" : "=r"(pc)::"memory");
    report("udf #0", pc, before, 0);

    before = taken;
    __asm__ volatile("adr %0, 1f\n1: svc #42" : "=r"(pc)::"memory");
    report("svc #42", pc, before, 0);

    before = taken;
    __asm__ volatile("adr %0, 1f\n1: brk #7" : "=r"(pc)::"memory");
    report("brk #7", pc, before, 0);

    uint64_t addr = UNMAPPED_ADDR;
    uint64_t val = 0x1234;
    before = taken;
    __asm__ volatile("adr %0, 1f\n1: ldr %1, [%2]" : "=&r"(pc), "+r"(val) : "r"(addr) : "memory");
    report("ldr unmapped", pc, before, 1);

    before = taken;
    __asm__ volatile("adr %0, 1f\n1: str %w1, [%2, #8]" : "=&r"(pc) : "r"(val), "r"(addr) : "memory");
    report("str unmapped", pc, before, 1);

    /* Registers survive the round trip through the handler. */
    register uint64_t x19 __asm__("x19") = 0x1111222233334444UL;
    register uint64_t x7 __asm__("x7") = 0x5555666677778888UL;
    __asm__ volatile("svc #1" : "+r"(x19), "+r"(x7)::"memory");
    uart_printf("registers preserved: %s\n",
                x19 == 0x1111222233334444UL && x7 == 0x5555666677778888UL ? "yes" : "no");

    uart_printf("exceptions: %u taken\n", taken);
    return 0;
}
