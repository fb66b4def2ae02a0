// The AArch64 `virt` board (and `none`): RAM at 0x4000_0000, PL011 UART0 at 0x0900_0000,
// PSCI via hvc and semihosting, ELF -kernel boot at EL1h.
#include <fmt/format.h>

#include "base/run_control.h"
#include "hw/boards/arm_firmware.h"
#include "hw/boards/boards.h"
#include "hw/char/pl011.h"
#include "hw/loader/elf_loader.h"
#include "hw/memory_map.h"
#include "hw/net/net_backend.h"
#include "hw/virtio/virtio_mmio.h"

namespace corvid {
namespace {

// The board's memory map, as QEMU's virt lays it out (the parts Corvid models so far).
enum VirtRegion { kUart0, kRam };
struct MapEntry {
    uint64_t base, size;
};
constexpr MapEntry kVirtMap[] = {
    [kUart0] = {0x0900'0000, 0x1000},
    [kRam] = {0x4000'0000, 0},  // size from -m
};
// virtio-mmio transports: 32 slots of 0x200 from 0x0a00_0000, as QEMU's virt lays them out.
constexpr unsigned kVirtioSlots = 32;
constexpr uint64_t kVirtioSlotSize = 0x200;
constexpr uint64_t kMaxRam = 255ull << 30;

class ArmMachine : public Machine {
public:
    explicit ArmMachine(bool has_devices) : devices_(has_devices) {}

    Arch arch() const override { return Arch::kAArch64; }
    std::string default_cpu() const override { return "cortex-a57"; }
    std::vector<std::string> cpu_models() const override { return {"cortex-a57", "cortex-a53", "max"}; }

    Status init(const MachineOptions& options) override {
        options_ = options;
        uint64_t ram = options.ram_size ? options.ram_size : default_ram_size();
        if (ram > kMaxRam) return make_error(fmt::format("-m: ram size too large for the virt board (max {} GiB)", kMaxRam >> 30));
        ram_size_ = (ram + 0xfff) & ~0xfffull;
        if (devices_ || options.ram_size) {
            if (auto st = memory_.add_ram("mach-virt.ram", kVirtMap[kRam].base, ram_size_); !st) return st;
        }
        if (devices_) {
            uart_ = std::make_unique<Pl011>(options.serial0, [](bool) { /* GIC: a later issue */ });
            if (auto st = memory_.add_mmio("pl011", kVirtMap[kUart0].base, kVirtMap[kUart0].size, uart_.get(),
                                           kAccess1 | kAccess2 | kAccess4);
                !st) {
                return st;
            }
            onboard_.push_back("pl011");
        }
        RunControl& rc = options.run_control ? *options.run_control : RunControl::global();
        firmware_ = std::make_unique<ArmFirmware>(memory_, rc, options.semihosting, kVirtMap[kRam].base, ram_size_);
        return load_kernel();
    }

    void reset() override {
        if (uart_) uart_->reset();
        firmware_->reset();
        // The kernel image is reloaded, as QEMU re-copies its ROM blobs on reset.
        (void)load_kernel();
    }

    MemoryBus& memory() override { return memory_; }
    std::string memory_tree() const override { return memory_.mtree(); }
    A64Platform* a64_platform() override { return firmware_.get(); }
    bool cpu_powered_off() const override { return firmware_ && firmware_->cpu_powered_off(); }

    void poll_devices() override {
        if (options_.serial0) options_.serial0->poll_input();
    }

    // -device virtio-net-device / virtio-rng-device: the next free virtio-mmio slot. The GIC
    // is not modelled yet, so the transport's interrupt line is not connected; drivers poll.
    Status add_device(const TypeInfo& type, const OptionList& props) override {
        if (!devices_) return Machine::add_device(type, props);
        if (type.parent != "virtio-mmio-device") return Machine::add_device(type, props);
        // QEMU fills the slots from the top down; a guest finds devices by probing them all.
        if (virtio_.size() >= kVirtioSlots) return make_error("no free virtio-mmio slot on the virt board");
        unsigned slot = kVirtioSlots - 1 - unsigned(virtio_.size());
        auto dev = create_virtio_mmio_device(type, props, &memory_, nullptr, [](bool) {});
        if (!dev) return make_error(dev.error());
        uint64_t base = VirtioMmio::kSlotBase + slot * kVirtioSlotSize;
        if (auto st = memory_.add_mmio(type.name, base, kVirtioSlotSize, dev->get(), kAccess4); !st) return st;
        virtio_.push_back(std::move(*dev));
        return {};
    }

private:
    Status load_kernel() {
        if (options_.kernel.empty()) {
            entry_ = kVirtMap[kRam].base;  // nothing loaded: the CPU starts in zeroed RAM
            return {};
        }
        ElfLoadOptions lo;
        lo.machines = {kElfMachineAarch64};
        auto img = load_elf_file(memory_, options_.kernel, lo);
        if (!img) return make_error(img.error());
        entry_ = img->entry;
        return {};
    }

    bool devices_;
    uint64_t ram_size_ = 0;
    AddressSpace memory_{"system"};
    std::unique_ptr<Pl011> uart_;
    std::unique_ptr<ArmFirmware> firmware_;
    std::vector<std::unique_ptr<VirtioMmio>> virtio_;
};

}  // namespace

void register_aarch64_machines(TypeRegistry& r) {
    register_net_backend_types(r);
    register_virtio_mmio_types(r);
    TypeInfo virt;
    virt.name = "virt-machine";
    virt.short_name = "virt";
    virt.parent = kTypeMachine;
    virt.description = "Corvid ARM Virtual Machine";
    virt.security = Security::kSecure;
    virt.is_default = true;
    virt.factory = [](const TypeInfo&, const OptionList&) -> Result<std::unique_ptr<Object>> {
        return std::unique_ptr<Object>(std::make_unique<ArmMachine>(true));
    };
    (void)r.add(std::move(virt));

    TypeInfo none;
    none.name = "none-machine";
    none.short_name = "none";
    none.parent = kTypeMachine;
    none.description = "empty machine";
    none.security = Security::kInsecure;
    none.factory = [](const TypeInfo&, const OptionList&) -> Result<std::unique_ptr<Object>> {
        return std::unique_ptr<Object>(std::make_unique<ArmMachine>(false));
    };
    (void)r.add(std::move(none));

    TypeInfo pl011;
    pl011.name = "pl011";
    pl011.parent = kTypeDevice;
    pl011.description = "ARM PrimeCell PL011 UART";
    pl011.security = Security::kSecure;
    pl011.user_creatable = false;
    pl011.factory = [](const TypeInfo&, const OptionList&) -> Result<std::unique_ptr<Object>> {
        return make_error("pl011 is an onboard device of the virt board");
    };
    (void)r.add(std::move(pl011));
}

}  // namespace corvid
