// The built-in x86 firmware used when there is no -kernel: a hand-assembled 32-bit blob that
// prints a banner on COM1 and halts with interrupts disabled. Entered like a PVH kernel.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "hw/memory_map.h"

namespace corvid {

// The 256 KiB BIOS ROM window just below 4 GiB, as QEMU maps pc.bios.
inline constexpr uint64_t kX86BiosRomBase = 0xfffc0000;
inline constexpr uint64_t kX86BiosRomSize = 0x40000;

inline constexpr std::string_view kX86FirmwareBanner = "Corvid firmware: no kernel given (use -kernel)\r\n";

// The blob for loading at `base` (its string address is absolute). Entry is `base`.
std::vector<uint8_t> x86_firmware_image(uint32_t base);

// Copies the blob to `base` (RAM or ROM) and returns the entry point.
Result<uint32_t> install_x86_firmware(AddressSpace& as, uint32_t base);

}  // namespace corvid
