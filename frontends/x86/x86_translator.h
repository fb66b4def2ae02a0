// Shared machinery of the x86 translate files: the per-block translator context (registers,
// addressing, lazy flags, stack, terminals), exception causes, and the handler declarations
// that the opcode tables bind.
#pragma once

#include <cstdint>

#include "frontends/x86/x86_cpu.h"
#include "frontends/x86/x86_decoder.h"
#include "translator/ir/ir.h"

namespace corvid {
class X86Frontend;
}

namespace corvid::x86 {

using ir::Opcode;
using ir::Type;
using ir::ValueId;

// Exception causes (ExitException imm / Engine::raise): the vector in bits 7:0 plus flags.
// detail: the error code (kCauseHasError), the instruction length (kCauseSoft), or the
// faulting address (kCauseFetch).
constexpr uint32_t kCauseHasError = 1u << 8;
constexpr uint32_t kCauseSoft = 1u << 9;      // int n / int3 / into: return after the insn, DPL check
constexpr uint32_t kCauseFetch = 1u << 10;    // instruction fetch failed at detail: walk again for #PF
constexpr uint32_t kCauseExtInt = 1u << 11;   // external interrupt (from take_pending_interrupt)
constexpr uint32_t kCauseTooLong = 1u << 12;  // instruction longer than 15 bytes: #GP(0)

enum Vector : uint32_t {
    kVecDe = 0, kVecDb = 1, kVecBp = 3, kVecOf = 4, kVecBr = 5, kVecUd = 6, kVecNm = 7, kVecDf = 8,
    kVecTs = 10, kVecNp = 11, kVecSs = 12, kVecGp = 13, kVecPf = 14, kVecMf = 16, kVecAc = 17,
};

inline Type type_of_size(unsigned bytes) {
    switch (bytes) {
        case 1: return Type::I8;
        case 2: return Type::I16;
        case 4: return Type::I32;
        default: return Type::I64;
    }
}
inline unsigned size_log2(unsigned bytes) { return bytes == 1 ? 0 : bytes == 2 ? 1 : bytes == 4 ? 2 : 3; }

class Translator {
public:
    Translator(ir::Builder& b, X86Frontend& fe, uint32_t mode) : b(b), fe(fe), mode(mode) {}

    ir::Builder& b;
    X86Frontend& fe;
    const uint32_t mode;
    const X86Insn* in = nullptr;  // the instruction being translated
    bool ended = false;           // the instruction emitted a terminal
    uint32_t cc_known = ~0u;      // cc_op of the last flag-setting insn in this block, ~0 unknown

    bool mode64() const { return mode & kX86ModeCode64; }
    unsigned cpl() const { return (mode & kX86ModeCplMask) >> kX86ModeCplShift; }
    unsigned stack_size() const { return mode64() ? 8 : (mode & kX86ModeStack32) ? 4 : 2; }
    uint64_t next_pc() const { return in->next_pc(); }

    ValueId cst(unsigned size, uint64_t v) { return b.constant(type_of_size(size), v); }
    ValueId to64(ValueId v) { return b.type_of(v) == Type::I64 ? v : b.zext(Type::I64, v); }
    ValueId resize(ValueId v, unsigned size);  // zero-extends or truncates
    ValueId sresize(ValueId v, unsigned size); // sign-extends or truncates

    // General registers: `size` bytes of register r; size 1 with r 4..7 and no REX is AH..BH.
    ValueId reg(unsigned r, unsigned size);
    void set_reg(unsigned r, unsigned size, ValueId v);  // 4-byte writes zero the upper half

    // Addressing. ea_offset: the ModRM offset truncated to the address size (i64).
    ValueId ea_offset();
    unsigned mem_seg() const;
    // Linear address of `offset` in segment `seg` (adds the base where it can be non-zero).
    ValueId linear(unsigned seg, ValueId offset);
    ValueId ea() { return linear(mem_seg(), ea_offset()); }
    ValueId load(ValueId addr, unsigned size) { return b.load(type_of_size(size), addr, size_log2(size)); }
    void store(ValueId addr, ValueId v, unsigned size) { b.store(addr, v, size_log2(size)); }

    // r/m operand: register or memory. `addr` receives the address for a later write.
    ValueId read_rm(unsigned size, ValueId* addr = nullptr);
    void write_rm(unsigned size, ValueId v, ValueId addr);

    // Stack: push stores below rSP and returns the new rSP (set it with set_sp after every
    // memory access of the instruction); pop loads and returns the value.
    ValueId sp();
    ValueId push(ValueId v, unsigned size, ValueId* new_sp);
    ValueId pop(unsigned size, ValueId* new_sp, unsigned extra = 0);
    void set_sp(ValueId v);

    // Lazy flags.
    void set_cc(X86CcKind kind, unsigned size, ValueId dst, ValueId src = ir::kNoValue, ValueId src2 = ir::kNoValue);
    void set_eflags_arith(ValueId flags);  // i64 with CF PF AF ZF SF OF
    ValueId arith_flags();                 // i64
    ValueId cond(unsigned cc);             // i32 0/1 for condition code 0..15
    ValueId carry() { return cond(2); }

    // Terminals.
    void exit_link(uint64_t target);
    void exit_jump(ValueId target);
    void raise(uint32_t vector, uint32_t error_code = 0, bool has_error = false);
    void raise_ud() { raise(kVecUd); }
    void raise_gp0() { raise(kVecGp, 0, true); }
    // Ends the block after this instruction through the run loop (mode or interrupt state changed).
    void exit_next() { exit_jump(b.c64(next_pc())); }
    // Privileged instruction: #GP(0) when CPL != 0; returns false in that case.
    bool require_cpl0();
    // Sets cpu->pc to this instruction (for helpers that raise or read the pc).
    void sync_pc() { b.set_state(0, b.c64(in->pc)); }
};

// Helpers (x86_helpers*.cpp).
extern const ir::HelperInfo kHelperArithFlags;
extern const ir::HelperInfo kHelperWriteEflags;
extern const ir::HelperInfo kHelperDiv;
extern const ir::HelperInfo kHelperCpuid;
extern const ir::HelperInfo kHelperRdtsc;
extern const ir::HelperInfo kHelperRdtscp;
extern const ir::HelperInfo kHelperRdmsr;
extern const ir::HelperInfo kHelperWrmsr;
extern const ir::HelperInfo kHelperReadCr;
extern const ir::HelperInfo kHelperWriteCr;
extern const ir::HelperInfo kHelperIn;
extern const ir::HelperInfo kHelperOut;
extern const ir::HelperInfo kHelperLoadSeg;
extern const ir::HelperInfo kHelperFarJump;
extern const ir::HelperInfo kHelperIret;
extern const ir::HelperInfo kHelperLtr;
extern const ir::HelperInfo kHelperLldt;
extern const ir::HelperInfo kHelperInvlpg;
extern const ir::HelperInfo kHelperCli;
extern const ir::HelperInfo kHelperSti;
extern const ir::HelperInfo kHelperEndShadow;
extern const ir::HelperInfo kHelperSwapgs;
extern const ir::HelperInfo kHelperSyscall;
extern const ir::HelperInfo kHelperSysret;
extern const ir::HelperInfo kHelperCheckAlign16;  // cmpxchg16b: #GP(0) on a misaligned operand
extern const ir::HelperInfo kHelperRotCarry;     // pure: rcl/rcr result or flags
extern const ir::HelperInfo kHelperShiftDouble;  // pure: shld/shrd result or flags

// Handlers bound by the opcode tables (translate_*.cpp).
#define X86_HANDLERS(X)                                                                                        \
    X(alu_op) X(alu_grp1) X(inc_dec_reg) X(grp3) X(grp4) X(grp5) X(test_op) X(imul_rm) X(imul_imm) X(shift_grp2) \
    X(shld_shrd) X(bt_op) X(bt_grp8) X(bsf_bsr) X(popcnt) X(bswap) X(flag_op) X(setcc) X(cmovcc) X(xadd)        \
    X(cmpxchg) X(grp9) X(cbw_cwd) X(lahf_sahf) X(mov_op) X(mov_imm) X(mov_moffs) X(movzx_movsx) X(movsxd)        \
    X(lea) X(xchg_op) X(push_pop_reg) X(push_imm) X(pop_rm) X(enter) X(leave) X(pushf) X(popf) X(string_op)     \
    X(xlat) X(mov_sreg) X(push_pop_seg) X(nop) X(hint_nop) X(jcc) X(jmp_rel) X(call_rel) X(ret_near) X(loop_op)  \
    X(jmp_far) X(call_far) X(ret_far) X(int_op) X(iret) X(hlt) X(grp6) X(grp7) X(mov_cr) X(mov_dr) X(msr_op)     \
    X(cpuid) X(rdtsc) X(io_op) X(cli_sti) X(clts) X(cache_nop) X(ud2) X(grp15) X(syscall) X(sysret)

#define X86_DECLARE_HANDLER(name) bool name(Translator& t, const X86Insn& in);
X86_HANDLERS(X86_DECLARE_HANDLER)
#undef X86_DECLARE_HANDLER

}  // namespace corvid::x86
