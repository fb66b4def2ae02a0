// PCI endpoint semantics: BAR sizing and decoding, INTx routing, capabilities and DMA.
#include "hw/pci/pci_device.h"

#include <fmt/format.h>

#include "hw/clock.h"

namespace corvid {

namespace {
constexpr unsigned kPiix3Devfn = 0x08;  // 00:01.0
constexpr unsigned kIch9LpcDevfn = 0xf8;  // 00:1f.0
constexpr uint64_t kIoSpaceSize = 0x10000;

bool overlaps(unsigned a, unsigned alen, unsigned b, unsigned blen) { return a < b + blen && b < a + alen; }
}  // namespace

// ---- PciIntxRouter ----

PciIntxRouter::PciIntxRouter(PciBus& bus, PirqChipset chipset, std::function<void(int, bool)> set_pic_irq)
    : bus_(bus), chipset_(chipset), set_pic_irq_(std::move(set_pic_irq)) {}

unsigned PciIntxRouter::pirq_of(uint8_t devfn, unsigned pin) const {
    const unsigned slot = devfn >> 3;
    pin &= 3;
    if (chipset_ == PirqChipset::kPiix3) return (pin + slot - 1) & 3;
    return (slot + pin) % 4 + 4;
}

int PciIntxRouter::irq_of_pirq(unsigned pirq) const {
    if (pirq >= kNumPirqs) return -1;
    unsigned devfn = kPiix3Devfn, reg = 0x60 + pirq;
    if (chipset_ == PirqChipset::kIch9) {
        devfn = kIch9LpcDevfn;
        reg = pirq < 4 ? 0x60 + pirq : 0x68 + (pirq - 4);
    } else if (pirq >= 4) {
        return -1;  // PIIX3 has PIRQA-D only
    }
    const uint32_t v = bus_.read(0, devfn, reg, 1);
    if (v & 0x80) return -1;
    const int irq = static_cast<int>(v & 0x0f);
    // Reserved encodings (the datasheets' "reserved" IRQs): never let a guest route a PCI
    // interrupt onto the timer, keyboard, cascade, RTC or FPU inputs.
    if (irq == 0 || irq == 1 || irq == 2 || irq == 8 || irq == 13) return -1;
    return irq;
}

void PciIntxRouter::set_level(uint8_t devfn, unsigned pin, bool level) {
    const unsigned pirq = pirq_of(devfn, pin);
    counts_[pirq] += level ? 1 : -1;
    if (counts_[pirq] < 0) counts_[pirq] = 0;
    refresh();
}

void PciIntxRouter::refresh() {
    std::array<bool, 16> want{};
    for (unsigned p = 0; p < kNumPirqs; p++) {
        if (counts_[p] <= 0) continue;
        const int irq = irq_of_pirq(p);
        if (irq >= 0) want[irq] = true;
    }
    for (int irq = 0; irq < 16; irq++) {
        if (want[irq] != driven_[irq]) {
            driven_[irq] = want[irq];
            if (set_pic_irq_) set_pic_irq_(irq, want[irq]);
        }
    }
}

void PciIntxRouter::reset() {
    counts_.fill(0);
    refresh();
}

// ---- DeviceTimer ----

DeviceTimer::DeviceTimer(VirtualClock* clock, std::function<void()> callback)
    : clock_(clock), alive_(std::make_shared<std::atomic<bool>>(true)) {
    if (!clock_) return;
    id_ = clock_->add_timer([alive = alive_, cb = std::move(callback)] {
        if (alive->load()) cb();
    });
}

DeviceTimer::~DeviceTimer() {
    alive_->store(false);
    cancel();
}

void DeviceTimer::arm_at(int64_t deadline_ns) {
    if (clock_) clock_->arm(id_, deadline_ns);
}

void DeviceTimer::arm_now() {
    if (clock_) clock_->arm(id_, clock_->now_ns());
}

void DeviceTimer::cancel() {
    if (clock_) clock_->cancel(id_);
}

bool DeviceTimer::armed() const { return clock_ && clock_->armed(id_); }

int64_t DeviceTimer::now_ns() const { return clock_ ? clock_->now_ns() : 0; }

// ---- PciDevice ----

PciDevice::PciDevice(std::string name, const PciId& id, const PciDeviceHost& host, uint8_t pin, unsigned config_size)
    : PciFunction(std::move(name), id, config_size), host_(host), pin_(pin <= 4 ? pin : 1) {
    set_reg(kPciInterruptPin, 1, pin_);
    finish_config();
}

PciDevice::~PciDevice() { unmap_all(); }

void PciDevice::finish_config() {
    reset_config_ = config_;
    reset_wmask_ = wmask_;
    reset_w1c_ = w1cmask_;
}

void PciDevice::add_bar(unsigned index, BarType type, uint64_t size, MmioOps* ops, uint8_t valid_sizes, bool prefetchable) {
    if (index >= kNumBars || (type == BarType::kMem64 && index + 1 >= kNumBars)) return;
    const uint64_t min = type == BarType::kIo ? 4 : 16;
    if (size < min) size = min;
    // Round up to a power of two: the sizing protocol can only express those.
    while (size & (size - 1)) size += size & -size;
    bars_[index] = Bar{type, size, ops, valid_sizes, prefetchable, false, 0};
    const unsigned reg = kPciBar0 + 4 * index;
    switch (type) {
        case BarType::kNone: break;
        case BarType::kIo: set_reg(reg, 4, 0x1, static_cast<uint32_t>(~(size - 1)) & ~3u); break;
        case BarType::kMem32:
            set_reg(reg, 4, prefetchable ? 0x8 : 0, static_cast<uint32_t>(~(size - 1)) & ~0xfu);
            break;
        case BarType::kMem64:
            set_reg(reg, 4, 0x4 | (prefetchable ? 0x8 : 0), static_cast<uint32_t>(~(size - 1)) & ~0xfu);
            set_reg(reg + 4, 4, 0, static_cast<uint32_t>(~(size - 1) >> 32));
            bars_[index + 1] = Bar{};
            break;
    }
}

unsigned PciDevice::add_capability(uint8_t cap_id, unsigned size) {
    const unsigned offset = (next_cap_ + 3) & ~3u;
    if (size < 2 || offset + size > config_size() || offset > 0xfc) return 0;
    set_reg(offset, 1, cap_id);
    set_reg(offset + 1, 1, 0);
    if (last_cap_) {
        config_[last_cap_ + 1] = static_cast<uint8_t>(offset);
    } else {
        config_[kPciCapabilityPointer] = static_cast<uint8_t>(offset);
        config_[kPciStatus] |= kStatusCapList;
    }
    last_cap_ = static_cast<uint8_t>(offset);
    next_cap_ = offset + size;
    return offset;
}

void PciDevice::reset() {
    unmap_all();
    if (routed_level_ && host_.intx) host_.intx->set_level(devfn_, pin_ - 1, false);
    routed_level_ = false;
    irq_level_ = false;
    config_ = reset_config_;
    wmask_ = reset_wmask_;
    w1cmask_ = reset_w1c_;
}

void PciDevice::unplug() {
    unmap_all();
    if (routed_level_ && host_.intx) host_.intx->set_level(devfn_, pin_ - 1, false);
    routed_level_ = false;
    irq_level_ = false;
}

void PciDevice::config_write(unsigned offset, uint32_t value, unsigned size) {
    PciFunction::config_write(offset, value, size);
    const bool command = overlaps(offset, size, kPciCommand, 2);
    if (command || overlaps(offset, size, kPciBar0, 4 * kNumBars)) update_mappings();
    if (command) update_intx();
}

uint64_t PciDevice::bar_register_address(unsigned index) const {
    const Bar& b = bars_[index];
    const uint32_t lo = config_read(kPciBar0 + 4 * index, 4);
    switch (b.type) {
        case BarType::kIo: return lo & ~3u;
        case BarType::kMem32: return lo & ~0xfu;
        case BarType::kMem64: return (static_cast<uint64_t>(config_read(kPciBar0 + 4 * index + 4, 4)) << 32) | (lo & ~0xfu);
        case BarType::kNone: break;
    }
    return 0;
}

uint64_t PciDevice::bar_address(unsigned index) const {
    if (index >= kNumBars || !bars_[index].mapped) return ~0ull;
    return bars_[index].mapped_at;
}

void PciDevice::update_mappings() {
    const uint16_t cmd = word(kPciCommand);
    for (unsigned i = 0; i < kNumBars; i++) {
        Bar& b = bars_[i];
        if (b.type == BarType::kNone || !b.ops) continue;
        const bool io = b.type == BarType::kIo;
        AddressSpace* as = io ? host_.io : host_.memory;
        const uint64_t addr = bar_register_address(i);
        // QEMU's rule: decoding must be on and the address non-zero and inside the space
        // the BAR type can reach (I/O below 64 KiB, 32-bit BARs below 4 GiB).
        bool want = as && (cmd & (io ? kCmdIo : kCmdMemory)) && addr != 0 && addr + b.size > addr;
        if (want && io && addr + b.size > kIoSpaceSize) want = false;
        if (want && b.type == BarType::kMem32 && addr + b.size > (1ull << 32)) want = false;
        if (b.mapped && (!want || b.mapped_at != addr)) {
            (void)as->remove(b.mapped_at);
            b.mapped = false;
        }
        if (want && !b.mapped) {
            const std::string region = fmt::format("{}-bar{}", name(), i);
            if (auto st = as->add_mmio(region, addr, b.size, b.ops, b.valid_sizes); !st) {
                // A guest that places a BAR over RAM or another device gets a BAR that does
                // not decode, not a corrupted memory map.
                guest_error("BAR{} at 0x{:x} not mapped: {}", i, addr, st.error());
                continue;
            }
            b.mapped = true;
            b.mapped_at = addr;
        }
    }
}

void PciDevice::unmap_all() {
    for (unsigned i = 0; i < kNumBars; i++) {
        Bar& b = bars_[i];
        if (!b.mapped) continue;
        AddressSpace* as = b.type == BarType::kIo ? host_.io : host_.memory;
        if (as) (void)as->remove(b.mapped_at);
        b.mapped = false;
    }
}

void PciDevice::set_irq(bool level) {
    irq_level_ = level;
    if (level) {
        config_[kPciStatus] |= kStatusIntx;
    } else {
        config_[kPciStatus] &= static_cast<uint8_t>(~kStatusIntx);
    }
    update_intx();
}

void PciDevice::update_intx() {
    const bool routed = irq_level_ && pin_ != 0 && !(word(kPciCommand) & kCmdIntxDisable);
    if (routed == routed_level_) return;
    routed_level_ = routed;
    if (host_.intx) host_.intx->set_level(devfn_, pin_ - 1, routed);
}

bool PciDevice::dma_allowed(uint64_t addr, uint64_t len, const char* what) const {
    if (!bus_master()) {
        guest_error("DMA {} of {} bytes at 0x{:x} with bus mastering disabled", what, len, addr);
        return false;
    }
    if (!host_.memory || addr + len < addr) {
        guest_error("DMA {} of {} bytes at 0x{:x}: bad range", what, len, addr);
        return false;
    }
    return true;
}

Status PciDevice::dma_read(uint64_t addr, void* data, uint64_t len) {
    if (!dma_allowed(addr, len, "read")) return make_error("DMA not allowed");
    if (len == 0) return {};
    auto st = host_.memory->read_bytes(addr, data, len);
    if (!st) guest_error("DMA read of {} bytes at 0x{:x}: {}", len, addr, st.error());
    return st;
}

Status PciDevice::dma_write(uint64_t addr, const void* data, uint64_t len) {
    if (!dma_allowed(addr, len, "write")) return make_error("DMA not allowed");
    if (len == 0) return {};
    // AddressSpace::write_bytes also writes ROM (for loaders); a device must not.
    for (uint64_t page = addr & ~(AddressSpace::kPageSize - 1); page <= addr + len - 1; page += AddressSpace::kPageSize) {
        bool writable = false;
        if (!host_.memory->ram_page(page, &writable) || !writable) {
            guest_error("DMA write of {} bytes at 0x{:x}: page 0x{:x} is not RAM", len, addr, page);
            return make_error("DMA write outside RAM");
        }
        if (page + AddressSpace::kPageSize < page) break;
    }
    auto st = host_.memory->write_bytes(addr, data, len);
    if (!st) guest_error("DMA write of {} bytes at 0x{:x}: {}", len, addr, st.error());
    return st;
}

}  // namespace corvid
