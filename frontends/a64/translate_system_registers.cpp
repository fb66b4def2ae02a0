// A64 MRS/MSR (register): a table of the system registers Corvid implements, each a plain
// state field, a constant, or one of a few special cases.
#include <cstddef>

#include "base/log.h"
#include "frontends/a64/a64_frontend.h"
#include "frontends/a64/a64_translator.h"

namespace corvid::a64 {

using ir::Opcode;

namespace {

enum class Kind : uint8_t {
    kField,       // 64-bit field of A64State at `offset`
    kConst,       // reads as `value`, writes ignored (RAZ/WI-style registers)
    kReadOnly,    // reads as `value` (or a model field), writes UNDEFINED
    kModelField,  // read-only field of A64State at `offset` (MIDR, MPIDR)
    kNzcv,
    kDaif,
    kCurrentEl,
    kSpsel,
    kSpEl0,
    kCounter,     // CNTVCT_EL0 / CNTPCT_EL0
    kSctlr,
    kCpacr,
    kModel,       // read-only value of the CPU model (A64CpuModel::*model)
    kTimer,       // CNTP_/CNTV_ CTL, CVAL, TVAL: through helpers (`value` = A64TimerReg)
};

constexpr uint8_t kEl0Read = 1;   // readable at EL0
constexpr uint8_t kEl0Write = 2;  // writable at EL0

struct SysReg {
    const char* name;
    uint8_t op0, op1, crn, crm, op2;
    Kind kind;
    uint32_t offset;
    uint64_t value;
    uint8_t el0;
    uint64_t A64CpuModel::*model = nullptr;
};

#define FIELD(f) Kind::kField, uint32_t(offsetof(A64State, f)), 0
#define CONST(v) Kind::kConst, 0, (v)
#define RO(v) Kind::kReadOnly, 0, (v)
#define SPECIAL(k) Kind::k, 0, 0
#define MODEL(f) Kind::kModel, 0, 0
#define TIMER(r) Kind::kTimer, 0, (r)

constexpr SysReg kSysRegs[] = {
    {"NZCV", 3, 3, 4, 2, 0, SPECIAL(kNzcv), kEl0Read | kEl0Write},
    {"DAIF", 3, 3, 4, 2, 1, SPECIAL(kDaif), 0},
    {"CurrentEL", 3, 0, 4, 2, 2, SPECIAL(kCurrentEl), 0},
    {"SPSel", 3, 0, 4, 2, 0, SPECIAL(kSpsel), 0},
    {"SP_EL0", 3, 0, 4, 1, 0, SPECIAL(kSpEl0), 0},
    {"SPSR_EL1", 3, 0, 4, 0, 0, FIELD(spsr_el1), 0},
    {"ELR_EL1", 3, 0, 4, 0, 1, FIELD(elr_el1), 0},
    {"ESR_EL1", 3, 0, 5, 2, 0, FIELD(esr_el1), 0},
    {"AFSR0_EL1", 3, 0, 5, 1, 0, FIELD(afsr0_el1), 0},
    {"AFSR1_EL1", 3, 0, 5, 1, 1, FIELD(afsr1_el1), 0},
    {"FAR_EL1", 3, 0, 6, 0, 0, FIELD(far_el1), 0},
    {"PAR_EL1", 3, 0, 7, 4, 0, FIELD(par_el1), 0},
    {"VBAR_EL1", 3, 0, 12, 0, 0, FIELD(vbar_el1), 0},
    {"SCTLR_EL1", 3, 0, 1, 0, 0, SPECIAL(kSctlr), 0},
    {"ACTLR_EL1", 3, 0, 1, 0, 1, CONST(0), 0},
    {"CPACR_EL1", 3, 0, 1, 0, 2, Kind::kCpacr, uint32_t(offsetof(A64State, cpacr_el1)), 0, 0},
    {"TTBR0_EL1", 3, 0, 2, 0, 0, FIELD(ttbr0_el1), 0},
    {"TTBR1_EL1", 3, 0, 2, 0, 1, FIELD(ttbr1_el1), 0},
    {"TCR_EL1", 3, 0, 2, 0, 2, FIELD(tcr_el1), 0},
    {"MAIR_EL1", 3, 0, 10, 2, 0, FIELD(mair_el1), 0},
    {"AMAIR_EL1", 3, 0, 10, 3, 0, FIELD(amair_el1), 0},
    {"CONTEXTIDR_EL1", 3, 0, 13, 0, 1, FIELD(contextidr_el1), 0},
    {"TPIDR_EL1", 3, 0, 13, 0, 4, FIELD(tpidr_el1), 0},
    {"TPIDR_EL0", 3, 3, 13, 0, 2, FIELD(tpidr_el0), kEl0Read | kEl0Write},
    {"TPIDRRO_EL0", 3, 3, 13, 0, 3, FIELD(tpidrro_el0), kEl0Read},
    {"MIDR_EL1", 3, 0, 0, 0, 0, Kind::kModelField, uint32_t(offsetof(A64State, midr_el1)), 0, 0},
    {"MPIDR_EL1", 3, 0, 0, 0, 5, Kind::kModelField, uint32_t(offsetof(A64State, mpidr_el1)), 0, 0},
    {"REVIDR_EL1", 3, 0, 0, 0, 6, RO(0), 0},
    // EL0/EL1 AArch64 only, no EL2/EL3; FP and AdvSIMD (bits 23:16) read 0xff: not implemented.
    {"ID_AA64PFR0_EL1", 3, 0, 0, 4, 0, RO(0xff0022), 0},
    {"ID_AA64PFR1_EL1", 3, 0, 0, 4, 1, RO(0), 0},
    {"ID_AA64DFR0_EL1", 3, 0, 0, 5, 0, MODEL(id_aa64dfr0), 0, &A64CpuModel::id_aa64dfr0},
    {"ID_AA64DFR1_EL1", 3, 0, 0, 5, 1, RO(0), 0},
    {"ID_AA64AFR0_EL1", 3, 0, 0, 5, 4, RO(0), 0},
    {"ID_AA64AFR1_EL1", 3, 0, 0, 5, 5, RO(0), 0},
    // CRC32 only (bits 19:16); no AES/SHA/atomics (QEMU's cortex-a57 reports 0x11120).
    {"ID_AA64ISAR0_EL1", 3, 0, 0, 6, 0, RO(0x10000), 0},
    {"ID_AA64ISAR1_EL1", 3, 0, 0, 6, 1, RO(0), 0},
    {"ID_AA64MMFR0_EL1", 3, 0, 0, 7, 0, MODEL(id_aa64mmfr0), 0, &A64CpuModel::id_aa64mmfr0},
    {"ID_AA64MMFR1_EL1", 3, 0, 0, 7, 1, RO(0), 0},
    {"ID_AA64MMFR2_EL1", 3, 0, 0, 7, 2, RO(0), 0},
    {"CTR_EL0", 3, 3, 0, 0, 1, MODEL(ctr_el0), kEl0Read, &A64CpuModel::ctr_el0},
    {"DCZID_EL0", 3, 3, 0, 0, 7, RO(4), kEl0Read},  // DC ZVA block: 2^4 words = 64 bytes
    {"CLIDR_EL1", 3, 1, 0, 0, 1, MODEL(clidr), 0, &A64CpuModel::clidr},
    {"CCSIDR_EL1", 3, 1, 0, 0, 0, MODEL(ccsidr), 0, &A64CpuModel::ccsidr},
    {"CSSELR_EL1", 3, 2, 0, 0, 0, CONST(0), 0},
    {"CNTFRQ_EL0", 3, 3, 14, 0, 0, CONST(A64Frontend::kCounterHz), kEl0Read},
    {"CNTPCT_EL0", 3, 3, 14, 0, 1, SPECIAL(kCounter), kEl0Read},
    {"CNTVCT_EL0", 3, 3, 14, 0, 2, SPECIAL(kCounter), kEl0Read},
    {"CNTKCTL_EL1", 3, 0, 14, 1, 0, FIELD(cntkctl_el1), 0},
    {"CNTP_TVAL_EL0", 3, 3, 14, 2, 0, TIMER(kTimerPhysTval), kEl0Read | kEl0Write},
    {"CNTP_CTL_EL0", 3, 3, 14, 2, 1, TIMER(kTimerPhysCtl), kEl0Read | kEl0Write},
    {"CNTP_CVAL_EL0", 3, 3, 14, 2, 2, TIMER(kTimerPhysCval), kEl0Read | kEl0Write},
    {"CNTV_TVAL_EL0", 3, 3, 14, 3, 0, TIMER(kTimerVirtTval), kEl0Read | kEl0Write},
    {"CNTV_CTL_EL0", 3, 3, 14, 3, 1, TIMER(kTimerVirtCtl), kEl0Read | kEl0Write},
    {"CNTV_CVAL_EL0", 3, 3, 14, 3, 2, TIMER(kTimerVirtCval), kEl0Read | kEl0Write},
    {"MDSCR_EL1", 2, 0, 0, 2, 2, FIELD(mdscr_el1), 0},
    {"OSLAR_EL1", 2, 0, 1, 0, 4, CONST(0), 0},
    {"OSLSR_EL1", 2, 0, 1, 1, 4, RO(0x8), 0},
    {"OSDLR_EL1", 2, 0, 1, 3, 4, CONST(0), 0},
};

#undef FIELD
#undef CONST
#undef RO
#undef SPECIAL
#undef MODEL
#undef TIMER

const SysReg* find(uint32_t insn) {
    const unsigned op0 = 2 + bit(insn, 19), op1 = bits(insn, 18, 16), crn = bits(insn, 15, 12);
    const unsigned crm = bits(insn, 11, 8), op2 = bits(insn, 7, 5);
    for (const SysReg& r : kSysRegs) {
        if (r.op0 == op0 && r.op1 == op1 && r.crn == crn && r.crm == crm && r.op2 == op2) return &r;
    }
    return nullptr;
}

void log_unknown(const Translator& t, uint32_t insn, bool read) {
    log::logf(log::kUnimp, "unimplemented A64 system register S{}_{}_C{}_C{}_{} ({}) at pc 0x{:x}", 2 + bit(insn, 19),
              bits(insn, 18, 16), bits(insn, 15, 12), bits(insn, 11, 8), bits(insn, 7, 5), read ? "read" : "write",
              t.pc);
}

constexpr uint32_t kN = offsetof(A64State, n), kZ = offsetof(A64State, z);
constexpr uint32_t kC = offsetof(A64State, c), kV = offsetof(A64State, v);

}  // namespace

bool mrs(Translator& t, uint32_t insn) {
    const SysReg* r = find(insn);
    const unsigned rt = bits(insn, 4, 0);
    auto& b = t.b;
    if (!r) {
        log_unknown(t, insn, true);
        return false;
    }
    if (t.el() == 0 && !(r->el0 & kEl0Read)) return false;
    ValueId v = ir::kNoValue;
    switch (r->kind) {
        case Kind::kField:
        case Kind::kCpacr:
        case Kind::kModelField: v = b.get_state(Type::I64, r->offset); break;
        case Kind::kConst:
        case Kind::kReadOnly: v = b.c64(r->value); break;
        case Kind::kNzcv: {
            auto at = [&](uint32_t off, unsigned pos) {
                return b.shl(b.zext(Type::I64, b.get_state(Type::I32, off)), b.c64(pos));
            };
            v = b.or_(b.or_(at(kN, 31), at(kZ, 30)), b.or_(at(kC, 29), at(kV, 28)));
            break;
        }
        case Kind::kDaif: v = b.zext(Type::I64, b.get_state(Type::I32, offsetof(A64State, daif))); break;
        case Kind::kCurrentEl: v = b.c64(uint64_t(t.el()) << 2); break;
        case Kind::kSpsel: v = b.c64(a64_mode_uses_sp_elx(t.mode) ? 1 : 0); break;
        case Kind::kSpEl0:
            if (!a64_mode_uses_sp_elx(t.mode)) return false;  // SP_EL0 is the current SP
            v = b.get_state(Type::I64, offsetof(A64State, sp_el0));
            break;
        case Kind::kCounter: v = b.call(kHelperReadCntvct); break;
        case Kind::kSctlr: v = b.get_state(Type::I64, offsetof(A64State, sctlr_el1)); break;
        case Kind::kModel: v = b.c64(t.fe.model().*(r->model)); break;
        case Kind::kTimer: v = b.call(kHelperReadTimer, b.c64(r->value)); break;
    }
    t.set_x(rt, v);
    return true;
}

bool msr_reg(Translator& t, uint32_t insn) {
    const SysReg* r = find(insn);
    const unsigned rt = bits(insn, 4, 0);
    auto& b = t.b;
    if (!r) {
        log_unknown(t, insn, false);
        return false;
    }
    if (t.el() == 0 && !(r->el0 & kEl0Write)) return false;
    ValueId v = t.x(rt, true);
    switch (r->kind) {
        case Kind::kField: b.set_state(r->offset, v); return true;
        case Kind::kConst: return true;
        case Kind::kReadOnly:
        case Kind::kModel:
        case Kind::kModelField:
        case Kind::kCurrentEl:
        case Kind::kCounter: return false;
        case Kind::kNzcv: {
            ValueId w = b.trunc(Type::I32, v);
            auto at = [&](unsigned pos) { return b.and_(b.lshr(w, b.c32(pos)), b.c32(1)); };
            t.set_flags(at(31), at(30), at(29), at(28));
            return true;
        }
        case Kind::kDaif:
            b.call_void(kHelperWriteDaif, b.and_(v, b.c64(kDaifMask)));
            t.exit_link(t.pc + 4);
            return true;
        case Kind::kSpsel:
            b.call_void(kHelperWriteSpsel, b.and_(v, b.c64(1)));
            t.exit_to(t.pc + 4);
            return true;
        case Kind::kSpEl0:
            if (!a64_mode_uses_sp_elx(t.mode)) return false;
            b.set_state(offsetof(A64State, sp_el0), v);
            return true;
        case Kind::kSctlr:
            b.call_void(kHelperWriteSctlr, v, b.c64(t.pc));
            t.exit_to(t.pc + 4);
            return true;
        case Kind::kCpacr:
            b.call_void(kHelperWriteCpacr, v);
            t.exit_to(t.pc + 4);
            return true;
        case Kind::kTimer:
            // The helper asks the run loop to return: the board re-evaluates the timer's
            // interrupt and deadline before the next instruction.
            b.call_void(kHelperWriteTimer, b.c64(r->value), v);
            t.exit_link(t.pc + 4);
            return true;
    }
    return false;
}

}  // namespace corvid::a64
