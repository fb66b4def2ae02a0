/* KVM benchmark guest: runs the compute loop in ring 3 (or ring 0 with "ring=0" on the
 * command line), timing it with rdtsc, and prints "ringN iters=... cycles=... result=...".
 * Ring 3 is the case that runs natively on a hypervisor that emulates guest ring-0 code. */
#include "../x86/runtime.h"
#include "workload.h"

#define USER_CS (0x20 | 3)
#define USER_DS (0x18 | 3)
#define TSS_SEL 0x28

struct tss64 {
    uint32_t reserved0;
    uint64_t rsp0, rsp1, rsp2;
    uint64_t reserved1;
    uint64_t ist[7];
    uint64_t reserved2;
    uint16_t reserved3;
    uint16_t iomap_base;
} __attribute__((packed));

static struct tss64 tss;
static uint64_t gdt[7];
static uint8_t kernel_stack[16384] __attribute__((aligned(16)));
static uint8_t user_stack[16384] __attribute__((aligned(16)));

static uint64_t g_iters = 200000000ull;
static volatile uint64_t g_cycles, g_result;

static uint64_t parse_u64(const char* s) {
    uint64_t v = 0;
    while (*s >= '0' && *s <= '9') v = v * 10 + (uint64_t)(*s++ - '0');
    return v;
}

/* "iters=N" and "ring=0|3" from the PVH command line. */
static int parse_cmdline(void) {
    int ring = 3;
    uint64_t cmdline = *(volatile uint64_t*)(uintptr_t)(pvh_start_info + 24);
    const char* p = (const char*)(uintptr_t)cmdline;
    while (cmdline && *p) {
        if (p[0] == 'i' && p[1] == 't' && p[2] == 'e' && p[3] == 'r' && p[4] == 's' && p[5] == '=') {
            uint64_t v = parse_u64(p + 6);
            if (v) g_iters = v;
        }
        if (p[0] == 'r' && p[1] == 'i' && p[2] == 'n' && p[3] == 'g' && p[4] == '=') ring = p[5] == '0' ? 0 : 3;
        while (*p && *p != ' ') p++;
        while (*p == ' ') p++;
    }
    return ring;
}

static void user_main(void) {
    uint64_t t0 = rdtsc_now();
    uint64_t r = workload(g_iters);
    uint64_t t1 = rdtsc_now();
    g_result = r;
    g_cycles = t1 - t0;
    /* Back to ring 0: a privileged instruction faults (#GP) into the kernel's handler. Some
     * hypervisors do not deliver software interrupts from ring 3 (then `int` is #UD), so the
     * fault is the portable way back. */
    for (;;) __asm__ volatile("hlt");
}

void trap_handler(struct trap_frame* f) {
    if ((f->cs & 3) == 3 && g_cycles != 0) {
        printf("ring3 iters=%lu cycles=%lu result=%lx\n", g_iters, g_cycles, g_result);
        guest_exit(0);
    }
    printf("unexpected trap %lu err=%lx rip=%lx\n", f->vector, f->error, f->rip);
    guest_exit(0x7f);
}

/* Lets ring 3 use the identity map: the U/S bit on every level of the first 1 GiB. */
static void allow_user_pages(void) {
    uint64_t cr3;
    __asm__ volatile("mov %%cr3, %0" : "=r"(cr3));
    uint64_t* pml4 = (uint64_t*)(uintptr_t)(cr3 & ~0xfffull);
    pml4[0] |= 4;
    uint64_t* pdpt = (uint64_t*)(uintptr_t)(pml4[0] & ~0xfffull);
    pdpt[0] |= 4;
    uint64_t* pd = (uint64_t*)(uintptr_t)(pdpt[0] & ~0xfffull);
    for (int i = 0; i < 512; i++) pd[i] |= 4;
    __asm__ volatile("mov %0, %%cr3" ::"r"(cr3) : "memory");
}

static void load_gdt_and_tss(void) {
    gdt[0] = 0;
    gdt[1] = 0x00af9a000000ffffull; /* 0x08 kernel code 64 */
    gdt[2] = 0x00cf92000000ffffull; /* 0x10 kernel data */
    gdt[3] = 0x00cff2000000ffffull; /* 0x18 user data, DPL 3 */
    gdt[4] = 0x00affa000000ffffull; /* 0x20 user code 64, DPL 3 */
    uint64_t base = (uint64_t)(uintptr_t)&tss;
    uint64_t limit = sizeof tss - 1;
    gdt[5] = (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ull << 40) | (((limit >> 16) & 0xf) << 48) |
             (((base >> 24) & 0xff) << 56);
    gdt[6] = base >> 32;
    tss.rsp0 = (uint64_t)(uintptr_t)(kernel_stack + sizeof kernel_stack);
    tss.iomap_base = sizeof tss;
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) d = {sizeof gdt - 1, (uint64_t)(uintptr_t)gdt};
    __asm__ volatile("lgdt %0" ::"m"(d));
    __asm__ volatile("ltr %w0" ::"r"(TSS_SEL));
}

int main(void) {
    int ring = parse_cmdline();
    if (ring == 0) {
        uint64_t t0 = rdtsc_now();
        uint64_t r = workload(g_iters);
        uint64_t t1 = rdtsc_now();
        printf("ring0 iters=%lu cycles=%lu result=%lx\n", g_iters, t1 - t0, r);
        return 0;
    }
    allow_user_pages();
    load_gdt_and_tss();
    uint64_t user_rsp = (uint64_t)(uintptr_t)(user_stack + sizeof user_stack - 8);
    __asm__ volatile(
        "pushq %0\n\t"
        "pushq %1\n\t"
        "pushq $0x2\n\t"
        "pushq %2\n\t"
        "pushq %3\n\t"
        "iretq" ::"r"((uint64_t)USER_DS),
        "r"(user_rsp), "r"((uint64_t)USER_CS), "r"((uint64_t)(uintptr_t)user_main)
        : "memory");
    return 0x7e;
}
