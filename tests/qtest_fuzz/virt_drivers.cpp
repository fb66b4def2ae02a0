// Fuzz drivers for the virt board's onboard devices: the PL011 UART and the GICv2.
#include <fmt/format.h>

#include "tests/qtest_fuzz/drivers.h"

namespace corvid::fuzz {
namespace {

// ---------------------------------------------------------------- PL011 (virt)

class Pl011Driver : public DeviceDriver {
public:
    Pl011Driver() {
        w_ = Window{false, 0x0900'0000, 0x1000, {0x00, 0x04, 0x18, 0x20, 0x24, 0x28, 0x2c, 0x30, 0x34, 0x38, 0x3c, 0x40, 0x44, 0x48,
                                                 0xfe0, 0xfe4, 0xfe8, 0xfec, 0xff0, 0xff4, 0xff8, 0xffc}};
    }
    void setup(Fuzzer&) override {}
    void op(Fuzzer& fz) override {
        const uint64_t r = fz.u(100);
        if (r < 20) {
            fz.write(w_.base + 0x30, fz.u(2) ? 0x301 : fz.u(0x10000), 4);
            for (unsigned i = 0, n = static_cast<unsigned>(fz.u(40)); i < n; i++) fz.write(w_.base, fz.u(256), 1);
        } else if (r < 30) {
            fz.write(w_.base + 0x2c, fz.u(256), 4);  // LCR_H: FIFO enable, word length
            fz.write(w_.base + 0x38, fz.u(0x800), 4);
            (void)fz.read(w_.base + 0x40, 4);
        } else if (r < 93) {
            fz.op_register(w_);
        } else if (r < 99) {
            fz.op_clock();
        } else {
            fz.op_malformed();
        }
    }
    void check_works(Fuzzer& fz) override {
        static const uint8_t kIds[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
        for (unsigned i = 0; i < 8; i++) {
            if (fz.read(w_.base + 0xfe0 + 4 * i, 4) != kIds[i]) fz.fail(fmt::format("pl011: ID register {} wrong", i));
        }
        fz.write(w_.base + 0x30, 0x301, 4);
        fz.write(w_.base, 'x', 1);
        if (!(fz.read(w_.base + 0x18, 4) & 0x80)) fz.fail("pl011: TX FIFO not empty after a write");
        // Unassigned MMIO next to the UART reads as zero through qtest (QEMU's unassigned_mem_read).
        if (fz.read(0x0900'2000, 4) != 0) fz.fail("unassigned MMIO does not read 0");
    }

private:
    Window w_;
};

// ---------------------------------------------------------------- GICv2 (virt)

class GicDriver : public DeviceDriver {
public:
    static constexpr uint64_t kDist = 0x0800'0000, kCpu = 0x0801'0000;
    GicDriver() {
        dist_ = Window{false, kDist, 0x1000, {0x000, 0x004, 0x008, 0x080, 0x084, 0x100, 0x104, 0x180, 0x184, 0x200, 0x204,
                                              0x280, 0x284, 0x300, 0x380, 0x400, 0x420, 0x800, 0x820, 0xc00, 0xc08,
                                              0xf00, 0xf10, 0xf20, 0xfd0, 0xfe0}};
        cpu_ = Window{false, kCpu, 0x2000, {0x00, 0x04, 0x08, 0x0c, 0x10, 0x14, 0x18, 0x1c, 0x20, 0x24, 0x28, 0xd0, 0xe0,
                                             0xfc, 0x1000}};
    }
    void setup(Fuzzer&) override {}
    void op(Fuzzer& fz) override {
        const uint64_t r = fz.u(100);
        if (r < 25) {
            // Enable, prioritise and pend interrupts, then acknowledge and complete them.
            const uint64_t irq = fz.u(4) ? 32 + fz.u(64) : fz.u(1024);
            fz.write(kDist + 0x000, fz.u(4) ? 1 : fz.u(4), 4);
            fz.write(kCpu + 0x000, fz.u(4) ? 1 : fz.u(4), 4);
            fz.write(kCpu + 0x004, fz.u(2) ? 0xff : fz.u(256), 4);
            fz.write(kDist + 0x100 + 4 * (irq / 32), 1ull << (irq % 32), 4);
            fz.write(kDist + 0x400 + irq, fz.u(256), 1);
            fz.write(kDist + 0x800 + irq, fz.u(2) ? 1 : fz.u(256), 1);
            if (fz.u(2)) {
                fz.write(kDist + 0x200 + 4 * (irq / 32), 1ull << (irq % 32), 4);
            } else {
                fz.write(kDist + 0xf00, fz.u(16) | fz.u(256) << 16 | fz.u(4) << 24, 4);  // SGIR
            }
        } else if (r < 40) {
            const uint64_t iar = fz.read(kCpu + 0x0c, 4);
            if (fz.u(4)) fz.write(kCpu + 0x10, fz.u(4) ? iar : fz.bits(), 4);
        } else if (r < 95) {
            fz.op_register(fz.u(2) ? dist_ : cpu_);
        } else if (r < 99) {
            fz.op_clock();
        } else {
            fz.op_malformed();
        }
    }
    void check_works(Fuzzer& fz) override {
        if (fz.read(kDist + 0x008, 4) != 0x0200043b) fz.fail("gic: GICD_IIDR wrong after reset");
        // SGI 3 to this CPU: acknowledged with its id, completed, then nothing pending.
        fz.write(kDist + 0x000, 1, 4);
        fz.write(kCpu + 0x000, 1, 4);
        fz.write(kCpu + 0x004, 0xff, 4);
        fz.write(kDist + 0x100, 1u << 3, 4);
        fz.write(kDist + 0xf00, 2u << 24 | 3, 4);
        const uint64_t iar = fz.read(kCpu + 0x0c, 4);
        if ((iar & 0x3ff) != 3) fz.fail(fmt::format("gic: IAR 0x{:x}, SGI 3 expected", iar));
        fz.write(kCpu + 0x10, iar, 4);
        if ((fz.read(kCpu + 0x0c, 4) & 0x3ff) != 1023) fz.fail("gic: still pending after EOI");
    }

private:
    Window dist_, cpu_;
};

}  // namespace

std::unique_ptr<DeviceDriver> make_pl011_driver() {
    return std::make_unique<Pl011Driver>();
}
std::unique_ptr<DeviceDriver> make_gic_driver() {
    return std::make_unique<GicDriver>();
}

}  // namespace corvid::fuzz
