/* uart: the 16550A register file as a driver sees it, run in loopback so nothing depends on
 * the outside world: scratch, divisor latch, MCR->MSR wiring, FIFO and overrun, IIR sources
 * (received data at the trigger level, line status, THR empty, modem status). No interrupts
 * are enabled at the CPU; IIR is only read. Exit status 1. */
#include "runtime.h"

#define RBR 0
#define THR 0
#define IER 1
#define IIR 2
#define FCR 2
#define LCR 3
#define MCR 4
#define LSR 5
#define MSR 6
#define SCR 7

static uint8_t rd(int r) { return inb(COM1 + r); }
static void wr(int r, uint8_t v) { outb(COM1 + r, v); }

/* While in loopback the console is looped back too: results are collected here and
 * printed once the port is back to normal. */
static char buf[2048];
static unsigned len;

static void put(char c) {
    if (len < sizeof buf - 1) buf[len++] = c;
}

static void bprint(const char* s) {
    while (*s) put(*s++);
}

static void bhex(unsigned v) {
    const char* d = "0123456789abcdef";
    bprint("0x");
    if (v >= 16) put(d[(v >> 4) & 15]);
    put(d[v & 15]);
}

static void drain(void) {
    for (int i = 0; i < 64 && (rd(LSR) & 1); i++) rd(RBR);
}

int main(void) {
    printf("uart: start\n");
    /* Scratch and divisor latch. */
    wr(SCR, 0xa5);
    uint8_t scr = rd(SCR);
    wr(LCR, 0x83);
    wr(0, 0x34);
    wr(1, 0x12);
    uint8_t dll = rd(0), dlm = rd(1);
    wr(LCR, 0x03);
    wr(0, 0x01); /* restore 115200 for the console */
    printf("scr 0x%x, divisor 0x%x%02x, lcr 0x%x\n", scr, dlm, dll, rd(LCR));
    wr(LCR, 0x83);
    wr(0, 0x01);
    wr(1, 0x00);
    wr(LCR, 0x03);
    printf("ier 0x%x iir 0x%x lsr 0x%x\n", rd(IER), rd(IIR), rd(LSR));

    /* The slowest baud rate while looped back: QEMU raises the character-timeout interrupt
     * 4 character times after the last received byte, which must not happen during the test
     * (it would depend on how fast the emulator runs). */
    wr(LCR, 0x83);
    wr(0, 0xff);
    wr(1, 0xff);
    wr(LCR, 0x03);

    /* Loopback: MCR outputs appear on the MSR inputs. */
    wr(MCR, 0x10);
    rd(MSR);
    wr(MCR, 0x10 | 0x01 | 0x02);
    uint8_t m1 = rd(MSR);
    uint8_t m2 = rd(MSR);
    wr(MCR, 0x10 | 0x04 | 0x08);
    uint8_t m3 = rd(MSR);
    wr(MCR, 0x10);
    uint8_t m4 = rd(MSR);
    bprint("msr: dtr+rts "); bhex(m1); bprint(", again "); bhex(m2); bprint(", out1+out2 "); bhex(m3);
    bprint(", none "); bhex(m4); bprint("\n");

    /* Loopback without FIFO: one holding register, a second byte overruns. */
    drain();
    rd(LSR);
    wr(THR, 'A');
    uint8_t l1 = rd(LSR);
    wr(THR, 'B');
    uint8_t l2 = rd(LSR);
    uint8_t l3 = rd(LSR);
    uint8_t b = rd(RBR);
    bprint("no fifo: lsr "); bhex(l1); bprint(", after overrun "); bhex(l2); bprint(" then "); bhex(l3);
    bprint(", rbr "); put((char)b); bprint(", lsr "); bhex(rd(LSR)); bprint("\n");

    /* FIFO: 16 bytes fit, the 17th overruns; FCR bit 1 clears the receive FIFO. */
    wr(FCR, 0x07);
    bprint("fifo: iir "); bhex(rd(IIR)); bprint("\n");
    for (int i = 0; i < 17; i++) wr(THR, (uint8_t)('a' + i));
    uint8_t lsr = rd(LSR);
    bprint("fifo: lsr "); bhex(lsr); bprint(", read \"");
    int n = 0;
    while ((rd(LSR) & 1) && n < 19) {
        put((char)rd(RBR));
        n++;
    }
    bprint("\"\n");
    for (int i = 0; i < 5; i++) wr(THR, (uint8_t)('0' + i));
    wr(FCR, 0x03);
    bprint("fifo clear: lsr "); bhex(rd(LSR)); bprint("\n");

    /* IIR sources by priority, with all four enabled: 14-byte trigger reached -> data
     * available (4); overrun -> line status (6) first; THR empty (2) once the data is read. */
    wr(FCR, 0xc7);
    rd(LSR);
    wr(IER, 0x0f);
    rd(IIR);
    rd(MSR);
    for (int i = 0; i < 14; i++) wr(THR, (uint8_t)('A' + i));
    uint8_t i1 = rd(IIR);
    for (int i = 0; i < 3; i++) wr(THR, 'x');
    uint8_t i2 = rd(IIR);
    rd(LSR);
    uint8_t i3 = rd(IIR);
    drain();
    uint8_t i4 = rd(IIR);
    uint8_t i5 = rd(IIR);
    bprint("iir: trigger "); bhex(i1); bprint(", overrun "); bhex(i2); bprint(", after lsr "); bhex(i3);
    bprint(", drained "); bhex(i4); bprint(", then "); bhex(i5); bprint("\n");
    /* Modem status (0) is the lowest source. */
    wr(MCR, 0x10 | 0x02);
    uint8_t i6 = rd(IIR);
    rd(MSR);
    uint8_t i7 = rd(IIR);
    bprint("iir: modem "); bhex(i6); bprint(", after msr "); bhex(i7); bprint("\n");

    wr(IER, 0);
    wr(FCR, 0);
    wr(MCR, 0x03);
    wr(LCR, 0x83);
    wr(0, 0x01);
    wr(1, 0x00);
    wr(LCR, 0x03);
    drain();
    buf[len] = 0;
    serial_puts(buf);
    printf("uart: done\n");
    return 0;
}
