/* pit: i8254 counter 0 in mode 2 at 100 Hz through the i8259 to IRQ0 (vector 0x20); counts
 * ticks with sti; hlt. Also the latch and read-back commands and counter 2 through port 0x61.
 * Exit status 1. */
#include "pic.h"

#define PIT_HZ 1193182u
#define TICKS 10

static volatile unsigned ticks, other;

void trap_handler(struct trap_frame* f) {
    if (f->vector == 0x20) {
        ticks++;
        pic_eoi(0);
        return;
    }
    other++;
    printf("unexpected trap: vector %lu error %lx rip %lx\n", f->vector, f->error, f->rip);
    guest_exit(0x7f);
}

static uint16_t latch0(void) {
    outb(0x43, 0x00); /* counter 0, latch */
    uint8_t lo = inb(0x40);
    uint8_t hi = inb(0x40);
    return (uint16_t)(lo | (hi << 8));
}

int main(void) {
    const uint16_t divisor = PIT_HZ / 100;
    printf("pit: start\n");
    pic_init(1u << 0);
    outb(0x43, 0x34); /* counter 0, lobyte/hibyte, mode 2, binary */
    outb(0x40, divisor & 0xff);
    outb(0x40, divisor >> 8);

    /* Read-back status of counter 0: access mode 3, mode 2, binary (the output bit varies). */
    outb(0x43, 0xe2);
    printf("status: 0x%x\n", inb(0x40) & 0x3f);

    /* Two latched reads: both within the period, and the counter moves down (or reloads). */
    uint16_t a = latch0();
    for (volatile int i = 0; i < 20000; i++) {
    }
    uint16_t b = latch0();
    printf("latch: %s\n", a >= 1 && a <= divisor && b >= 1 && b <= divisor ? "in range" : "OUT OF RANGE");

    __asm__ volatile("sti");
    while (ticks < TICKS) __asm__ volatile("hlt");
    __asm__ volatile("cli");
    printf("ticks ok (%u or more)\n", TICKS);

    /* Counter 2, mode 0, gated by port 0x61 bit 0: OUT2 (port 0x61 bit 5) goes high after
     * the count (1 ms). */
    outb(0x61, (inb(0x61) & ~0x03) | 0x01);
    outb(0x43, 0xb0); /* counter 2, lobyte/hibyte, mode 0 */
    outb(0x42, (PIT_HZ / 1000) & 0xff);
    outb(0x42, (PIT_HZ / 1000) >> 8);
    unsigned low_seen = (inb(0x61) & 0x20) == 0;
    unsigned spins = 0;
    while (!(inb(0x61) & 0x20) && spins < 100000000u) spins++;
    printf("counter 2: out low after load %s, high after the count %s\n", low_seen ? "yes" : "no",
           (inb(0x61) & 0x20) ? "yes" : "no");
    printf("pit: done\n");
    return 0;
}
