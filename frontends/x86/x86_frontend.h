// The x86 guest frontend: decode to IR, paging, exceptions and interrupts through the IDT,
// the interrupt input, PVH reset, disassembly and dumps.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>

#include "frontends/x86/x86_cpu.h"
#include "frontends/x86/x86_platform.h"
#include "translator/frontend.h"

namespace corvid {

class X86Frontend final : public Frontend {
public:
    explicit X86Frontend(X86Platform* platform = nullptr);
    ~X86Frontend() override;

    const char* name() const override { return "x86_64"; }
    void translate(TranslateContext& ctx) override;
    void deliver_exception(CpuCommon* cpu, uint32_t cause, uint64_t detail) override;
    std::optional<PageTranslation> translate_address(CpuCommon* cpu, uint64_t va, Access access, uint32_t* cause,
                                                     uint64_t* detail) override;
    void bus_fault(CpuCommon* cpu, uint64_t va, Access access, uint32_t* cause, uint64_t* detail) override;
    void alignment_fault(CpuCommon* cpu, uint64_t va, Access access, uint32_t* cause, uint64_t* detail) override;
    std::string disassemble(uint64_t pc, const uint8_t* bytes, size_t size, size_t* insn_len) const override;
    std::string dump_state(const CpuCommon* cpu) const override;

    // Power-on state (real mode at F000:FFF0, as the architecture defines it).
    void reset(X86State& cpu);
    // The PVH entry state: 32-bit protected mode, flat 4 GiB code (selector 0x10) and data
    // (0x18) segments, paging off, CR0 = PE|ET, EFLAGS = 0x2, EBX = start_info, GDTR/IDTR 0.
    void reset_pvh(X86State& cpu, uint32_t entry, uint32_t ebx);

    // The INTR input (level, from the board's PIC / APIC). Raising it sets exit_request of the
    // CPU last reset so the run loop returns; the accelerator then asks the PIC for the vector
    // and calls take_pending_interrupt when interrupts_enabled() says so.
    void set_irq_line(bool level);
    bool irq_line() const {
        return irq_line_.load(std::memory_order_relaxed) || (platform_ && platform_->intr_pending());
    }
    // IF set and no interrupt shadow (after sti / mov ss).
    static bool interrupts_enabled(const X86State& cpu);
    // Delivers external interrupt `vector` through the IDT if interrupts_enabled(). Returns
    // whether it did (the caller acknowledges the PIC only then).
    bool take_pending_interrupt(X86State& cpu, int vector);

    X86Platform* platform() const { return platform_; }
    X86State* cpu() const { return cpu_; }

private:
    X86Platform* platform_;
    std::atomic<bool> irq_line_{false};
    X86State* cpu_ = nullptr;  // last reset CPU (for set_irq_line and instruction fetch faults)
    mutable size_t capstone_[3] = {0, 0, 0};  // csh per mode (16/32/64), opened on first use
};

// Guest virtual memory access from C++ (exception delivery, descriptor tables, iret): walks
// the page tables like an access of privilege `cpl` would. On a fault returns false with
// *vector / *error set (#PF sets fault_va, #GP for non-canonical addresses).
struct X86Fault {
    uint32_t vector = 0;
    uint32_t error = 0;
};
bool x86_read_virt(X86State& s, uint64_t va, void* out, unsigned size, unsigned cpl, X86Fault* fault);
bool x86_write_virt(X86State& s, uint64_t va, const void* in, unsigned size, unsigned cpl, X86Fault* fault);

}  // namespace corvid
