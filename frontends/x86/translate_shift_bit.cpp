// x86 shifts and rotates (incl. rcl/rcr, shld/shrd), bit tests, bit scans and counts,
// bswap, and the atomic read-modify-write group (xadd, cmpxchg, cmpxchg8b/16b).
#include "frontends/x86/x86_translator.h"

namespace corvid::x86 {

namespace {

ValueId bit_of(Translator& t, ValueId v, unsigned n) {
    auto& b = t.b;
    return b.trunc(Type::I32, b.and_(b.lshr(t.to64(v), b.c64(n)), b.c64(1)));
}

// New arithmetic flags with CF/OF replaced (rotates).
ValueId with_cf_of(Translator& t, ValueId f, ValueId cf, ValueId of) {
    auto& b = t.b;
    ValueId r = b.and_(f, b.c64(~(kFlagCf | kFlagOf)));
    r = b.or_(r, b.zext(Type::I64, cf));
    return b.or_(r, b.shl(b.zext(Type::I64, of), b.c64(11)));
}

}  // namespace

bool shift_grp2(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned size = in.opsize, w = size * 8;
    const unsigned op = in.reg & 7;
    const uint64_t mask = size == 8 ? 63 : 31;
    ValueId addr = ir::kNoValue;
    ValueId a = t.read_rm(size, &addr);
    const bool dynamic = in.op == 0xd2 || in.op == 0xd3;
    uint64_t ccount = in.op == 0xd0 || in.op == 0xd1 ? 1 : (in.imm & mask);
    if (!dynamic && ccount == 0) {
        // Flags unchanged; a 32-bit register is still written (zero-extended), as hardware does.
        if (size == 4 && !in.is_mem) t.set_reg(in.rm, 4, a);
        return true;
    }
    ValueId cnt = dynamic ? b.and_(b.zext(Type::I64, t.reg(1, 1)), b.c64(mask)) : b.c64(ccount);
    ValueId nz = dynamic ? b.cmp(Opcode::CmpNe, cnt, b.c64(0)) : b.c32(1);
    if (op == 4 || op == 5 || op == 6 || op == 7) {
        const bool sar = op == 7, shl = op == 4 || op == 6;
        ValueId wide = size == 8 ? a : (sar ? b.sext(Type::I64, a) : b.zext(Type::I64, a));
        const Opcode sop = shl ? Opcode::Shl : sar ? Opcode::AShr : Opcode::LShr;
        ValueId res = t.resize(b.binop(sop, wide, cnt), size);
        ValueId src = t.resize(b.binop(sop, wide, b.sub(cnt, b.c64(1))), size);
        t.write_rm(size, res, addr);
        const X86CcKind kind = shl ? kCcKindShl : kCcKindSar;
        if (!dynamic) {
            t.set_cc(kind, size, res, src);
            return true;
        }
        constexpr uint32_t kOp = offsetof(X86State, cc_op), kDst = offsetof(X86State, cc_dst),
                           kSrc = offsetof(X86State, cc_src);
        ValueId old_op = b.get_state(Type::I32, kOp), old_dst = b.get_state(Type::I64, kDst),
                old_src = b.get_state(Type::I64, kSrc);
        b.set_state(kOp, b.select(nz, b.c32(x86_cc_op(kind, size_log2(size))), old_op));
        b.set_state(kDst, b.select(nz, t.to64(res), old_dst));
        b.set_state(kSrc, b.select(nz, t.to64(src), old_src));
        t.cc_known = ~0u;
        return true;
    }
    ValueId f = t.arith_flags();
    ValueId res, flags;
    if (op == 0 || op == 1) {
        res = b.binop(op == 0 ? Opcode::RotL : Opcode::RotR, a, t.resize(cnt, size));
        ValueId cf, of;
        if (op == 0) {
            cf = bit_of(t, res, 0);
            of = b.xor_(cf, bit_of(t, res, w - 1));
        } else {
            cf = bit_of(t, res, w - 1);
            of = b.xor_(cf, bit_of(t, res, w - 2));
        }
        flags = with_cf_of(t, f, cf, of);
    } else {
        const uint64_t packed = size | (op == 3 ? 0x10 : 0);
        // The carry in from cond() (inline after add/sub/logic), so that the helper building
        // f is only live when the preserved flags are.
        ValueId cin = b.shl(b.zext(Type::I64, t.carry()), b.c64(8));
        ValueId arg = b.or_(cnt, cin);
        res = t.resize(b.call(kHelperRotCarry, b.c64(packed), t.to64(a), arg), size);
        ValueId fl = b.call(kHelperRotCarry, b.c64(packed | 0x20), t.to64(a), arg);
        flags = b.or_(b.and_(f, b.c64(~(kFlagCf | kFlagOf))), fl);
    }
    t.write_rm(size, res, addr);
    t.set_eflags_arith(dynamic ? b.select(nz, flags, f) : flags);
    return true;
}

bool shld_shrd(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned size = in.opsize;
    const uint64_t mask = size == 8 ? 63 : 31;
    const bool dynamic = in.op == 0xa5 || in.op == 0xad;
    const bool right = in.op >= 0xac;
    ValueId addr = ir::kNoValue;
    ValueId d = t.read_rm(size, &addr);
    ValueId s = t.reg(in.reg, size);
    if (!dynamic && (in.imm & mask) == 0) {
        if (size == 4 && !in.is_mem) t.set_reg(in.rm, 4, d);
        return true;
    }
    ValueId cnt = dynamic ? b.and_(b.zext(Type::I64, t.reg(1, 1)), b.c64(mask)) : b.c64(in.imm & mask);
    ValueId packed = b.or_(b.c64(size | (right ? 0x10 : 0)), b.shl(cnt, b.c64(8)));
    ValueId res = t.resize(b.call(kHelperShiftDouble, packed, t.to64(d), t.to64(s)), size);
    ValueId fl = b.call(kHelperShiftDouble, b.or_(packed, b.c64(0x20)), t.to64(d), t.to64(s));
    ValueId f = dynamic ? t.arith_flags() : ir::kNoValue;
    t.write_rm(size, res, addr);
    if (dynamic) fl = b.select(b.cmp(Opcode::CmpNe, cnt, b.c64(0)), fl, f);
    t.set_eflags_arith(fl);
    return true;
}

namespace {

// bt/bts/btr/btc (kind 0..3) with a bit offset; register offsets address memory beyond the
// operand (signed), immediate ones wrap within it.
void bt_common(Translator& t, unsigned kind, ValueId off, bool adjust_mem) {
    auto& b = t.b;
    const X86Insn& in = *t.in;
    const unsigned size = in.opsize, w = size * 8;
    ValueId addr = ir::kNoValue, val;
    if (in.is_mem) {
        addr = t.ea();
        if (adjust_mem) {
            ValueId disp = b.ashr(b.sext(Type::I64, off), b.c64(size_log2(size) + 3));  // log2(w)
            addr = b.add(addr, b.shl(disp, b.c64(size_log2(size))));
        }
        val = t.load(addr, size);
    } else {
        val = t.reg(in.rm, size);
    }
    ValueId bit = b.and_(off, t.cst(size, w - 1));
    ValueId cf = b.trunc(Type::I32, t.to64(b.and_(b.lshr(val, bit), t.cst(size, 1))));
    ValueId m = b.shl(t.cst(size, 1), bit);
    ValueId f = t.arith_flags();
    if (kind != 0) {
        ValueId nv = kind == 1 ? b.or_(val, m) : kind == 2 ? b.binop(Opcode::AndNot, val, m) : b.xor_(val, m);
        t.write_rm(size, nv, addr);
    }
    t.set_eflags_arith(b.or_(b.and_(f, b.c64(~kFlagCf)), b.zext(Type::I64, cf)));
}

}  // namespace

bool bt_op(Translator& t, const X86Insn& in) {
    const unsigned kind = in.op == 0xa3 ? 0 : in.op == 0xab ? 1 : in.op == 0xb3 ? 2 : 3;
    bt_common(t, kind, t.reg(in.reg, in.opsize), true);
    return true;
}

bool bt_grp8(Translator& t, const X86Insn& in) {
    if ((in.reg & 7) < 4) return false;
    bt_common(t, (in.reg & 7) - 4, t.cst(in.opsize, in.imm), false);
    return true;
}

bool bsf_bsr(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned size = in.opsize, w = size * 8;
    ValueId v = t.read_rm(size);
    const bool reverse = in.op == 0xbd;
    ValueId zero = b.cmp(Opcode::CmpEq, v, t.cst(size, 0));
    if (in.rep) {  // tzcnt / lzcnt
        ValueId r = b.unop(reverse ? Opcode::Clz : Opcode::Ctz, v);
        t.set_reg(in.reg, size, r);
        ValueId cf = b.zext(Type::I64, zero);
        ValueId zf = b.shl(b.zext(Type::I64, b.cmp(Opcode::CmpEq, r, t.cst(size, 0))), b.c64(6));
        t.set_eflags_arith(b.or_(cf, zf));
        return true;
    }
    ValueId r = reverse ? b.sub(t.cst(size, w - 1), b.unop(Opcode::Clz, v)) : b.unop(Opcode::Ctz, v);
    if (size == 2) {
        t.set_reg(in.reg, 2, b.select(zero, t.reg(in.reg, 2), r));
    } else {
        ValueId old = b.get_state(Type::I64, x86_reg_offset(in.reg));
        b.set_state(x86_reg_offset(in.reg), b.select(zero, old, t.to64(r)));
    }
    t.set_cc(kCcKindLogic, size, v);
    return true;
}

bool popcnt(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    if (!in.rep) return false;
    const unsigned size = in.opsize;
    ValueId v = t.read_rm(size);
    t.set_reg(in.reg, size, b.unop(Opcode::Popcount, v));
    ValueId zf = b.shl(b.zext(Type::I64, b.cmp(Opcode::CmpEq, v, t.cst(size, 0))), b.c64(6));
    t.set_eflags_arith(zf);
    return true;
}

bool bswap(Translator& t, const X86Insn& in) {
    const unsigned size = in.opsize;
    const unsigned r = in.opreg();
    if (size == 2) {
        t.set_reg(r, 2, t.cst(2, 0));  // undefined: what QEMU produces
        return true;
    }
    t.set_reg(r, size, t.b.unop(Opcode::Bswap, t.reg(r, size)));
    return true;
}

bool xadd(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned size = in.opsize;
    ValueId addr = ir::kNoValue;
    ValueId d = t.read_rm(size, &addr);
    ValueId s = t.reg(in.reg, size);
    ValueId sum = b.add(d, s);
    if (in.is_mem) {
        t.store(addr, sum, size);
        t.set_reg(in.reg, size, d);
    } else {
        t.set_reg(in.reg, size, d);
        t.set_reg(in.rm, size, sum);
    }
    t.set_cc(kCcKindAdd, size, sum, s);
    return true;
}

bool cmpxchg(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned size = in.opsize;
    ValueId addr = ir::kNoValue;
    ValueId d = t.read_rm(size, &addr);
    ValueId acc = t.reg(0, size);
    ValueId s = t.reg(in.reg, size);
    ValueId eq = b.cmp(Opcode::CmpEq, acc, d);
    ValueId diff = b.sub(acc, d);
    if (in.is_mem) {
        t.store(addr, b.select(eq, s, d), size);
    } else if (size == 4) {
        // A failed compare leaves a 32-bit register destination untouched (no zero-extension).
        ValueId old = b.get_state(Type::I64, x86_reg_offset(in.rm));
        b.set_state(x86_reg_offset(in.rm), b.select(eq, b.zext(Type::I64, s), old));
    } else {
        t.set_reg(in.rm, size, b.select(eq, s, d));
    }
    if (size == 4) {
        ValueId rax = b.get_state(Type::I64, x86_reg_offset(0));
        b.set_state(x86_reg_offset(0), b.select(eq, rax, b.zext(Type::I64, d)));
    } else {
        t.set_reg(0, size, b.select(eq, t.reg(0, size), d));
    }
    t.set_cc(kCcKindSub, size, diff, d);
    return true;
}

bool grp9(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    if (!in.is_mem || (in.reg & 7) != 1) return false;
    ValueId addr = t.ea();
    ValueId rax = b.get_state(Type::I64, x86_reg_offset(0)), rdx = b.get_state(Type::I64, x86_reg_offset(2));
    ValueId rbx = b.get_state(Type::I64, x86_reg_offset(3)), rcx = b.get_state(Type::I64, x86_reg_offset(1));
    ValueId eq, new_rax, new_rdx;
    if (in.rex_w) {
        b.call_void(kHelperCheckAlign16, addr, b.c64(in.pc));  // #GP(0) unless 16-byte aligned
        ValueId lo = t.load(addr, 8);
        ValueId addr2 = b.add(addr, b.c64(8));
        ValueId hi = t.load(addr2, 8);
        eq = b.and_(b.cmp(Opcode::CmpEq, lo, rax), b.cmp(Opcode::CmpEq, hi, rdx));
        t.store(addr, b.select(eq, rbx, lo), 8);
        t.store(addr2, b.select(eq, rcx, hi), 8);
        new_rax = b.select(eq, rax, lo);
        new_rdx = b.select(eq, rdx, hi);
    } else {
        ValueId m = t.load(addr, 8);
        auto lo32 = [&](ValueId v) { return b.and_(v, b.c64(0xffffffff)); };
        ValueId edxeax = b.or_(b.shl(rdx, b.c64(32)), lo32(rax));
        ValueId ecxebx = b.or_(b.shl(rcx, b.c64(32)), lo32(rbx));
        eq = b.cmp(Opcode::CmpEq, m, edxeax);
        t.store(addr, b.select(eq, ecxebx, m), 8);
        new_rax = b.select(eq, rax, lo32(m));
        new_rdx = b.select(eq, rdx, b.lshr(m, b.c64(32)));
    }
    ValueId f = t.arith_flags();
    b.set_state(x86_reg_offset(0), new_rax);
    b.set_state(x86_reg_offset(2), new_rdx);
    t.set_eflags_arith(b.or_(b.and_(f, b.c64(~kFlagZf)), b.shl(b.zext(Type::I64, eq), b.c64(6))));
    return true;
}

}  // namespace corvid::x86
