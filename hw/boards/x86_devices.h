// Device types of the x86 boards: the onboard legacy devices and chipset functions, and the
// user-creatable isa-debug-exit, with its property parsing shared by -device and the board.
#pragma once

#include <cstdint>

#include "base/options.h"
#include "base/result.h"
#include "object/type_registry.h"

namespace corvid {

// The abstract parents; a type derived from kTypePciDevice needs a board with PCI.
inline constexpr const char* kTypeIsaDevice = "isa-device";
inline constexpr const char* kTypePciDevice = "pci-device";

// Onboard type names (QEMU's).
inline constexpr const char* kTypeIsaSerial = "isa-serial";
inline constexpr const char* kTypeI8259 = "isa-i8259";
inline constexpr const char* kTypePit = "isa-pit";
inline constexpr const char* kTypeRtc = "mc146818rtc";
inline constexpr const char* kTypePort92 = "port92";
inline constexpr const char* kTypeI8042 = "i8042";
inline constexpr const char* kTypeI440fxHost = "i440FX-pcihost";
inline constexpr const char* kTypeI440fx = "i440FX";
inline constexpr const char* kTypePiix3 = "PIIX3";
inline constexpr const char* kTypeQ35Host = "q35-pcihost";
inline constexpr const char* kTypeMch = "mch";
inline constexpr const char* kTypeIch9Lpc = "ICH9-LPC";
inline constexpr const char* kTypeIsaDebugExit = "isa-debug-exit";

struct IsaDebugExitConfig {
    uint32_t iobase;
    uint32_t iosize;
};

// Validates isa-debug-exit's properties (iobase, iosize; driver/id are ignored).
Result<IsaDebugExitConfig> parse_isa_debug_exit(const OptionList& props);

void register_x86_device_types(TypeRegistry& registry);

}  // namespace corvid
