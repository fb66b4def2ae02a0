// Realtek RTL8139C(+) in its original (non-C+) mode, 10ec:8139: TX via TSD/TSAD, RX into a
// ring buffer with CAPR/CBR, IMR/ISR interrupts. Registers in BAR0 (I/O) and BAR1 (memory).
#pragma once

#include <array>
#include <memory>

#include "hw/net/nic_port.h"
#include "hw/pci/pci_device.h"

namespace corvid {

class Rtl8139 : public PciDevice {
public:
    static constexpr uint64_t kRegSize = 0x100;
    enum : unsigned {
        kIdr0 = 0x00, kMar0 = 0x08, kTsd0 = 0x10, kTsad0 = 0x20, kRbstart = 0x30, kCr = 0x37, kCapr = 0x38,
        kCbr = 0x3a, kImr = 0x3c, kIsr = 0x3e, kTcr = 0x40, kRcr = 0x44, kMsr = 0x58, kBmcr = 0x62, kBmsr = 0x64,
    };
    enum : uint32_t {
        kCrRst = 0x10, kCrRe = 0x08, kCrTe = 0x04, kCrBufe = 0x01,
        kIsrRok = 0x01, kIsrTok = 0x04, kIsrTer = 0x08, kIsrRxovw = 0x10,
        kTsdOwn = 1u << 13, kTsdTok = 1u << 15, kTsdSizeMask = 0x1fff,
        kRcrAap = 0x01, kRcrApm = 0x02, kRcrAm = 0x04, kRcrAb = 0x08, kRcrWrap = 0x80,
    };
    static constexpr unsigned kMaxTxSize = 1792;
    static constexpr unsigned kWrapPad = 1536 + 16;  // the slack after the ring with WRAP=1

    Rtl8139(const NicConfig& nic, const PciDeviceHost& host);
    ~Rtl8139() override;

    void reset() override;
    uint64_t reg_read(uint64_t offset, unsigned size);
    void reg_write(uint64_t offset, uint64_t value, unsigned size);
    bool receive(const uint8_t* data, size_t len);
    NicPort& port() { return *port_; }

    uint32_t rx_buffer_len() const { return 8192u << ((rcr() >> 11) & 3); }
    uint16_t isr() const { return r16(kIsr); }

private:
    struct Ops : MmioOps {
        Rtl8139* self;
        explicit Ops(Rtl8139* s) : self(s) {}
        uint64_t read(uint64_t offset, unsigned size) override { return self->reg_read(offset, size); }
        void write(uint64_t offset, uint64_t value, unsigned size) override { self->reg_write(offset, value, size); }
    };

    uint16_t r16(unsigned o) const { return static_cast<uint16_t>(regs_[o] | regs_[o + 1] << 8); }
    uint32_t r32(unsigned o) const { return r16(o) | static_cast<uint32_t>(r16(o + 2)) << 16; }
    void w16(unsigned o, uint16_t v) { regs_[o] = static_cast<uint8_t>(v), regs_[o + 1] = static_cast<uint8_t>(v >> 8); }
    void w32(unsigned o, uint32_t v) { w16(o, static_cast<uint16_t>(v)), w16(o + 2, static_cast<uint16_t>(v >> 16)); }
    uint32_t rcr() const { return r32(kRcr); }

    void reset_registers();
    void write_byte(unsigned offset, uint8_t v);
    void transmit(unsigned slot);
    void raise(uint16_t bits);
    void update_irq();
    void update_bufe();
    bool accept(const uint8_t* data, size_t len) const;

    MacAddress mac_;
    std::array<uint8_t, kRegSize> regs_{};
    Ops io_ops_{this}, mem_ops_{this};
    std::unique_ptr<NicPort> port_;
};

}  // namespace corvid
