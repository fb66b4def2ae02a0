// The AArch64 `virt` board (and `none`): RAM at 0x4000_0000, GICv2 at 0x0800_0000, PL011
// UART0 at 0x0900_0000, virtio-mmio slots, the generic timer's PPIs, PSCI via hvc and
// semihosting, ELF -kernel boot at EL1h.
#include <array>
#include <functional>

#include <fmt/format.h>

#include "base/run_control.h"
#include "frontends/a64/a64_frontend.h"
#include "hw/boards/arm_firmware.h"
#include "hw/boards/boards.h"
#include "hw/char/pl011.h"
#include "hw/clock.h"
#include "hw/intc/gicv2.h"
#include "hw/loader/elf_loader.h"
#include "hw/memory_map.h"
#include "hw/net/net_backend.h"
#include "hw/timer/arm_generic_timer.h"
#include "hw/virtio/virtio_mmio.h"

namespace corvid {
namespace {

// The board's memory map, as QEMU's virt lays it out (the parts Corvid models so far).
enum VirtRegion { kGicDist, kGicCpu, kUart0, kRam };
struct MapEntry {
    uint64_t base, size;
};
constexpr MapEntry kVirtMap[] = {
    [kGicDist] = {0x0800'0000, 0x1'0000},
    [kGicCpu] = {0x0801'0000, 0x1'0000},
    [kUart0] = {0x0900'0000, 0x1000},
    [kRam] = {0x4000'0000, 0},  // size from -m
};
// Shared peripheral interrupts, as QEMU's virt a15irqmap: UART0 on SPI 1, the virtio-mmio
// transports from SPI 16 (slot n on SPI 16 + n).
constexpr unsigned kUartSpi = 1;
constexpr unsigned kVirtioFirstSpi = 16;
// virtio-mmio transports: 32 slots of 0x200 from 0x0a00_0000, as QEMU's virt lays them out.
constexpr unsigned kVirtioSlots = 32;
constexpr uint64_t kVirtioSlotSize = 0x200;
constexpr uint64_t kMaxRam = 255ull << 30;

// A GIC window whose accesses first bring the generic timer's PPIs up to date: the guest's
// CNTx_CTL_EL0 writes are plain stores that the board does not see, so a handler that disables
// its timer and then reads IAR or writes EOIR must not find the stale level (QEMU updates the
// timer's output line on the register write itself).
class TimerSyncedWindow : public MmioOps {
public:
    TimerSyncedWindow(MmioOps* inner, std::function<void()> sync) : inner_(inner), sync_(std::move(sync)) {}
    uint64_t read(uint64_t offset, unsigned size) override {
        sync_();
        return inner_->read(offset, size);
    }
    void write(uint64_t offset, uint64_t value, unsigned size) override {
        sync_();
        inner_->write(offset, value, size);
    }

private:
    MmioOps* inner_;
    std::function<void()> sync_;
};

// One virtio-mmio transport window. QEMU's virt builds all 32 transports; one without a device
// reads as a version 2 transport with DeviceID 0 (QEMU with force-legacy=false) and ignores
// writes, so that a guest can probe every slot.
class VirtioSlot : public MmioOps {
public:
    VirtioMmio* dev = nullptr;

    uint64_t read(uint64_t offset, unsigned size) override {
        if (dev) return dev->read(offset, size);
        switch (offset) {
            case VirtioMmio::kMagic: return 0x74726976;  // "virt"
            case VirtioMmio::kVersion: return 2;
            case VirtioMmio::kVendorId: return 0x554d4551;  // "QEMU"
            default: return 0;
        }
    }
    void write(uint64_t offset, uint64_t value, unsigned size) override {
        if (dev) dev->write(offset, value, size);
    }
};

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
        if (options.ram_host) {
            // -machine memory-backend=ID: its memory is the RAM (ram_size is its size).
            if (auto st = memory_.add_ram_backed("mach-virt.ram", kVirtMap[kRam].base, ram_size_, options.ram_host); !st)
                return st;
        } else if (devices_ || options.ram_size) {
            if (auto st = memory_.add_ram("mach-virt.ram", kVirtMap[kRam].base, ram_size_); !st) return st;
        }
        if (devices_) {
            gic_ = std::make_unique<GicV2>([this](bool level) {
                if (level) kick_cpu();
            });
            auto sync = [this] {
                if (cpu_) (void)irq_asserted(*cpu_);
            };
            gic_dist_io_ = std::make_unique<TimerSyncedWindow>(gic_->distributor(), sync);
            gic_cpu_io_ = std::make_unique<TimerSyncedWindow>(gic_->cpu_interface(), sync);
            if (auto st = memory_.add_mmio("gic_dist", kVirtMap[kGicDist].base, kVirtMap[kGicDist].size,
                                           gic_dist_io_.get(), kAccess1 | kAccess2 | kAccess4);
                !st) {
                return st;
            }
            if (auto st = memory_.add_mmio("gic_cpu", kVirtMap[kGicCpu].base, kVirtMap[kGicCpu].size,
                                           gic_cpu_io_.get(), kAccess4);
                !st) {
                return st;
            }
            onboard_.push_back("arm_gic");
            clock_.set_kick([this] { kick_cpu(); });
            timer_kick_ = clock_.add_timer([] { /* the kick made the vCPU re-evaluate its IRQ input */ });
            uart_ = std::make_unique<Pl011>(options.serial0, [this](bool level) { gic_->set_spi(kUartSpi, level); });
            for (unsigned i = 0; i < kVirtioSlots; i++) {
                if (auto st = memory_.add_mmio("virtio-mmio", VirtioMmio::kSlotBase + i * kVirtioSlotSize,
                                               kVirtioSlotSize, &slots_[i], kAccess1 | kAccess2 | kAccess4);
                    !st) {
                    return st;
                }
            }
            if (auto st = memory_.add_mmio("pl011", kVirtMap[kUart0].base, kVirtMap[kUart0].size, uart_.get(),
                                           kAccess1 | kAccess2 | kAccess4);
                !st) {
                return st;
            }
            onboard_.push_back("pl011");
        }
        RunControl& rc = options.run_control ? *options.run_control : RunControl::global();
        firmware_ = std::make_unique<ArmFirmware>(memory_, rc, options.semihosting, kVirtMap[kRam].base, ram_size_);
        if (gic_) firmware_->set_irq_source([this](A64State& cpu) { return irq_asserted(cpu); });
        return load_kernel();
    }

    void reset() override {
        if (uart_) uart_->reset();
        for (auto& v : virtio_) v->reset();
        if (gic_) gic_->reset();
        if (gic_) clock_.cancel(timer_kick_);
        firmware_->reset();
        // The kernel image is reloaded, as QEMU re-copies its ROM blobs on reset.
        (void)load_kernel();
    }

    MemoryBus& memory() override { return memory_; }
    std::string memory_tree() const override { return memory_.mtree(); }
    A64Platform* a64_platform() override { return firmware_.get(); }
    bool cpu_powered_off() const override { return firmware_ && firmware_->cpu_powered_off(); }

    void poll_devices() override {
        if (gic_) {
            clock_.run_expired();
            if (cpu_) (void)irq_asserted(*cpu_);
        }
        if (options_.serial0) options_.serial0->poll_input();
    }
    int64_t next_deadline_ns() const override { return clock_.next_deadline_ns(); }

    IrqInterceptTarget* irq_intercept_target(std::string_view path) override {
        if (!gic_) return nullptr;
        if (path == "gic" || path == "/machine/gic" || path == "arm_gic") return gic_.get();
        for (size_t i = 0; i < onboard_.size(); ++i) {
            if (onboard_[i] == "arm_gic" && qom_path_is_onboard(path, i)) return gic_.get();
        }
        return nullptr;
    }

    // -device virtio-net-device / virtio-rng-device: the next free virtio-mmio slot, its
    // interrupt on SPI 16 + slot.
    Status add_device(const TypeInfo& type, const OptionList& props) override {
        if (!devices_) return Machine::add_device(type, props);
        if (type.parent != "virtio-mmio-device") return Machine::add_device(type, props);
        // QEMU fills the slots from the top down; a guest finds devices by probing them all.
        if (virtio_.size() >= kVirtioSlots) return make_error("no free virtio-mmio slot on the virt board");
        unsigned slot = kVirtioSlots - 1 - unsigned(virtio_.size());
        auto dev = create_virtio_mmio_device(type, props, &memory_, &clock_, [this, slot](bool level) {
            gic_->set_spi(kVirtioFirstSpi + slot, level);
        });
        if (!dev) return make_error(dev.error());
        slots_[slot].dev = dev->get();
        virtio_.push_back(std::move(*dev));
        if (auto id = props.get("id"); id && !id->empty()) virtio_ids_.emplace_back(*id, slot);
        return {};
    }

    // virtio-mmio transports have no hotplug (QEMU names the transport's bus in the error: the
    // one the device would go on).
    Status check_hotplug(const TypeInfo& type) const override {
        if (type.parent != "virtio-mmio-device" || virtio_.size() >= kVirtioSlots) return {};
        return make_error(fmt::format("Bus 'virtio-mmio-bus.{}' does not support hotplugging",
                                      kVirtioSlots - 1 - unsigned(virtio_.size())));
    }

    // virtio-mmio transports have no hotplug (QEMU names the transport's bus in the error).
    Status del_device(const std::string& id) override {
        for (const auto& [name, slot] : virtio_ids_) {
            if (name == id) return make_error(fmt::format("Bus 'virtio-mmio-bus.{}' does not support hotplugging", slot));
        }
        return Machine::del_device(id);
    }

private:
    // The CPU's IRQ input: the generic timer's PPIs are brought up to date first (their
    // conditions depend on the CPU's CNTx registers and the counter), then the GIC decides.
    // The timer's next deadline arms a clock timer so that the kicker thread brings the vCPU
    // out of guest code (or out of an idle wfi) when it passes.
    bool irq_asserted(A64State& cpu) {
        cpu_ = &cpu;
        const GenericTimerLevels t = evaluate_generic_timer(cpu, A64Frontend::counter_ticks());
        gic_->set_ppi(kTimerPhysIntid, t.phys);
        gic_->set_ppi(kTimerVirtIntid, t.virt);
        if (t.next_ticks < 0) {
            if (timer_deadline_ != VirtualClock::kNoDeadline) clock_.cancel(timer_kick_);
            timer_deadline_ = VirtualClock::kNoDeadline;
        } else {
            // One tick late at most, never early: the count is the floor of ns / 16.
            const int64_t tick = int64_t(A64Frontend::kNsPerTick);
            const int64_t deadline = clock_.now_ns() + (t.next_ticks + 1) * tick;
            // Re-arm only when the deadline moved (this runs on every IRQ-line query) or the
            // clock timer already fired without the condition holding yet.
            if (!clock_.armed(timer_kick_) || deadline < timer_deadline_ - kRearmSlackNs ||
                deadline > timer_deadline_ + kRearmSlackNs) {
                clock_.arm(timer_kick_, deadline);
                timer_deadline_ = deadline;
            }
        }
        return gic_->irq_output();
    }

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
    static constexpr int64_t kRearmSlackNs = 1000;
    VirtualClock clock_;
    std::unique_ptr<GicV2> gic_;
    std::unique_ptr<TimerSyncedWindow> gic_dist_io_, gic_cpu_io_;
    VirtualClock::TimerId timer_kick_ = -1;
    int64_t timer_deadline_ = VirtualClock::kNoDeadline;
    A64State* cpu_ = nullptr;  // the CPU whose timer the board evaluates (seen on its IRQ queries)
    std::unique_ptr<Pl011> uart_;
    std::unique_ptr<ArmFirmware> firmware_;
    std::vector<std::unique_ptr<VirtioMmio>> virtio_;
    std::array<VirtioSlot, kVirtioSlots> slots_{};
    std::vector<std::pair<std::string, unsigned>> virtio_ids_;  // id -> slot
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

    register_onboard_type(r, "pl011", kTypeDevice, "ARM PrimeCell PL011 UART", "the virt board");
    // Guest register indices are validated against the modelled interrupt count; no DMA.
    register_onboard_type(r, "arm_gic", kTypeDevice, "ARM GICv2 interrupt controller", "the virt board");
}

}  // namespace corvid
