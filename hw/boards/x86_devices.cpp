// x86 device type registration. Onboard devices are built by the boards themselves (their
// factories only explain that); isa-debug-exit's factory validates its properties, and the
// board maps it (Machine::add_device).
#include "hw/boards/x86_devices.h"

#include <charconv>

#include <fmt/format.h>

#include "hw/boards/boards.h"
#include "hw/misc/pc_misc.h"

namespace corvid {

namespace {

// QEMU integer property syntax: decimal, 0x hex or 0 octal.
Result<uint64_t> parse_uint_property(const std::string& key, const std::string& text, uint64_t max) {
    const char* p = text.c_str();
    const char* end = p + text.size();
    int base = 10;
    if (text.size() > 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        p += 2;
    } else if (text.size() > 1 && text[0] == '0') {
        base = 8;
        p += 1;
    }
    uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(p, end, v, base);
    if (text.empty() || ec != std::errc() || ptr != end || v > max) {
        return make_error(fmt::format("Parameter '{}' expects uint32_t", key));
    }
    return v;
}

class OnboardDevice : public Object {};

}  // namespace

Result<IsaDebugExitConfig> parse_isa_debug_exit(const OptionList& props) {
    IsaDebugExitConfig c{IsaDebugExit::kDefaultIobase, IsaDebugExit::kDefaultIosize};
    for (const auto& [key, value] : props.items) {
        if (key == "driver" || key == "id" || key.empty()) continue;
        if (key == "iobase" || key == "iosize") {
            auto v = parse_uint_property(key, value, 0xffffffffull);
            if (!v) return make_error(v.error());
            (key == "iobase" ? c.iobase : c.iosize) = static_cast<uint32_t>(*v);
            continue;
        }
        return make_error(fmt::format("Property '{}.{}' not found", kTypeIsaDebugExit, key));
    }
    if (c.iosize == 0 || c.iosize > 0x10000) {
        return make_error(fmt::format("isa-debug-exit: iosize must be between 1 and 0x10000, not 0x{:x}", c.iosize));
    }
    if (static_cast<uint64_t>(c.iobase) + c.iosize > 0x10000) {
        return make_error(fmt::format("isa-debug-exit: I/O range 0x{:x}-0x{:x} is outside the 64 KiB port space",
                                      c.iobase, static_cast<uint64_t>(c.iobase) + c.iosize - 1));
    }
    return c;
}

void register_x86_device_types(TypeRegistry& r) {
    if (!r.find(kTypeIsaDevice)) {
        TypeInfo isa;
        isa.name = kTypeIsaDevice;
        isa.parent = kTypeDevice;
        isa.description = "ISA device";
        isa.abstract = true;
        (void)r.add(std::move(isa));
    }
    if (!r.find(kTypePciDevice)) {
        TypeInfo pci;
        pci.name = kTypePciDevice;
        pci.parent = kTypeDevice;
        pci.description = "PCI device";
        pci.abstract = true;
        (void)r.add(std::move(pci));
    }
    register_onboard_type(r, kTypeIsaSerial, kTypeIsaDevice, "16550A UART (COM1)", "the x86 boards");
    register_onboard_type(r, kTypeI8259, kTypeIsaDevice, "i8259 interrupt controller pair", "the x86 boards");
    register_onboard_type(r, kTypePit, kTypeIsaDevice, "i8254 programmable interval timer", "the x86 boards");
    register_onboard_type(r, kTypeRtc, kTypeIsaDevice, "MC146818 RTC and CMOS RAM", "the x86 boards");
    register_onboard_type(r, kTypePort92, kTypeIsaDevice, "system control port A (fast reset, A20)", "the x86 boards");
    register_onboard_type(r, kTypeI8042, kTypeIsaDevice, "keyboard controller (reset line only)", "the x86 boards");
    register_onboard_type(r, kTypeI440fxHost, kTypeDevice, "i440FX PCI host (config ports 0xcf8/0xcfc)", "the x86 boards");
    register_onboard_type(r, kTypeI440fx, kTypePciDevice, "i440FX host bridge", "the x86 boards");
    register_onboard_type(r, kTypePiix3, kTypePciDevice, "PIIX3 PCI-to-ISA bridge", "the x86 boards");
    register_onboard_type(r, kTypeQ35Host, kTypeDevice, "Q35 PCIe host (config ports 0xcf8/0xcfc, ECAM)", "the x86 boards");
    register_onboard_type(r, kTypeMch, kTypePciDevice, "Q35 memory controller hub (host bridge)", "the x86 boards");
    register_onboard_type(r, kTypeIch9Lpc, kTypePciDevice, "ICH9 LPC bridge", "the x86 boards");

    TypeInfo dbg;
    dbg.name = kTypeIsaDebugExit;
    dbg.parent = kTypeIsaDevice;
    dbg.description = "test device: a write of v ends the run with exit status 2v+1";
    // A guest must not be able to end the process at will where a boundary matters.
    dbg.security = Security::kInsecure;
    dbg.user_creatable = true;
    dbg.factory = [](const TypeInfo&, const OptionList& props) -> Result<std::unique_ptr<Object>> {
        auto c = parse_isa_debug_exit(props);
        if (!c) return make_error(c.error());
        return std::unique_ptr<Object>(std::make_unique<OnboardDevice>());
    };
    (void)r.add(std::move(dbg));
}

}  // namespace corvid
