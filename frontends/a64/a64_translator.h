// Shared machinery of the A64 translate files: the per-block translator context (register,
// flag and exception emission) and the handler declarations bound by decode_table.inc.
#pragma once

#include <cstdint>

#include "frontends/a64/a64_cpu.h"
#include "translator/ir/ir.h"

namespace corvid {
class A64Frontend;
}

namespace corvid::a64 {

using ir::Type;
using ir::ValueId;

// Exception causes carried by ExitException (imm) and Engine::raise; detail is cause-specific.
enum Cause : uint32_t {
    kCauseUndefined = 1,   // detail: the instruction word (for the log)
    kCauseSvc = 2,         // detail: imm16
    kCauseHvc = 3,         // detail: imm16 (only used when a platform wants the architectural trap)
    kCauseBrk = 4,         // detail: imm16
    kCauseDataAbort = 5,   // detail: ISS (DFSC, WnR); FAR is A64State::fault_va
    kCauseInsnAbort = 6,   // detail: IFSC; FAR = pc
    kCausePcAlign = 7,     // FAR = pc
    kCauseIllegalState = 8,
    kCauseIrq = 9,
    kCauseFpAccess = 10,   // FP/SIMD while CPACR_EL1.FPEN traps it
};

// Syndrome values (ESR_ELx.EC and fault status codes).
enum ExceptionClass : uint32_t {
    kEcUnknown = 0x00,
    kEcFpAccess = 0x07,
    kEcIllegalState = 0x0e,
    kEcSvc = 0x15,
    kEcHvc = 0x16,
    kEcInsnAbortLower = 0x20,
    kEcInsnAbortSame = 0x21,
    kEcPcAlign = 0x22,
    kEcDataAbortLower = 0x24,
    kEcDataAbortSame = 0x25,
    kEcBrk = 0x3c,
};
constexpr uint32_t kFscExternalAbort = 0x10;
constexpr uint32_t kFscAlignment = 0x21;
constexpr uint32_t kIssWnR = 1u << 6;

constexpr uint32_t bits(uint32_t insn, unsigned hi, unsigned lo) {
    return (insn >> lo) & ((hi - lo == 31) ? ~0u : ((1u << (hi - lo + 1)) - 1));
}
constexpr bool bit(uint32_t insn, unsigned n) { return (insn >> n) & 1; }
constexpr int64_t sign_extend(uint64_t v, unsigned width) {
    return int64_t(v << (64 - width)) >> (64 - width);
}

// Bitmask immediate (logical immediate, bitfield masks): DecodeBitMasks of the Arm ARM.
// Returns false for reserved encodings.
bool decode_bit_masks(bool n, uint32_t imms, uint32_t immr, bool immediate, unsigned datasize,
                      uint64_t* wmask, uint64_t* tmask);

// One block's translation state.
class Translator {
public:
    Translator(ir::Builder& b, const A64Frontend& fe, uint32_t mode) : b(b), fe(fe), mode(mode) {}

    ir::Builder& b;
    const A64Frontend& fe;
    const uint32_t mode;
    uint64_t pc = 0;        // address of the instruction being translated
    uint32_t insn = 0;
    bool ended = false;     // the instruction emitted a terminal: the block stops here

    uint32_t el() const { return a64_mode_el(mode); }
    // MemFlag bits every data access of this block carries (alignment checking, SCTLR_EL1.A).
    uint32_t mem_flags() const { return (mode & kA64ModeAlign) ? uint32_t(ir::kMemAlignCheck) : 0u; }
    static Type ty(bool sf) { return sf ? Type::I64 : Type::I32; }
    uint32_t sp_offset() const;

    ValueId imm(bool sf, uint64_t v) { return b.constant(ty(sf), v); }
    // Register reads: 31 is XZR (x) or SP (x_sp). A W read is the truncated X register.
    ValueId x(unsigned r, bool sf);
    ValueId x_sp(unsigned r, bool sf);
    // Register writes take an i32 or i64 value; W writes zero the upper half. 31 is discarded
    // (set_x) or the current SP (set_x_sp).
    void set_x(unsigned r, ValueId v);
    void set_x_sp(unsigned r, ValueId v);
    ValueId to64(ValueId v) { return b.type_of(v) == Type::I64 ? v : b.zext(Type::I64, v); }

    // Flags as i32 0/1 (a64_flags.cpp).
    ValueId flag(uint32_t offset) { return b.get_state(Type::I32, offset); }
    void set_flags(ValueId n, ValueId z, ValueId c, ValueId v);
    // N and Z of a result, C and V given.
    void set_flags_nz(ValueId result, ValueId c, ValueId v);
    // SUBS / ADDS / ANDS-like flag setters; the first two return the result (a - b, a + b).
    ValueId sub_flags(ValueId a, ValueId bv);
    ValueId add_flags(ValueId a, ValueId bv);
    void logic_flags(ValueId result);  // N, Z of result; C = V = 0
    // ConditionHolds(cond) as i32 0/1.
    ValueId condition(unsigned cond);
    // ConditionHolds(cond) == (result != 0) ^ *inverted: lets a branch or select swap its arms
    // instead of inverting a compare.
    ValueId condition(unsigned cond, bool* inverted);
    // AddWithCarry(a, b, cin) with optional NZCV update; `b` already inverted for subtraction.
    ValueId add_with_carry(ValueId a, ValueId bv, ValueId cin, bool set_flags);
    // Rm shifted by a constant (LSL/LSR/ASR/ROR).
    ValueId shift_imm(ValueId v, unsigned type, unsigned amount);
    // ExtendReg(m, option, shift) for extended-register forms and register-offset addressing.
    ValueId extend_reg(unsigned m, unsigned option, unsigned shift, bool sf);

    // Terminals.
    void exit_link(uint64_t target);
    void raise(uint32_t cause, uint64_t detail);
    // Updates cpu->pc and leaves the block through the run loop's lookup (mode may have changed).
    void exit_to(uint64_t target);

private:
    ValueId sign_bit(ValueId v);  // v <s 0 as i32 0/1
    bool const_value(ValueId v, uint64_t* out) const;
    // An i32 already holding the W register at `offset` (the operand of its last W write or
    // an earlier trunc of its current value, no label or helper call since), or kNoValue.
    ValueId last_w_write(uint32_t offset) const;
};

using Handler = bool (*)(Translator& t, uint32_t insn);

#define INST(name, desc, pattern, handler) bool handler(Translator& t, uint32_t insn);
#include "frontends/a64/decode_table.inc"
#undef INST

// Helpers called from generated code (a64_helpers.cpp).
extern const ir::HelperInfo kHelperEret;
extern const ir::HelperInfo kHelperHvc;
extern const ir::HelperInfo kHelperSemihosting;
extern const ir::HelperInfo kHelperWriteDaif;
extern const ir::HelperInfo kHelperWriteSpsel;
extern const ir::HelperInfo kHelperWriteSctlr;
extern const ir::HelperInfo kHelperWriteCpacr;
extern const ir::HelperInfo kHelperReadCntvct;
// Generic timer registers: arg 0 is an A64TimerReg; reads compute CTL.ISTATUS and TVAL from
// the counter, writes store and request an exit so the board sees the new deadline.
enum A64TimerReg : uint64_t {
    kTimerPhysCtl, kTimerPhysCval, kTimerPhysTval, kTimerVirtCtl, kTimerVirtCval, kTimerVirtTval,
};
extern const ir::HelperInfo kHelperReadTimer;
extern const ir::HelperInfo kHelperWriteTimer;

}  // namespace corvid::a64
