// The AArch64 guest frontend: decode to IR, exceptions, the IRQ input, reset and dumps.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "base/result.h"
#include "frontends/a64/a64_cpu.h"
#include "frontends/a64/a64_platform.h"
#include "translator/frontend.h"

namespace corvid {

struct A64CpuModel {
    const char* name;     // -cpu name
    uint64_t midr;
    const char* description;
    // Identification registers as qemu-system-aarch64 7.2 reports them for the model (except
    // where Corvid implements less: see translate_system_registers.cpp).
    uint64_t ctr_el0;
    uint64_t id_aa64mmfr0;
    uint64_t id_aa64dfr0;
    uint64_t clidr;
    uint64_t ccsidr;
};

// The CPU models of `-cpu` (cortex-a57, cortex-a53, max), and lookup by name.
std::span<const A64CpuModel> a64_cpu_models();
const A64CpuModel* find_a64_cpu_model(std::string_view name);

struct A64CpuOptions {
    const A64CpuModel* model = nullptr;  // null: cortex-a57
    uint64_t mpidr = 0x80000000;         // CPU 0 of a uniprocessor virt board
};

class A64Frontend final : public Frontend {
public:
    static constexpr uint64_t kCounterHz = 62'500'000;  // CNTFRQ_EL0, as QEMU's virt
    static constexpr uint64_t kNsPerTick = 16;            // 1e9 / kCounterHz

    // CNTPCT_EL0 = CNTVCT_EL0 (CNTVOFF is 0): the host's monotonic time in counter ticks. The
    // board's generic timer compares CNTx_CVAL_EL0 against the same count.
    static uint64_t counter_ticks() {
        using namespace std::chrono;
        return uint64_t(duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count()) / kNsPerTick;
    }

    explicit A64Frontend(A64Platform* platform = nullptr, A64CpuOptions options = {});
    ~A64Frontend() override;

    const char* name() const override { return "aarch64"; }
    bool fixed_width_insns() const override { return true; }
    void translate(TranslateContext& ctx) override;
    void deliver_exception(CpuCommon* cpu, uint32_t cause, uint64_t detail) override;
    std::optional<PageTranslation> translate_address(CpuCommon* cpu, uint64_t va, Access access, uint32_t* cause,
                                                     uint64_t* detail) override;
    void bus_fault(CpuCommon* cpu, uint64_t va, Access access, uint32_t* cause, uint64_t* detail) override;
    void alignment_fault(CpuCommon* cpu, uint64_t va, Access access, uint32_t* cause, uint64_t* detail) override;
    std::string disassemble(uint64_t pc, const uint8_t* bytes, size_t size, size_t* insn_len) const override;
    std::string dump_state(const CpuCommon* cpu) const override;

    // Architectural reset into EL1h at `entry`, MMU off, DAIF masked, SP 0 (as QEMU -kernel).
    void reset(A64State& cpu, uint64_t entry);

    // The CPU's IRQ input (level). Raising it sets exit_request of the CPU last reset so the run
    // loop returns; the accelerator then calls take_pending_interrupt.
    void set_irq_line(bool level);
    // The IRQ input: set_irq_line's level or the platform's interrupt controller output.
    bool irq_line() const {
        return irq_line_.load(std::memory_order_relaxed) || (platform_ && cpu_ && platform_->irq_asserted(*cpu_));
    }
    // Delivers an IRQ exception if the line is high and PSTATE.I is clear. Returns whether it did.
    bool take_pending_interrupt(A64State& cpu);

    A64Platform* platform() const { return platform_; }
    const A64CpuModel& model() const { return *options_.model; }

private:
    A64Platform* platform_;
    A64CpuOptions options_;
    std::atomic<bool> irq_line_{false};
    A64State* cpu_ = nullptr;  // last reset CPU (for set_irq_line)
    mutable size_t capstone_ = 0;  // csh, opened on first use
};

}  // namespace corvid
