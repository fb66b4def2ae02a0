// The PCI functions of the PC chipsets: i440FX host bridge + PIIX3 ISA bridge (pc) and the
// Q35 MCH host bridge + ICH9 LPC bridge (q35), with the registers firmware and Linux touch.
#pragma once

#include "hw/pci/pci.h"

namespace corvid {

inline constexpr uint64_t kQ35EcamBase = 0xb000'0000;
inline constexpr uint64_t kQ35EcamSize = 0x1000'0000;  // 256 buses

// 00:00.0 8086:1237 rev 02. PAM (0x59-0x5f) and SMRAM (0x72) are writable; Corvid maps RAM
// everywhere below 1 MiB, so they have no effect on memory.
std::unique_ptr<PciFunction> make_i440fx_host();
// 00:01.0 8086:7000, multi-function header. PIRQ routing (0x60-0x63), MBIRQ (0x70-0x71).
std::unique_ptr<PciFunction> make_piix3_isa();
// 00:00.0 8086:29c0. PCIEXBAR (0x60) reads as the ECAM window enabled at 0xb0000000 with
// 256 buses, the state firmware leaves it in; it is fixed (writes are ignored).
std::unique_ptr<PciFunction> make_q35_host();
// 00:1f.0 8086:2918 rev 02, multi-function header. PMBASE (0x40), ACPI_CNTL (0x44),
// PIRQ routing (0x60-0x63, 0x68-0x6b), GEN_PMCON, RCBA (0xf0).
std::unique_ptr<PciFunction> make_ich9_lpc();

}  // namespace corvid
