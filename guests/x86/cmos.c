/* cmos: the MC146818 RTC registers (sane BCD / binary values, 24 h mode, register D) and the
 * memory-size bytes QEMU stores in CMOS RAM. Exit status 1. */
#include "runtime.h"

static uint8_t cmos_read(uint8_t idx) {
    outb(0x70, idx);
    return inb(0x71);
}

static void cmos_write(uint8_t idx, uint8_t v) {
    outb(0x70, idx);
    outb(0x71, v);
}

static int bcd_ok(uint8_t v) { return (v & 0x0f) <= 9 && (v >> 4) <= 9; }
static unsigned from_bcd(uint8_t v) { return (v >> 4) * 10 + (v & 0x0f); }

struct rtc_time {
    uint8_t sec, min, hour, wday, mday, mon, year, century;
};

static void read_time(struct rtc_time* t) {
    while (cmos_read(0x0a) & 0x80) {
    } /* wait out an update in progress */
    t->sec = cmos_read(0x00);
    t->min = cmos_read(0x02);
    t->hour = cmos_read(0x04);
    t->wday = cmos_read(0x06);
    t->mday = cmos_read(0x07);
    t->mon = cmos_read(0x08);
    t->year = cmos_read(0x09);
    t->century = cmos_read(0x32);
}

int main(void) {
    printf("cmos: start\n");
    uint8_t b = cmos_read(0x0b);
    printf("register B: 24h %u, binary %u\n", (b >> 1) & 1, (b >> 2) & 1);
    printf("register D: 0x%x\n", cmos_read(0x0d));

    struct rtc_time t;
    read_time(&t);
    int bcd = bcd_ok(t.sec) && bcd_ok(t.min) && bcd_ok(t.hour) && bcd_ok(t.wday) && bcd_ok(t.mday) && bcd_ok(t.mon) &&
              bcd_ok(t.year) && bcd_ok(t.century);
    int sane = bcd && from_bcd(t.sec) < 60 && from_bcd(t.min) < 60 && from_bcd(t.hour) < 24 && from_bcd(t.wday) >= 1 &&
               from_bcd(t.wday) <= 7 && from_bcd(t.mday) >= 1 && from_bcd(t.mday) <= 31 && from_bcd(t.mon) >= 1 &&
               from_bcd(t.mon) <= 12 && from_bcd(t.century) >= 20;
    printf("bcd time: %s\n", sane ? "sane" : "NOT SANE");

    /* Binary mode: the same clock without BCD encoding. */
    cmos_write(0x0b, b | 0x04);
    read_time(&t);
    sane = t.sec < 60 && t.min < 60 && t.hour < 24 && t.mday >= 1 && t.mday <= 31 && t.mon >= 1 && t.mon <= 12 &&
           t.year < 100 && t.century >= 20;
    printf("binary time: %s\n", sane ? "sane" : "NOT SANE");
    cmos_write(0x0b, b);

    /* Memory sizes: base (KiB), extended (KiB above 1 MiB, twice), 64 KiB units above 16 MiB
     * and above 4 GiB. */
    printf("base memory: %u KiB\n", cmos_read(0x15) | (cmos_read(0x16) << 8));
    printf("extended memory: %u KiB (0x30/0x31: %u KiB)\n", cmos_read(0x17) | (cmos_read(0x18) << 8),
           cmos_read(0x30) | (cmos_read(0x31) << 8));
    printf("above 16M: %u x 64 KiB\n", cmos_read(0x34) | (cmos_read(0x35) << 8));
    printf("above 4G: %u x 64 KiB\n", cmos_read(0x5b) | (cmos_read(0x5c) << 8) | (cmos_read(0x5d) << 16));

    /* CMOS RAM keeps what is written (0x7e/0x7f are unused by firmware). */
    cmos_write(0x7e, 0x5a);
    cmos_write(0x7f, 0xa5);
    printf("cmos ram: %s\n", cmos_read(0x7e) == 0x5a && cmos_read(0x7f) == 0xa5 ? "ok" : "BAD");
    printf("cmos: done\n");
    return 0;
}
