// x86 integer arithmetic and logic: add/or/adc/sbb/and/sub/xor/cmp, inc/dec, test, not/neg,
// mul/imul/div/idiv, flag instructions, setcc/cmovcc, cbw/cwd, lahf/sahf.
#include "frontends/x86/x86_translator.h"

#include <cstddef>

namespace corvid::x86 {

namespace {

// The eight classic ALU operations (opcode bits 5:3): sets flags, returns the result (or
// kNoValue for cmp, which writes nothing).
ValueId alu(Translator& t, unsigned opc, unsigned size, ValueId a, ValueId v) {
    auto& b = t.b;
    switch (opc) {
        case 0: {
            ValueId r = b.add(a, v);
            t.set_cc(kCcKindAdd, size, r, v);
            return r;
        }
        case 1: {
            ValueId r = b.or_(a, v);
            t.set_cc(kCcKindLogic, size, r);
            return r;
        }
        case 2: {
            ValueId cin = t.carry();
            ValueId r = b.add_with_carry(a, v, cin);
            t.set_cc(kCcKindAdc, size, r, v, cin);
            return r;
        }
        case 3: {
            ValueId cin = t.carry();
            ValueId r = b.sub(b.sub(a, v), t.resize(cin, size));
            t.set_cc(kCcKindSbb, size, r, v, cin);
            return r;
        }
        case 4: {
            ValueId r = b.and_(a, v);
            t.set_cc(kCcKindLogic, size, r);
            return r;
        }
        case 5:
        case 7: {
            ValueId r = b.sub(a, v);
            t.set_cc(kCcKindSub, size, r, v);
            return opc == 7 ? ir::kNoValue : r;
        }
        default: {
            ValueId r = b.xor_(a, v);
            t.set_cc(kCcKindLogic, size, r);
            return r;
        }
    }
}

// r/m op= value, with the memory write before any state write (ir.h precise-fault rule):
// the flags are computed from values, and set_cc only runs after the store.
void alu_rm(Translator& t, unsigned opc, unsigned size, ValueId v) {
    ValueId addr = ir::kNoValue;
    ValueId a = t.read_rm(size, &addr);
    if (t.in->is_mem && opc != 7) {
        // Compute first without touching state, store, then record flags.
        auto& b = t.b;
        ValueId r;
        ValueId cin = ir::kNoValue;
        if (opc == 2 || opc == 3) cin = t.carry();
        switch (opc) {
            case 0: r = b.add(a, v); break;
            case 1: r = b.or_(a, v); break;
            case 2: r = b.add_with_carry(a, v, cin); break;
            case 3: r = b.sub(b.sub(a, v), t.resize(cin, size)); break;
            case 4: r = b.and_(a, v); break;
            case 5: r = b.sub(a, v); break;
            default: r = b.xor_(a, v); break;
        }
        t.store(addr, r, size);
        static constexpr X86CcKind kKinds[8] = {kCcKindAdd, kCcKindLogic, kCcKindAdc, kCcKindSbb,
                                                kCcKindLogic, kCcKindSub, kCcKindLogic, kCcKindSub};
        const X86CcKind kind = kKinds[opc];
        if (kind == kCcKindLogic) {
            t.set_cc(kind, size, r);
        } else {
            t.set_cc(kind, size, r, v, cin);
        }
        return;
    }
    ValueId r = alu(t, opc, size, a, v);
    if (r != ir::kNoValue) t.set_reg(t.in->rm, size, r);
}

}  // namespace

bool alu_op(Translator& t, const X86Insn& in) {
    const unsigned opc = (in.op >> 3) & 7, form = in.op & 7;
    const unsigned size = in.opsize;
    switch (form) {
        case 0:
        case 1: alu_rm(t, opc, size, t.reg(in.reg, size)); return true;
        case 2:
        case 3: {
            ValueId v = t.read_rm(size);
            ValueId r = alu(t, opc, size, t.reg(in.reg, size), v);
            if (r != ir::kNoValue) t.set_reg(in.reg, size, r);
            return true;
        }
        default: {
            ValueId r = alu(t, opc, size, t.reg(0, size), t.cst(size, in.imm));
            if (r != ir::kNoValue) t.set_reg(0, size, r);
            return true;
        }
    }
}

bool alu_grp1(Translator& t, const X86Insn& in) {
    alu_rm(t, in.reg & 7, in.opsize, t.cst(in.opsize, in.imm));
    return true;
}

namespace {
void inc_dec(Translator& t, unsigned size, bool dec, bool rm_form) {
    ValueId addr = ir::kNoValue;
    ValueId a = rm_form ? t.read_rm(size, &addr) : t.reg(t.in->opreg(), size);
    ValueId cf = t.carry();
    ValueId r = dec ? t.b.sub(a, t.cst(size, 1)) : t.b.add(a, t.cst(size, 1));
    if (rm_form) {
        t.write_rm(size, r, addr);
    } else {
        t.set_reg(t.in->opreg(), size, r);
    }
    t.set_cc(dec ? kCcKindDec : kCcKindInc, size, r, cf);
}
}  // namespace

bool inc_dec_reg(Translator& t, const X86Insn& in) {
    inc_dec(t, in.opsize, in.op >= 0x48, false);
    return true;
}

bool grp4(Translator& t, const X86Insn& in) {
    const unsigned op = in.reg & 7;
    if (op > 1) return false;
    inc_dec(t, 1, op == 1, true);
    return true;
}

// FF /0 /1 (inc/dec r/m); the branch forms are in translate_branch.cpp.
bool grp5_inc_dec(Translator& t, const X86Insn& in) {
    inc_dec(t, in.opsize, (in.reg & 7) == 1, true);
    return true;
}

bool test_op(Translator& t, const X86Insn& in) {
    const unsigned size = in.opsize;
    ValueId a, v;
    if (in.op == 0xa8 || in.op == 0xa9) {
        a = t.reg(0, size);
        v = t.cst(size, in.imm);
    } else {
        a = t.read_rm(size);
        v = t.reg(in.reg, size);
    }
    t.set_cc(kCcKindLogic, size, t.b.and_(a, v));
    return true;
}

bool grp3(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned size = in.opsize;
    const unsigned op = in.reg & 7;
    ValueId addr = ir::kNoValue;
    ValueId a = t.read_rm(size, &addr);
    switch (op) {
        case 0:
        case 1: t.set_cc(kCcKindLogic, size, b.and_(a, t.cst(size, in.imm))); return true;
        case 2: t.write_rm(size, b.unop(Opcode::Not, a), addr); return true;
        case 3: {
            ValueId r = b.unop(Opcode::Neg, a);
            t.write_rm(size, r, addr);
            t.set_cc(kCcKindSub, size, r, a);
            return true;
        }
        case 4:
        case 5: {
            const bool sgn = op == 5;
            ValueId acc = t.reg(0, size);
            if (size == 1) {
                ValueId x = sgn ? b.sext(Type::I16, acc) : b.zext(Type::I16, acc);
                ValueId y = sgn ? b.sext(Type::I16, a) : b.zext(Type::I16, a);
                ValueId p = b.binop(Opcode::Mul, x, y);
                ValueId lo = b.trunc(Type::I8, p);
                ValueId hi = b.trunc(Type::I8, b.lshr(p, b.constant(Type::I16, 8)));
                ValueId ovf = sgn ? b.xor_(hi, b.ashr(lo, t.cst(1, 7))) : hi;
                t.set_reg(0, 2, p);
                t.set_cc(kCcKindMul, 1, lo, ovf);
                return true;
            }
            ValueId lo = b.binop(Opcode::Mul, acc, a);
            ValueId hi = b.binop(sgn ? Opcode::MulHiS : Opcode::MulHiU, acc, a);
            ValueId ovf = sgn ? b.xor_(hi, b.ashr(lo, t.cst(size, size * 8 - 1))) : hi;
            t.set_reg(0, size, lo);
            t.set_reg(2, size, hi);
            t.set_cc(kCcKindMul, size, lo, ovf);
            return true;
        }
        default: {
            const uint64_t packed = size | ((op == 7) ? 0x10 : 0);
            b.call_void(kHelperDiv, b.c64(packed), t.to64(a), b.c64(in.pc));
            return true;
        }
    }
}

bool imul_rm(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned size = in.opsize;
    ValueId v = t.read_rm(size);
    ValueId a = t.reg(in.reg, size);
    ValueId lo = b.binop(Opcode::Mul, a, v);
    ValueId hi = b.binop(Opcode::MulHiS, a, v);
    t.set_reg(in.reg, size, lo);
    t.set_cc(kCcKindMul, size, lo, b.xor_(hi, b.ashr(lo, t.cst(size, size * 8 - 1))));
    return true;
}

bool imul_imm(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned size = in.opsize;
    ValueId v = t.read_rm(size);
    ValueId a = t.cst(size, in.imm);
    ValueId lo, ovf;
    if (size == 1) return false;
    lo = b.binop(Opcode::Mul, v, a);
    ValueId hi = b.binop(Opcode::MulHiS, v, a);
    ovf = b.xor_(hi, b.ashr(lo, t.cst(size, size * 8 - 1)));
    t.set_reg(in.reg, size, lo);
    t.set_cc(kCcKindMul, size, lo, ovf);
    return true;
}

bool flag_op(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    constexpr uint32_t kEflags = offsetof(X86State, eflags);
    switch (in.op) {
        case 0xf5:
        case 0xf8:
        case 0xf9: {
            ValueId f = t.arith_flags();
            if (in.op == 0xf5) f = b.xor_(f, b.c64(kFlagCf));
            if (in.op == 0xf8) f = b.and_(f, b.c64(~kFlagCf));
            if (in.op == 0xf9) f = b.or_(f, b.c64(kFlagCf));
            t.set_eflags_arith(f);
            return true;
        }
        case 0xfc:
            b.set_state(kEflags, b.and_(b.get_state(Type::I64, kEflags), b.c64(~kFlagDf)));
            return true;
        case 0xfd:
            b.set_state(kEflags, b.or_(b.get_state(Type::I64, kEflags), b.c64(kFlagDf)));
            return true;
        default: return false;
    }
}

bool setcc(Translator& t, const X86Insn& in) {
    ValueId c = t.cond(in.op & 15);
    ValueId addr = in.is_mem ? t.ea() : ir::kNoValue;
    t.write_rm(1, t.b.trunc(Type::I8, c), addr);
    return true;
}

bool cmovcc(Translator& t, const X86Insn& in) {
    const unsigned size = in.opsize;
    ValueId v = t.read_rm(size);
    ValueId c = t.cond(in.op & 15);
    t.set_reg(in.reg, size, t.b.select(c, v, t.reg(in.reg, size)));
    return true;
}

bool cbw_cwd(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned size = in.opsize;
    if (in.op == 0x98) {
        t.set_reg(0, size, t.sresize(t.reg(0, size / 2), size));
    } else {
        ValueId a = t.reg(0, size);
        t.set_reg(2, size, b.ashr(a, t.cst(size, size * 8 - 1)));
    }
    return true;
}

bool lahf_sahf(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    constexpr uint64_t kLow = kFlagSf | kFlagZf | kFlagAf | kFlagPf | kFlagCf;
    if (in.op == 0x9f) {
        ValueId f = b.or_(b.and_(t.arith_flags(), b.c64(kLow)), b.c64(2));
        ValueId rax = b.get_state(Type::I64, x86_reg_offset(0));
        rax = b.or_(b.and_(rax, b.c64(~0xff00ull)), b.shl(f, b.c64(8)));
        b.set_state(x86_reg_offset(0), rax);
        return true;
    }
    ValueId ah = b.and_(b.lshr(b.get_state(Type::I64, x86_reg_offset(0)), b.c64(8)), b.c64(kLow));
    ValueId f = b.and_(t.arith_flags(), b.c64(kFlagOf));
    t.set_eflags_arith(b.or_(f, ah));
    return true;
}

}  // namespace corvid::x86
