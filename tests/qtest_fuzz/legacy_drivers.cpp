// Fuzz drivers for the onboard devices: 16550, i8259 pair, i8254, MC146818, the reset ports
// (0x92, 0x64, 0xcf9) and the PCI host (0xcf8/0xcfc, q35 ECAM).
#include <fmt/format.h>

#include "tests/qtest_fuzz/drivers.h"

namespace corvid::fuzz {
namespace {

// Random accesses to a set of port windows, with device-specific sequences mixed in.
class PortDriver : public DeviceDriver {
public:
    void setup(Fuzzer&) override {}
    void op(Fuzzer& fz) override {
        const uint64_t r = fz.u(100);
        if (r < 35) {
            structured(fz);
        } else if (r < 85) {
            fz.op_register(windows_[fz.u(windows_.size())]);
        } else if (r < 97) {
            fz.op_clock();
        } else if (r < 98) {
            fz.op_malformed();
        } else {
            // Ports next to the device's, and unassigned ones.
            const uint64_t port = fz.u(2) ? windows_[0].base - 4 + fz.u(windows_[0].size + 8) : fz.u(0x10000);
            if (!reset_port(port)) (void)fz.in(port, 1u << fz.u(3));
        }
    }

protected:
    virtual void structured(Fuzzer& fz) = 0;
    // Ports whose writes may reset the machine are left to the reset-port target.
    static bool reset_port(uint64_t p) { return p == 0x92 || p == 0x64 || (p >= 0xcf8 && p < 0xd00); }
    std::vector<Window> windows_;
};

// ---------------------------------------------------------------- 16550

class SerialDriver : public PortDriver {
public:
    SerialDriver() { windows_ = {Window{true, 0x3f8, 8, {0, 1, 2, 3, 4, 5, 6, 7}}}; }
    void structured(Fuzzer& fz) override {
        switch (fz.u(4)) {
            case 0:
                // Divisor latch.
                fz.out(0x3fb, 0x80 | fz.u(0x80), 1);
                fz.out(0x3f8, fz.u(256), 1);
                fz.out(0x3f9, fz.u(256), 1);
                fz.out(0x3fb, fz.u(0x80), 1);
                break;
            case 1: fz.out(0x3fa, fz.u(256), 1); break;  // FCR: FIFO enable/clear/trigger
            case 2: fz.out(0x3fc, fz.u(2) ? 0x10 | fz.u(16) : fz.u(32), 1); break;  // MCR (loopback)
            default:
                for (unsigned i = 0, n = 1 + static_cast<unsigned>(fz.u(20)); i < n; i++) fz.out(0x3f8, fz.bits(), 1);
                (void)fz.in(0x3fd, 1);
                (void)fz.in(0x3fa, 1);
        }
    }
    void check_works(Fuzzer& fz) override {
        // Loopback: a byte written comes back, LSR says so.
        fz.out(0x3fb, 0x03, 1);
        fz.out(0x3fa, 0x00, 1);
        fz.out(0x3fc, 0x10, 1);
        fz.out(0x3f8, 0xa5, 1);
        if (!(fz.in(0x3fd, 1) & 1)) fz.fail("16550: loopback byte not ready");
        if (fz.in(0x3f8, 1) != 0xa5) fz.fail("16550: loopback byte differs");
        fz.out(0x3ff, 0x3c, 1);
        if (fz.in(0x3ff, 1) != 0x3c) fz.fail("16550: scratch register lost");
    }
};

// ---------------------------------------------------------------- i8259 pair

class PicDriver : public PortDriver {
public:
    PicDriver() {
        windows_ = {Window{true, 0x20, 2, {0, 1}}, Window{true, 0xa0, 2, {0, 1}}, Window{true, 0x4d0, 2, {0, 1}}};
    }
    void structured(Fuzzer& fz) override {
        const uint64_t base = fz.u(2) ? 0x20 : 0xa0;
        switch (fz.u(4)) {
            case 0:
                // ICW1..ICW4, sometimes broken off or with odd bits.
                fz.out(base, 0x10 | fz.u(16), 1);
                fz.out(base + 1, fz.u(2) ? (base == 0x20 ? 0x08 : 0x70) : fz.u(256), 1);
                if (fz.u(4)) fz.out(base + 1, fz.u(256), 1);
                if (fz.u(4)) fz.out(base + 1, fz.u(32), 1);
                break;
            case 1: fz.out(base, fz.u(2) ? 0x20 : 0x60 | fz.u(8), 1); break;  // EOI, specific EOI
            case 2: fz.out(base, 0x08 | fz.u(4) | (fz.u(2) ? 0x40 | fz.u(2) << 5 : 0), 1); (void)fz.in(base, 1); break;  // OCW3
            default: fz.out(base, 0xc0 | fz.u(8), 1); break;  // priority rotation
        }
    }
    void check_works(Fuzzer& fz) override {
        for (uint64_t base : {0x20, 0xa0}) {
            fz.out(base, 0x11, 1);
            fz.out(base + 1, base == 0x20 ? 0x08 : 0x70, 1);
            fz.out(base + 1, base == 0x20 ? 0x04 : 0x02, 1);
            fz.out(base + 1, 0x01, 1);
            fz.out(base + 1, 0xa5, 1);
            if (fz.in(base + 1, 1) != 0xa5) fz.fail(fmt::format("i8259 at 0x{:x}: IMR lost", base));
        }
    }
};

// ---------------------------------------------------------------- i8254

class PitDriver : public PortDriver {
public:
    PitDriver() { windows_ = {Window{true, 0x40, 4, {0, 1, 2, 3}}, Window{true, 0x61, 1, {0}}}; }
    void structured(Fuzzer& fz) override {
        const unsigned ch = static_cast<unsigned>(fz.u(3));
        switch (fz.u(4)) {
            case 0:
                // Mode/access command and a count.
                fz.out(0x43, ch << 6 | fz.u(64), 1);
                fz.out(0x40 + ch, fz.u(4) ? fz.u(256) : 0, 1);
                fz.out(0x40 + ch, fz.u(4) ? fz.u(256) : 0, 1);
                break;
            case 1: fz.out(0x43, ch << 6, 1); (void)fz.in(0x40 + ch, 1); (void)fz.in(0x40 + ch, 1); break;  // latch
            case 2: fz.out(0x43, 0xc0 | fz.u(64), 1); (void)fz.in(0x40 + ch, 1); break;  // read-back
            default: fz.out(0x61, fz.u(4), 1); (void)fz.in(0x61, 1); break;  // channel 2 gate
        }
    }
    void check_works(Fuzzer& fz) override {
        // Channel 0, mode 2, count 50000: a latched count moves as the clock steps.
        fz.out(0x43, 0x34, 1);
        fz.out(0x40, 50000 & 0xff, 1);
        fz.out(0x40, 50000 >> 8, 1);
        fz.clock_step(1000);
        fz.out(0x43, 0x00, 1);
        const uint64_t a = fz.in(0x40, 1) | fz.in(0x40, 1) << 8;
        fz.clock_step(1'000'000);
        fz.out(0x43, 0x00, 1);
        const uint64_t b = fz.in(0x40, 1) | fz.in(0x40, 1) << 8;
        if (a == b || a > 50000 || b > 50000) fz.fail(fmt::format("i8254: counter {} then {}", a, b));
    }
};

// ---------------------------------------------------------------- MC146818

class RtcDriver : public PortDriver {
public:
    RtcDriver() { windows_ = {Window{true, 0x70, 2, {0, 1}}}; }
    void structured(Fuzzer& fz) override {
        const uint64_t idx = fz.u(4) ? fz.u(0x0e) : fz.u(256);
        fz.out(0x70, idx, 1);
        if (fz.u(2)) {
            (void)fz.in(0x71, 1);
        } else if (idx == 0x0a || idx == 0x0b) {
            fz.out(0x71, fz.u(256), 1);  // rate, PIE/AIE/UIE, SET, binary/BCD, 12/24 h
        } else {
            fz.out(0x71, fz.bits(), 1);
        }
    }
    void check_works(Fuzzer& fz) override {
        fz.out(0x70, 0x40, 1);
        fz.out(0x71, 0x5a, 1);
        fz.out(0x70, 0x40, 1);
        if (fz.in(0x71, 1) != 0x5a) fz.fail("rtc: CMOS byte lost");
        fz.out(0x70, 0x0d, 1);
        if (!(fz.in(0x71, 1) & 0x80)) fz.fail("rtc: register D lost VRT");
        // The periodic interrupt runs on the board clock: 1024 Hz, PIE on, a step of 2 ms sets PF.
        // Register A survives a reset, as on the real part, so it is set here.
        fz.out(0x70, 0x0a, 1);
        fz.out(0x71, 0x26, 1);
        fz.out(0x70, 0x0b, 1);
        fz.out(0x71, 0x42, 1);
        fz.out(0x70, 0x0c, 1);
        (void)fz.in(0x71, 1);
        fz.clock_step(2'000'000);
        fz.out(0x70, 0x0c, 1);
        const uint64_t c = fz.in(0x71, 1);
        if ((c & 0xc0) != 0xc0) fz.fail(fmt::format("rtc: register C 0x{:x} after a periodic period", c));
        fz.out(0x70, 0x0c, 1);
        if (fz.in(0x71, 1) & 0x40) fz.fail("rtc: reading register C did not clear PF");
    }
};

// ---------------------------------------------------------------- reset ports

class ResetPortsDriver : public PortDriver {
public:
    ResetPortsDriver() {
        windows_ = {Window{true, 0x92, 1, {0}}, Window{true, 0x60, 1, {0}}, Window{true, 0x64, 1, {0}},
                    Window{true, 0xcf9, 1, {0}}, Window{true, 0x80, 1, {0}}};
    }
    void structured(Fuzzer& fz) override {
        switch (fz.u(4)) {
            case 0: fz.out(0x92, fz.u(4) ? 0x02 : fz.u(256), 1); break;
            case 1: fz.out(0x64, fz.u(2) ? 0xfe : fz.u(256), 1); break;
            case 2: fz.out(0xcf9, fz.u(2) ? 0x06 : fz.u(256), 1); break;
            default: (void)fz.in(0x64, 1); (void)fz.in(0x92, 1); (void)fz.in(0xcf9, 1); break;
        }
    }
    void check_works(Fuzzer& fz) override {
        if (fz.in(0x92, 1) != 0x02) fz.fail("port 0x92: A20 bit not set after reset");
        int before = fz.board().resets();
        fz.out(0x92, 0x03, 1);
        if (fz.board().resets() != before + 1) fz.fail("port 0x92: bit 0 did not reset");
        before = fz.board().resets();
        fz.out(0x64, 0xfe, 1);
        if (fz.board().resets() != before + 1) fz.fail("i8042: 0xfe did not reset");
        before = fz.board().resets();
        fz.out(0xcf9, 0x06, 1);
        if (fz.board().resets() != before + 1) fz.fail("0xcf9: 0x06 did not reset");
    }
};

// ---------------------------------------------------------------- PCI host

class PciHostDriver : public DeviceDriver {
public:
    explicit PciHostDriver(bool q35) : q35_(q35) {}
    void setup(Fuzzer& fz) override {
        // The e1000 on this board gets its BARs so that config writes move live mappings.
        (void)fz.assign_bars(0x20);
    }
    void op(Fuzzer& fz) override {
        const uint64_t r = fz.u(100);
        const unsigned devfn = static_cast<unsigned>(fz.u(4) ? (fz.u(2) ? 0x00 : fz.u(2) ? 0x20 : 0xf8) : fz.u(256));
        if (r < 25) {
            // Raw 0xcf8 values: enable bit off, other buses, odd registers, extended bits.
            fz.out(0xcf8, fz.u(2) ? 0x8000'0000u | devfn << 8 | fz.u(256) | fz.u(4) << 16 | (fz.one_in(4) ? fz.u(16) << 24 : 0) : fz.bits(),
                   fz.u(4) ? 4 : 1u << fz.u(2));
            const unsigned sz = 1u << fz.u(3);
            const uint64_t port = 0xcfc + fz.u(4);
            if (fz.u(2)) {
                (void)fz.in(port, sz);
            } else {
                fz.out(port, fz.value(), sz);
            }
        } else if (r < 50) {
            fz.op_config(devfn);
        } else if (r < 60) {
            fz.op_bar_or_command(devfn);
        } else if (r < 65) {
            (void)fz.in(0xcf8 + fz.u(8), 1u << fz.u(3));
        } else if (r < 90 && q35_) {
            // ECAM: any bus/devfn/register, any size (8-byte accesses are invalid there).
            const uint64_t a = 0xb000'0000ull + (fz.u(4) ? (static_cast<uint64_t>(devfn) << 12 | fz.u(0x1000)) : fz.u(0x1000'0000));
            const unsigned sz = fz.size();
            if (fz.u(2)) {
                (void)fz.read(a, sz);
            } else {
                fz.write(a, fz.sanitize(a, fz.value(), sz), sz);
            }
        } else if (r < 97) {
            // Config space reads of empty slots read all-ones.
            const unsigned empty = 0x80 + static_cast<unsigned>(fz.u(8));
            if (fz.cfg_read(empty, 0, 4) != 0xffff'ffffu) fz.fail(fmt::format("empty slot {:x}: vendor id not all-ones", empty));
        } else if (r < 99) {
            fz.op_clock();
        } else {
            fz.op_malformed();
        }
        if (fz.one_in(200)) (void)fz.assign_bars(0x20);
    }
    void check_works(Fuzzer& fz) override {
        const uint32_t host_id = q35_ ? 0x29c08086u : 0x12378086u;
        if (fz.cfg_read(0, 0, 4) != host_id) fz.fail("pci host: wrong host bridge id");
        if (fz.cfg_read(0x20, 0, 4) != 0x100e8086u) fz.fail("pci host: e1000 not found at 04.0");
        if (fz.cfg_read(0x90, 0, 4) != 0xffff'ffffu) fz.fail("pci host: empty slot does not read all-ones");
        if (q35_) {
            if (fz.read(0xb000'0000, 4) != host_id) fz.fail("ecam: wrong host bridge id");
            if (fz.read(0xb000'0000 + (0x90 << 12), 4) != 0xffff'ffffu) fz.fail("ecam: empty slot does not read all-ones");
        }
        // A port nothing decodes reads all-ones, as on real hardware and in QEMU.
        if (fz.in(0x2000, 4) != 0xffff'ffffu) fz.fail("unassigned port 0x2000 does not read all-ones");
        // BARs work after all that: the e1000's STATUS register says link up.
        auto bars = fz.assign_bars(0x20);
        if (!(fz.read(bars[0].base + 8, 4) & 2)) fz.fail("pci host: e1000 BAR0 not decoded after reprogramming");
    }

private:
    bool q35_;
};

}  // namespace

std::unique_ptr<DeviceDriver> make_serial_driver() {
    return std::make_unique<SerialDriver>();
}
std::unique_ptr<DeviceDriver> make_pic_driver() {
    return std::make_unique<PicDriver>();
}
std::unique_ptr<DeviceDriver> make_pit_driver() {
    return std::make_unique<PitDriver>();
}
std::unique_ptr<DeviceDriver> make_rtc_driver() {
    return std::make_unique<RtcDriver>();
}
std::unique_ptr<DeviceDriver> make_reset_ports_driver() {
    return std::make_unique<ResetPortsDriver>();
}
std::unique_ptr<DeviceDriver> make_pci_host_driver(bool q35) {
    return std::make_unique<PciHostDriver>(q35);
}

}  // namespace corvid::fuzz
