// A64 "Branches, exception generating and system instructions" (system registers are in
// translate_system_registers.cpp).
#include "frontends/a64/a64_translator.h"

#include <cstddef>

#include "base/log.h"

namespace corvid::a64 {

using ir::Opcode;

namespace {
constexpr uint32_t kPcOffset = offsetof(CpuCommon, pc);

// WFI/WFE/YIELD: leave the run loop with the pc already past the instruction.
void halt(Translator& t, ir::HaltReason reason) {
    t.b.set_state(kPcOffset, t.b.c64(t.pc + 4));
    t.b.exit_halt(reason);
    t.ended = true;
}
}  // namespace

bool branch_imm(Translator& t, uint32_t insn) {
    const uint64_t target = t.pc + uint64_t(sign_extend(bits(insn, 25, 0), 26) * 4);
    if (bit(insn, 31)) {  // BL
        t.set_x(30, t.b.c64(t.pc + 4));
        t.b.push_return_hint(t.pc + 4);
    }
    t.exit_link(target);
    return true;
}

bool compare_branch(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31), nonzero = bit(insn, 24);
    const uint64_t target = t.pc + uint64_t(sign_extend(bits(insn, 23, 5), 19) * 4);
    ValueId v = t.x(bits(insn, 4, 0), sf);
    ValueId cond = t.b.cmp(nonzero ? Opcode::CmpNe : Opcode::CmpEq, v, t.imm(sf, 0));
    t.b.exit_cond(cond, target, t.pc + 4);
    t.ended = true;
    return true;
}

bool test_branch(Translator& t, uint32_t insn) {
    const unsigned bitpos = (bits(insn, 31, 31) << 5) | bits(insn, 23, 19);
    const bool nonzero = bit(insn, 24);
    const uint64_t target = t.pc + uint64_t(sign_extend(bits(insn, 18, 5), 14) * 4);
    auto& b = t.b;
    ValueId v = b.and_(b.lshr(t.x(bits(insn, 4, 0), true), b.c64(bitpos)), b.c64(1));
    ValueId cond = b.trunc(Type::I32, v);
    if (!nonzero) cond = b.xor_(cond, b.c32(1));
    b.exit_cond(cond, target, t.pc + 4);
    t.ended = true;
    return true;
}

bool branch_cond(Translator& t, uint32_t insn) {
    const unsigned cond = bits(insn, 3, 0);
    const uint64_t target = t.pc + uint64_t(sign_extend(bits(insn, 23, 5), 19) * 4);
    if (cond >= 14) {
        t.exit_link(target);
        return true;
    }
    bool inverted;
    ValueId holds = t.condition(cond, &inverted);
    if (inverted) {
        t.b.exit_cond(holds, t.pc + 4, target);
    } else {
        t.b.exit_cond(holds, target, t.pc + 4);
    }
    t.ended = true;
    return true;
}

bool branch_reg(Translator& t, uint32_t insn) {
    const unsigned opc = bits(insn, 22, 21), n = bits(insn, 9, 5);
    ValueId target = t.x(n, true);  // read before BLR writes X30 (BLR X30 is valid)
    switch (opc) {
        case 0: t.b.exit_jump(target); break;
        case 1:  // BLR
            t.set_x(30, t.b.c64(t.pc + 4));
            t.b.push_return_hint(t.pc + 4);
            t.b.exit_jump(target);
            break;
        default: t.b.exit_return(target); break;
    }
    t.ended = true;
    return true;
}

bool exception_gen(Translator& t, uint32_t insn) {
    const uint32_t imm16 = bits(insn, 20, 5);
    const unsigned opc = bits(insn, 23, 21), ll = bits(insn, 1, 0);
    auto& b = t.b;
    switch (opc) {
        case 0:
            if (ll == 1) {  // SVC
                t.raise(kCauseSvc, imm16);
                return true;
            }
            if (ll == 2) {  // HVC: no EL2; the platform may implement PSCI on it
                if (t.el() == 0) return false;
                b.call_void(kHelperHvc, b.c64(imm16), b.c64(t.pc), b.c64(insn));
                t.exit_link(t.pc + 4);
                return true;
            }
            return false;  // SMC: no EL3 -> UNDEFINED, as QEMU's virt board without secure mode
        case 1:  // BRK
            t.raise(kCauseBrk, imm16);
            return true;
        case 2:  // HLT: only the semihosting call exists (no external debug)
            if (imm16 != 0xf000 || t.el() == 0) return false;
            b.call_void(kHelperSemihosting, b.c64(t.pc), b.c64(insn));
            t.exit_link(t.pc + 4);
            return true;
        default: return false;
    }
}

bool hint(Translator& t, uint32_t insn) {
    switch (bits(insn, 11, 5)) {
        case 1:  // YIELD
        case 2:  // WFE
            halt(t, ir::HaltReason::kYield);
            return true;
        case 3:  // WFI
            halt(t, ir::HaltReason::kWaitForInterrupt);
            return true;
        default: return true;  // NOP, SEV, SEVL and the unallocated hints
    }
}

bool barrier(Translator& t, uint32_t insn) {
    if (bits(insn, 7, 5) == 2) t.b.set_state(offsetof(A64State, excl_valid), t.b.c32(0));  // CLREX
    return true;  // DSB/DMB/ISB order nothing on one in-order CPU
}

bool msr_imm(Translator& t, uint32_t insn) {
    const unsigned op1 = bits(insn, 18, 16), op2 = bits(insn, 7, 5), crm = bits(insn, 11, 8);
    auto& b = t.b;
    if (t.el() == 0) return false;
    if (op1 == 0 && op2 == 5) {  // SPSel
        b.call_void(kHelperWriteSpsel, b.c64(crm & 1));
        t.exit_to(t.pc + 4);
        return true;
    }
    if (op1 == 3 && (op2 == 6 || op2 == 7)) {
        const uint32_t bits_ = (crm << 6) & kDaifMask;
        ValueId cur = b.get_state(Type::I32, offsetof(A64State, daif));
        if (op2 == 6) {  // DAIFSet: masking more never makes an interrupt deliverable
            b.set_state(offsetof(A64State, daif), b.or_(cur, b.c32(bits_)));
            return true;
        }
        // DAIFClr may unmask a pending interrupt: the helper requests an exit for it.
        ValueId nv = b.and_(cur, b.c32(~bits_ & kDaifMask));
        b.call_void(kHelperWriteDaif, b.zext(Type::I64, nv));
        t.exit_link(t.pc + 4);
        return true;
    }
    return false;
}

bool sys(Translator& t, uint32_t insn) {
    const unsigned op1 = bits(insn, 18, 16), crn = bits(insn, 15, 12), crm = bits(insn, 11, 8);
    const unsigned op2 = bits(insn, 7, 5), rt = bits(insn, 4, 0);
    // EL0 may only use the cache maintenance by VA that SCTLR_EL1 can enable (op1 == 3).
    if (t.el() == 0 && op1 != 3) return false;
    if (op1 == 3 && crn == 7 && crm == 4 && op2 == 1) {  // DC ZVA: zero a 64-byte block
        auto& b = t.b;
        ValueId base = b.and_(t.x(rt, true), b.c64(~63ull));
        for (unsigned i = 0; i < 8; ++i) b.store(b.add(base, b.c64(i * 8)), b.c64(0), 3);
        return true;
    }
    // Cache maintenance (IC/DC), TLB maintenance (TLBI) and AT: nothing to do without caches
    // or an MMU; the engine invalidates translated code on stores by itself.
    if (crn == 7 || crn == 8) return true;
    return false;
}

bool eret(Translator& t, uint32_t) {
    if (t.el() == 0) return false;
    ValueId target = t.b.call(kHelperEret);
    t.b.exit_jump(target);
    t.ended = true;
    return true;
}

}  // namespace corvid::a64
