// Fuzz drivers for virtio-net and virtio-rng over both transports (modern PCI on pc, MMIO on
// virt): driver bring-up with fuzzed queue layouts, descriptor chains (plausible and not),
// doorbells, and received frames.
#include <fmt/format.h>

#include "tests/qtest_fuzz/drivers.h"

namespace corvid::fuzz {
namespace {

// The transport-specific register accesses.
class VirtioTransportOps {
public:
    virtual ~VirtioTransportOps() = default;
    virtual void set_status(Fuzzer& fz, uint64_t status) = 0;
    virtual uint64_t status(Fuzzer& fz) = 0;
    virtual void set_features(Fuzzer& fz, uint32_t select, uint32_t value) = 0;
    virtual void setup_queue(Fuzzer& fz, unsigned q, unsigned size, uint64_t desc, uint64_t avail, uint64_t used) = 0;
    virtual void notify(Fuzzer& fz, unsigned q) = 0;
    virtual void ack_interrupt(Fuzzer& fz) = 0;
    // Transport state for failure messages.
    virtual std::string describe(Fuzzer& fz) = 0;
};

// Queue q lives at area + 0x4000 * q: descriptors, then the available ring at +0x1000 and
// the used ring at +0x2000. Buffers are in the second half of the area.
class VirtioCore {
public:
    VirtioCore(bool net, VirtioTransportOps& t) : net_(net), t_(t) {}
    unsigned num_queues() const { return net_ ? 2 : 1; }
    static uint64_t queue_base(uint64_t area, unsigned q) { return area + 0x4000ull * q; }

    void bring_up(Fuzzer& fz, uint64_t area, bool fuzzed) {
        t_.set_status(fz, 0);
        t_.set_status(fz, 1);
        t_.set_status(fz, 3);
        t_.set_features(fz, 1, fuzzed && fz.one_in(8) ? static_cast<uint32_t>(fz.bits()) : 1);
        t_.set_features(fz, 0, fuzzed && fz.u(2) ? static_cast<uint32_t>(fz.bits()) : 0);
        t_.set_status(fz, 0xb);
        for (unsigned q = 0; q < num_queues(); q++) {
            sizes_[q] = fuzzed ? 1u << (1 + fz.u(6)) : 8;
            if (fuzzed && fz.one_in(16)) sizes_[q] = static_cast<unsigned>(fz.u(0x10000));
            const uint64_t base = queue_base(area, q);
            uint64_t desc = base, avail = base + 0x1000, used = base + 0x2000;
            // A driver starts with empty rings; a stale avail index (say 1000 ahead) would make
            // every later request malformed. Now and then the stale one is left for the device.
            if (!fuzzed || !fz.one_in(8)) {
                fz.fill(avail, 4, 0);
                fz.fill(used, 4, 0);
            }
            if (fuzzed && fz.one_in(8)) desc = fz.dma_address(area, 0x8000);
            if (fuzzed && fz.one_in(8)) used = fz.dma_address(area, 0x8000);
            t_.setup_queue(fz, q, sizes_[q], desc, avail, used);
            used_seen_[q] = 0;
        }
        t_.set_status(fz, fuzzed && fz.one_in(8) ? fz.u(256) : 0xf);
    }

    // A chain of 1-3 descriptors in queue q, offered and kicked.
    void chain(Fuzzer& fz, uint64_t area) {
        const unsigned q = static_cast<unsigned>(fz.u(num_queues()));
        const unsigned size = sizes_[q] && sizes_[q] <= 64 ? sizes_[q] : 8;
        const uint64_t base = queue_base(area, q);
        const uint16_t head = static_cast<uint16_t>(fz.u(size + (fz.one_in(8) ? 4 : 0)));
        const unsigned links = 1 + static_cast<unsigned>(fz.u(3));
        uint16_t i = head;
        for (unsigned l = 0; l < links; l++) {
            const uint16_t next = static_cast<uint16_t>(fz.u(size));
            // Device-writable for the RX queue and the rng, readable for TX; now and then the
            // wrong way round, indirect or with a zero length.
            uint16_t flags = static_cast<uint16_t>(l + 1 < links ? 1 : 0);
            if ((q == 0 || fz.one_in(8)) && !fz.one_in(8)) flags |= 2;
            if (fz.one_in(32)) flags |= 4;
            const uint64_t addr = fz.dma_address(area + 0x8'0000, 0x8'0000);
            const uint32_t len = fz.one_in(16) ? static_cast<uint32_t>(fz.bits()) : static_cast<uint32_t>(fz.u(4) ? 12 + fz.u(2000) : fz.u(12));
            fz.plant_u64(base + 16ull * (i % size), addr);
            fz.plant_u64(base + 16ull * (i % size) + 8, len | static_cast<uint64_t>(flags) << 32 | static_cast<uint64_t>(next) << 48);
            if (flags & 4) {
                // An indirect table at the buffer address, when that is in the window.
                if (addr >= area && addr < area + 0x10'0000 - 64) fz.op_scribble(addr, 1);
            }
            i = next;
        }
        const uint64_t avail = base + 0x1000;
        const uint64_t idx = fz.read(avail + 2, 2);
        fz.plant(avail + 4 + 2 * (idx % size), {static_cast<uint8_t>(head), static_cast<uint8_t>(head >> 8)});
        const uint64_t nidx = idx + 1 + (fz.one_in(16) ? fz.u(1000) : 0);
        fz.plant(avail + 2, {static_cast<uint8_t>(nidx), static_cast<uint8_t>(nidx >> 8)});
        t_.notify(fz, fz.one_in(16) ? static_cast<unsigned>(fz.u(8)) : q);
        const uint64_t used = fz.read(base + 0x2000 + 2, 2);
        if (used != used_seen_[q]) used_progress_++;
        used_seen_[q] = used;
        chains_++;
        if (chains_ % 64 == 0) last_status_ = t_.status(fz);
    }

    // Reset, bring-up with 8-entry queues, and one request that must complete.
    void known_good(Fuzzer& fz, uint64_t area, NetBackend* peer) {
        for (unsigned q = 0; q < num_queues(); q++) {
            const uint64_t base = queue_base(area, q);
            fz.fill(base, 0x2000 + 0x100, 0);
        }
        bring_up(fz, area, false);
        const uint64_t buf = area + 0x8'0000;
        const unsigned q = net_ ? 1 : 0;
        const uint64_t base = queue_base(area, q);
        if (net_) {
            fz.board().drain_tx(0);
            fz.fill(buf, 12, 0);  // virtio_net_hdr_v1: no offloads
            fz.plant(buf + 0x100, std::vector<uint8_t>(60, 0x42));
            fz.plant_u64(base, buf);
            fz.plant_u64(base + 8, 12 | 1ull << 32 | 1ull << 48);
            fz.plant_u64(base + 16, buf + 0x100);
            fz.plant_u64(base + 24, 60);
        } else {
            fz.fill(buf, 16, 0);
            fz.plant_u64(base, buf);
            fz.plant_u64(base + 8, 16 | 2ull << 32);
        }
        fz.plant(base + 0x1000, {0, 0, 1, 0, 0, 0});
        t_.notify(fz, q);
        if (fz.read(base + 0x2002, 2) != 1) fz.fail(fmt::format("virtio: the scripted request was not used (status 0x{:x}, {})", t_.status(fz), t_.describe(fz)));
        if (net_) {
            const uint64_t n = fz.board().drain_tx(0);
            if (peer && n != 1) fz.fail(fmt::format("virtio-net: {} frames at the peer, not 1", n));
        } else {
            if (fz.read(base + 0x2008, 4) != 16) fz.fail("virtio-rng: used length is not 16");
            if (fz.read(buf, 8) == 0 && fz.read(buf + 8, 8) == 0) fz.fail("virtio-rng: no entropy written");
        }
        if (!(t_.status(fz) & 4)) fz.fail("virtio: DRIVER_OK lost");
    }

    uint64_t used_progress() const { return used_progress_; }
    std::string stats() const {
        return fmt::format("{} chains, {} completed, device status 0x{:x} at a late sample", chains_, used_progress_, last_status_);
    }

private:
    bool net_;
    VirtioTransportOps& t_;
    unsigned sizes_[2] = {8, 8};
    uint64_t used_seen_[2] = {0, 0};
    uint64_t used_progress_ = 0;
    uint64_t chains_ = 0, last_status_ = 0;
};

// ---------------------------------------------------------------- PCI

enum : uint64_t {
    kDfSelect = 0x00, kDf = 0x04, kGfSelect = 0x08, kGf = 0x0c, kMsixConfig = 0x10, kNumQueues = 0x12,
    kDeviceStatus = 0x14, kConfigGeneration = 0x15, kQueueSelect = 0x16, kQueueSize = 0x18,
    kQueueMsixVector = 0x1a, kQueueEnable = 0x1c, kQueueNotifyOff = 0x1e, kQueueDesc = 0x20,
    kQueueAvail = 0x28, kQueueUsed = 0x30, kIsr = 0x1000, kDeviceCfg = 0x2000, kNotify = 0x3000,
};

class VirtioPciDriver : public PciDriverBase, public VirtioTransportOps {
public:
    VirtioPciDriver(bool net) : PciDriverBase(net ? 0x38 : 0x40), net_(net), core_(net, *this) { nic_ = net; }

    void annotate(std::vector<Window>& bars) override {
        bars[4].regs = {kDfSelect, kDf, kGfSelect, kGf, kMsixConfig, kNumQueues, kDeviceStatus, kConfigGeneration,
                        kQueueSelect, kQueueSize, kQueueMsixVector, kQueueEnable, kQueueNotifyOff, kQueueDesc,
                        kQueueDesc + 4, kQueueAvail, kQueueAvail + 4, kQueueUsed, kQueueUsed + 4, kIsr, kDeviceCfg,
                        kDeviceCfg + 6, kNotify, kNotify + 4, kNotify + 8};
    }
    void setup(Fuzzer& fz) override {
        PciDriverBase::setup(fz);
        core_.bring_up(fz, area_, false);
    }
    void structured(Fuzzer& fz) override {
        if (!bars_[4].size) return;
        switch (fz.u(8)) {
            case 0: core_.bring_up(fz, area_, true); break;
            case 1: ack_interrupt(fz); break;
            default: core_.chain(fz, area_); break;
        }
    }
    void check_works(Fuzzer& fz) override {
        if (fz.cfg_read(devfn_, 0, 4) != (net_ ? 0x10411af4u : 0x10441af4u)) fz.fail("virtio-pci: wrong id after reset");
        core_.known_good(fz, area_, fz.board().peer(0));
    }
    std::string coverage_failure() const override {
        if (!core_.used_progress()) return "virtio-pci: no request ever completed: " + core_.stats();
        return {};
    }

    // VirtioTransportOps
    void set_status(Fuzzer& fz, uint64_t s) override { fz.reg_write(bars_[4], kDeviceStatus, s, 1); }
    uint64_t status(Fuzzer& fz) override { return fz.reg_read(bars_[4], kDeviceStatus, 1); }
    void set_features(Fuzzer& fz, uint32_t sel, uint32_t v) override {
        fz.reg_write(bars_[4], kGfSelect, sel, 4);
        fz.reg_write(bars_[4], kGf, v, 4);
    }
    void setup_queue(Fuzzer& fz, unsigned q, unsigned size, uint64_t desc, uint64_t avail, uint64_t used) override {
        const Window& w = bars_[4];
        fz.reg_write(w, kQueueSelect, q, 2);
        fz.reg_write(w, kQueueSize, size, 2);
        for (auto [off, a] : {std::pair{kQueueDesc, desc}, {kQueueAvail, avail}, {kQueueUsed, used}}) {
            fz.reg_write(w, off, a, 4);
            fz.reg_write(w, off + 4, a >> 32, 4);
        }
        fz.reg_write(w, kQueueEnable, 1, 2);
    }
    void notify(Fuzzer& fz, unsigned q) override { fz.reg_write(bars_[4], kNotify + 4 * q, q, 2); }
    void ack_interrupt(Fuzzer& fz) override { (void)fz.reg_read(bars_[4], kIsr, 1); }
    std::string describe(Fuzzer& fz) override {
        const Window& w = bars_[4];
        fz.reg_write(w, kQueueSelect, 0, 2);
        return fmt::format("BAR4 at 0x{:x}, command 0x{:x}, BAR4 reg 0x{:x}, queue 0 size {} enable {} desc 0x{:x}",
                           w.base, fz.cfg_read(devfn_, 4, 2), fz.cfg_read(devfn_, 0x20, 4), fz.reg_read(w, kQueueSize, 2),
                           fz.reg_read(w, kQueueEnable, 2), fz.reg_read(w, kQueueDesc, 4));
    }

private:
    bool net_;
    VirtioCore core_;
};

// ---------------------------------------------------------------- MMIO (virt)

enum : uint64_t {
    kMagic = 0x000, kVersion = 0x004, kDeviceId = 0x008, kVendorId = 0x00c, kDeviceFeatures = 0x010,
    kDeviceFeaturesSel = 0x014, kDriverFeatures = 0x020, kDriverFeaturesSel = 0x024, kQueueSel = 0x030,
    kQueueNumMax = 0x034, kQueueNum = 0x038, kQueueReady = 0x044, kQueueNotify = 0x050,
    kInterruptStatus = 0x060, kInterruptAck = 0x064, kStatus = 0x070, kQueueDescLow = 0x080,
    kQueueDescHigh = 0x084, kQueueDriverLow = 0x090, kQueueDriverHigh = 0x094, kQueueDeviceLow = 0x0a0,
    kQueueDeviceHigh = 0x0a4, kMmioConfigGeneration = 0x0fc, kConfig = 0x100,
};

class VirtioMmioDriver : public DeviceDriver, public VirtioTransportOps {
public:
    explicit VirtioMmioDriver(bool net) : net_(net), core_(net, *this) {
        // The first virtio-mmio device takes the highest slot, as on QEMU's virt.
        w_.base = 0x0a00'0000 + 31 * 0x200;
        w_.size = 0x200;
        w_.regs = {kMagic, kVersion, kDeviceId, kVendorId, kDeviceFeatures, kDeviceFeaturesSel, kDriverFeatures,
                   kDriverFeaturesSel, kQueueSel, kQueueNumMax, kQueueNum, kQueueReady, kQueueNotify,
                   kInterruptStatus, kInterruptAck, kStatus, kQueueDescLow, kQueueDescHigh, kQueueDriverLow,
                   kQueueDriverHigh, kQueueDeviceLow, kQueueDeviceHigh, kMmioConfigGeneration, kConfig, kConfig + 4};
    }

    void setup(Fuzzer& fz) override {
        area_ = fz.layout().window_base + 0x10'0000;
        core_.bring_up(fz, area_, false);
    }
    void op(Fuzzer& fz) override {
        const uint64_t r = fz.u(100);
        if (r < 30) {
            if (fz.one_in(8)) {
                core_.bring_up(fz, area_, true);
            } else {
                core_.chain(fz, area_);
            }
        } else if (r < 70) {
            fz.op_register(w_);
        } else if (r < 85) {
            if (fz.u(8)) {
                fz.op_scribble(area_, 0x10'0000);
            } else {
                fz.op_scribble(fz.layout().window_base, fz.layout().window_size);
            }
        } else if (r < 90) {
            fz.op_clock();
        } else if (r < 91) {
            fz.op_malformed();
        } else if (r < 95) {
            ack_interrupt(fz);
        } else if (net_) {
            NetBackend* peer = fz.board().peer(0);
            std::vector<uint8_t> f(14 + fz.u(1500));
            for (auto& b : f) b = static_cast<uint8_t>(fz.bits());
            if (peer) peer->send(f.data(), f.size());
            fz.board().drain_tx(0);
        }
    }
    void check_works(Fuzzer& fz) override {
        if (fz.reg_read(w_, kMagic, 4) != 0x74726976) fz.fail("virtio-mmio: bad magic");
        if (fz.reg_read(w_, kVersion, 4) != 2) fz.fail("virtio-mmio: bad version");
        if (fz.reg_read(w_, kDeviceId, 4) != (net_ ? 1u : 4u)) fz.fail("virtio-mmio: bad device id");
        core_.known_good(fz, area_, fz.board().peer(0));
    }
    std::string coverage_failure() const override {
        if (!core_.used_progress()) return "virtio-mmio: no request ever completed: " + core_.stats();
        return {};
    }

    void set_status(Fuzzer& fz, uint64_t s) override { fz.reg_write(w_, kStatus, s, 4); }
    uint64_t status(Fuzzer& fz) override { return fz.reg_read(w_, kStatus, 4); }
    void set_features(Fuzzer& fz, uint32_t sel, uint32_t v) override {
        fz.reg_write(w_, kDriverFeaturesSel, sel, 4);
        fz.reg_write(w_, kDriverFeatures, v, 4);
    }
    void setup_queue(Fuzzer& fz, unsigned q, unsigned size, uint64_t desc, uint64_t avail, uint64_t used) override {
        fz.reg_write(w_, kQueueSel, q, 4);
        fz.reg_write(w_, kQueueNum, size, 4);
        for (auto [off, a] : {std::pair{kQueueDescLow, desc}, {kQueueDriverLow, avail}, {kQueueDeviceLow, used}}) {
            fz.reg_write(w_, off, a, 4);
            fz.reg_write(w_, off + 4, a >> 32, 4);
        }
        fz.reg_write(w_, kQueueReady, 1, 4);
    }
    void notify(Fuzzer& fz, unsigned q) override { fz.reg_write(w_, kQueueNotify, q, 4); }
    void ack_interrupt(Fuzzer& fz) override {
        fz.reg_write(w_, kInterruptAck, fz.reg_read(w_, kInterruptStatus, 4), 4);
    }
    std::string describe(Fuzzer& fz) override {
        fz.reg_write(w_, kQueueSel, 0, 4);
        return fmt::format("queue 0 num {} ready {}", fz.reg_read(w_, kQueueNum, 4), fz.reg_read(w_, kQueueReady, 4));
    }

private:
    bool net_;
    Window w_;
    uint64_t area_ = 0;
    VirtioCore core_;
};

}  // namespace

std::unique_ptr<DeviceDriver> make_virtio_pci_net_driver() {
    return std::make_unique<VirtioPciDriver>(true);
}
std::unique_ptr<DeviceDriver> make_virtio_pci_rng_driver() {
    return std::make_unique<VirtioPciDriver>(false);
}
std::unique_ptr<DeviceDriver> make_virtio_mmio_net_driver() {
    return std::make_unique<VirtioMmioDriver>(true);
}
std::unique_ptr<DeviceDriver> make_virtio_mmio_rng_driver() {
    return std::make_unique<VirtioMmioDriver>(false);
}

}  // namespace corvid::fuzz
