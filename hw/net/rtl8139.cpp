// RTL8139 register file, TX slots and the RX ring buffer (RTL8139C datasheet, section 5-6).
#include "hw/net/rtl8139.h"

#include <cstring>
#include <vector>

#include <fmt/format.h>

#include "hw/pci/pci_devices.h"

namespace corvid {

Rtl8139::Rtl8139(const NicConfig& nic, const PciDeviceHost& host)
    : PciDevice("rtl8139", {0x10ec, 0x8139, 0x20, 0x020000, 0}, host), mac_(nic.mac) {
    add_bar(0, BarType::kIo, kRegSize, &io_ops_);
    add_bar(1, BarType::kMem32, kRegSize, &mem_ops_);
    finish_config();
    reset_registers();
    port_ = std::make_unique<NicPort>(nic.backend, host.clock, [this](const uint8_t* d, size_t n) { return receive(d, n); });
}

Rtl8139::~Rtl8139() { port_.reset(); }

void Rtl8139::reset() {
    PciDevice::reset();
    reset_registers();
}

void Rtl8139::reset_registers() {
    regs_.fill(0);
    for (unsigned i = 0; i < 6; i++) regs_[kIdr0 + i] = mac_[i];
    for (unsigned i = 0; i < 4; i++) w32(kTsd0 + 4 * i, kTsdOwn);  // all slots owned by the host
    regs_[kCr] = kCrBufe;
    w16(kCapr, 0xfff0);  // CAPR + 16 == CBR: empty
    regs_[kMsr] = 0x08;  // link up (LINKB = 0), 10 Mb/s bit clear, TX pause capable
    w16(kBmcr, 0x1000);
    w16(kBmsr, 0x782d);  // 100BASE-TX full/half capable, autoneg complete, link up
    if (irq_level()) set_irq(false);
}

void Rtl8139::update_irq() { set_irq((r16(kIsr) & r16(kImr)) != 0); }

void Rtl8139::raise(uint16_t bits) {
    w16(kIsr, r16(kIsr) | bits);
    update_irq();
}

void Rtl8139::update_bufe() {
    const uint32_t len = rx_buffer_len();
    const bool empty = ((r16(kCapr) + 16u) % len) == (r16(kCbr) % len);
    regs_[kCr] = static_cast<uint8_t>(empty ? regs_[kCr] | kCrBufe : regs_[kCr] & ~kCrBufe);
}

uint64_t Rtl8139::reg_read(uint64_t offset, unsigned size) {
    if (offset + size > kRegSize || size > 4) {
        guest_error("read of size {} at 0x{:x}", size, offset);
        return 0;
    }
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) v |= static_cast<uint64_t>(regs_[offset + i]) << (8 * i);
    return v;
}

void Rtl8139::reg_write(uint64_t offset, uint64_t value, unsigned size) {
    if (offset + size > kRegSize || size > 4) {
        guest_error("write of size {} at 0x{:x} ignored", size, offset);
        return;
    }
    const unsigned o = static_cast<unsigned>(offset);
    // Registers with side effects are handled as wholes; anything else byte by byte.
    if (o == kIsr && size == 2) {
        w16(kIsr, r16(kIsr) & ~static_cast<uint16_t>(value));  // write 1 to clear
        update_irq();
        return;
    }
    if (o == kImr && size == 2) {
        w16(kImr, static_cast<uint16_t>(value));
        update_irq();
        return;
    }
    if (o == kCapr && size == 2) {
        w16(kCapr, static_cast<uint16_t>(value));
        update_bufe();
        port_->flush();
        return;
    }
    if (o >= kTsd0 && o < kTsd0 + 16 && size == 4 && (o & 3) == 0) {
        // Writing the size with OWN clear hands the slot to the NIC: send it now.
        w32(o, static_cast<uint32_t>(value) & ~(kTsdOwn | kTsdTok));
        if (!(value & kTsdOwn)) transmit((o - kTsd0) / 4);
        return;
    }
    for (unsigned i = 0; i < size; i++) write_byte(o + i, static_cast<uint8_t>(value >> (8 * i)));
}

void Rtl8139::write_byte(unsigned o, uint8_t v) {
    switch (o) {
        case kCr:
            if (v & kCrRst) {
                reset_registers();
                return;
            }
            regs_[kCr] = static_cast<uint8_t>((v & (kCrRe | kCrTe)) | (regs_[kCr] & kCrBufe));
            if (v & kCrRe) port_->flush();
            return;
        case kIsr: case kIsr + 1:
            regs_[o] &= static_cast<uint8_t>(~v);  // write 1 to clear, at any width
            update_irq();
            return;
        case kImr: case kImr + 1:
            regs_[o] = v;
            update_irq();
            return;
        case kCbr: case kCbr + 1: case kMsr: case kBmsr: case kBmsr + 1:
            return;  // read-only
        default:
            regs_[o] = v;
            if ((o >= kRcr && o < kRcr + 4) || o == kCapr || o == kCapr + 1) update_bufe();
    }
}

void Rtl8139::transmit(unsigned slot) {
    const unsigned tsd = kTsd0 + 4 * slot;
    const uint32_t status = r32(tsd);
    const uint32_t size = status & kTsdSizeMask;
    if (!(regs_[kCr] & kCrTe)) return;  // transmitter off: the slot is not completed
    if (size == 0 || size > kMaxTxSize) {
        guest_error("TX slot {}: size {} outside 1..{}", slot, size, kMaxTxSize);
        w32(tsd, status | kTsdOwn);
        raise(kIsrTer);
        return;
    }
    uint8_t buf[kMaxTxSize];
    if (!dma_read(r32(kTsad0 + 4 * slot), buf, size)) {
        w32(tsd, status | kTsdOwn);
        raise(kIsrTer);
        return;
    }
    port_->send(buf, size);
    w32(tsd, status | kTsdOwn | kTsdTok);
    raise(kIsrTok);
}

bool Rtl8139::accept(const uint8_t* d, size_t len) const {
    if (len < 6) return false;
    const uint32_t rcr = this->rcr();
    if (rcr & kRcrAap) return true;
    static constexpr uint8_t kBroadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    if (std::memcmp(d, kBroadcast, 6) == 0) return rcr & kRcrAb;
    if (d[0] & 1) return rcr & kRcrAm;  // multicast hash filter not modelled: AM accepts all
    return (rcr & kRcrApm) && std::memcmp(d, &regs_[kIdr0], 6) == 0;
}

bool Rtl8139::receive(const uint8_t* data, size_t len) {
    if (!(regs_[kCr] & kCrRe)) return false;
    if (!accept(data, len)) return true;
    if (len > kNetMaxFrame - 8 || len > 0xffff - 8) return true;
    const uint32_t ring = rx_buffer_len();
    const uint32_t wrp = r16(kCbr) % ring;
    const uint32_t rdp = (r16(kCapr) + 16u) % ring;
    // Header (status, length incl. CRC), the frame, a CRC, rounded to a dword.
    const uint32_t total = (4 + static_cast<uint32_t>(len) + 4 + 3) & ~3u;
    const uint32_t free_space = rdp > wrp ? rdp - wrp : ring - wrp + rdp;
    if (total >= free_space) {
        raise(kIsrRxovw);
        return true;  // the hardware drops on overflow
    }
    std::vector<uint8_t> pkt(total, 0);
    const uint16_t status = 0x0001 | (data[0] == 0xff ? 0x2000 : (data[0] & 1) ? 0x8000 : 0x4000);
    const uint16_t plen = static_cast<uint16_t>(len + 4);
    std::memcpy(pkt.data(), &status, 2);
    std::memcpy(pkt.data() + 2, &plen, 2);
    std::memcpy(pkt.data() + 4, data, len);
    const uint64_t base = r32(kRbstart);
    if ((rcr() & kRcrWrap) && wrp + total <= ring + kWrapPad) {
        if (!dma_write(base + wrp, pkt.data(), total)) return true;
    } else {
        const uint32_t first = std::min(total, ring - wrp);
        if (!dma_write(base + wrp, pkt.data(), first)) return true;
        if (first < total && !dma_write(base, pkt.data() + first, total - first)) return true;
    }
    w16(kCbr, static_cast<uint16_t>((wrp + total) % ring));
    update_bufe();
    raise(kIsrRok);
    return true;
}

void register_rtl8139_type(TypeRegistry& r) {
    TypeInfo t;
    t.name = "rtl8139";
    t.description = "Realtek RTL8139 Fast Ethernet";
    // Modelled defensively, but the C+ mode, the EEPROM and the multicast filter are not, and
    // the model has had no review against the datasheet's corner cases: not declared secure.
    t.security = Security::kInsecure;
    register_pci_device_type(
        r, std::move(t),
        [](const OptionList& props, const PciDeviceHost& host) -> Result<std::unique_ptr<PciDevice>> {
            auto nic = parse_nic_options("rtl8139", props, NetRegistry::global());
            if (!nic) return make_error(nic.error());
            return std::unique_ptr<PciDevice>(std::make_unique<Rtl8139>(*nic, host));
        },
        [](const OptionList& props) -> Status {
            auto nic = parse_nic_options("rtl8139", props, NetRegistry::global(), {}, false);
            if (!nic) return make_error(nic.error());
            return {};
        });
}

}  // namespace corvid
