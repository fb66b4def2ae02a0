/* exceptions: faults and traps delivered through the IDT. Each handler reports vector, error
 * code (CR2 for #PF) and where RIP points relative to the instruction, then resumes after it.
 * Exit status 1. */
#include "runtime.h"

static volatile uint64_t fault_rip, resume_rip;
static volatile unsigned traps;

static const char* name(uint64_t v) {
    switch (v) {
        case 0: return "#DE";
        case 3: return "#BP";
        case 6: return "#UD";
        case 13: return "#GP";
        case 14: return "#PF";
        default: return "?";
    }
}

void trap_handler(struct trap_frame* f) {
    uint64_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    printf("  -> vector %lu %s error 0x%lx", f->vector, name(f->vector), f->error);
    if (f->vector == 14) printf(" cr2 0x%lx", cr2);
    printf(" rip insn+%ld cs 0x%lx if %lu\n", (int64_t)(f->rip - fault_rip), f->cs, (f->rflags >> 9) & 1);
    traps++;
    f->rip = resume_rip;
}

/* Runs `insn` with fault_rip at its start and resume_rip right after it. `setup` runs first
 * (outside the measured range). */
#define TRY(title, setup, insn, ...)                                              \
    do {                                                                          \
        printf("%s\n", title);                                                    \
        __asm__ volatile(setup "\n\t"                                             \
                         "leaq 8f(%%rip), %%r11\n\t"                              \
                         "movq %%r11, resume_rip(%%rip)\n\t"                      \
                         "leaq 7f(%%rip), %%r11\n\t"                              \
                         "movq %%r11, fault_rip(%%rip)\n"                         \
                         "7:\t" insn "\n"                                         \
                         "8:" ::__VA_ARGS__                                       \
                         : "rax", "rcx", "rdx", "r11", "memory", "cc");           \
    } while (0)

int main(void) {
    printf("exceptions: start\n");
    TRY("ud2", "", "ud2");
    TRY("div by zero", "xorl %%ecx, %%ecx; movl $1, %%eax; xorl %%edx, %%edx", "divl %%ecx");
    TRY("idiv overflow", "movabsq $0x8000000000000000, %%rax; cqto; movq $-1, %%rcx", "idivq %%rcx");
    TRY("int3", "", "int3");
    TRY("load from unmapped 0x40000000", "", "movq 0x40000000, %%rax");
    TRY("store to unmapped 0x7fff00001008", "movabsq $0x7fff00001008, %%rcx", "movq %%rax, (%%rcx)");
    TRY("load from non-canonical 0x8000000000000000", "movabsq $0x8000000000000000, %%rcx", "movq (%%rcx), %%rax");
    TRY("into (invalid in 64-bit mode)", "", ".byte 0xce");
    TRY("lock nop", "", ".byte 0xf0, 0x90");
    printf("exceptions: %u traps\n", traps);
    return 0;
}
