/* i8259 pair set-up shared by the interrupt-driven guests. */
#ifndef CORVID_X86_GUEST_PIC_H
#define CORVID_X86_GUEST_PIC_H

#include "runtime.h"

/* Remaps IRQ0-7 to vectors 0x20-0x27 and IRQ8-15 to 0x28-0x2f, all masked except `unmask`
 * (a bit per IRQ; IRQ2, the cascade, is unmasked when a slave IRQ is). */
static inline void pic_init(uint16_t unmask) {
    outb(0x20, 0x11); /* ICW1: edge, cascade, ICW4 follows */
    outb(0xa0, 0x11);
    outb(0x21, 0x20); /* ICW2: vector base */
    outb(0xa1, 0x28);
    outb(0x21, 0x04); /* ICW3: slave on IRQ2 */
    outb(0xa1, 0x02);
    outb(0x21, 0x01); /* ICW4: 8086 mode */
    outb(0xa1, 0x01);
    if (unmask & 0xff00) unmask |= 1u << 2;
    outb(0x21, (uint8_t)~unmask);
    outb(0xa1, (uint8_t)~(unmask >> 8));
}

static inline void pic_eoi(unsigned irq) {
    if (irq >= 8) outb(0xa0, 0x20);
    outb(0x20, 0x20);
}

#endif
