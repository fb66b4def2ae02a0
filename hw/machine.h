// A board: its memory map, onboard devices and kernel loading. Accelerators run its vCPU.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>

#include "base/char_backend.h"
#include "base/memory_bus.h"
#include "base/result.h"
#include "hw/irq.h"
#include "object/type_registry.h"

namespace corvid {

class AddressSpace;
class RunControl;
class A64Platform;
class VirtualClock;

enum class Arch : uint8_t { kAArch64, kX86_64 };

// x86 boards: the interrupt controller's output to the CPU (INTR), as the CPU sees it.
class X86InterruptSource {
public:
    virtual ~X86InterruptSource() = default;
    virtual bool intr_pending() const = 0;  // INTR asserted
    virtual int acknowledge() = 0;          // INTA cycle: the vector, or -1 if nothing (spurious)
};

// How an x86 CPU starts: PVH entry in 32-bit protected mode (flat segments, paging off),
// EBX = guest-physical address of hvm_start_info. The built-in firmware uses the same entry.
struct X86BootState {
    uint32_t entry = 0;
    uint32_t ebx = 0;
};
const char* arch_name(Arch arch);  // "aarch64" / "x86_64"

struct MachineOptions {
    uint64_t ram_size = 0;  // 0: the board's default
    // -machine memory-backend=ID: the backend's memory (ram_size bytes, page aligned) becomes
    // the board's RAM. Not owned; it outlives the machine. Null: the board allocates RAM.
    uint8_t* ram_host = nullptr;
    std::string cpu_model;  // empty: the board's default
    std::string kernel, append, initrd;
    CharBackend* serial0 = nullptr;  // never null once the command line is processed
    bool semihosting = false;
    bool no_reboot = false;
    RunControl* run_control = nullptr;  // null: RunControl::global()
};

class Machine : public Object {
public:
    ~Machine() override = default;

    virtual Arch arch() const = 0;
    virtual uint64_t default_ram_size() const { return 128ull << 20; }
    virtual std::string default_cpu() const = 0;
    virtual std::vector<std::string> cpu_models() const = 0;
    virtual bool has_pci() const { return false; }

    // Builds the memory map and the onboard devices and loads the kernel.
    virtual Status init(const MachineOptions& options) = 0;
    // Resets devices and reloads the kernel image (system reset).
    virtual void reset() = 0;

    // Guest-physical memory; the I/O port space on x86 (null elsewhere).
    virtual MemoryBus& memory() = 0;
    virtual MemoryBus* io() { return nullptr; }
    virtual std::string memory_tree() const { return {}; }

    // Where the CPU starts after reset (from the kernel, or the board's firmware).
    uint64_t entry_point() const { return entry_; }
    bool has_kernel() const { return !options_.kernel.empty(); }
    const MachineOptions& options() const { return options_; }

    // AArch64 boards: the PSCI / semihosting hooks for the A64 frontend.
    virtual A64Platform* a64_platform() { return nullptr; }
    // PSCI CPU_OFF (or the like) powered the only CPU down: the accelerator just idles.
    virtual bool cpu_powered_off() const { return false; }

    // Called by the accelerator's loop between guest runs, in the vCPU thread: lets devices
    // take pending input, fire expired timers and update interrupt lines.
    virtual void poll_devices() {}
    // Nanoseconds until the next device timer deadline (negative: none); the accelerator
    // sleeps at most that long when the CPU idles.
    virtual int64_t next_deadline_ns() const { return -1; }

    // x86 boards.
    virtual X86InterruptSource* x86_interrupts() { return nullptr; }
    virtual X86BootState x86_boot_state() const { return {}; }

    // The board's virtual clock (x86 boards; null elsewhere): qtest switches it to manual
    // mode and steps it.
    virtual VirtualClock* virtual_clock() { return nullptr; }

    // qtest irq_intercept_in/out: the device at `path` (a QOM path from `info qom-tree`, or a
    // name QEMU's tests use such as "ioapic") whose input lines a test can watch; null: none.
    virtual IrqInterceptTarget* irq_intercept_target(std::string_view path) {
        (void)path;
        return nullptr;
    }
    // irq_intercept_out: the device's output lines (e.g. the x86 PIC's INTR), still delivered.
    virtual IrqInterceptTarget* irq_intercept_out_target(std::string_view path) {
        (void)path;
        return nullptr;
    }

    // -device / device_add of a user-creatable type (policy already checked). `props` are the
    // option list as given (including driver= and id=).
    virtual Status add_device(const TypeInfo& type, const OptionList& props) {
        (void)props;
        return make_error(fmt::format("'{}' is not supported on this machine", type.short_name.empty() ? type.name : type.short_name));
    }

    // device_add while the machine runs: whether the bus the device would go on takes hot-plugged
    // devices. Errors are QEMU's ("Bus 'pcie.0' does not support hotplugging").
    virtual Status check_hotplug(const TypeInfo& type) const {
        (void)type;
        return {};
    }

    // device_del of a device added with id= (Vm has checked the id exists). Runs in the vCPU
    // thread between guest runs (a monitor job), so the device is in none of its handlers.
    // Errors are QEMU's ("Bus 'isa.0' does not support hotplugging").
    virtual Status del_device(const std::string& id) {
        return make_error(fmt::format("Device '{}' does not support hot-unplugging", id));
    }

    // Devices call this when an interrupt line to the CPU changes or a timer needs service:
    // the accelerator installs a function that makes the vCPU leave guest code soon.
    // Must be async-signal-safe and thread-safe (it only stores atomics).
    // kick_cpu may run in another thread (the x86 boards' timer kicker) while the accelerator
    // installs or clears the function, so the current one is published through an atomic
    // pointer and replaced ones are kept alive until the machine goes away.
    void set_cpu_kick(std::function<void()> kick) {
        std::function<void()>* f = nullptr;
        if (kick) {
            kick_fns_.push_back(std::make_unique<std::function<void()>>(std::move(kick)));
            f = kick_fns_.back().get();
        }
        cpu_kick_.store(f, std::memory_order_release);
    }
    void kick_cpu() const {
        if (std::function<void()>* f = cpu_kick_.load(std::memory_order_acquire)) (*f)();
    }

    // Types of the devices the board builds by itself (for the security report and the
    // secure-machine test).
    const std::vector<std::string>& onboard_types() const { return onboard_; }

protected:
    MachineOptions options_;
    uint64_t entry_ = 0;
    std::vector<std::string> onboard_;
    std::atomic<std::function<void()>*> cpu_kick_{nullptr};
    std::vector<std::unique_ptr<std::function<void()>>> kick_fns_;  // owned by the vCPU/main thread
};

}  // namespace corvid
