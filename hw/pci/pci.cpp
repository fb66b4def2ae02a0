// PCI config space semantics and the two host access mechanisms.
#include "hw/pci/pci.h"

#include <algorithm>

#include <fmt/format.h>

#include "base/log.h"
#include "base/run_control.h"

namespace corvid {

namespace {
// QEMU gives every conventional function Red Hat's subsystem IDs; guests see the same.
constexpr uint16_t kSubsystemVendorQemu = 0x1af4;
constexpr uint16_t kSubsystemQemu = 0x1100;
// Command: I/O, memory, bus master, parity, SERR, INTx disable. Status: the error bits.
constexpr uint16_t kCommandWmask = 0x0547;
constexpr uint16_t kStatusW1c = 0xf900;

bool aligned_access(unsigned offset, unsigned size) {
    return (size == 1 || size == 2 || size == 4) && (offset & (size - 1)) == 0;
}
}  // namespace

PciFunction::PciFunction(std::string name, const PciId& id, unsigned config_size)
    : config_(config_size), power_on_(config_size), wmask_(config_size), w1cmask_(config_size), name_(std::move(name)),
      id_(id) {
    init_header();
}

void PciFunction::init_header() {
    std::fill(config_.begin(), config_.end(), 0);
    std::fill(power_on_.begin(), power_on_.end(), 0);
    std::fill(wmask_.begin(), wmask_.end(), 0);
    std::fill(w1cmask_.begin(), w1cmask_.end(), 0);
    set_reg(kPciVendorId, 2, id_.vendor);
    set_reg(kPciDeviceId, 2, id_.device);
    set_reg(kPciCommand, 2, 0, kCommandWmask);
    set_reg(kPciStatus, 2, 0, 0, kStatusW1c);
    set_reg(kPciRevision, 1, id_.revision);
    set_reg(kPciClassProg, 3, id_.class_code);
    set_reg(kPciCacheLineSize, 1, 0, 0xff);
    set_reg(kPciLatencyTimer, 1, 0, 0xff);
    set_reg(kPciHeaderType, 1, id_.header_type);
    if ((id_.header_type & 0x7f) == 0) {
        set_reg(kPciSubsystemVendorId, 2, kSubsystemVendorQemu);
        set_reg(kPciSubsystemId, 2, kSubsystemQemu);
    }
    set_reg(kPciInterruptLine, 1, 0, 0xff);
}

void PciFunction::reset() { config_ = power_on_; }

void PciFunction::set_reg(unsigned offset, unsigned size, uint32_t value, uint32_t wmask, uint32_t w1c) {
    for (unsigned i = 0; i < size && offset + i < config_.size(); i++) {
        config_[offset + i] = static_cast<uint8_t>(value >> (8 * i));
        power_on_[offset + i] = config_[offset + i];
        wmask_[offset + i] = static_cast<uint8_t>(wmask >> (8 * i));
        w1cmask_[offset + i] = static_cast<uint8_t>(w1c >> (8 * i));
    }
}

uint32_t PciFunction::config_read(unsigned offset, unsigned size) const {
    uint32_t v = 0;
    for (unsigned i = 0; i < size; i++) v |= static_cast<uint32_t>(config_[offset + i]) << (8 * i);
    return v;
}

void PciFunction::config_write(unsigned offset, uint32_t value, unsigned size) {
    bool changed = false;
    for (unsigned i = 0; i < size; i++) {
        const unsigned o = offset + i;
        const uint8_t b = static_cast<uint8_t>(value >> (8 * i));
        const uint8_t old = config_[o];
        uint8_t nv = static_cast<uint8_t>((old & ~wmask_[o]) | (b & wmask_[o]));
        nv &= static_cast<uint8_t>(~(b & w1cmask_[o]));
        config_[o] = nv;
        changed |= nv != old;
        if (o >= 0x40 && ((b ^ old) & ~(wmask_[o] | w1cmask_[o]))) {
            // Writes to read-only device-specific bits are legal and ignored, but worth a note
            // when debugging a guest that expects an effect.
            log::logf(log::kUnimp, "pci {}: write to read-only bits of config register 0x{:x} ignored", name_, o);
        }
    }
    if (changed) config_written(offset, size);
}

Status PciBus::add(uint8_t devfn, std::unique_ptr<PciFunction> fn) {
    if (functions_[devfn]) {
        return make_error(fmt::format("PCI slot {:02x}.{} is already occupied by {}", devfn >> 3, devfn & 7,
                                      functions_[devfn]->name()));
    }
    functions_[devfn] = std::move(fn);
    return {};
}

std::unique_ptr<PciFunction> PciBus::remove(uint8_t devfn) {
    return std::move(functions_[devfn]);
}

PciFunction* PciBus::find(unsigned bus, unsigned devfn) const {
    if (bus != 0 || devfn > 255) return nullptr;
    // Functions other than 0 exist only if function 0 does (and is multi-function).
    if ((devfn & 7) != 0) {
        const PciFunction* f0 = functions_[devfn & ~7u].get();
        if (!f0 || !(f0->byte(kPciHeaderType) & 0x80)) return nullptr;
    }
    return functions_[devfn].get();
}

void PciBus::reset() {
    for (auto& f : functions_) {
        if (f) f->reset();
    }
}

uint32_t PciBus::read(unsigned bus, unsigned devfn, unsigned offset, unsigned size) const {
    const uint32_t ones = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
    const PciFunction* f = find(bus, devfn);
    if (!f || offset + size > f->config_size()) return ones;
    return f->config_read(offset, size);
}

void PciBus::write(unsigned bus, unsigned devfn, unsigned offset, uint32_t value, unsigned size) {
    PciFunction* f = find(bus, devfn);
    if (!f || offset + size > f->config_size()) return;
    f->config_write(offset, value, size);
}

PciConfigIo::PciConfigIo(PciBus& bus, RunControl* rc, bool ext_regs) : bus_(bus), rc_(rc), ext_regs_(ext_regs) {}

void PciConfigIo::reset() {
    address_ = 0;
    rcr_ = 0;
}

bool PciConfigIo::decode(uint64_t offset, unsigned size, unsigned* bus, unsigned* devfn, unsigned* reg) const {
    if (!(address_ & 0x8000'0000u)) return false;
    *bus = (address_ >> 16) & 0xff;
    *devfn = (address_ >> 8) & 0xff;
    *reg = (address_ & 0xfc) | static_cast<unsigned>(offset - 4);
    if (ext_regs_) *reg |= ((address_ >> 24) & 0xf) << 8;
    return aligned_access(*reg, size);
}

uint64_t PciConfigIo::read(uint64_t offset, unsigned size) {
    const uint64_t ones = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
    if (offset < 4) {
        if (offset == 0 && size == 4) return address_;
        if (offset == 1 && size == 1 && rc_) return rcr_;
        log::logf(log::kGuestErrors, "pci: bad read of size {} at port 0x{:x}", size, kIoBase + offset);
        return ones;
    }
    unsigned bus, devfn, reg;
    if (!decode(offset, size, &bus, &devfn, &reg)) {
        if (address_ & 0x8000'0000u) {
            log::logf(log::kGuestErrors, "pci: unaligned config read of size {} at port 0x{:x}", size, kIoBase + offset);
        }
        return ones;
    }
    return bus_.read(bus, devfn, reg, size);
}

void PciConfigIo::write(uint64_t offset, uint64_t value, unsigned size) {
    if (offset < 4) {
        if (offset == 0 && size == 4) {
            address_ = static_cast<uint32_t>(value) & (ext_regs_ ? 0x8fff'fffcu : 0x80ff'fffcu);
            return;
        }
        if (offset == 1 && size == 1 && rc_) {
            // Reset control: writing bit 2 (RST_CPU) with SRST (bit 1) or FULL_RST (bit 3)
            // set resets the system, as PIIX3 / ICH9 do.
            const uint8_t v = static_cast<uint8_t>(value);
            if ((v & 0x04) && (v & 0x0a)) {
                rcr_ = 0;
                rc_->request_reset();
            } else {
                rcr_ = v & 0x0a;
            }
            return;
        }
        log::logf(log::kGuestErrors, "pci: bad write of size {} at port 0x{:x}", size, kIoBase + offset);
        return;
    }
    unsigned bus, devfn, reg;
    if (!decode(offset, size, &bus, &devfn, &reg)) {
        if (address_ & 0x8000'0000u) {
            log::logf(log::kGuestErrors, "pci: unaligned config write of size {} at port 0x{:x}", size, kIoBase + offset);
        }
        return;
    }
    bus_.write(bus, devfn, reg, static_cast<uint32_t>(value), size);
}

uint64_t PciEcam::read(uint64_t offset, unsigned size) {
    const uint64_t ones = size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
    const unsigned reg = offset & 0xfff;
    if (offset >= size_ || !aligned_access(reg, size)) {
        log::logf(log::kGuestErrors, "pci ecam: bad read of size {} at offset 0x{:x}", size, offset);
        return ones;
    }
    return bus_.read(static_cast<unsigned>(offset >> 20), (offset >> 12) & 0xff, reg, size);
}

void PciEcam::write(uint64_t offset, uint64_t value, unsigned size) {
    const unsigned reg = offset & 0xfff;
    if (offset >= size_ || !aligned_access(reg, size)) {
        log::logf(log::kGuestErrors, "pci ecam: bad write of size {} at offset 0x{:x}", size, offset);
        return;
    }
    bus_.write(static_cast<unsigned>(offset >> 20), (offset >> 12) & 0xff, reg, static_cast<uint32_t>(value), size);
}

}  // namespace corvid
