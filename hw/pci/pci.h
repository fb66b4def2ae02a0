// PCI configuration space: a function's config registers with writable/RW1C masks, a bus of
// 32x8 functions, the PC config mechanism #1 (0xcf8/0xcfc) and PCIe ECAM (MMCONFIG).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/result.h"
#include "hw/memory_map.h"

namespace corvid {

class RunControl;

// Standard config header offsets.
enum PciConfig : unsigned {
    kPciVendorId = 0x00, kPciDeviceId = 0x02, kPciCommand = 0x04, kPciStatus = 0x06, kPciRevision = 0x08,
    kPciClassProg = 0x09, kPciCacheLineSize = 0x0c, kPciLatencyTimer = 0x0d, kPciHeaderType = 0x0e,
    kPciBar0 = 0x10, kPciSubsystemVendorId = 0x2c, kPciSubsystemId = 0x2e, kPciInterruptLine = 0x3c,
    kPciInterruptPin = 0x3d,
};

struct PciId {
    uint16_t vendor;
    uint16_t device;
    uint8_t revision;
    uint32_t class_code;  // class << 16 | subclass << 8 | prog-if
    uint8_t header_type;  // bit 7: multi-function
};

// One PCI function. Subclasses set device-specific registers and masks in their constructor
// (and in reset()); the generic part handles the header and the write semantics.
class PciFunction {
public:
    PciFunction(std::string name, const PciId& id, unsigned config_size = 256);
    virtual ~PciFunction() = default;

    const std::string& name() const { return name_; }
    unsigned config_size() const { return static_cast<unsigned>(config_.size()); }

    // Resets the config space to its power-on values (everything set_reg established).
    virtual void reset();

    // `offset` + `size` lie within the config space and are naturally aligned (the host bridge
    // checks). Values are little-endian.
    virtual uint32_t config_read(unsigned offset, unsigned size) const;
    virtual void config_write(unsigned offset, uint32_t value, unsigned size);

    uint8_t byte(unsigned offset) const { return config_[offset]; }
    uint16_t word(unsigned offset) const { return static_cast<uint16_t>(config_[offset] | (config_[offset + 1] << 8)); }

protected:
    // Power-on value and masks of a register (le): `wmask` bits are writable, `w1c` bits
    // are cleared by writing 1. Subclasses call it from their constructor.
    void set_reg(unsigned offset, unsigned size, uint32_t value, uint32_t wmask = 0, uint32_t w1c = 0);
    // Called after a write changed bytes in [offset, offset+size).
    virtual void config_written(unsigned offset, unsigned size) { (void)offset, (void)size; }

    std::vector<uint8_t> config_, power_on_, wmask_, w1cmask_;

private:
    void init_header();

    std::string name_;
    PciId id_;
};

// Bus 0 of a host bridge (Corvid has no bridges yet: other buses are empty).
class PciBus {
public:
    // devfn = device << 3 | function.
    Status add(uint8_t devfn, std::unique_ptr<PciFunction> fn);
    // Takes the function out of its slot (hot-unplug); the slot then reads as empty. Null
    // when the slot is empty.
    std::unique_ptr<PciFunction> remove(uint8_t devfn);
    PciFunction* find(unsigned bus, unsigned devfn) const;
    void reset();

    // Config access by address (bus, devfn, register); absent functions read all ones and
    // ignore writes, as a master abort on a real bus does.
    uint32_t read(unsigned bus, unsigned devfn, unsigned offset, unsigned size) const;
    void write(unsigned bus, unsigned devfn, unsigned offset, uint32_t value, unsigned size);

private:
    std::unique_ptr<PciFunction> functions_[256];
};

// Configuration mechanism #1 at ports 0xcf8-0xcff: CONFIG_ADDRESS (32-bit accesses at 0xcf8),
// CONFIG_DATA (any size at 0xcfc-0xcff). Byte 0xcf9 is the PIIX/ICH reset control register.
class PciConfigIo : public MmioOps {
public:
    static constexpr uint64_t kIoBase = 0xcf8;
    static constexpr uint64_t kIoSize = 8;

    // `ext_regs`: PCIe (q35) style, address bits 27-24 select config registers 0x100-0xfff.
    PciConfigIo(PciBus& bus, RunControl* rc, bool ext_regs);
    void reset();
    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t offset, uint64_t value, unsigned size) override;

private:
    bool decode(uint64_t offset, unsigned size, unsigned* bus, unsigned* devfn, unsigned* reg) const;

    PciBus& bus_;
    RunControl* rc_;
    bool ext_regs_;
    uint32_t address_ = 0;
    uint8_t rcr_ = 0;  // reset control register (0xcf9)
};

// PCIe enhanced configuration access: bus << 20 | devfn << 12 | register.
class PciEcam : public MmioOps {
public:
    PciEcam(PciBus& bus, uint64_t size) : bus_(bus), size_(size) {}
    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t offset, uint64_t value, unsigned size) override;

private:
    PciBus& bus_;
    uint64_t size_;
};

}  // namespace corvid
