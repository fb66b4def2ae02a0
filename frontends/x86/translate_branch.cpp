// x86 control transfer: jcc/jmp/call/ret (near, far, indirect), loop/jcxz, int/int3/into,
// iret, hlt, and the FF group.
#include "frontends/x86/x86_translator.h"

#include <cstddef>

namespace corvid::x86 {

bool grp5_inc_dec(Translator& t, const X86Insn& in);  // translate_alu.cpp

namespace {

uint64_t mask_ip(const Translator& t, uint64_t ip, unsigned size) {
    if (t.mode64()) return ip;
    return size == 2 ? (ip & 0xffff) : (ip & 0xffffffff);
}

void jump_to(Translator& t, ValueId target) {
    t.exit_jump(target);
}

// Far transfer through the helper (CS load with checks, mode update); returns its new pc.
ValueId far_transfer(Translator& t, ValueId sel, ValueId offset) {
    return t.b.call(kHelperFarJump, t.to64(sel), t.to64(offset), t.b.c64(t.in->pc));
}

}  // namespace

bool jcc(Translator& t, const X86Insn& in) {
    const uint64_t target = mask_ip(t, in.next_pc() + in.imm, in.opsize);
    ValueId c = t.cond(in.op & 15);
    t.b.exit_cond(c, target, mask_ip(t, in.next_pc(), in.opsize));
    t.ended = true;
    return true;
}

bool jmp_rel(Translator& t, const X86Insn& in) {
    t.exit_link(mask_ip(t, in.next_pc() + in.imm, in.opsize));
    return true;
}

bool call_rel(Translator& t, const X86Insn& in) {
    ValueId nsp;
    t.push(t.cst(in.opsize, in.next_pc()), in.opsize, &nsp);
    t.set_sp(nsp);
    t.b.push_return_hint(mask_ip(t, in.next_pc(), in.opsize));
    t.exit_link(mask_ip(t, in.next_pc() + in.imm, in.opsize));
    return true;
}

bool ret_near(Translator& t, const X86Insn& in) {
    ValueId nsp;
    ValueId target = t.pop(in.opsize, &nsp, in.op == 0xc2 ? unsigned(in.imm & 0xffff) : 0);
    t.set_sp(nsp);
    t.b.exit_return(t.to64(target));
    t.ended = true;
    return true;
}

bool loop_op(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned asz = in.addrsize;
    const uint64_t target = mask_ip(t, in.next_pc() + in.imm, in.opsize);
    const uint64_t next = mask_ip(t, in.next_pc(), in.opsize);
    if (in.op == 0xe3) {
        b.exit_cond(b.cmp(Opcode::CmpEq, t.reg(1, asz), t.cst(asz, 0)), target, next);
        t.ended = true;
        return true;
    }
    ValueId c = in.op == 0xe2 ? ir::kNoValue : t.cond(in.op == 0xe1 ? 4 : 5);
    ValueId cnt = b.sub(t.reg(1, asz), t.cst(asz, 1));
    t.set_reg(1, asz, cnt);
    ValueId go = b.cmp(Opcode::CmpNe, cnt, t.cst(asz, 0));
    if (c != ir::kNoValue) go = b.and_(go, c);
    b.exit_cond(go, target, next);
    t.ended = true;
    return true;
}

bool jmp_far(Translator& t, const X86Insn& in) {
    jump_to(t, far_transfer(t, t.b.c64(in.imm2), t.b.c64(in.imm)));
    return true;
}

bool call_far(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned size = in.opsize, ss = t.stack_size();
    constexpr uint32_t kCsSel = offsetof(X86State, seg) + sizeof(X86Segment) * kSegCs + offsetof(X86Segment, selector);
    ValueId sp = t.sp();
    ValueId sp1 = b.sub(sp, t.cst(ss, size));
    ValueId sp2 = b.sub(sp1, t.cst(ss, size));
    t.store(t.linear(kSegSs, t.to64(sp1)), t.resize(b.get_state(Type::I16, kCsSel), size), size);
    t.store(t.linear(kSegSs, t.to64(sp2)), t.cst(size, in.next_pc()), size);
    ValueId target = far_transfer(t, b.c64(in.imm2), b.c64(in.imm));
    t.set_sp(sp2);
    jump_to(t, target);
    return true;
}

bool ret_far(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned size = in.opsize, ss = t.stack_size();
    ValueId sp = t.sp();
    ValueId ip = t.load(t.linear(kSegSs, t.to64(sp)), size);
    ValueId cs = t.load(t.linear(kSegSs, t.to64(b.add(sp, t.cst(ss, size)))), size);
    ValueId target = far_transfer(t, t.resize(cs, 2), ip);
    const uint64_t extra = in.op == 0xca ? (in.imm & 0xffff) : 0;
    t.set_sp(b.add(sp, t.cst(ss, 2 * size + extra)));
    jump_to(t, target);
    return true;
}

bool int_op(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    switch (in.op) {
        case 0xcc: b.exit_exception(kVecBp | kCauseSoft, in.len); break;
        case 0xcd: b.exit_exception(uint32_t(in.imm & 0xff) | kCauseSoft, in.len); break;
        default: {  // into
            uint32_t skip = b.new_label();
            b.br_cond(b.xor_(t.cond(0), b.c32(1)), skip);
            b.exit_exception(kVecOf | kCauseSoft, in.len);
            b.label(skip);
            t.exit_link(in.next_pc());
            return true;
        }
    }
    t.ended = true;
    return true;
}

bool iret(Translator& t, const X86Insn& in) {
    ValueId target = t.b.call(kHelperIret, t.b.c64(in.opsize), t.b.c64(in.pc));
    t.cc_known = ~0u;
    jump_to(t, target);
    return true;
}

bool hlt(Translator& t, const X86Insn& in) {
    if (!t.require_cpl0()) return true;
    t.b.set_state(0, t.b.c64(in.next_pc()));
    t.b.exit_halt(ir::HaltReason::kWaitForInterrupt);
    t.ended = true;
    return true;
}

bool grp5(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned op = in.reg & 7;
    switch (op) {
        case 0:
        case 1: return grp5_inc_dec(t, in);
        case 2:
        case 4: {
            const unsigned size = t.mode64() ? 8 : in.opsize;
            ValueId target = t.read_rm(size);
            if (op == 2) {
                ValueId nsp;
                t.push(t.cst(size, in.next_pc()), size, &nsp);
                t.set_sp(nsp);
                t.b.push_return_hint(mask_ip(t, in.next_pc(), size));
            }
            jump_to(t, t.to64(target));
            return true;
        }
        case 3:
        case 5: {
            if (!in.is_mem) return false;
            const unsigned size = in.opsize;
            ValueId addr = t.ea();
            ValueId off = t.load(addr, size);
            ValueId sel = t.load(b.add(addr, b.c64(size)), 2);
            if (op == 3) {
                constexpr uint32_t kCsSel =
                    offsetof(X86State, seg) + sizeof(X86Segment) * kSegCs + offsetof(X86Segment, selector);
                const unsigned ss = t.stack_size();
                ValueId sp = t.sp();
                ValueId sp1 = b.sub(sp, t.cst(ss, size));
                ValueId sp2 = b.sub(sp1, t.cst(ss, size));
                t.store(t.linear(kSegSs, t.to64(sp1)), t.resize(b.get_state(Type::I16, kCsSel), size), size);
                t.store(t.linear(kSegSs, t.to64(sp2)), t.cst(size, in.next_pc()), size);
                ValueId target = far_transfer(t, sel, off);
                t.set_sp(sp2);
                jump_to(t, target);
                return true;
            }
            jump_to(t, far_transfer(t, sel, off));
            return true;
        }
        case 6: {
            // 64-bit mode: REX.W wins over 66 (in.opsize is already 8 then); no 32-bit push.
            const unsigned size = t.mode64() ? (in.opsize == 2 ? 2 : 8) : in.opsize;
            ValueId v = t.read_rm(size);
            ValueId nsp;
            t.push(v, size, &nsp);
            t.set_sp(nsp);
            return true;
        }
        default: return false;
    }
}

}  // namespace corvid::x86
