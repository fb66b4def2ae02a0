// Intel 82540EM (e1000, 8086:100e) and the part of the 82574L (e1000e, 8086:10d3) that is the
// same hardware: MMIO registers, IOADDR/IODATA, EEPROM through EERD (and Microwire bit-banging
// on the 82540EM), legacy TX/RX descriptor rings, ICR/IMS/IMC interrupts, link always up.
#pragma once

#include <array>
#include <memory>
#include <vector>

#include "hw/net/e1000_eeprom.h"
#include "hw/net/nic_port.h"
#include "hw/pci/pci_device.h"

namespace corvid {

// What differs between the two chips as far as the shared model goes.
struct E1000Model {
    const char* type;  // the -device name
    uint16_t device_id;
    uint8_t revision;
    uint64_t io_size;
    // EERD: the 82540EM has START at bit 0, DONE at bit 4 and the word address at bit 8;
    // the 82574L has DONE at bit 1 and the address at bit 2 (14 bits).
    uint32_t eerd_done;
    unsigned eerd_addr_shift;
    uint32_t eerd_addr_mask;
    bool microwire;  // EECD drives a Microwire EEPROM (82540EM); the 82574's SPI NVM is not modelled
    bool pcie;       // a PCI Express endpoint (capability, flash BAR1, I/O in BAR2)
    uint16_t phy_id2;  // PHY identifier register 3
};
extern const E1000Model kE1000Model82540em;
extern const E1000Model kE1000Model82574l;

class E1000 : public PciDevice {
public:
    static constexpr uint64_t kMmioSize = 0x20000, kFlashSize = 0x20000;
    enum Reg : uint32_t {
        kCtrl = 0x0000, kStatus = 0x0008, kEecd = 0x0010, kEerd = 0x0014, kCtrlExt = 0x0018, kMdic = 0x0020,
        kIcr = 0x00c0, kIcs = 0x00c8, kIms = 0x00d0, kImc = 0x00d8, kRctl = 0x0100, kTctl = 0x0400,
        kRdbal = 0x2800, kRdbah = 0x2804, kRdlen = 0x2808, kRdh = 0x2810, kRdt = 0x2818,
        kTdbal = 0x3800, kTdbah = 0x3804, kTdlen = 0x3808, kTdh = 0x3810, kTdt = 0x3818,
        kGprc = 0x4074, kGptc = 0x4080, kTpr = 0x40d0, kTpt = 0x40d4,
        kMta = 0x5200, kRal0 = 0x5400, kRah0 = 0x5404, kRegEnd = 0x6000,
    };
    enum : uint32_t {
        kIcrTxdw = 0x01, kIcrTxqe = 0x02, kIcrLsc = 0x04, kIcrRxo = 0x40, kIcrRxt0 = 0x80,
        kCtrlRst = 1u << 26, kRctlEn = 1u << 1, kRctlUpe = 1u << 3, kRctlMpe = 1u << 4, kRctlBam = 1u << 15,
        kRctlBsex = 1u << 25, kRctlSecrc = 1u << 26, kTctlEn = 1u << 1, kEerdStart = 1u << 0, kEerdDone = 1u << 4,
        kEerdDone82574 = 1u << 1, kEecdAutoRd = 1u << 9,
        kTxdCmdEop = 0x01, kTxdCmdRs = 0x08, kTxdCmdDext = 0x20, kTxdStaDd = 0x01,
        kRxdStaDd = 0x01, kRxdStaEop = 0x02,
    };
    static constexpr unsigned kEepromWords = 64;

    E1000(const NicConfig& nic, const PciDeviceHost& host, const E1000Model& model = kE1000Model82540em);
    ~E1000() override;

    void reset() override;

    uint32_t mmio_read(uint32_t offset);
    void mmio_write(uint32_t offset, uint32_t value);
    // Offers one frame to the rx ring (NicPort's deliver).
    bool receive(const uint8_t* data, size_t len);
    NicPort& port() { return *port_; }

    uint32_t reg(uint32_t offset) const { return offset < kRegEnd ? regs_[offset / 4] : 0; }
    uint16_t eeprom(unsigned word) const { return word < kEepromWords ? eeprom_[word] : 0; }
    const E1000Model& model() const { return model_; }

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
    // The 82574's NVM flash window: blank (all ones), writes ignored.
    struct Flash : MmioOps {
        uint64_t read(uint64_t, unsigned) override { return ~0ull; }
        void write(uint64_t, uint64_t, unsigned) override {}
    };

    void add_pcie_capability();
    void build_eeprom();
    uint32_t eecd_reset_value() const;
    void reset_registers();
    void write_eerd(uint32_t value);
    void update_irq();
    void raise(uint32_t cause);
    void transmit();
    bool accept_frame(const uint8_t* data, size_t len) const;
    unsigned rx_buffer_size() const;
    uint16_t phy_read(unsigned reg) const;

    const E1000Model& model_;
    MacAddress mac_;
    std::array<uint16_t, kEepromWords> eeprom_{};
    MicrowireEeprom microwire_{{}};  // holds its own copy of the words, set once they are built
    std::vector<uint32_t> regs_;
    std::vector<uint8_t> tx_frame_;  // the packet being assembled from data descriptors
    bool tx_overflow_ = false;
    uint32_t ioaddr_ = 0;
    Mmio mmio_{this};
    Io io_{this};
    Flash flash_;
    std::unique_ptr<NicPort> port_;
};

}  // namespace corvid
