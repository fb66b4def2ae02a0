// Intel 82540EM (e1000, 8086:100e): MMIO registers in BAR0, IOADDR/IODATA in BAR1, EEPROM
// through EERD, legacy TX/RX descriptor rings, ICR/IMS/IMC interrupts, link always up.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "hw/net/nic_port.h"
#include "hw/pci/pci_device.h"

namespace corvid {

class E1000 : public PciDevice {
public:
    static constexpr uint64_t kMmioSize = 0x20000, kIoSize = 0x40;
    enum Reg : uint32_t {
        kCtrl = 0x0000, kStatus = 0x0008, kEecd = 0x0010, kEerd = 0x0014, kCtrlExt = 0x0018, kMdic = 0x0020,
        kIcr = 0x00c0, kIcs = 0x00c8, kIms = 0x00d0, kImc = 0x00d8, kRctl = 0x0100, kTctl = 0x0400,
        kRdbal = 0x2800, kRdbah = 0x2804, kRdlen = 0x2808, kRdh = 0x2810, kRdt = 0x2818,
        kTdbal = 0x3800, kTdbah = 0x3804, kTdlen = 0x3808, kTdh = 0x3810, kTdt = 0x3818,
        kGprc = 0x4074, kGptc = 0x4080, kTpr = 0x40d0, kTpt = 0x40d4,
        kMta = 0x5200, kRal0 = 0x5400, kRah0 = 0x5404, kRegEnd = 0x5800,
    };
    enum : uint32_t {
        kIcrTxdw = 0x01, kIcrTxqe = 0x02, kIcrLsc = 0x04, kIcrRxo = 0x40, kIcrRxt0 = 0x80,
        kCtrlRst = 1u << 26, kRctlEn = 1u << 1, kRctlUpe = 1u << 3, kRctlMpe = 1u << 4, kRctlBam = 1u << 15,
        kRctlBsex = 1u << 25, kRctlSecrc = 1u << 26, kTctlEn = 1u << 1, kEerdStart = 1u << 0, kEerdDone = 1u << 4,
        kTxdCmdEop = 0x01, kTxdCmdRs = 0x08, kTxdCmdDext = 0x20, kTxdStaDd = 0x01,
        kRxdStaDd = 0x01, kRxdStaEop = 0x02,
    };
    static constexpr unsigned kEepromWords = 64;

    E1000(const NicConfig& nic, const PciDeviceHost& host);
    ~E1000() override;

    void reset() override;

    uint32_t mmio_read(uint32_t offset);
    void mmio_write(uint32_t offset, uint32_t value);
    // Offers one frame to the rx ring (NicPort's deliver).
    bool receive(const uint8_t* data, size_t len);
    NicPort& port() { return *port_; }

    uint32_t reg(uint32_t offset) const { return offset < kRegEnd ? regs_[offset / 4] : 0; }
    uint16_t eeprom(unsigned word) const { return word < kEepromWords ? eeprom_[word] : 0; }

private:
    struct Mmio : MmioOps {
        E1000* self;
        explicit Mmio(E1000* s) : self(s) {}
        uint64_t read(uint64_t offset, unsigned size) override;
        void write(uint64_t offset, uint64_t value, unsigned size) override;
    };
    struct Io : MmioOps {
        E1000* self;
        explicit Io(E1000* s) : self(s) {}
        uint64_t read(uint64_t offset, unsigned size) override;
        void write(uint64_t offset, uint64_t value, unsigned size) override;
    };

    void reset_registers();
    void update_irq();
    void raise(uint32_t cause);
    void transmit();
    bool accept_frame(const uint8_t* data, size_t len) const;
    unsigned rx_buffer_size() const;
    uint16_t phy_read(unsigned reg) const;

    MacAddress mac_;
    std::array<uint16_t, kEepromWords> eeprom_{};
    std::vector<uint32_t> regs_;
    std::vector<uint8_t> tx_frame_;  // the packet being assembled from data descriptors
    bool tx_overflow_ = false;
    uint32_t ioaddr_ = 0;
    Mmio mmio_{this};
    Io io_{this};
    std::unique_ptr<NicPort> port_;
};

}  // namespace corvid
