// PC chipset PCI functions: IDs, class codes and power-on register values as QEMU's models
// report them (checked against qemu-system-x86_64 through its qtest port).
#include "hw/pci/pc_chipset.h"

namespace corvid {

namespace {

constexpr uint16_t kVendorIntel = 0x8086;
constexpr uint32_t kClassHostBridge = 0x060000;
constexpr uint32_t kClassIsaBridge = 0x060100;

class I440fxHost : public PciFunction {
public:
    I440fxHost() : PciFunction("i440FX", {kVendorIntel, 0x1237, 0x02, kClassHostBridge, 0x00}) { init(); }

private:
    void init() {
        set_reg(0x59, 1, 0x00, 0x30);  // PAM0: only the F-segment nibble exists
        for (unsigned o = 0x5a; o <= 0x5f; o++) set_reg(o, 1, 0x00, 0x33);
        set_reg(0x72, 1, 0x02, 0x78);  // SMRAM: C_BASE_SEG reads 010, D_OPEN/D_CLS/D_LCK/G_SMRAME
    }
};

class Piix3Isa : public PciFunction {
public:
    Piix3Isa() : PciFunction("PIIX3", {kVendorIntel, 0x7000, 0x00, kClassIsaBridge, 0x80}) { init(); }

private:
    void init() {
        set_reg(kPciStatus, 2, 0x0200, 0, 0xf900);  // DEVSEL timing: medium
        set_reg(0x4c, 1, 0x4d, 0xff);               // ISA I/O recovery timer
        set_reg(0x4e, 1, 0x03, 0xff);               // X-bus chip select
        for (unsigned o = 0x60; o <= 0x63; o++) set_reg(o, 1, 0x80, 0x8f);  // PIRQA-D: disabled
        set_reg(0x69, 1, 0x02, 0xff);               // top of memory
        set_reg(0x70, 1, 0x80, 0xef);               // MBIRQ0: disabled
        set_reg(0x71, 1, 0x80, 0xef);
        set_reg(0x76, 1, 0x0c, 0x8f);               // MBDMA
        set_reg(0x77, 1, 0x0c, 0x8f);
        set_reg(0xa0, 1, 0x08, 0xff);               // SMI control
    }
};

class Q35Host : public PciFunction {
public:
    Q35Host() : PciFunction("MCH", {kVendorIntel, 0x29c0, 0x00, kClassHostBridge, 0x00}) { init(); }

private:
    void init() {
        // PCIEXBAR: base, length 256 MiB (bits 2:1 = 00), enable.
        set_reg(0x60, 4, static_cast<uint32_t>(kQ35EcamBase) | 1);
        set_reg(0x64, 4, 0);
        for (unsigned o = 0x90; o <= 0x96; o++) set_reg(o, 1, 0x00, 0x33);  // PAM0-6
        set_reg(0x9d, 1, 0x02, 0x78);                                          // SMRAM
    }
};

class Ich9Lpc : public PciFunction {
public:
    Ich9Lpc() : PciFunction("ICH9-LPC", {kVendorIntel, 0x2918, 0x02, kClassIsaBridge, 0x80}) { init(); }

private:
    void init() {
        set_reg(0x40, 4, 0x00000001, 0x0000ff80);  // PMBASE: I/O space indicator, 128 bytes
        set_reg(0x44, 1, 0x00, 0x87);              // ACPI_CNTL
        for (unsigned o = 0x60; o <= 0x63; o++) set_reg(o, 1, 0x80, 0x8f);
        for (unsigned o = 0x68; o <= 0x6b; o++) set_reg(o, 1, 0x80, 0x8f);
        set_reg(0xa0, 2, 0x0000, 0xffff);          // GEN_PMCON_1
        set_reg(0xf0, 4, 0x00000000, 0xffffc001);  // RCBA
    }
};

}  // namespace

std::unique_ptr<PciFunction> make_i440fx_host() { return std::make_unique<I440fxHost>(); }
std::unique_ptr<PciFunction> make_piix3_isa() { return std::make_unique<Piix3Isa>(); }
std::unique_ptr<PciFunction> make_q35_host() { return std::make_unique<Q35Host>(); }
std::unique_ptr<PciFunction> make_ich9_lpc() { return std::make_unique<Ich9Lpc>(); }

}  // namespace corvid
