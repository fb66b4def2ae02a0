// The x86 boards: pc, q35, microvm, isapc and none. Their legacy devices, PCI host bridges
// and the PVH loader arrive with the x86 issue; until then a board holds its RAM (and an empty
// I/O port space) so that accelerators and policy can be exercised on it.
#include <fmt/format.h>

#include "hw/boards/boards.h"
#include "hw/memory_map.h"

namespace corvid {
namespace {

// PC memory layout: RAM below the 32-bit PCI hole (up to 3.5 GiB), the rest above 4 GiB.
constexpr uint64_t kBelow4gLimit = 0xe000'0000;
constexpr uint64_t k4G = 1ull << 32;

class X86Machine : public Machine {
public:
    X86Machine(bool pci, bool legacy) : pci_(pci), legacy_(legacy) {}

    Arch arch() const override { return Arch::kX86_64; }
    std::string default_cpu() const override { return "qemu64"; }
    std::vector<std::string> cpu_models() const override { return {"qemu64", "max", "host"}; }
    bool has_pci() const override { return pci_; }

    Status init(const MachineOptions& options) override {
        options_ = options;
        uint64_t ram = options.ram_size ? options.ram_size : default_ram_size();
        uint64_t low = std::min(ram, kBelow4gLimit);
        if (auto st = memory_.add_ram("pc.ram", 0, (low + 0xfff) & ~0xfffull); !st) return st;
        if (ram > low) {
            if (auto st = memory_.add_ram("pc.ram-above-4g", k4G, (ram - low + 0xfff) & ~0xfffull); !st) return st;
        }
        if (!options.kernel.empty()) {
            return make_error(fmt::format("could not load kernel '{}': booting x86 kernels is not implemented yet",
                                          options.kernel));
        }
        (void)legacy_;
        return {};
    }
    void reset() override {}

    MemoryBus& memory() override { return memory_; }
    MemoryBus* io() override { return &io_; }
    std::string memory_tree() const override { return memory_.mtree() + io_.mtree(); }

private:
    bool pci_;
    bool legacy_;
    AddressSpace memory_{"memory"};
    AddressSpace io_{"io", 0x10000};
};

void add_machine(TypeRegistry& r, const char* type, const char* name, const char* desc, Security sec,
                 bool is_default, bool pci, bool legacy) {
    TypeInfo t;
    t.name = type;
    t.short_name = name;
    t.parent = kTypeMachine;
    t.description = desc;
    t.security = sec;
    t.is_default = is_default;
    t.factory = [pci, legacy](const TypeInfo&, const OptionList&) -> Result<std::unique_ptr<Object>> {
        return std::unique_ptr<Object>(std::make_unique<X86Machine>(pci, legacy));
    };
    (void)r.add(std::move(t));
}

}  // namespace

void register_x86_machines(TypeRegistry& r) {
    add_machine(r, "pc-machine", "pc", "Standard PC (i440FX + PIIX, 1996)", Security::kSecure, true, true, true);
    add_machine(r, "q35-machine", "q35", "Standard PC (Q35 + ICH9, 2009)", Security::kSecure, false, true, true);
    add_machine(r, "microvm-machine", "microvm", "microvm (i386)", Security::kSecure, false, false, false);
    add_machine(r, "isapc-machine", "isapc", "ISA-only PC", Security::kInsecure, false, false, true);
    add_machine(r, "none-machine", "none", "empty machine", Security::kInsecure, false, false, false);
}

}  // namespace corvid
