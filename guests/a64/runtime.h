/* Tiny runtime shared by the bare-metal AArch64 guests: PL011 console, PSCI, semihosting. */
#ifndef CORVID_GUEST_RUNTIME_H
#define CORVID_GUEST_RUNTIME_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define UART0_BASE 0x09000000UL

/* Register frame saved by the vector stub in start.S (layout must match). */
struct exc_frame {
    uint64_t x[31];
    uint64_t elr;
    uint64_t spsr;
    uint64_t pad;
};

/* Vector index: 0-3 current EL SP_EL0, 4-7 current EL SP_ELx, 8-11 lower EL AArch64,
 * 12-15 lower EL AArch32; within each, sync/irq/fiq/serror. */
enum { VEC_SYNC = 0, VEC_IRQ = 1, VEC_FIQ = 2, VEC_SERROR = 3 };

void uart_init(void);
void uart_putc(char c);
void uart_puts(const char* s);
int uart_getc(void); /* blocks until a byte arrives */
void uart_printf(const char* fmt, ...);
void uart_vprintf(const char* fmt, va_list ap);

void psci_system_off(void) __attribute__((noreturn));

void semihost_write0(const char* s);
void semihost_exit(uint32_t code) __attribute__((noreturn));

/* Called for every exception; a program may define its own. The default prints the
 * syndrome and powers off, so a stray fault shows up as output instead of a hang. */
void exception_handler(struct exc_frame* f, unsigned vector);

void* memset(void* d, int c, size_t n);
void* memcpy(void* d, const void* s, size_t n);
void* memmove(void* d, const void* s, size_t n);
int memcmp(const void* a, const void* b, size_t n);

#define READ_SYSREG(name)                                   \
    ({                                                      \
        uint64_t v_;                                        \
        __asm__ volatile("mrs %0, " #name : "=r"(v_));      \
        v_;                                                 \
    })
#define WRITE_SYSREG(name, v) __asm__ volatile("msr " #name ", %0" ::"r"((uint64_t)(v)))

#endif
