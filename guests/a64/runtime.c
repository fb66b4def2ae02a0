/* Tiny runtime shared by the bare-metal AArch64 guests (see runtime.h). */
#include "runtime.h"

#include "../common/guest_format.h"

#define UART_DR (*(volatile uint32_t*)(UART0_BASE + 0x00))
#define UART_FR (*(volatile uint32_t*)(UART0_BASE + 0x18))
#define UART_IBRD (*(volatile uint32_t*)(UART0_BASE + 0x24))
#define UART_FBRD (*(volatile uint32_t*)(UART0_BASE + 0x28))
#define UART_LCR_H (*(volatile uint32_t*)(UART0_BASE + 0x2c))
#define UART_CR (*(volatile uint32_t*)(UART0_BASE + 0x30))
#define UART_IMSC (*(volatile uint32_t*)(UART0_BASE + 0x38))

#define FR_RXFE (1u << 4)
#define FR_TXFF (1u << 5)

static int uart_ready;

void uart_init(void) {
    /* The sequence a real PL011 needs: disable, program baud and format, enable. */
    UART_CR = 0;
    UART_IMSC = 0;
    UART_IBRD = 13; /* 115200 baud from a 24 MHz clock */
    UART_FBRD = 1;
    /* 8N1 with the FIFOs left off: toggling FEN flushes the RX FIFO, which could drop input
     * that arrived before this point. */
    UART_LCR_H = 3u << 5;
    UART_CR = (1u << 9) | (1u << 8) | 1u; /* RXE, TXE, UARTEN */
    uart_ready = 1;
}

void uart_putc(char c) {
    if (!uart_ready) uart_init();
    while (UART_FR & FR_TXFF) {
    }
    UART_DR = (uint8_t)c;
}

void uart_puts(const char* s) {
    guest_put_string(uart_putc, s);
}

int uart_getc(void) {
    if (!uart_ready) uart_init();
    while (UART_FR & FR_RXFE) {
    }
    return (int)(UART_DR & 0xff);
}

void uart_vprintf(const char* fmt, va_list ap) {
    guest_vformat(uart_putc, fmt, ap);
}

void uart_printf(const char* fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    uart_vprintf(fmt, ap);
    va_end(ap);
}

void psci_system_off(void) {
    register uint64_t x0 __asm__("x0") = 0x84000008UL;
    __asm__ volatile("hvc #0" : "+r"(x0)::"memory");
    /* Only reached when PSCI is missing: stop here rather than run off the end. */
    for (;;) __asm__ volatile("wfi");
}

static uint64_t semihost_call(uint64_t op, uint64_t arg) {
    register uint64_t x0 __asm__("x0") = op;
    register uint64_t x1 __asm__("x1") = arg;
    __asm__ volatile("hlt #0xf000" : "+r"(x0) : "r"(x1) : "memory");
    return x0;
}

void semihost_write0(const char* s) { semihost_call(0x04, (uint64_t)(uintptr_t)s); }

void semihost_exit(uint32_t code) {
    /* SYS_EXIT_EXTENDED: {ADP_Stopped_ApplicationExit, code}. */
    static volatile uint64_t block[2];
    block[0] = 0x20026;
    block[1] = code;
    semihost_call(0x20, (uint64_t)(uintptr_t)block);
    psci_system_off();
}

__attribute__((weak)) void exception_handler(struct exc_frame* f, unsigned vector) {
    uint64_t esr = READ_SYSREG(esr_el1);
    uart_printf("unexpected exception: vector %u esr %lx elr %lx far %lx\n", vector, esr, f->elr,
                READ_SYSREG(far_el1));
    psci_system_off();
}

void exception_dispatch(struct exc_frame* f, uint64_t vector) { exception_handler(f, (unsigned)vector); }

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

void* memmove(void* d, const void* s, size_t n) {
    uint8_t* p = d;
    const uint8_t* q = s;
    if (p < q) {
        while (n--) *p++ = *q++;
    } else {
        while (n--) p[n] = q[n];
    }
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
