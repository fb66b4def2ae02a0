// The AArch64 guest CPU state that generated code, helpers, the board and the monitor share.
#pragma once

#include <cstddef>
#include <cstdint>

#include "translator/cpu.h"

namespace corvid {

class A64Frontend;

// CpuCommon::mode bits: everything that changes how an instruction translates. The current
// exception level decides which SP register "sp" names and which system registers are
// accessible, so both are compile-time facts of a block.
constexpr uint32_t kA64ModeElMask = 0x3;       // bits 1:0: current EL (0 or 1)
constexpr uint32_t kA64ModeSpSel = 1u << 2;    // SPSel: SP_ELx (1) or SP_EL0 (0) at EL1
constexpr uint32_t kA64ModeIllegal = 1u << 3;  // PSTATE.IL after an illegal exception return
constexpr uint32_t kA64ModeAlign = 1u << 4;    // SCTLR_EL1.A: every data access is alignment checked
constexpr uint32_t kA64ModeFpTrap = 1u << 5;   // CPACR_EL1.FPEN traps FP/SIMD at the current EL

constexpr uint32_t a64_mode(uint32_t el, bool spsel) {
    return (el & kA64ModeElMask) | ((el != 0 && spsel) ? kA64ModeSpSel : 0);
}
constexpr uint32_t a64_mode_el(uint32_t mode) { return mode & kA64ModeElMask; }
constexpr bool a64_mode_uses_sp_elx(uint32_t mode) { return (mode & kA64ModeSpSel) != 0; }

// PSTATE.DAIF bits as they appear in the DAIF register and in SPSR.
constexpr uint32_t kDaifD = 1u << 9;
constexpr uint32_t kDaifA = 1u << 8;
constexpr uint32_t kDaifI = 1u << 7;
constexpr uint32_t kDaifF = 1u << 6;
constexpr uint32_t kDaifMask = 0x3c0;

struct A64State {
    CpuCommon common;

    uint64_t x[31] = {};    // X0..X30 (W views are the low halves; writes zero the top)
    uint64_t sp_el0 = 0;
    uint64_t sp_el1 = 0;

    // NZCV as four 0/1 words: each flag is an independent guest-state slot, so the optimiser's
    // get/set forwarding and dead-store elimination drop flags that are overwritten unread.
    uint32_t n = 0, z = 0, c = 0, v = 0;

    // PSTATE beyond NZCV. `el` and `spsel` are mirrored in common.mode.
    uint32_t el = 1;
    uint32_t spsel = 1;
    uint32_t daif = kDaifMask;  // bits 9:6 as in the DAIF register

    uint32_t il = 0;            // PSTATE.IL (illegal execution state)

    // EL1 system registers (and the EL0 ones the guest may use).
    uint64_t elr_el1 = 0;
    uint64_t spsr_el1 = 0;
    uint64_t esr_el1 = 0;
    uint64_t far_el1 = 0;
    uint64_t vbar_el1 = 0;
    uint64_t sctlr_el1 = 0;
    uint64_t cpacr_el1 = 0;
    uint64_t tpidr_el0 = 0;
    uint64_t tpidr_el1 = 0;
    uint64_t tpidrro_el0 = 0;
    // Stored but not acted on yet (the MMU is off): accepted so that boot code can set them.
    uint64_t ttbr0_el1 = 0;
    uint64_t ttbr1_el1 = 0;
    uint64_t tcr_el1 = 0;
    uint64_t mair_el1 = 0;
    uint64_t amair_el1 = 0;
    uint64_t contextidr_el1 = 0;
    uint64_t par_el1 = 0;
    uint64_t afsr0_el1 = 0;
    uint64_t afsr1_el1 = 0;
    uint64_t mdscr_el1 = 0;
    uint64_t cntkctl_el1 = 0;
    uint64_t cntv_ctl_el0 = 0;
    uint64_t cntv_cval_el0 = 0;
    uint64_t cntp_ctl_el0 = 0;
    uint64_t cntp_cval_el0 = 0;

    // Identification registers (set from the CPU model at reset).
    uint64_t midr_el1 = 0;
    uint64_t mpidr_el1 = 0;

    // Local exclusive monitor (LDXR/STXR). `excl_valid` is cleared by CLREX, a successful or
    // failed store-exclusive, and exception return.
    uint64_t excl_addr = 0;
    uint64_t excl_value = 0;
    uint64_t excl_value2 = 0;  // second register of LDXP
    uint32_t excl_valid = 0;
    uint32_t excl_size = 0;    // log2 bytes of one element

    // Fault address recorded by bus_fault/alignment_fault for the data abort being raised.
    uint64_t fault_va = 0;

    // The frontend that runs this CPU (set by A64Frontend::reset): helpers reach the platform
    // hooks and the IRQ line through it.
    A64Frontend* frontend = nullptr;
};
static_assert(offsetof(A64State, common) == 0, "generated code addresses CpuCommon and A64State from one base");

constexpr uint32_t a64_xreg_offset(unsigned r) { return uint32_t(offsetof(A64State, x) + 8 * r); }

inline A64State& a64_state(CpuCommon* cpu) { return *reinterpret_cast<A64State*>(cpu); }
inline const A64State& a64_state(const CpuCommon* cpu) { return *reinterpret_cast<const A64State*>(cpu); }

// Whether CPACR_EL1.FPEN traps FP/SIMD instructions at the state's EL.
inline bool a64_fp_traps(const A64State& s) {
    const uint64_t fpen = (s.cpacr_el1 >> 20) & 3;
    return s.el == 0 ? fpen != 3 : (fpen == 0 || fpen == 2);
}

// The mode bits that the state's PSTATE and controls imply (keep common.mode equal to this).
inline uint32_t a64_state_mode(const A64State& s) {
    return a64_mode(s.el, s.spsel != 0) | (s.il ? kA64ModeIllegal : 0) | ((s.sctlr_el1 & 2) ? kA64ModeAlign : 0) |
           (a64_fp_traps(s) ? kA64ModeFpTrap : 0);
}

// Packs PSTATE into the SPSR_ELx layout (AArch64: NZCV 31:28, DAIF 9:6, M[3:0] = EL:SPSel).
uint64_t a64_pack_pstate(const A64State& s);
// Current SP register of the state's EL / SPSel.
uint64_t& a64_current_sp(A64State& s);

}  // namespace corvid
