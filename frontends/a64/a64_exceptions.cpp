// A64 exception entry (synchronous exceptions and IRQs to EL1 through VBAR_EL1), the
// syndrome of each cause, and the softmmu hooks (identity mapping, fault causes).
#include <fmt/format.h>

#include "base/log.h"
#include "frontends/a64/a64_frontend.h"
#include "frontends/a64/a64_translator.h"

namespace corvid {

using namespace a64;

uint64_t a64_pack_pstate(const A64State& s) {
    uint64_t p = (uint64_t(s.n) << 31) | (uint64_t(s.z) << 30) | (uint64_t(s.c) << 29) | (uint64_t(s.v) << 28);
    p |= s.daif & kDaifMask;
    if (s.il) p |= 1u << 20;
    p |= uint64_t(s.el) << 2;
    if (s.el != 0 && s.spsel) p |= 1;
    return p;
}

uint64_t& a64_current_sp(A64State& s) { return (s.el != 0 && s.spsel) ? s.sp_el1 : s.sp_el0; }

namespace {

constexpr uint32_t kEsrIl = 1u << 25;

const char* cause_name(uint32_t cause) {
    switch (cause) {
        case kCauseUndefined: return "Undefined Instruction";
        case kCauseSvc: return "SVC";
        case kCauseHvc: return "HVC";
        case kCauseBrk: return "Breakpoint";
        case kCauseDataAbort: return "Data Abort";
        case kCauseInsnAbort: return "Prefetch Abort";
        case kCausePcAlign: return "PC Alignment";
        case kCauseIllegalState: return "Illegal Execution State";
        case kCauseIrq: return "IRQ";
        case kCauseFpAccess: return "FP/SIMD access trap";
        default: return "unknown";
    }
}

}  // namespace

void A64Frontend::deliver_exception(CpuCommon* cpu, uint32_t cause, uint64_t detail) {
    A64State& s = a64_state(cpu);
    const uint32_t from_el = s.el;
    uint64_t elr = cpu->pc;
    uint32_t ec = kEcUnknown;
    uint32_t iss = 0;
    bool has_far = false;
    uint64_t far = 0;
    uint64_t vector_kind = 0;  // 0 synchronous, 0x80 IRQ

    switch (cause) {
        case kCauseUndefined: break;
        case kCauseSvc:
            ec = kEcSvc;
            iss = uint32_t(detail & 0xffff);
            elr = cpu->pc + 4;  // preferred return: the instruction after SVC
            break;
        case kCauseHvc:
            ec = kEcHvc;
            iss = uint32_t(detail & 0xffff);
            elr = cpu->pc + 4;
            break;
        case kCauseBrk:
            ec = kEcBrk;
            iss = uint32_t(detail & 0xffff);
            break;
        case kCauseDataAbort:
            ec = from_el == 0 ? kEcDataAbortLower : kEcDataAbortSame;
            iss = uint32_t(detail & 0x1ffffff);
            has_far = true;
            far = s.fault_va;
            break;
        case kCauseInsnAbort:
            ec = from_el == 0 ? kEcInsnAbortLower : kEcInsnAbortSame;
            iss = uint32_t(detail & 0x3f);
            has_far = true;
            far = cpu->pc;
            break;
        case kCausePcAlign:
            ec = kEcPcAlign;
            has_far = true;
            far = cpu->pc;
            break;
        case kCauseIllegalState: ec = kEcIllegalState; break;
        case kCauseIrq: vector_kind = 0x80; break;
        case kCauseFpAccess:
            ec = kEcFpAccess;
            iss = 0x1e00000;  // CV=1, COND=0xe, as QEMU reports for AArch64
            break;
        default:
            log::logf(log::kGuestErrors, "aarch64: unknown exception cause {} at pc 0x{:x}", cause, cpu->pc);
            break;
    }

    const uint64_t offset = (from_el == 0 ? 0x400 : (s.spsel ? 0x200 : 0x000)) + vector_kind;
    s.spsr_el1 = a64_pack_pstate(s);
    s.elr_el1 = elr;
    if (cause != kCauseIrq) s.esr_el1 = (uint64_t(ec) << 26) | kEsrIl | iss;
    if (has_far) s.far_el1 = far;

    s.el = 1;
    s.spsel = 1;
    s.il = 0;
    s.daif = kDaifMask;
    cpu->mode = a64_state_mode(s);
    cpu->pc = s.vbar_el1 + offset;

    if (log::enabled(log::kInt)) {
        log::write(fmt::format("Taking exception {} [{}] on CPU 0\n...from EL{} to EL1\n...with ESR 0x{:x}/0x{:x}\n"
                               "...with ELR 0x{:x}{}\n...to EL1 PC 0x{:x} PSTATE 0x{:x}",
                               cause, cause_name(cause), from_el, ec, s.esr_el1, s.elr_el1,
                               has_far ? fmt::format("\n...with FAR 0x{:x}", far) : std::string(), cpu->pc,
                               a64_pack_pstate(s)));
    }
}

std::optional<PageTranslation> A64Frontend::translate_address(CpuCommon*, uint64_t va, Access, uint32_t*,
                                                              uint64_t*) {
    // MMU off: VA == PA with every permission (SCTLR_EL1.M is not implemented yet).
    PageTranslation t;
    t.paddr_page = va & kPageMask;
    return t;
}

void A64Frontend::bus_fault(CpuCommon* cpu, uint64_t va, Access access, uint32_t* cause, uint64_t* detail) {
    if (access == Access::kExecute) {
        *cause = kCauseInsnAbort;
        *detail = kFscExternalAbort;
        return;
    }
    a64_state(cpu).fault_va = va;
    *cause = kCauseDataAbort;
    *detail = kFscExternalAbort | (access == Access::kWrite ? kIssWnR : 0);
}

void A64Frontend::alignment_fault(CpuCommon* cpu, uint64_t va, Access access, uint32_t* cause, uint64_t* detail) {
    if (access == Access::kExecute) {
        *cause = kCausePcAlign;
        *detail = 0;
        return;
    }
    a64_state(cpu).fault_va = va;
    *cause = kCauseDataAbort;
    *detail = kFscAlignment | (access == Access::kWrite ? kIssWnR : 0);
}

}  // namespace corvid
