// A KVM virtual machine with one x86 vCPU: /dev/kvm set-up, memory slots, the PVH entry
// state, and the run loop that dispatches I/O and MMIO exits to the board's device models.
#pragma once

#include <linux/kvm.h>

#include <atomic>
#include <cstdint>
#include <string>

#include "base/result.h"
#include "base/run_control.h"
#include "hw/machine.h"

namespace corvid {

class AddressSpace;

class KvmVm {
public:
    explicit KvmVm(std::string device) : device_(std::move(device)) {}
    ~KvmVm();
    KvmVm(const KvmVm&) = delete;
    KvmVm& operator=(const KvmVm&) = delete;

    // Opens the device, checks the API version and the capabilities relied on, creates the VM.
    // Errors follow QEMU's wording (the caller prefixes the option).
    Status open_vm();

    // Registers the board's RAM/ROM as memory slots and creates the vCPU in its reset state.
    Status setup(Machine& machine);

    // Architectural reset: the board's boot state (PVH entry) again.
    Status reset_vcpu();

    // Runs the vCPU in the calling thread until shutdown or termination; returns the status.
    int run_loop(RunControl& rc);

    // Async-signal-safe: makes KVM_RUN return soon (immediate_exit + a signal to the vCPU thread).
    void kick();

    std::string dump_registers() const;

private:
    enum class ExitAction { kContinue, kStop };
    ExitAction handle_exit(RunControl& rc);
    void inject_interrupts();
    Status set_cpuid();
    void wait_for_interrupt(RunControl& rc, bool interrupts_enabled);

    std::string device_;
    Machine* machine_ = nullptr;
    AddressSpace* memory_ = nullptr;
    MemoryBus* io_ = nullptr;
    int kvm_fd_ = -1;
    int vm_fd_ = -1;
    int vcpu_fd_ = -1;
    kvm_run* run_ = nullptr;
    size_t run_size_ = 0;
    std::atomic<unsigned long> vcpu_thread_{0};
    std::atomic<bool> kicked_{false};
    bool halted_ = false;
};

}  // namespace corvid
