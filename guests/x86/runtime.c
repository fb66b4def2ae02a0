/* x86 guest runtime: COM1 polled output, printf, IDT, exit through isa-debug-exit. */
#include "runtime.h"

#include "../common/guest_format.h"

uint32_t pvh_start_info;

struct idt_gate {
    uint16_t off_lo, sel;
    uint8_t ist, type;
    uint16_t off_mid;
    uint32_t off_hi, zero;
} __attribute__((packed));

static struct idt_gate idt[48] __attribute__((aligned(16)));
extern const uint64_t isr_table[48];

void idt_init(void) {
    for (int i = 0; i < 48; i++) {
        uint64_t a = isr_table[i];
        idt[i].off_lo = (uint16_t)a;
        idt[i].sel = 0x08;
        idt[i].ist = 0;
        idt[i].type = 0x8e; /* present, DPL 0, 64-bit interrupt gate */
        idt[i].off_mid = (uint16_t)(a >> 16);
        idt[i].off_hi = (uint32_t)(a >> 32);
        idt[i].zero = 0;
    }
    struct {
        uint16_t limit;
        uint64_t base;
    } __attribute__((packed)) d = {sizeof idt - 1, (uint64_t)(uintptr_t)idt};
    __asm__ volatile("lidt %0" ::"m"(d));
}

void serial_putc(char c) {
    while (!(inb(COM1 + 5) & 0x20)) {
    }
    outb(COM1, (uint8_t)c);
}

void serial_puts(const char* s) {
    guest_put_string(serial_putc, s);
}

int serial_getc(void) {
    while (!(inb(COM1 + 5) & 0x01)) {
    }
    return inb(COM1);
}

void vprintf(const char* fmt, va_list ap) {
    guest_vformat(serial_putc, fmt, ap);
}

void printf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
}

void guest_exit(uint32_t code) {
    outl(DEBUG_EXIT_PORT, code);
    /* Only reached without the isa-debug-exit device: stop quietly. */
    for (;;) __asm__ volatile("cli; hlt");
}

__attribute__((weak)) void trap_handler(struct trap_frame* f) {
    uint64_t cr2;
    __asm__ volatile("mov %%cr2, %0" : "=r"(cr2));
    printf("unexpected trap: vector %lu error %lx rip %lx cr2 %lx\n", f->vector, f->error, f->rip, cr2);
    guest_exit(0x7f);
}

void trap_dispatch(struct trap_frame* f) { trap_handler(f); }

void runtime_start(void) {
    idt_init();
    guest_exit((uint32_t)main());
}

void* memset(void* d, int c, size_t n) {
    uint8_t* p = d;
    while (n--) *p++ = (uint8_t)c;
    return d;
}

void* memcpy(void* d, const void* s, size_t n) {
    uint8_t* p = d;
    const uint8_t* q = s;
    while (n--) *p++ = *q++;
    return d;
}

int memcmp(const void* a, const void* b, size_t n) {
    const uint8_t* p = a;
    const uint8_t* q = b;
    for (; n; n--, p++, q++) {
        if (*p != *q) return *p < *q ? -1 : 1;
    }
    return 0;
}

uint64_t hash_bytes(uint64_t h, const void* p, size_t n) {
    const uint8_t* b = p;
    while (n--) {
        h ^= *b++;
        h *= 0x100000001b3ull;
    }
    return h;
}

uint64_t hash_u64(uint64_t h, uint64_t v) { return hash_bytes(h, &v, sizeof v); }
