// Firmware services of the AArch64 boards: PSCI through `hvc #0` and Arm semihosting
// through `hlt #0xf000`, as QEMU provides them for -kernel boots; and the board's IRQ source.
#pragma once

#include <cstdint>
#include <functional>

#include "base/char_backend.h"
#include "base/run_control.h"
#include "frontends/a64/a64_platform.h"
#include "hw/memory_map.h"

namespace corvid {

class ArmFirmware : public A64Platform {
public:
    // PSCI function IDs (SMC32 / SMC64 calling convention) and results.
    enum : uint32_t {
        kPsciVersion = 0x84000000,
        kPsciCpuSuspend32 = 0x84000001,
        kPsciCpuSuspend64 = 0xc4000001,
        kPsciCpuOff = 0x84000002,
        kPsciCpuOn32 = 0x84000003,
        kPsciCpuOn64 = 0xc4000003,
        kPsciAffinityInfo32 = 0x84000004,
        kPsciAffinityInfo64 = 0xc4000004,
        kPsciMigrateInfoType = 0x84000006,
        kPsciSystemOff = 0x84000008,
        kPsciSystemReset = 0x84000009,
        kPsciFeatures = 0x8400000a,
    };
    static constexpr int64_t kPsciSuccess = 0;
    static constexpr int64_t kPsciNotSupported = -1;
    static constexpr int64_t kPsciInvalidParameters = -2;
    static constexpr int64_t kPsciAlreadyOn = -4;

    // Semihosting operations handled.
    enum : uint32_t {
        kSysWritec = 0x03,
        kSysWrite0 = 0x04,
        kSysWrite = 0x05,
        kSysReadc = 0x07,
        kSysClock = 0x10,
        kSysTime = 0x11,
        kSysErrno = 0x13,
        kSysHeapinfo = 0x16,
        kSysExit = 0x18,
        kSysExitExtended = 0x20,
    };
    static constexpr uint64_t kAdpStoppedApplicationExit = 0x20026;

    ArmFirmware(AddressSpace& memory, RunControl& rc, bool semihosting, uint64_t ram_base, uint64_t ram_size)
        : memory_(memory), rc_(rc), semihosting_(semihosting), ram_base_(ram_base), ram_size_(ram_size) {}

    HvcResult hvc(A64State& cpu, uint16_t imm) override;
    bool semihosting(A64State& cpu) override;
    bool irq_asserted(A64State& cpu) override { return irq_source_ && irq_source_(cpu); }

    // The board's interrupt controller output (evaluated with the CPU's state: the generic
    // timer's conditions live there). Unset: the IRQ input is only A64Frontend::set_irq_line.
    void set_irq_source(std::function<bool(A64State&)> source) { irq_source_ = std::move(source); }

    // CPU_OFF leaves the only CPU powered down: the accelerator idles.
    bool cpu_powered_off() const { return cpu_off_; }
    void reset() { cpu_off_ = false; }

private:
    void console_write(const uint8_t* data, size_t size);

    AddressSpace& memory_;
    RunControl& rc_;
    bool semihosting_;
    uint64_t ram_base_, ram_size_;
    bool cpu_off_ = false;
    uint64_t start_ns_ = 0;
    std::function<bool(A64State&)> irq_source_;
};

}  // namespace corvid
