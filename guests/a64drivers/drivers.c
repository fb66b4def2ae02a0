/* Interrupt-driven driver guest for the AArch64 virt board: GICv2 set-up, an SGI to self, the
 * virtual and physical generic timers, a scan of the 32 virtio-mmio transports, virtio-rng
 * (random bytes) and virtio-net (a frame to the socket peer and its echo back), each completion
 * signalled by its interrupt. Output goes to the PL011; the same ELF runs on QEMU and Corvid. */
#include "runtime.h"

#define GICD_BASE 0x08000000UL
#define GICC_BASE 0x08010000UL
#define REG32(a) (*(volatile uint32_t*)(uintptr_t)(a))
#define GICD(off) REG32(GICD_BASE + (off))
#define GICC(off) REG32(GICC_BASE + (off))

#define GICD_CTLR 0x000
#define GICD_TYPER 0x004
#define GICD_ISENABLER 0x100
#define GICD_IPRIORITYR 0x400
#define GICD_SGIR 0xf00
#define GICC_CTLR 0x00
#define GICC_PMR 0x04
#define GICC_IAR 0x0c
#define GICC_EOIR 0x10

#define INTID_SGI 1
#define INTID_VTIMER 27
#define INTID_PTIMER 30
#define VIRTIO_SPI_BASE 48 /* INTID of slot 0: SPI 16 */

#define VIRTIO_BASE 0x0a000000UL
#define VIRTIO_SLOTS 32
#define VIRTIO_SLOT_SIZE 0x200

/* virtio-mmio registers */
#define VM_MAGIC 0x000
#define VM_VERSION 0x004
#define VM_DEVICE_ID 0x008
#define VM_DEVICE_FEATURES 0x010
#define VM_DEVICE_FEATURES_SEL 0x014
#define VM_DRIVER_FEATURES 0x020
#define VM_DRIVER_FEATURES_SEL 0x024
#define VM_QUEUE_SEL 0x030
#define VM_QUEUE_NUM_MAX 0x034
#define VM_QUEUE_NUM 0x038
#define VM_QUEUE_READY 0x044
#define VM_QUEUE_NOTIFY 0x050
#define VM_INTERRUPT_STATUS 0x060
#define VM_INTERRUPT_ACK 0x064
#define VM_STATUS 0x070
#define VM_QUEUE_DESC_LOW 0x080
#define VM_QUEUE_DESC_HIGH 0x084
#define VM_QUEUE_DRIVER_LOW 0x090
#define VM_QUEUE_DRIVER_HIGH 0x094
#define VM_QUEUE_DEVICE_LOW 0x0a0
#define VM_QUEUE_DEVICE_HIGH 0x0a4
#define VM_CONFIG 0x100

#define ST_ACK 1
#define ST_DRIVER 2
#define ST_DRIVER_OK 4
#define ST_FEATURES_OK 8

#define F_NET_MAC (1u << 5)
#define F_VERSION_1_HI 1u /* bit 32 */

#define QSIZE 8
#define DESC_F_WRITE 2

struct vq_desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
struct vq_avail {
    uint16_t flags;
    uint16_t idx;
    uint16_t ring[QSIZE];
    uint16_t used_event;
};
struct vq_used_elem {
    uint32_t id;
    uint32_t len;
};
struct vq_used {
    uint16_t flags;
    uint16_t idx;
    struct vq_used_elem ring[QSIZE];
    uint16_t avail_event;
};
struct vq {
    struct vq_desc desc[QSIZE] __attribute__((aligned(16)));
    struct vq_avail avail __attribute__((aligned(2)));
    struct vq_used used __attribute__((aligned(4)));
    uint16_t last_used;
};

struct vdev {
    uint64_t base;
    unsigned slot;
    unsigned intid;
    volatile unsigned irqs;        /* interrupts taken */
    volatile uint32_t isr_seen;    /* InterruptStatus bits acknowledged */
};

static struct vdev devs[VIRTIO_SLOTS];
static unsigned ndevs;
/* The net rx used index as an interrupt handler saw it: the echo's arrival was signalled by an
 * interrupt iff a handler ran after the device published it. */
static struct vdev* net_dev;
static volatile uint16_t net_rx_used_at_irq;
static struct vq net_rx, net_tx;
static volatile unsigned sgi_irqs, vtimer_irqs, ptimer_irqs, spurious_irqs, other_irqs;

static inline void dsb(void) { __asm__ volatile("dsb sy" ::: "memory"); }
static inline void irq_enable(void) { __asm__ volatile("msr daifclr, #2" ::: "memory"); }
static inline void irq_disable(void) { __asm__ volatile("msr daifset, #2" ::: "memory"); }

static uint32_t vm_read(const struct vdev* d, uint32_t off) { return REG32(d->base + off); }
static void vm_write(const struct vdev* d, uint32_t off, uint32_t v) { REG32(d->base + off) = v; }

static void handle_intid(unsigned intid) {
    if (intid == INTID_SGI) {
        sgi_irqs++;
    } else if (intid == INTID_VTIMER) {
        WRITE_SYSREG(cntv_ctl_el0, 0); /* one shot: drop the level before EOI */
        vtimer_irqs++;
    } else if (intid == INTID_PTIMER) {
        WRITE_SYSREG(cntp_ctl_el0, 0);
        ptimer_irqs++;
    } else {
        for (unsigned i = 0; i < ndevs; i++) {
            if (devs[i].intid == intid) {
                uint32_t isr = vm_read(&devs[i], VM_INTERRUPT_STATUS);
                vm_write(&devs[i], VM_INTERRUPT_ACK, isr);
                devs[i].isr_seen |= isr;
                devs[i].irqs++;
                if (&devs[i] == net_dev) net_rx_used_at_irq = *(volatile uint16_t*)&net_rx.used.idx;
                return;
            }
        }
        other_irqs++;
    }
}

void exception_handler(struct exc_frame* f, unsigned vector) {
    if (vector != 5) { /* current EL with SP_ELx, IRQ */
        uart_printf("unexpected exception: vector %u esr %lx elr %lx\n", vector, READ_SYSREG(esr_el1), f->elr);
        psci_system_off();
    }
    unsigned handled = 0;
    for (;;) {
        uint32_t iar = GICC(GICC_IAR);
        unsigned intid = iar & 0x3ff;
        if (intid >= 1020) break;
        handle_intid(intid);
        GICC(GICC_EOIR) = iar;
        handled++;
    }
    if (!handled) spurious_irqs++;
}

/* Sleeps with WFI until *counter moves past `before`, without the lost-wake-up race: the
 * check runs with IRQs masked, and WFI wakes on a pending IRQ even when it is masked. */
static int wait_irq(volatile unsigned* counter, unsigned before) {
    uint64_t start = READ_SYSREG(cntvct_el0);
    uint64_t limit = READ_SYSREG(cntfrq_el0) * 5; /* 5 s: a missing interrupt is reported */
    for (;;) {
        irq_disable();
        if (*counter != before) {
            irq_enable();
            return 1;
        }
        if (READ_SYSREG(cntvct_el0) - start > limit) {
            irq_enable();
            return 0;
        }
        __asm__ volatile("wfi" ::: "memory");
        irq_enable();
    }
}

static void gic_enable_intid(unsigned intid, uint8_t prio) {
    volatile uint8_t* p = (volatile uint8_t*)(uintptr_t)(GICD_BASE + GICD_IPRIORITYR + intid);
    *p = prio;
    GICD(GICD_ISENABLER + 4 * (intid / 32)) = 1u << (intid % 32);
}

static void gic_init(void) {
    GICD(GICD_CTLR) = 0;
    uint32_t typer = GICD(GICD_TYPER);
    uart_printf("gic: distributor lines %u (typer itlines %u, cpus %u)\n", 32 * ((typer & 0x1f) + 1), typer & 0x1f,
                ((typer >> 5) & 7) + 1);
    GICD(GICD_CTLR) = 1;
    GICC(GICC_PMR) = 0xf0;
    GICC(GICC_CTLR) = 1;
    gic_enable_intid(INTID_SGI, 0x80);
    gic_enable_intid(INTID_VTIMER, 0x80);
    gic_enable_intid(INTID_PTIMER, 0x80);
    uint32_t iar = GICC(GICC_IAR);
    uart_printf("gic: idle IAR reads %u (spurious)\n", iar & 0x3ff);
}

static void test_sgi(void) {
    unsigned before = sgi_irqs;
    GICD(GICD_SGIR) = (2u << 24) | INTID_SGI; /* to self */
    int ok = wait_irq(&sgi_irqs, before);
    uart_printf("sgi: SGI %u to self %s\n", INTID_SGI, ok ? "taken" : "NOT taken");
}

static void test_timer(int virt) {
    const uint64_t freq = READ_SYSREG(cntfrq_el0);
    const uint64_t delay = freq / 50; /* 20 ms */
    volatile unsigned* counter = virt ? &vtimer_irqs : &ptimer_irqs;
    unsigned before = *counter;
    uint64_t start, now;
    if (virt) {
        start = READ_SYSREG(cntvct_el0);
        WRITE_SYSREG(cntv_cval_el0, start + delay);
        WRITE_SYSREG(cntv_ctl_el0, 1);
    } else {
        start = READ_SYSREG(cntpct_el0);
        WRITE_SYSREG(cntp_cval_el0, start + delay);
        WRITE_SYSREG(cntp_ctl_el0, 1);
    }
    __asm__ volatile("isb" ::: "memory");
    int ok = wait_irq(counter, before);
    now = virt ? READ_SYSREG(cntvct_el0) : READ_SYSREG(cntpct_el0);
    uart_printf("timer: %s timer IRQ %u %s, not early: %s\n", virt ? "virtual" : "physical",
                virt ? INTID_VTIMER : INTID_PTIMER, ok ? "taken" : "NOT taken",
                now - start >= delay ? "yes" : "no");
}

/* The virtual timer again, but the CPU keeps running (no WFI): the interrupt must still
 * arrive while the guest spins, via TVAL this time. */
static void test_timer_busy(void) {
    const uint64_t freq = READ_SYSREG(cntfrq_el0);
    unsigned before = vtimer_irqs;
    uint64_t start = READ_SYSREG(cntvct_el0);
    WRITE_SYSREG(cntv_tval_el0, freq / 50);
    WRITE_SYSREG(cntv_ctl_el0, 1);
    __asm__ volatile("isb" ::: "memory");
    while (vtimer_irqs == before && READ_SYSREG(cntvct_el0) - start < freq * 5) {
    }
    uart_printf("timer: virtual timer IRQ %u while spinning %s\n", INTID_VTIMER,
                vtimer_irqs != before ? "taken" : "NOT taken");
}

static void scan_virtio(void) {
    for (unsigned s = 0; s < VIRTIO_SLOTS; s++) {
        uint64_t base = VIRTIO_BASE + (uint64_t)s * VIRTIO_SLOT_SIZE;
        if (REG32(base + VM_MAGIC) != 0x74726976) {
            uart_printf("virtio: slot %u bad magic\n", s);
            continue;
        }
        uint32_t version = REG32(base + VM_VERSION);
        uint32_t id = REG32(base + VM_DEVICE_ID);
        if (id == 0) continue;
        uart_printf("virtio: slot %u at 0x%lx: version %u device id %u intid %u\n", s, base, version, id,
                    VIRTIO_SPI_BASE + s);
        if (version != 2) continue;
        struct vdev* d = &devs[ndevs++];
        d->base = base;
        d->slot = s;
        d->intid = VIRTIO_SPI_BASE + s;
        gic_enable_intid(d->intid, 0xa0);
    }
    uart_printf("virtio: %u modern devices\n", ndevs);
}

static struct vdev* find_dev(uint32_t id) {
    for (unsigned i = 0; i < ndevs; i++) {
        if (vm_read(&devs[i], VM_DEVICE_ID) == id) return &devs[i];
    }
    return 0;
}

/* Status handshake and feature negotiation (virtio 1.0 3.1.1). */
static int dev_init(struct vdev* d, uint32_t want_lo) {
    vm_write(d, VM_STATUS, 0);
    vm_write(d, VM_STATUS, ST_ACK);
    vm_write(d, VM_STATUS, ST_ACK | ST_DRIVER);
    vm_write(d, VM_DEVICE_FEATURES_SEL, 1);
    uint32_t hi = vm_read(d, VM_DEVICE_FEATURES);
    vm_write(d, VM_DEVICE_FEATURES_SEL, 0);
    uint32_t lo = vm_read(d, VM_DEVICE_FEATURES);
    if (!(hi & F_VERSION_1_HI)) return 0;
    vm_write(d, VM_DRIVER_FEATURES_SEL, 1);
    vm_write(d, VM_DRIVER_FEATURES, F_VERSION_1_HI);
    vm_write(d, VM_DRIVER_FEATURES_SEL, 0);
    vm_write(d, VM_DRIVER_FEATURES, lo & want_lo);
    vm_write(d, VM_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
    return (vm_read(d, VM_STATUS) & ST_FEATURES_OK) != 0;
}

static int queue_init(struct vdev* d, unsigned index, struct vq* q) {
    memset(q, 0, sizeof *q);
    vm_write(d, VM_QUEUE_SEL, index);
    if (vm_read(d, VM_QUEUE_READY) != 0 || vm_read(d, VM_QUEUE_NUM_MAX) < QSIZE) return 0;
    vm_write(d, VM_QUEUE_NUM, QSIZE);
    uint64_t desc = (uint64_t)(uintptr_t)q->desc, avail = (uint64_t)(uintptr_t)&q->avail;
    uint64_t used = (uint64_t)(uintptr_t)&q->used;
    vm_write(d, VM_QUEUE_DESC_LOW, (uint32_t)desc);
    vm_write(d, VM_QUEUE_DESC_HIGH, (uint32_t)(desc >> 32));
    vm_write(d, VM_QUEUE_DRIVER_LOW, (uint32_t)avail);
    vm_write(d, VM_QUEUE_DRIVER_HIGH, (uint32_t)(avail >> 32));
    vm_write(d, VM_QUEUE_DEVICE_LOW, (uint32_t)used);
    vm_write(d, VM_QUEUE_DEVICE_HIGH, (uint32_t)(used >> 32));
    vm_write(d, VM_QUEUE_READY, 1);
    return 1;
}

/* Puts descriptor `i` (one buffer) on the available ring. */
static void queue_post(struct vq* q, unsigned i, void* buf, uint32_t len, int device_writes) {
    q->desc[i].addr = (uint64_t)(uintptr_t)buf;
    q->desc[i].len = len;
    q->desc[i].flags = device_writes ? DESC_F_WRITE : 0;
    q->desc[i].next = 0;
    q->avail.ring[q->avail.idx % QSIZE] = (uint16_t)i;
    dsb();
    q->avail.idx++;
    dsb();
}

/* Takes one used element, if any: its length, or -1. */
static int queue_take(struct vq* q, uint32_t* id) {
    dsb();
    if (*(volatile uint16_t*)&q->used.idx == q->last_used) return -1;
    struct vq_used_elem e = q->used.ring[q->last_used % QSIZE];
    q->last_used++;
    if (id) *id = e.id;
    return (int)e.len;
}

/* Waits for a used element on `q`, sleeping until `d` interrupts between looks. */
static int wait_used(struct vdev* d, struct vq* q, uint32_t* id) {
    for (int tries = 0; tries < 4; tries++) {
        unsigned before = d->irqs;
        int len = queue_take(q, id);
        if (len >= 0) return len;
        if (!wait_irq(&d->irqs, before)) break;
    }
    return queue_take(q, id);
}

static struct vq rng_q;
static uint8_t rng_buf[32];

static void test_rng(void) {
    struct vdev* d = find_dev(4);
    if (!d) {
        uart_puts("rng: no virtio-rng device\n");
        return;
    }
    if (!dev_init(d, 0) || !queue_init(d, 0, &rng_q)) {
        uart_puts("rng: set-up failed\n");
        return;
    }
    vm_write(d, VM_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
    int irqs = 0, nonzero = 0;
    uint32_t total = 0;
    for (int round = 0; round < 2; round++) {
        memset(rng_buf, 0, sizeof rng_buf);
        unsigned before = d->irqs;
        queue_post(&rng_q, 0, rng_buf, sizeof rng_buf, 1);
        vm_write(d, VM_QUEUE_NOTIFY, 0);
        int len = wait_used(d, &rng_q, 0);
        irqs += d->irqs != before;
        if (len > 0) total += (uint32_t)len;
        for (unsigned i = 0; i < sizeof rng_buf; i++) nonzero |= rng_buf[i] != 0;
    }
    uart_printf("rng: %u bytes in 2 requests, %d of 2 completions interrupted, used-ring isr bit %s, "
                "bytes not all zero: %s\n", total, irqs, (d->isr_seen & 1) ? "set" : "clear", nonzero ? "yes" : "no");
}

#define NET_HDR 12 /* virtio_net_hdr with num_buffers (VERSION_1) */
#define FRAME_MAX 1514
static uint8_t rx_bufs[4][NET_HDR + FRAME_MAX] __attribute__((aligned(16)));
static uint8_t tx_buf[NET_HDR + FRAME_MAX] __attribute__((aligned(16)));

static void test_net(void) {
    struct vdev* d = find_dev(1);
    if (!d) {
        uart_puts("net: no virtio-net device\n");
        return;
    }
    net_dev = d;
    if (!dev_init(d, F_NET_MAC) || !queue_init(d, 0, &net_rx) || !queue_init(d, 1, &net_tx)) {
        uart_puts("net: set-up failed\n");
        return;
    }
    uint8_t mac[6];
    for (int i = 0; i < 6; i++) mac[i] = *(volatile uint8_t*)(uintptr_t)(d->base + VM_CONFIG + i);
    uart_printf("net: mac %02x:%02x:%02x:%02x:%02x:%02x\n", mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
    for (unsigned i = 0; i < 4; i++) queue_post(&net_rx, i, rx_bufs[i], sizeof rx_bufs[i], 1);
    vm_write(d, VM_STATUS, ST_ACK | ST_DRIVER | ST_FEATURES_OK | ST_DRIVER_OK);
    vm_write(d, VM_QUEUE_NOTIFY, 0);

    static const char payload[] = "hello from the a64 virtio-net driver";
    uint8_t* f = tx_buf + NET_HDR;
    memset(tx_buf, 0, sizeof tx_buf);
    memset(f, 0xff, 6); /* broadcast */
    memcpy(f + 6, mac, 6);
    f[12] = 0x88; /* local experimental ethertype 0x88b5 */
    f[13] = 0xb5;
    memcpy(f + 14, payload, sizeof payload - 1);
    uint32_t flen = 14 + sizeof payload - 1;
    if (flen < 60) flen = 60;
    unsigned before = d->irqs;
    queue_post(&net_tx, 0, tx_buf, NET_HDR + flen, 0);
    vm_write(d, VM_QUEUE_NOTIFY, 1);
    int len = wait_used(d, &net_tx, 0);
    int irq_tx = d->irqs != before;
    uart_printf("net: sent %u-byte frame, completed %s, interrupt %s\n", flen, len >= 0 ? "yes" : "no",
                irq_tx ? "taken" : "NOT taken");
    uint32_t id = 0;
    len = wait_used(d, &net_rx, &id);
    int irq_rx = net_rx_used_at_irq != 0;
    if (len < NET_HDR + 14 || id >= 4) {
        uart_printf("net: no reply (len %d)\n", len);
        return;
    }
    uint8_t* r = rx_bufs[id] + NET_HDR;
    unsigned plen = (unsigned)len - NET_HDR - 14;
    char text[80];
    unsigned n = 0;
    for (unsigned i = 0; i < plen && n < sizeof text - 1 && r[14 + i]; i++) text[n++] = (char)r[14 + i];
    text[n] = 0;
    uart_printf("net: received %u-byte frame from %02x:%02x:%02x:%02x:%02x:%02x to us: %s, interrupt %s\n",
                (unsigned)len - NET_HDR, r[6], r[7], r[8], r[9], r[10], r[11], memcmp(r, mac, 6) == 0 ? "yes" : "no",
                irq_rx ? "taken" : "NOT taken");
    uart_printf("net: payload \"%s\"\n", text);
}

int main(void) {
    uart_puts("a64drivers: start\n");
    gic_init();
    irq_enable();
    test_sgi();
    test_timer(1);
    test_timer(0);
    test_timer_busy();
    scan_virtio();
    test_rng();
    test_net();
    uart_printf("irqs: sgi %u vtimer %u ptimer %u other %u\n", sgi_irqs, vtimer_irqs, ptimer_irqs, other_irqs);
    uart_puts("a64drivers: done\n");
    return 0;
}
