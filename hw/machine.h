// A board: its memory map, onboard devices and kernel loading. Accelerators run its vCPU.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "base/char_backend.h"
#include "base/memory_bus.h"
#include "base/result.h"
#include "object/type_registry.h"

namespace corvid {

class AddressSpace;
class RunControl;
class A64Platform;

enum class Arch : uint8_t { kAArch64, kX86_64 };
const char* arch_name(Arch arch);  // "aarch64" / "x86_64"

struct MachineOptions {
    uint64_t ram_size = 0;  // 0: the board's default
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
    // take pending input and update interrupt lines.
    virtual void poll_devices() {}

    // Types of the devices the board builds by itself (for the security report and the
    // secure-machine test).
    const std::vector<std::string>& onboard_types() const { return onboard_; }

protected:
    MachineOptions options_;
    uint64_t entry_ = 0;
    std::vector<std::string> onboard_;
};

}  // namespace corvid
