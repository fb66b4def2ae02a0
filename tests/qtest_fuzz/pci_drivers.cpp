// Fuzz drivers for the PCI devices on pc/q35: e1000, rtl8139 and the i6300esb watchdog. Each
// mixes random register/config/DMA commands with the driver-like sequences that get the
// ring engines running on fuzzed descriptors.
#include <fmt/format.h>

#include "tests/qtest_fuzz/drivers.h"

namespace corvid::fuzz {

PciDriverBase::PciDriverBase(unsigned devfn) : devfn_(devfn) {}

void PciDriverBase::setup(Fuzzer& fz) {
    bars_ = fz.assign_bars(devfn_);
    area_ = fz.layout().window_base + 0x10'0000;
    annotate(bars_);
}

void PciDriverBase::op(Fuzzer& fz) {
    const uint64_t r = fz.u(100);
    if (r < 30) {
        structured(fz);
    } else if (r < 62) {
        const Window& w = bars_[fz.u(bars_.size())];
        if (w.size) fz.op_register(w);
    } else if (r < 68) {
        fz.op_config(devfn_);
    } else if (r < 71) {
        fz.op_bar_or_command(devfn_);
        // A moved BAR leaves the register ops hitting nothing: usually put it back.
        if (fz.u(2)) bars_ = fz.assign_bars(devfn_), annotate(bars_);
    } else if (r < 86) {
        if (fz.u(8)) {
            fz.op_scribble(area_, kAreaSize);
        } else {
            fz.op_scribble(fz.layout().window_base, fz.layout().window_size);
        }
    } else if (r < 92) {
        fz.op_clock();
    } else if (r < 93) {
        fz.op_malformed();
    } else {
        inject_frame(fz);
    }
}

void PciDriverBase::inject_frame(Fuzzer& fz) {
    if (!nic_) return;
    NetBackend* peer = fz.board().peer(0);
    if (!peer) return;
    std::vector<uint8_t> f(fz.one_in(8) ? fz.u(9000) : 14 + fz.u(1500));
    for (auto& b : f) b = static_cast<uint8_t>(fz.bits());
    if (f.size() >= 6 && fz.u(2)) std::fill(f.begin(), f.begin() + 6, 0xff);
    if (!f.empty()) peer->send(f.data(), f.size());
    // The NIC takes queued frames from a timer on the board clock.
    fz.clock_step(0);
    tx_frames_ += fz.board().drain_tx(0);
}

// ---------------------------------------------------------------- e1000

namespace {

enum : uint64_t {
    kCtrl = 0x0000, kStatus = 0x0008, kEecd = 0x0010, kEerd = 0x0014, kMdic = 0x0020, kIcr = 0x00c0,
    kIcs = 0x00c8, kIms = 0x00d0, kImc = 0x00d8, kRctl = 0x0100, kTctl = 0x0400, kRdbal = 0x2800,
    kRdbah = 0x2804, kRdlen = 0x2808, kRdh = 0x2810, kRdt = 0x2818, kTdbal = 0x3800, kTdbah = 0x3804,
    kTdlen = 0x3808, kTdh = 0x3810, kTdt = 0x3818, kGprc = 0x4074, kGptc = 0x4080, kMta = 0x5200,
    kRal0 = 0x5400, kRah0 = 0x5404,
};

// The 82540EM (e1000) and the 82574L (e1000e) share the model; they differ here in where
// the I/O window is (BAR1 / BAR2, the 82574 has a flash window in BAR1) and in EERD's layout
// (done bit 4 and address << 8 / done bit 1 and address << 2).
class E1000Driver : public PciDriverBase {
public:
    explicit E1000Driver(bool is_82574)
        : PciDriverBase(0x20),
          name_(is_82574 ? "e1000e" : "e1000"),
          io_bar_(is_82574 ? 2 : 1),
          eerd_shift_(is_82574 ? 2 : 8),
          eerd_done_(is_82574 ? 0x2 : 0x10) {
        nic_ = true;
    }

    void annotate(std::vector<Window>& bars) override {
        bars[0].regs = {kCtrl, kStatus, kEecd, kEerd, kMdic, kIcr, kIcs, kIms, kImc, kRctl, kTctl, kRdbal, kRdbah,
                        kRdlen, kRdh, kRdt, kTdbal, kTdbah, kTdlen, kTdh, kTdt, kGprc, kGptc, kMta, kRal0, kRah0};
        bars[io_bar_].regs = {0, 4};  // IOADDR / IODATA
    }

    void structured(Fuzzer& fz) override {
        const Window& m = bars_[0];
        switch (fz.u(6)) {
            case 0: {
                // Rings in the area (now and then somewhere implausible), then enable.
                tx_ring_ = fz.one_in(6) ? fz.dma_address(area_, kAreaSize) : area_;
                rx_ring_ = fz.one_in(6) ? fz.dma_address(area_, kAreaSize) : area_ + 0x1'0000;
                tx_count_ = 8 * (1 + static_cast<uint32_t>(fz.u(8)));
                rx_count_ = 8 * (1 + static_cast<uint32_t>(fz.u(8)));
                fz.reg_write(m, kTdbal, tx_ring_, 4);
                fz.reg_write(m, kTdbah, tx_ring_ >> 32, 4);
                fz.reg_write(m, kTdlen, tx_count_ * 16, 4);
                fz.reg_write(m, kTdh, 0, 4);
                fz.reg_write(m, kTdt, 0, 4);
                fz.reg_write(m, kTctl, 0x2 | (fz.u(2) ? 0x8 : 0), 4);
                fz.reg_write(m, kRdbal, rx_ring_, 4);
                fz.reg_write(m, kRdbah, rx_ring_ >> 32, 4);
                fz.reg_write(m, kRdlen, rx_count_ * 16, 4);
                fz.reg_write(m, kRdh, 0, 4);
                fz.reg_write(m, kRdt, fz.u(rx_count_), 4);
                fz.reg_write(m, kRctl, 0x2 | 0x8000 | (fz.u(2) ? 0x8 : 0) | fz.u(4) << 16 | (fz.one_in(4) ? 1u << 25 : 0), 4);
                fz.reg_write(m, kIms, fz.bits(), 4);
                tdt_ = rdt_ = 0;
                break;
            }
            case 1: case 2: {
                // A TX descriptor (legacy, sometimes a context/data one) and the doorbell.
                if (!tx_count_ || tx_ring_ < area_ || tx_ring_ >= area_ + kAreaSize - 16 * tx_count_) return;
                const uint64_t addr = fz.dma_address(area_ + 0x2'0000, 0x8'0000);
                const uint32_t len = fz.one_in(8) ? static_cast<uint32_t>(fz.u(0x10000)) : 14 + static_cast<uint32_t>(fz.u(1500));
                uint32_t cmd = 0x08 | (fz.u(4) ? 0x01 : 0) | (fz.one_in(8) ? 0x20 : 0);
                if (fz.one_in(16)) cmd = static_cast<uint32_t>(fz.u(256));
                fz.plant_u64(tx_ring_ + 16 * tdt_, addr);
                fz.plant_u64(tx_ring_ + 16 * tdt_ + 8, (len & 0xffff) | static_cast<uint64_t>(cmd) << 24 |
                                                          (fz.one_in(8) ? static_cast<uint64_t>(fz.u(16)) << 20 : 0));
                tdt_ = (tdt_ + 1) % tx_count_;
                fz.reg_write(m, kTdt, tdt_, 4);
                tx_frames_ += fz.board().drain_tx(0);
                break;
            }
            case 3: {
                // An RX buffer.
                if (!rx_count_ || rx_ring_ < area_ || rx_ring_ >= area_ + kAreaSize - 16 * rx_count_) return;
                fz.plant_u64(rx_ring_ + 16 * rdt_, fz.dma_address(area_ + 0x2'0000, 0x8'0000));
                fz.plant_u64(rx_ring_ + 16 * rdt_ + 8, fz.one_in(8) ? fz.bits() : 0);
                rdt_ = (rdt_ + 1) % rx_count_;
                fz.reg_write(m, kRdt, rdt_, 4);
                break;
            }
            case 4: {
                // EEPROM and PHY reads, the statistics, the interrupt cause.
                fz.reg_write(m, kEerd, 1 | fz.u(128) << eerd_shift_, 4);
                (void)fz.reg_read(m, kEerd, 4);
                fz.reg_write(m, kMdic, static_cast<uint32_t>(fz.u(32)) << 16 | 1u << 21 | 2u << 26, 4);
                rx_seen_ += fz.reg_read(m, kGprc, 4);
                (void)fz.reg_read(m, kIcr, 4);
                break;
            }
            default: {
                // Through the I/O window: IOADDR then IODATA.
                const Window& io = bars_[io_bar_];
                if (!io.size) return;
                fz.reg_write(io, 0, fz.u(0x6000) & ~3ull, 4);
                if (fz.u(2)) {
                    (void)fz.reg_read(io, 4, 4);
                } else {
                    fz.reg_write(io, 4, fz.value(), 4);
                }
            }
        }
    }

    void check_works(Fuzzer& fz) override {
        const Window& m = bars_[0];
        if (!(fz.reg_read(m, kStatus, 4) & 0x2)) fz.fail(name_ + ": link down after reset");
        // EEPROM words 0-2 hold the MAC, which RAL0/RAH0 also hold after reset.
        const uint64_t ral = fz.reg_read(m, kRal0, 4), rah = fz.reg_read(m, kRah0, 4);
        for (unsigned w = 0; w < 3; w++) {
            fz.reg_write(m, kEerd, 1 | w << eerd_shift_, 4);
            const uint64_t v = fz.reg_read(m, kEerd, 4);
            const uint64_t want = w < 2 ? (ral >> (16 * w)) & 0xffff : rah & 0xffff;
            if (!(v & eerd_done_) || (v >> 16) != want) {
                fz.fail(fmt::format("{}: EEPROM word {} = 0x{:x}, MAC says 0x{:x}", name_, w, v, want));
            }
        }
        // One frame out: a descriptor, the doorbell, the frame at the peer, DD written back.
        fz.board().drain_tx(0);
        const uint64_t ring = area_, buf = area_ + 0x2'0000;
        std::vector<uint8_t> frame(60);
        for (size_t i = 0; i < frame.size(); i++) frame[i] = static_cast<uint8_t>(i * 7 + 1);
        fz.plant(buf, frame);
        fz.plant_u64(ring, buf);
        fz.plant_u64(ring + 8, 60 | static_cast<uint64_t>(0x09) << 24);
        fz.reg_write(m, kTdbal, ring, 4);
        fz.reg_write(m, kTdbah, 0, 4);
        fz.reg_write(m, kTdlen, 128, 4);
        fz.reg_write(m, kTdh, 0, 4);
        fz.reg_write(m, kTdt, 0, 4);
        fz.reg_write(m, kTctl, 0x2, 4);
        fz.reg_write(m, kTdt, 1, 4);
        if (const uint64_t n = fz.board().drain_tx(0); n != 1) fz.fail(fmt::format("{}: {} frames at the peer, not 1", name_, n));
        if (!(fz.read(ring + 12, 1) & 1)) fz.fail(name_ + ": TX descriptor not marked done");
        // One frame in. Frames injected during the fuzz still wait in the queue; enabling RX
        // would take them first.
        fz.board().drop_rx(0);
        const uint64_t rring = area_ + 0x1'0000, rbuf = area_ + 0x3'0000;
        fz.fill(rbuf, 64, 0);
        fz.plant_u64(rring, rbuf);
        fz.plant_u64(rring + 8, 0);
        fz.reg_write(m, kRdbal, rring, 4);
        fz.reg_write(m, kRdbah, 0, 4);
        fz.reg_write(m, kRdlen, 128, 4);
        fz.reg_write(m, kRdh, 0, 4);
        fz.reg_write(m, kRdt, 4, 4);
        fz.reg_write(m, kRctl, 0x2 | 0x8000, 4);
        std::vector<uint8_t> in(60, 0x5a);
        std::fill(in.begin(), in.begin() + 6, 0xff);
        fz.board().peer(0)->send(in.data(), in.size());
        fz.clock_step(0);
        if (!(fz.read(rring + 12, 1) & 1)) fz.fail(name_ + ": RX descriptor not marked done");
        if (fz.read(rbuf + 6, 8) != 0x5a5a5a5a5a5a5a5aull) {
            fz.fail(fmt::format("{}: received frame not in the buffer (descriptor 0x{:016x} 0x{:016x}, buffer 0x{:016x})", name_,
                                fz.read(rring, 8), fz.read(rring + 8, 8), fz.read(rbuf, 8)));
        }
    }

    std::string coverage_failure() const override {
        if (!tx_frames_) return name_ + " never transmitted";
        if (!rx_seen_) return name_ + " never received (GPRC stayed 0)";
        return {};
    }

private:
    const std::string name_;
    const unsigned io_bar_;      // the IOADDR/IODATA window
    const unsigned eerd_shift_;  // EERD address field
    const uint32_t eerd_done_;   // EERD done bit
    uint64_t tx_ring_ = 0, rx_ring_ = 0;
    uint32_t tx_count_ = 0, rx_count_ = 0, tdt_ = 0, rdt_ = 0;
    uint64_t rx_seen_ = 0;
};

// ---------------------------------------------------------------- rtl8139

enum : uint64_t {
    kIdr0 = 0x00, kMar0 = 0x08, kTsd0 = 0x10, kTsad0 = 0x20, kRbstart = 0x30, kCr = 0x37, kCapr = 0x38,
    kCbr = 0x3a, kImr = 0x3c, kIsr = 0x3e, kTcr = 0x40, kRcr = 0x44, kMsr = 0x58, kBmcr = 0x62, kBmsr = 0x64,
};

class Rtl8139Driver : public PciDriverBase {
public:
    Rtl8139Driver() : PciDriverBase(0x28) { nic_ = true; }

    void annotate(std::vector<Window>& bars) override {
        for (unsigned b = 0; b < 2; b++) {
            bars[b].regs = {kIdr0, kMar0, kTsd0, kTsd0 + 4, kTsd0 + 8, kTsd0 + 12, kTsad0, kTsad0 + 4, kTsad0 + 8,
                            kTsad0 + 12, kRbstart, kCr, kCapr, kCbr, kImr, kIsr, kTcr, kRcr, kMsr, kBmcr, kBmsr};
        }
    }

    void structured(Fuzzer& fz) override {
        const Window& w = bars_[fz.u(2)];
        if (!w.size) return;
        switch (fz.u(5)) {
            case 0: {
                fz.reg_write(w, kCr, 0x10, 1);
                fz.reg_write(w, kRbstart, fz.dma_address(area_, kAreaSize / 2), 4);
                fz.reg_write(w, kRcr, (fz.u(2) ? 0xf : fz.u(16)) | (fz.u(2) ? 0x80 : 0) | fz.u(4) << 11, 4);
                fz.reg_write(w, kImr, fz.u(0x10000), 2);
                fz.reg_write(w, kCr, 0x0c, 1);
                break;
            }
            case 1: case 2: {
                const unsigned slot = static_cast<unsigned>(fz.u(4));
                fz.reg_write(w, kTsad0 + 4 * slot, fz.dma_address(area_ + kAreaSize / 2, kAreaSize / 2), 4);
                const uint64_t size = fz.one_in(8) ? fz.u(0x2000) : 14 + fz.u(1500);
                fz.reg_write(w, kTsd0 + 4 * slot, size | (fz.one_in(8) ? fz.bits() & ~0x1fffull : 0), 4);
                tx_frames_ += fz.board().drain_tx(0);
                break;
            }
            case 3: fz.reg_write(w, kCapr, fz.u(2) ? fz.reg_read(w, kCbr, 2) - 16 : fz.u(0x10000), 2); break;
            default: rx_seen_ += fz.reg_read(w, kIsr, 2) & 1; fz.reg_write(w, kIsr, 0xffff, 2); break;
        }
    }

    void check_works(Fuzzer& fz) override {
        const Window& w = bars_[0];
        fz.reg_write(w, kCr, 0x10, 1);
        if (fz.reg_read(w, kCr, 1) & 0x10) fz.fail("rtl8139: reset bit stuck");
        uint64_t mac = 0;
        for (unsigned i = 0; i < 6; i++) mac |= fz.reg_read(w, kIdr0 + i, 1) << (8 * i);
        if (mac == 0 || (mac & 1)) fz.fail(fmt::format("rtl8139: bad MAC 0x{:x} after reset", mac));
        fz.board().drain_tx(0);
        const uint64_t buf = area_ + kAreaSize / 2;
        fz.plant(buf, std::vector<uint8_t>(60, 0x33));
        fz.reg_write(w, kCr, 0x04, 1);
        fz.reg_write(w, kTsad0, buf, 4);
        fz.reg_write(w, kTsd0, 60, 4);
        if (const uint64_t n = fz.board().drain_tx(0); n != 1) fz.fail(fmt::format("rtl8139: {} frames at the peer, not 1", n));
        if (!(fz.reg_read(w, kTsd0, 4) & 0x8000)) fz.fail("rtl8139: TOK not set");
    }

    std::string coverage_failure() const override {
        if (!tx_frames_) return "rtl8139 never transmitted";
        if (!rx_seen_) return "rtl8139 never signalled a received frame";
        return {};
    }

private:
    uint64_t rx_seen_ = 0;
};

// ---------------------------------------------------------------- i6300esb

class EsbDriver : public PciDriverBase {
public:
    EsbDriver() : PciDriverBase(0x30) {}

    void annotate(std::vector<Window>& bars) override { bars[0].regs = {0x0, 0x4, 0x8, 0xc}; }

    void structured(Fuzzer& fz) override {
        const Window& w = bars_[0];
        switch (fz.u(4)) {
            case 0: fz.cfg_write(devfn_, 0x60, static_cast<uint32_t>(fz.u(2) ? fz.u(0x40) : fz.bits()), 2); break;
            case 1: fz.cfg_write(devfn_, 0x68, static_cast<uint32_t>(fz.u(2) ? 0x02 : fz.u(8)), 1); break;
            default: {
                // The unlock sequence, then a timer or reload write.
                fz.reg_write(w, 0xc, 0x80, 2);
                fz.reg_write(w, 0xc, 0x86, 2);
                const uint64_t reg = fz.u(3) ? fz.u(2) * 4 : 0xc;
                fz.reg_write(w, reg, reg == 0xc ? (fz.u(2) ? 0x100 : fz.u(0x400)) : fz.u(2) ? fz.u(0x100) : fz.u(0x100000), 4);
            }
        }
    }

    void check_works(Fuzzer& fz) override {
        if (fz.cfg_read(devfn_, 0, 4) != 0x25ab8086) fz.fail("i6300esb: wrong id after reset");
        const Window& w = bars_[0];
        const int before = fz.board().resets();
        // Output enabled, 1 kHz scale, timer1 = timer2 = 10 ticks, enable, ping: within a few
        // seconds both stages have expired and the reset action ran.
        fz.cfg_write(devfn_, 0x60, 0x0000, 2);
        fz.reg_write(w, 0xc, 0x80, 2);
        fz.reg_write(w, 0xc, 0x86, 2);
        fz.reg_write(w, 0x0, 10, 4);
        fz.reg_write(w, 0xc, 0x80, 2);
        fz.reg_write(w, 0xc, 0x86, 2);
        fz.reg_write(w, 0x4, 10, 4);
        fz.cfg_write(devfn_, 0x68, 0x02, 1);
        fz.reg_write(w, 0xc, 0x80, 2);
        fz.reg_write(w, 0xc, 0x86, 2);
        fz.reg_write(w, 0xc, 0x100, 2);
        for (int i = 0; i < 4 && fz.board().resets() == before; i++) fz.clock_step(1'000'000'000);
        if (fz.board().resets() == before) fz.fail("i6300esb: an enabled, unpinged watchdog did not reset the machine");
    }
};

}  // namespace

std::unique_ptr<DeviceDriver> make_e1000_driver() {
    return std::make_unique<E1000Driver>(false);
}
std::unique_ptr<DeviceDriver> make_e1000e_driver() {
    return std::make_unique<E1000Driver>(true);
}
std::unique_ptr<DeviceDriver> make_rtl8139_driver() {
    return std::make_unique<Rtl8139Driver>();
}
std::unique_ptr<DeviceDriver> make_esb_driver() {
    return std::make_unique<EsbDriver>();
}

}  // namespace corvid::fuzz
