// The per-block x86 translator context: registers (with the 8/16/32-bit views), ModRM
// addressing with segment bases, the stack, lazy flags and condition codes, terminals.
#include "frontends/x86/x86_translator.h"

#include <cstddef>

namespace corvid::x86 {

namespace {
constexpr uint32_t kCcOp = offsetof(X86State, cc_op);
constexpr uint32_t kCcDst = offsetof(X86State, cc_dst);
constexpr uint32_t kCcSrc = offsetof(X86State, cc_src);
constexpr uint32_t kCcSrc2 = offsetof(X86State, cc_src2);
}  // namespace

ValueId Translator::resize(ValueId v, unsigned size) {
    const Type t = type_of_size(size);
    const Type from = b.type_of(v);
    if (from == t) return v;
    return ir::bit_width(from) < ir::bit_width(t) ? b.zext(t, v) : b.trunc(t, v);
}

ValueId Translator::sresize(ValueId v, unsigned size) {
    const Type t = type_of_size(size);
    const Type from = b.type_of(v);
    if (from == t) return v;
    return ir::bit_width(from) < ir::bit_width(t) ? b.sext(t, v) : b.trunc(t, v);
}

ValueId Translator::reg(unsigned r, unsigned size) {
    if (size == 1 && r >= 4 && r < 8 && !in->rex) {
        ValueId full = b.get_state(Type::I64, x86_reg_offset(r - 4));
        return b.trunc(Type::I8, b.lshr(full, b.c64(8)));
    }
    ValueId full = b.get_state(Type::I64, x86_reg_offset(r));
    return size == 8 ? full : b.trunc(type_of_size(size), full);
}

void Translator::set_reg(unsigned r, unsigned size, ValueId v) {
    v = resize(v, size);
    if (size == 8) return b.set_state(x86_reg_offset(r), v);
    if (size == 4) return b.set_state(x86_reg_offset(r), b.zext(Type::I64, v));
    unsigned shift = 0;
    if (size == 1 && r >= 4 && r < 8 && !in->rex) {
        r -= 4;
        shift = 8;
    }
    const uint64_t mask = (size == 1 ? 0xffull : 0xffffull) << shift;
    ValueId old = b.get_state(Type::I64, x86_reg_offset(r));
    ValueId nv = b.zext(Type::I64, v);
    if (shift) nv = b.shl(nv, b.c64(shift));
    b.set_state(x86_reg_offset(r), b.or_(b.and_(old, b.c64(~mask)), nv));
}

ValueId Translator::ea_offset() {
    const X86Insn& i = *in;
    ValueId a = ir::kNoValue;
    if (i.rip_rel) {
        a = b.c64(i.next_pc() + uint64_t(i.disp));
    } else {
        if (i.base >= 0) a = b.get_state(Type::I64, x86_reg_offset(unsigned(i.base)));
        if (i.index >= 0) {
            ValueId x = b.get_state(Type::I64, x86_reg_offset(unsigned(i.index)));
            if (i.scale) x = b.shl(x, b.c64(i.scale));
            a = a == ir::kNoValue ? x : b.add(a, x);
        }
        if (a == ir::kNoValue) {
            a = b.c64(uint64_t(i.disp));
        } else if (i.disp) {
            a = b.add(a, b.c64(uint64_t(i.disp)));
        }
    }
    if (i.addrsize == 4) a = b.zext(Type::I64, b.trunc(Type::I32, a));
    if (i.addrsize == 2) a = b.zext(Type::I64, b.trunc(Type::I16, a));
    return a;
}

unsigned Translator::mem_seg() const {
    if (in->seg >= 0) return unsigned(in->seg);
    return in->bp_base ? kSegSs : kSegDs;
}

ValueId Translator::linear(unsigned seg, ValueId offset) {
    if (mode64()) {
        if (seg == kSegFs || seg == kSegGs) return b.add(offset, b.get_state(Type::I64, x86_seg_base_offset(seg)));
        return offset;
    }
    if (seg == kSegFs || seg == kSegGs || (mode & kX86ModeSegBase)) {
        ValueId a = b.add(offset, b.get_state(Type::I64, x86_seg_base_offset(seg)));
        return b.zext(Type::I64, b.trunc(Type::I32, a));  // linear addresses wrap at 4 GiB
    }
    return offset;
}

ValueId Translator::read_rm(unsigned size, ValueId* addr) {
    if (!in->is_mem) return reg(in->rm, size);
    ValueId a = ea();
    if (addr) *addr = a;
    return load(a, size);
}

void Translator::write_rm(unsigned size, ValueId v, ValueId addr) {
    if (!in->is_mem) return set_reg(in->rm, size, v);
    store(addr, resize(v, size), size);
}

ValueId Translator::sp() {
    return reg(4, stack_size());
}

ValueId Translator::push(ValueId v, unsigned size, ValueId* new_sp) {
    const unsigned ss = stack_size();
    ValueId nsp = b.sub(sp(), cst(ss, size));
    store(linear(kSegSs, to64(nsp)), resize(v, size), size);
    *new_sp = nsp;
    return nsp;
}

ValueId Translator::pop(unsigned size, ValueId* new_sp, unsigned extra) {
    const unsigned ss = stack_size();
    ValueId cur = sp();
    ValueId v = load(linear(kSegSs, to64(cur)), size);
    *new_sp = b.add(cur, cst(ss, size + extra));
    return v;
}

void Translator::set_sp(ValueId v) { set_reg(4, stack_size(), v); }

void Translator::set_cc(X86CcKind kind, unsigned size, ValueId dst, ValueId src, ValueId src2) {
    const uint32_t op = x86_cc_op(kind, size_log2(size));
    b.set_state(kCcOp, b.c32(op));
    b.set_state(kCcDst, to64(dst));
    if (src != ir::kNoValue) {
        b.set_state(kCcSrc, to64(src));
    } else if (cc_known == kCcEflags) {
        // Logic ops do not need cc_src, but a flags word stored there by an earlier partial
        // writer in this block (rol, bt, clc...) would otherwise stay live, and with it the
        // flags computation that built it.
        b.set_state(kCcSrc, b.c64(0));
    }
    if (src2 != ir::kNoValue) b.set_state(kCcSrc2, to64(src2));
    cc_known = op;
}

void Translator::set_eflags_arith(ValueId flags) {
    b.set_state(kCcOp, b.c32(kCcEflags));
    b.set_state(kCcSrc, b.and_(to64(flags), b.c64(kFlagsArith)));
    cc_known = kCcEflags;
}

ValueId Translator::arith_flags() {
    if (cc_known == kCcEflags) return b.get_state(Type::I64, kCcSrc);
    // A pure call on the slot values (cc_op, with the ADC/SBB carry in bit 32): when the
    // flags word is overwritten before anyone reads it (rotates, bt, clc... followed by
    // another producer), dead-store and dead-code elimination drop the call entirely.
    ValueId op;
    bool need_cin = true, need_src = true;
    if (cc_known != ~0u) {
        const auto kind = X86CcKind(cc_known >> 2);
        op = b.c64(cc_known);
        need_cin = kind == kCcKindAdc || kind == kCcKindSbb;
        need_src = kind != kCcKindLogic;  // logic ops leave cc_src stale
    } else {
        op = b.zext(Type::I64, b.get_state(Type::I32, kCcOp));
    }
    if (need_cin) op = b.or_(op, b.shl(b.and_(b.get_state(Type::I64, kCcSrc2), b.c64(1)), b.c64(32)));
    ValueId src = need_src ? b.get_state(Type::I64, kCcSrc) : b.c64(0);
    return b.call(kHelperArithFlags, op, b.get_state(Type::I64, kCcDst), src);
}

ValueId Translator::cond(unsigned cc) {
    const bool negate = cc & 1;
    const unsigned base = cc & ~1u;
    ValueId r = ir::kNoValue;
    if (cc_known != ~0u && cc_known != kCcEflags) {
        const X86CcKind kind = X86CcKind(cc_known >> 2);
        const unsigned size = 1u << (cc_known & 3);
        auto dst = [&]() { return resize(b.get_state(Type::I64, kCcDst), size); };
        auto src = [&]() { return resize(b.get_state(Type::I64, kCcSrc), size); };
        if (base == 4) {
            r = b.cmp(Opcode::CmpEq, dst(), cst(size, 0));
        } else if (base == 8) {
            r = b.cmp(Opcode::CmpLtS, dst(), cst(size, 0));
        } else if (kind == kCcKindSub) {
            ValueId s = src();
            ValueId a = b.add(dst(), s);
            switch (base) {
                case 2: r = b.cmp(Opcode::CmpLtU, a, s); break;
                case 6: r = b.cmp(Opcode::CmpLeU, a, s); break;
                case 12: r = b.cmp(Opcode::CmpLtS, a, s); break;
                case 14: r = b.cmp(Opcode::CmpLeS, a, s); break;
                case 0: {  // OF: operands of different signs and the result's sign differs from a
                    ValueId ov = b.and_(b.xor_(a, s), b.xor_(a, dst()));
                    r = b.cmp(Opcode::CmpLtS, ov, cst(size, 0));
                    break;
                }
                default: break;
            }
        } else if (kind == kCcKindAdd && (base == 2 || base == 6)) {
            // CF of an add: the result wrapped below the second operand.
            ValueId d = dst();
            r = b.cmp(Opcode::CmpLtU, d, src());
            if (base == 6) r = b.or_(r, b.cmp(Opcode::CmpEq, d, cst(size, 0)));
        } else if ((kind == kCcKindInc || kind == kCcKindDec) && base == 0) {
            const uint64_t sign = 1ull << (size * 8 - 1);
            r = b.cmp(Opcode::CmpEq, dst(), cst(size, kind == kCcKindInc ? sign : sign - 1));
        } else if (kind == kCcKindLogic) {
            switch (base) {
                case 0:
                case 2: r = b.c32(0); break;
                case 6: r = b.cmp(Opcode::CmpEq, dst(), cst(size, 0)); break;
                case 12: r = b.cmp(Opcode::CmpLtS, dst(), cst(size, 0)); break;
                case 14: r = b.cmp(Opcode::CmpLeS, dst(), cst(size, 0)); break;
                default: break;
            }
        }
    }
    if (r == ir::kNoValue) {
        ValueId f = arith_flags();
        auto bitv = [&](unsigned n) { return b.trunc(Type::I32, b.and_(b.lshr(f, b.c64(n)), b.c64(1))); };
        switch (base) {
            case 0: r = bitv(11); break;
            case 2: r = bitv(0); break;
            case 4: r = bitv(6); break;
            case 6: r = b.cmp(Opcode::CmpNe, b.and_(f, b.c64(kFlagCf | kFlagZf)), b.c64(0)); break;
            case 8: r = bitv(7); break;
            case 10: r = bitv(2); break;
            case 12: r = b.xor_(bitv(7), bitv(11)); break;
            default: r = b.or_(b.xor_(bitv(7), bitv(11)), bitv(6)); break;
        }
    }
    return negate ? b.xor_(r, b.c32(1)) : r;
}

void Translator::exit_link(uint64_t target) {
    if (!mode64()) target &= in->opsize == 2 ? 0xffff : 0xffffffff;
    b.exit_link(target);
    ended = true;
}

void Translator::exit_jump(ValueId target) {
    b.exit_jump(to64(target));
    ended = true;
}

void Translator::raise(uint32_t vector, uint32_t error_code, bool has_error) {
    b.exit_exception(vector | (has_error ? kCauseHasError : 0), error_code);
    ended = true;
}

bool Translator::require_cpl0() {
    if (cpl() == 0) return true;
    raise_gp0();
    return false;
}

}  // namespace corvid::x86
