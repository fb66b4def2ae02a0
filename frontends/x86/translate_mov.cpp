// x86 data movement: mov forms, movzx/movsx/movsxd, lea, xchg, push/pop (reg, imm, r/m,
// segment registers, flags), enter/leave, string instructions with rep prefixes, xlat, nops.
#include "frontends/x86/x86_translator.h"

#include <cstddef>

namespace corvid::x86 {

namespace {
constexpr uint32_t kEflags = offsetof(X86State, eflags);
}

bool mov_op(Translator& t, const X86Insn& in) {
    const unsigned size = in.opsize;
    if (in.op == 0x88 || in.op == 0x89) {
        ValueId v = t.reg(in.reg, size);
        ValueId addr = in.is_mem ? t.ea() : ir::kNoValue;
        t.write_rm(size, v, addr);
    } else {
        t.set_reg(in.reg, size, t.read_rm(size));
    }
    return true;
}

bool mov_imm(Translator& t, const X86Insn& in) {
    const unsigned size = in.opsize;
    if (in.op == 0xc6 || in.op == 0xc7) {
        if ((in.reg & 7) != 0) return false;
        ValueId addr = in.is_mem ? t.ea() : ir::kNoValue;
        t.write_rm(size, t.cst(size, in.imm), addr);
        return true;
    }
    t.set_reg(in.opreg(), size, t.cst(size, in.imm));
    return true;
}

bool mov_moffs(Translator& t, const X86Insn& in) {
    const unsigned size = in.opsize;
    const unsigned seg = in.seg >= 0 ? unsigned(in.seg) : kSegDs;
    ValueId addr = t.linear(seg, t.b.c64(in.imm));
    if (in.op <= 0xa1) {
        t.set_reg(0, size, t.load(addr, size));
    } else {
        t.store(addr, t.reg(0, size), size);
    }
    return true;
}

bool movzx_movsx(Translator& t, const X86Insn& in) {
    const unsigned from = (in.op & 1) ? 2 : 1;
    ValueId v = t.read_rm(from);
    const bool sgn = in.op >= 0xbe;
    t.set_reg(in.reg, in.opsize, sgn ? t.sresize(v, in.opsize) : t.resize(v, in.opsize));
    return true;
}

bool movsxd(Translator& t, const X86Insn& in) {
    if (!t.mode64()) return false;  // ARPL outside long mode: not implemented
    ValueId v = t.read_rm(in.opsize == 8 ? 4 : in.opsize);
    t.set_reg(in.reg, in.opsize, t.sresize(v, in.opsize));
    return true;
}

bool lea(Translator& t, const X86Insn& in) {
    if (!in.is_mem) return false;
    t.set_reg(in.reg, in.opsize, t.resize(t.ea_offset(), in.opsize));
    return true;
}

bool xchg_op(Translator& t, const X86Insn& in) {
    const unsigned size = in.opsize;
    if (in.op >= 0x90) {
        const unsigned r = in.opreg();
        ValueId a = t.reg(0, size), v = t.reg(r, size);
        t.set_reg(0, size, v);
        t.set_reg(r, size, a);
        return true;
    }
    ValueId addr = ir::kNoValue;
    ValueId m = t.read_rm(size, &addr);
    ValueId r = t.reg(in.reg, size);
    if (in.is_mem) {
        t.store(addr, r, size);
        t.set_reg(in.reg, size, m);
    } else {
        t.set_reg(in.rm, size, r);
        t.set_reg(in.reg, size, m);
    }
    return true;
}

bool nop(Translator& t, const X86Insn& in) {
    if (in.rex_b) return xchg_op(t, in);
    if (in.rep) {  // pause: let the run loop do other work
        t.b.set_state(0, t.b.c64(in.next_pc()));
        t.b.exit_halt(ir::HaltReason::kYield);
        t.ended = true;
    }
    return true;
}

bool hint_nop(Translator&, const X86Insn& in) {
    // prefetch* (0F 18 /0-/3, 0F 0D) need a memory operand; the rest of 0F 18-1F are NOPs.
    if ((in.op == 0x18 && (in.reg & 7) < 4) || in.op == 0x0d) return in.is_mem || !in.has_modrm;
    return true;
}

bool push_pop_reg(Translator& t, const X86Insn& in) {
    const unsigned size = in.opsize, r = in.opreg();
    ValueId nsp;
    if (in.op < 0x58) {
        t.push(t.reg(r, size), size, &nsp);
        t.set_sp(nsp);
    } else {
        ValueId v = t.pop(size, &nsp);
        t.set_sp(nsp);
        t.set_reg(r, size, v);
    }
    return true;
}

bool push_imm(Translator& t, const X86Insn& in) {
    ValueId nsp;
    t.push(t.cst(in.opsize, in.imm), in.opsize, &nsp);
    t.set_sp(nsp);
    return true;
}

bool pop_rm(Translator& t, const X86Insn& in) {
    if ((in.reg & 7) != 0) return false;
    ValueId nsp;
    ValueId v = t.pop(in.opsize, &nsp);
    ValueId addr = ir::kNoValue;
    if (in.is_mem) {
        // With rSP as the base the address is computed after the pop has incremented it.
        ValueId off = t.ea_offset();
        if (in.base == 4) off = t.resize(t.resize(t.b.add(off, t.b.c64(in.opsize)), in.addrsize), 8);
        addr = t.linear(t.mem_seg(), off);
    }
    if (in.is_mem) {
        t.store(addr, v, in.opsize);
        t.set_sp(nsp);
    } else {
        t.set_sp(nsp);
        t.set_reg(in.rm, in.opsize, v);
    }
    return true;
}

bool enter(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned size = in.opsize, ss = t.stack_size();
    const unsigned level = unsigned(in.imm2 & 31);
    ValueId sp = t.sp();
    ValueId rbp = t.reg(5, ss);
    auto push_at = [&](ValueId cur_sp, ValueId v) {
        ValueId nsp = b.sub(cur_sp, t.cst(ss, size));
        t.store(t.linear(kSegSs, t.to64(nsp)), t.resize(v, size), size);
        return nsp;
    };
    sp = push_at(sp, t.reg(5, size));
    ValueId frame = sp;
    if (level > 0) {
        for (unsigned i = 1; i < level; ++i) {
            ValueId src = b.sub(rbp, t.cst(ss, i * size));
            sp = push_at(sp, t.load(t.linear(kSegSs, t.to64(src)), size));
        }
        sp = push_at(sp, frame);
    }
    t.set_reg(5, ss, frame);
    t.set_sp(b.sub(sp, t.cst(ss, in.imm & 0xffff)));
    return true;
}

bool leave(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned ss = t.stack_size(), size = in.opsize;
    ValueId rbp = t.reg(5, ss);
    ValueId v = t.load(t.linear(kSegSs, t.to64(rbp)), size);
    t.set_sp(b.add(rbp, t.cst(ss, size)));
    t.set_reg(5, size, v);
    return true;
}

bool pushf(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    ValueId f = b.or_(b.get_state(Type::I64, kEflags), t.arith_flags());
    f = b.and_(f, b.c64(~(kFlagVm | kFlagRf)));
    ValueId nsp;
    t.push(f, in.opsize, &nsp);
    t.set_sp(nsp);
    return true;
}

bool popf(Translator& t, const X86Insn& in) {
    ValueId nsp;
    ValueId v = t.pop(in.opsize, &nsp);
    t.b.call_void(kHelperWriteEflags, t.to64(v), t.b.c64(in.opsize));
    t.set_sp(nsp);
    t.cc_known = kCcEflags;
    return true;
}

bool string_op(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned kind = in.op & ~1u;  // a4 movs, a6 cmps, aa stos, ac lods, ae scas, 6c ins, 6e outs
    const bool io = kind == 0x6c || kind == 0x6e;
    const unsigned size = io && in.opsize == 8 ? 4 : in.opsize, asz = in.addrsize;
    const unsigned src_seg = in.seg >= 0 ? unsigned(in.seg) : kSegDs;
    const bool rep = in.rep || in.repne;
    constexpr uint32_t kBudget = offsetof(X86State, rep_budget);
    // Port I/O may have device side effects (debug exit, reset): one iteration per block pass.
    const uint32_t kRepIterations = io ? 1 : 1024;
    uint32_t top = 0, done = 0;
    if (rep) {
        // An in-block loop of at most kRepIterations iterations; then the block exits back to
        // this instruction, so pending interrupts and exit requests are seen during long runs.
        b.set_state(kBudget, b.c32(kRepIterations));
        top = b.new_label();
        done = b.new_label();
        b.label(top);
        b.br_cond(b.cmp(Opcode::CmpEq, t.reg(1, asz), t.cst(asz, 0)), done);
    }
    ValueId df = b.cmp(Opcode::CmpNe, b.and_(b.get_state(Type::I64, kEflags), b.c64(kFlagDf)), b.c64(0));
    ValueId delta = b.select(df, t.cst(asz, uint64_t(-int64_t(size))), t.cst(asz, size));
    ValueId rsi = t.reg(6, asz), rdi = t.reg(7, asz);
    auto src_addr = [&]() { return t.linear(src_seg, t.to64(rsi)); };
    auto dst_addr = [&]() { return t.linear(kSegEs, t.to64(rdi)); };
    bool uses_si = false, uses_di = false;
    ValueId eq = ir::kNoValue;
    switch (kind) {
        case 0xa4: {
            ValueId v = t.load(src_addr(), size);
            t.store(dst_addr(), v, size);
            uses_si = uses_di = true;
            break;
        }
        case 0xaa:
            t.store(dst_addr(), t.reg(0, size), size);
            uses_di = true;
            break;
        case 0x6c: {  // ins: the port is read before the store (a faulting store re-reads it)
            ValueId packed = b.or_(b.zext(Type::I64, t.reg(2, 2)), b.c64(uint64_t(size) << 16));
            ValueId v = b.call(kHelperIn, packed, b.c64(in.pc));
            t.store(dst_addr(), t.resize(v, size), size);
            uses_di = true;
            break;
        }
        case 0x6e: {
            ValueId v = t.load(src_addr(), size);
            ValueId packed = b.or_(b.zext(Type::I64, t.reg(2, 2)), b.c64(uint64_t(size) << 16));
            b.call_void(kHelperOut, packed, t.to64(v), b.c64(in.pc));
            uses_si = true;
            break;
        }
        case 0xac: {
            ValueId v = t.load(src_addr(), size);
            t.set_reg(0, size, v);
            uses_si = true;
            break;
        }
        case 0xa6: {
            ValueId a = t.load(src_addr(), size);
            ValueId c = t.load(dst_addr(), size);
            t.set_cc(kCcKindSub, size, b.sub(a, c), c);
            eq = b.cmp(Opcode::CmpEq, a, c);
            uses_si = uses_di = true;
            break;
        }
        default: {
            ValueId c = t.load(dst_addr(), size);
            ValueId a = t.reg(0, size);
            t.set_cc(kCcKindSub, size, b.sub(a, c), c);
            eq = b.cmp(Opcode::CmpEq, a, c);
            uses_di = true;
            break;
        }
    }
    if (uses_si) t.set_reg(6, asz, b.add(rsi, delta));
    if (uses_di) t.set_reg(7, asz, b.add(rdi, delta));
    if (!rep) {
        if (kind == 0x6e) t.exit_next();  // device side effects are seen before the next insn
        return true;
    }
    ValueId cnt = b.sub(t.reg(1, asz), t.cst(asz, 1));
    t.set_reg(1, asz, cnt);
    ValueId more = b.cmp(Opcode::CmpNe, cnt, t.cst(asz, 0));
    if (eq != ir::kNoValue) more = b.and_(more, in.rep ? eq : b.xor_(eq, b.c32(1)));
    ValueId budget = b.sub(b.get_state(Type::I32, kBudget), b.c32(1));
    b.set_state(kBudget, budget);
    b.br_cond(b.and_(more, b.cmp(Opcode::CmpNe, budget, b.c32(0))), top);
    b.label(done);
    // Values do not cross labels: whether the instruction finished is re-derived from state
    // (rcx, and for cmps/scas the ZF of the last comparison, which is in cc_dst).
    ValueId stop = b.cmp(Opcode::CmpEq, t.reg(1, asz), t.cst(asz, 0));
    if (eq != ir::kNoValue) {
        ValueId zf = b.cmp(Opcode::CmpEq, t.resize(b.get_state(Type::I64, offsetof(X86State, cc_dst)), size),
                           t.cst(size, 0));
        stop = b.or_(stop, in.rep ? b.xor_(zf, b.c32(1)) : zf);
    }
    b.exit_cond(stop, in.next_pc(), in.pc);
    t.ended = true;
    t.cc_known = ~0u;
    return true;
}

bool xlat(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned seg = in.seg >= 0 ? unsigned(in.seg) : kSegDs;
    ValueId off = b.add(t.to64(t.reg(3, in.addrsize)), b.zext(Type::I64, t.reg(0, 1)));
    off = t.resize(t.resize(off, in.addrsize), 8);
    t.set_reg(0, 1, t.load(t.linear(seg, off), 1));
    return true;
}

bool mov_sreg(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned sr = in.reg & 7;
    if (sr >= kSegCount) return false;
    constexpr uint32_t kSel0 = offsetof(X86State, seg) + offsetof(X86Segment, selector);
    if (in.op == 0x8c) {
        ValueId sel = b.get_state(Type::I16, kSel0 + sizeof(X86Segment) * sr);
        if (in.is_mem) {
            t.store(t.ea(), sel, 2);
        } else {
            t.set_reg(in.rm, in.opsize, t.resize(sel, in.opsize));
        }
        return true;
    }
    if (sr == kSegCs) return false;
    ValueId v = t.read_rm(2);
    b.call_void(kHelperLoadSeg, b.c64(sr), t.to64(v), b.c64(in.pc));
    t.exit_next();
    return true;
}

bool push_pop_seg(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    unsigned sr;
    bool push;
    switch (in.op) {
        case 0x06: sr = kSegEs, push = true; break;
        case 0x07: sr = kSegEs, push = false; break;
        case 0x0e: sr = kSegCs, push = true; break;
        case 0x16: sr = kSegSs, push = true; break;
        case 0x17: sr = kSegSs, push = false; break;
        case 0x1e: sr = kSegDs, push = true; break;
        case 0x1f: sr = kSegDs, push = false; break;
        case 0xa0: sr = kSegFs, push = true; break;
        case 0xa1: sr = kSegFs, push = false; break;
        case 0xa8: sr = kSegGs, push = true; break;
        default: sr = kSegGs, push = false; break;
    }
    constexpr uint32_t kSel0 = offsetof(X86State, seg) + offsetof(X86Segment, selector);
    ValueId nsp;
    if (push) {
        ValueId sel = b.get_state(Type::I16, kSel0 + sizeof(X86Segment) * sr);
        t.push(t.resize(sel, in.opsize), in.opsize, &nsp);
        t.set_sp(nsp);
        return true;
    }
    ValueId v = t.pop(in.opsize, &nsp);
    b.call_void(kHelperLoadSeg, b.c64(sr), t.to64(v), b.c64(in.pc));
    t.set_sp(nsp);
    t.exit_next();
    return true;
}

}  // namespace corvid::x86
