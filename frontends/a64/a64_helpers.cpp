// Helpers called from A64 generated code: exception return, PSTATE writes that change the
// mode or may unmask an interrupt, the platform hooks (HVC, semihosting) and the counter.

#include "base/log.h"
#include "frontends/a64/a64_frontend.h"
#include "frontends/a64/a64_translator.h"
#include "translator/engine.h"

namespace corvid::a64 {

namespace {

// An interrupt that PSTATE.I no longer masks must be taken before the next instruction that
// the run loop would otherwise keep chaining through: ask it to come back.
void request_exit_if_irq_unmasked(A64State& s) {
    if (s.frontend && s.frontend->irq_line() && !(s.daif & kDaifI)) {
        s.common.exit_request.store(1, std::memory_order_release);
    }
}

[[noreturn]] void raise_undefined(CpuCommon* cpu, uint64_t pc, uint64_t insn) {
    cpu->pc = pc;
    cpu->engine->raise(cpu, kCauseUndefined, insn);
}

uint64_t eret(CpuCommon* cpu, uint64_t, uint64_t, uint64_t) {
    A64State& s = a64_state(cpu);
    const uint64_t spsr = s.spsr_el1;
    const uint32_t m = uint32_t(spsr & 0x1f);
    // Legal targets from EL1: EL0t (0b00000), EL1t (0b00100), EL1h (0b00101).
    const bool legal = m == 0x0 || m == 0x4 || m == 0x5;
    s.n = (spsr >> 31) & 1;
    s.z = (spsr >> 30) & 1;
    s.c = (spsr >> 29) & 1;
    s.v = (spsr >> 28) & 1;
    s.daif = uint32_t(spsr) & kDaifMask;
    s.excl_valid = 0;
    if (legal) {
        s.el = (m >> 2) & 3;
        s.spsel = m & 1;
        s.il = (spsr >> 20) & 1;
    } else {
        // Illegal exception return: stay at the current EL with PSTATE.IL set, so the next
        // instruction takes an Illegal Execution State exception.
        log::logf(log::kGuestErrors, "aarch64: illegal exception return to SPSR.M 0x{:x}", m);
        s.il = 1;
    }
    cpu->mode = a64_state_mode(s);
    request_exit_if_irq_unmasked(s);
    return s.elr_el1;
}

uint64_t hvc(CpuCommon* cpu, uint64_t imm, uint64_t pc, uint64_t insn) {
    A64State& s = a64_state(cpu);
    A64Platform* p = s.frontend ? s.frontend->platform() : nullptr;
    if (p && p->hvc(s, uint16_t(imm)) == A64Platform::HvcResult::kHandled) return 0;
    log::logf(log::kUnimp, "aarch64: hvc #0x{:x} at pc 0x{:x} not handled (no EL2): UNDEFINED", imm, pc);
    raise_undefined(cpu, pc, insn);
}

uint64_t semihosting(CpuCommon* cpu, uint64_t pc, uint64_t insn, uint64_t) {
    A64State& s = a64_state(cpu);
    A64Platform* p = s.frontend ? s.frontend->platform() : nullptr;
    if (p && p->semihosting(s)) return 0;
    raise_undefined(cpu, pc, insn);
}

uint64_t write_daif(CpuCommon* cpu, uint64_t value, uint64_t, uint64_t) {
    A64State& s = a64_state(cpu);
    s.daif = uint32_t(value) & kDaifMask;
    request_exit_if_irq_unmasked(s);
    return 0;
}

uint64_t write_spsel(CpuCommon* cpu, uint64_t value, uint64_t, uint64_t) {
    A64State& s = a64_state(cpu);
    s.spsel = uint32_t(value & 1);
    cpu->mode = a64_state_mode(s);
    return 0;
}

uint64_t write_sctlr(CpuCommon* cpu, uint64_t value, uint64_t pc, uint64_t) {
    A64State& s = a64_state(cpu);
    if ((value & 1) && !(s.sctlr_el1 & 1)) {
        log::logf(log::kUnimp, "aarch64: SCTLR_EL1.M set at pc 0x{:x}: the MMU is not implemented, "
                  "addresses stay identity-mapped", pc);
    }
    s.sctlr_el1 = value;
    cpu->mode = a64_state_mode(s);  // SCTLR_EL1.A changes how loads and stores translate
    return 0;
}

uint64_t write_cpacr(CpuCommon* cpu, uint64_t value, uint64_t, uint64_t) {
    A64State& s = a64_state(cpu);
    s.cpacr_el1 = value & ((3ull << 20) | (1ull << 28));  // FPEN and TTA (no SVE)
    cpu->mode = a64_state_mode(s);       // FP/SIMD trapping is a translate-time decision
    return 0;
}

uint64_t read_cntvct(CpuCommon*, uint64_t, uint64_t, uint64_t) { return A64Frontend::counter_ticks(); }

// CNTx_CTL / CNTx_CVAL of the physical (regs 0-2) or virtual (3-5) timer.
void timer_fields(A64State& s, uint64_t reg, uint64_t** ctl, uint64_t** cval) {
    const bool virt = reg >= kTimerVirtCtl;
    *ctl = virt ? &s.cntv_ctl_el0 : &s.cntp_ctl_el0;
    *cval = virt ? &s.cntv_cval_el0 : &s.cntp_cval_el0;
}

uint64_t read_timer(CpuCommon* cpu, uint64_t reg, uint64_t, uint64_t) {
    A64State& s = a64_state(cpu);
    uint64_t *ctl, *cval;
    timer_fields(s, reg, &ctl, &cval);
    const uint64_t now = A64Frontend::counter_ticks();
    switch (reg % 3) {
        case 0: {  // CTL: ISTATUS (bit 2) is live: ENABLE && CVAL <= count
            const bool met = (*ctl & 1) && now >= *cval;
            return (*ctl & 3) | (met ? 4 : 0);
        }
        case 1: return *cval;
        default: return uint32_t(*cval - now);  // TVAL: (CVAL - count)[31:0], bits 63:32 RES0
    }
}

uint64_t write_timer(CpuCommon* cpu, uint64_t reg, uint64_t value, uint64_t) {
    A64State& s = a64_state(cpu);
    uint64_t *ctl, *cval;
    timer_fields(s, reg, &ctl, &cval);
    switch (reg % 3) {
        case 0: *ctl = (*ctl & 4) | (value & 3); break;  // ISTATUS is read-only
        case 1: *cval = value; break;
        default: *cval = A64Frontend::counter_ticks() + uint64_t(int64_t(int32_t(uint32_t(value)))); break;
    }
    // The board evaluates the timer's interrupt line and deadline between runs.
    cpu->exit_request.store(1, std::memory_order_release);
    return 0;
}

}  // namespace

const ir::HelperInfo kHelperEret = {"a64_eret", &eret, 0, ir::kHelperReadsState | ir::kHelperWritesState};
const ir::HelperInfo kHelperHvc = {"a64_hvc", &hvc, 3,
                                   ir::kHelperReadsState | ir::kHelperWritesState | ir::kHelperMayRaise};
const ir::HelperInfo kHelperSemihosting = {"a64_semihosting", &semihosting, 2,
                                           ir::kHelperReadsState | ir::kHelperWritesState | ir::kHelperMayRaise};
const ir::HelperInfo kHelperWriteDaif = {"a64_write_daif", &write_daif, 1,
                                         ir::kHelperReadsState | ir::kHelperWritesState};
const ir::HelperInfo kHelperWriteSpsel = {"a64_write_spsel", &write_spsel, 1,
                                          ir::kHelperReadsState | ir::kHelperWritesState};
const ir::HelperInfo kHelperWriteSctlr = {"a64_write_sctlr", &write_sctlr, 2,
                                          ir::kHelperReadsState | ir::kHelperWritesState};
const ir::HelperInfo kHelperWriteCpacr = {"a64_write_cpacr", &write_cpacr, 1,
                                          ir::kHelperReadsState | ir::kHelperWritesState};
const ir::HelperInfo kHelperReadCntvct = {"a64_read_cntvct", &read_cntvct, 0, 0};
const ir::HelperInfo kHelperReadTimer = {"a64_read_timer", &read_timer, 1, ir::kHelperReadsState};
const ir::HelperInfo kHelperWriteTimer = {"a64_write_timer", &write_timer, 2,
                                          ir::kHelperReadsState | ir::kHelperWritesState};

}  // namespace corvid::a64
