/* pic: the i8259 pair as a driver sees it. IRR/ISR/IMR reads, edge latching, poll mode,
 * specific and non-specific EOI, and delivery through the IDT of COM1's THRE interrupt (IRQ4)
 * and the RTC's periodic interrupt (IRQ8, through the cascade). IRQ0 stays masked and is left
 * out of every printed value (firmware may have left the PIT running). Exit status 1. */
#include "pic.h"

static volatile unsigned irq4_count, irq8_count;

void trap_handler(struct trap_frame* f) {
    if (f->vector == 0x24) {
        irq4_count++;
        inb(COM1 + 2); /* IIR read acknowledges THRE: the line drops */
        pic_eoi(4);
        return;
    }
    if (f->vector == 0x28) {
        irq8_count++;
        outb(0x70, 0x0c);
        inb(0x71); /* register C read acknowledges the RTC */
        pic_eoi(8);
        return;
    }
    printf("unexpected trap: vector %lu error %lx rip %lx\n", f->vector, f->error, f->rip);
    guest_exit(0x7f);
}

static uint8_t irr(int slave) {
    outb(slave ? 0xa0 : 0x20, 0x0a);
    return inb(slave ? 0xa0 : 0x20);
}

static uint8_t isr(int slave) {
    outb(slave ? 0xa0 : 0x20, 0x0b);
    return inb(slave ? 0xa0 : 0x20);
}

static void cmos_write(uint8_t idx, uint8_t v) {
    outb(0x70, idx);
    outb(0x71, v);
}

int main(void) {
    uint8_t v[16];
    printf("pic: start\n");
    /* Quiet sources first: COM1 interrupts off, RTC periodic off and acknowledged. */
    outb(COM1 + 1, 0);
    cmos_write(0x0b, 0x02);
    outb(0x70, 0x0c);
    inb(0x71);
    pic_init(0);
    printf("imr 0x%x 0x%x, irr 0x%x 0x%x, isr 0x%x 0x%x\n", inb(0x21), inb(0xa1), irr(0) & 0xfe, irr(1), isr(0), isr(1));

    /* From here until the results are printed nothing is written to COM1: every byte sent
     * would raise a new THRE edge. */
    outb(COM1 + 1, 0x02);      /* THRE interrupt: the line rises */
    v[0] = irr(0) & 0xfe;      /* IRR latches it although IRQ4 is masked */
    outb(0x21, (uint8_t)~(1u << 4));
    outb(0x20, 0x0c);          /* poll: acknowledges without the CPU */
    v[1] = inb(0x20);
    v[2] = isr(0);
    v[3] = irr(0) & 0xfe;
    outb(0x20, 0x64);          /* specific EOI, IRQ4 */
    v[4] = isr(0);
    outb(0x20, 0x0c);          /* the line is still high: no new edge, nothing to poll */
    v[5] = inb(0x20);
    inb(COM1 + 2);             /* IIR read acknowledges THRE: the line drops */
    outb(COM1 + 1, 0);
    outb(COM1 + 1, 0x02);      /* re-enabling THRE with THR empty: a new edge */
    v[6] = irr(0) & 0xfe;
    __asm__ volatile("sti");
    for (unsigned i = 0; i < 1000000 && !irq4_count; i++) __asm__ volatile("pause");
    __asm__ volatile("cli");
    v[7] = (uint8_t)irq4_count;
    v[8] = isr(0);
    outb(COM1 + 1, 0);
    printf("thre enabled: irr 0x%x\n", v[0]);
    printf("poll: 0x%x, isr 0x%x, irr 0x%x\n", v[1], v[2], v[3]);
    printf("after specific eoi: isr 0x%x, poll 0x%x\n", v[4], v[5]);
    printf("new edge: irr 0x%x\n", v[6]);
    printf("irq4 delivered %u time(s), isr 0x%x\n", v[7], v[8]);

    /* RTC periodic interrupt (1024 Hz) on IRQ8 through the slave and IRQ2. */
    pic_init((1u << 8));
    printf("cascade: imr 0x%x 0x%x\n", inb(0x21), inb(0xa1));
    cmos_write(0x0a, 0x26);
    cmos_write(0x0b, 0x42);
    __asm__ volatile("sti");
    while (irq8_count < 5) __asm__ volatile("hlt");
    __asm__ volatile("cli");
    cmos_write(0x0b, 0x02);
    outb(0x70, 0x0c);
    inb(0x71);
    printf("irq8 ticks ok, isr 0x%x 0x%x\n", isr(0), isr(1));
    printf("pic: done\n");
    return 0;
}
