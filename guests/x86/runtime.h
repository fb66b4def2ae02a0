/* Tiny runtime shared by the x86 PVH guests: COM1 console, isa-debug-exit, IDT, port I/O. */
#ifndef CORVID_X86_GUEST_RUNTIME_H
#define CORVID_X86_GUEST_RUNTIME_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define COM1 0x3f8
/* -device isa-debug-exit,iobase=0xf4,iosize=0x04 */
#define DEBUG_EXIT_PORT 0xf4

/* Saved by isr_common in start.S (layout must match). */
struct trap_frame {
    uint64_t r15, r14, r13, r12, r11, r10, r9, r8, rbp, rdi, rsi, rdx, rcx, rbx, rax;
    uint64_t vector, error;
    uint64_t rip, cs, rflags, rsp, ss;
};

/* hvm_start_info address from EBX at entry. */
extern uint32_t pvh_start_info;

static inline void outb(uint16_t port, uint8_t v) { __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port)); }
static inline void outl(uint16_t port, uint32_t v) { __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port)); }
static inline uint8_t inb(uint16_t port) {
    uint8_t v;
    __asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}
static inline uint32_t inl(uint16_t port) {
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

void serial_putc(char c);
void serial_puts(const char* s); /* \n becomes \r\n */
int serial_getc(void);           /* blocks until a byte arrives */
void printf(const char* fmt, ...);
void vprintf(const char* fmt, va_list ap);

/* Ends the run: isa-debug-exit makes the exit status (code << 1) | 1. */
void guest_exit(uint32_t code) __attribute__((noreturn));

/* The program. Its return value goes to guest_exit. */
int main(void);

/* Called for every interrupt/exception (vectors 0-47); a program may define its own. The
 * default reports the trap and exits with code 0x7f, so a stray fault shows up as output. */
void trap_handler(struct trap_frame* f);

/* Installs an IDT gate for vectors 0-47 (done by the runtime before main). */
void idt_init(void);

void* memset(void* d, int c, size_t n);
void* memcpy(void* d, const void* s, size_t n);
int memcmp(const void* a, const void* b, size_t n);

/* 64-bit FNV-1a, for the hash lines of the ISA exercise. */
uint64_t hash_bytes(uint64_t h, const void* p, size_t n);
uint64_t hash_u64(uint64_t h, uint64_t v);
#define HASH_INIT 0xcbf29ce484222325ull

#endif
