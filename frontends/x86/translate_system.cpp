// x86 system instructions: descriptor tables (0F 00 / 0F 01 groups), control and debug
// registers, MSRs, cpuid, rdtsc(p), port I/O, cli/sti, fences and cache no-ops, ud2,
// syscall/sysret.
#include "frontends/x86/x86_translator.h"

#include <cstddef>

namespace corvid::x86 {

namespace {

constexpr uint32_t kCr0 = offsetof(X86State, cr0);

void gdt_idt_load(Translator& t, const X86Insn& in, bool idt) {
    auto& b = t.b;
    ValueId addr = t.ea();
    ValueId limit = t.load(addr, 2);
    ValueId base = t.load(b.add(addr, b.c64(2)), t.mode64() ? 8 : 4);
    base = t.to64(base);
    if (!t.mode64() && in.opsize == 2) base = b.and_(base, b.c64(0xffffff));
    b.set_state(idt ? offsetof(X86State, idtr_limit) : offsetof(X86State, gdtr_limit), b.zext(Type::I32, limit));
    b.set_state(idt ? offsetof(X86State, idtr_base) : offsetof(X86State, gdtr_base), base);
}

void gdt_idt_store(Translator& t, bool idt) {
    auto& b = t.b;
    ValueId addr = t.ea();
    ValueId limit = b.get_state(Type::I32, idt ? offsetof(X86State, idtr_limit) : offsetof(X86State, gdtr_limit));
    ValueId base = b.get_state(Type::I64, idt ? offsetof(X86State, idtr_base) : offsetof(X86State, gdtr_base));
    t.store(addr, b.trunc(Type::I16, limit), 2);
    const unsigned n = t.mode64() ? 8 : 4;
    t.store(b.add(addr, b.c64(2)), t.resize(base, n), n);
}

}  // namespace

bool grp6(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    if (!(t.mode & kX86ModePe)) return false;
    const unsigned op = in.reg & 7;
    switch (op) {
        case 0:
        case 1: {
            const uint32_t off = op == 0 ? offsetof(X86State, ldtr) : offsetof(X86State, tr);
            ValueId sel = b.get_state(Type::I16, off + offsetof(X86Segment, selector));
            if (in.is_mem) {
                t.store(t.ea(), sel, 2);
            } else {
                t.set_reg(in.rm, in.opsize, t.resize(sel, in.opsize));
            }
            return true;
        }
        case 2:
        case 3: {
            if (!t.require_cpl0()) return true;
            ValueId v = t.read_rm(2);
            b.call_void(op == 2 ? kHelperLldt : kHelperLtr, t.to64(v), b.c64(in.pc));
            return true;
        }
        default: return false;
    }
}

bool grp7(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned op = in.reg & 7;
    if (in.mod == 3) {
        switch (in.modrm) {
            case 0xf8:  // swapgs
                if (!t.mode64()) return false;
                if (!t.require_cpl0()) return true;
                b.call_void(kHelperSwapgs);
                return true;
            case 0xf9: {  // rdtscp
                ValueId v = b.call(kHelperRdtscp);
                t.set_reg(0, 4, b.trunc(Type::I32, v));
                t.set_reg(2, 4, b.trunc(Type::I32, b.lshr(v, b.c64(32))));
                t.set_reg(1, 4, b.get_state(Type::I32, offsetof(X86State, tsc_aux)));
                return true;
            }
            default: break;
        }
        if (op == 4) {
            t.set_reg(in.rm, in.opsize, t.resize(b.get_state(Type::I64, kCr0), in.opsize));
            return true;
        }
        if (op == 6) {
            if (!t.require_cpl0()) return true;
            ValueId v = t.to64(t.reg(in.rm, 2));
            b.call_void(kHelperWriteCr, b.c64(0x100), v, b.c64(in.pc));  // 0x100: lmsw
            t.exit_next();
            return true;
        }
        return false;
    }
    switch (op) {
        case 0:
        case 1: gdt_idt_store(t, op == 1); return true;
        case 2:
        case 3:
            if (!t.require_cpl0()) return true;
            gdt_idt_load(t, in, op == 3);
            return true;
        case 4:
            t.store(t.ea(), b.trunc(Type::I16, b.get_state(Type::I64, kCr0)), 2);
            return true;
        case 6: {
            if (!t.require_cpl0()) return true;
            ValueId v = t.to64(t.read_rm(2));
            b.call_void(kHelperWriteCr, b.c64(0x100), v, b.c64(in.pc));
            t.exit_next();
            return true;
        }
        case 7:
            if (!t.require_cpl0()) return true;
            b.call_void(kHelperInvlpg, t.ea());
            t.exit_next();
            return true;
        default: return false;
    }
}

bool mov_cr(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned n = in.reg;
    if (n != 0 && n != 2 && n != 3 && n != 4 && n != 8) return false;
    if (!t.require_cpl0()) return true;
    const unsigned size = t.mode64() ? 8 : 4;
    if (in.op == 0x20) {
        ValueId v = b.call(kHelperReadCr, b.c64(n));
        t.set_reg(in.rm, size, t.resize(v, size));
        return true;
    }
    b.call_void(kHelperWriteCr, b.c64(n), t.to64(t.reg(in.rm, size)), b.c64(in.pc));
    t.exit_next();
    return true;
}

bool mov_dr(Translator& t, const X86Insn& in) {
    if (!t.require_cpl0()) return true;
    const unsigned size = t.mode64() ? 8 : 4;
    if (in.op == 0x21) {
        const unsigned n = in.reg & 7;
        const uint64_t v = n == 6 || n == 4 ? 0xffff0ff0 : n == 7 || n == 5 ? 0x400 : 0;
        t.set_reg(in.rm, size, t.cst(size, v));
    }
    return true;  // writes are accepted and ignored (no hardware breakpoints)
}

bool msr_op(Translator& t, const X86Insn& in) {
    if (!t.require_cpl0()) return true;
    if (in.op == 0x32) {
        t.b.call_void(kHelperRdmsr, t.b.c64(in.pc));
        return true;
    }
    t.b.call_void(kHelperWrmsr, t.b.c64(in.pc));
    t.exit_next();
    return true;
}

bool cpuid(Translator& t, const X86Insn&) {
    t.b.call_void(kHelperCpuid);
    return true;
}

bool rdtsc(Translator& t, const X86Insn&) {
    auto& b = t.b;
    ValueId v = b.call(kHelperRdtsc);
    t.set_reg(0, 4, b.trunc(Type::I32, v));
    t.set_reg(2, 4, b.trunc(Type::I32, b.lshr(v, b.c64(32))));
    return true;
}

bool io_op(Translator& t, const X86Insn& in) {
    auto& b = t.b;
    const unsigned size = (in.op & 1) ? (in.opsize == 2 ? 2 : 4) : 1;
    ValueId port = in.op >= 0xec ? b.zext(Type::I64, t.reg(2, 2)) : b.c64(in.imm & 0xff);
    ValueId packed = b.or_(port, b.c64(uint64_t(size) << 16));
    const bool is_in = (in.op & 2) == 0;
    if (is_in) {
        ValueId v = b.call(kHelperIn, packed, b.c64(in.pc));
        t.set_reg(0, size, t.resize(v, size));
        return true;
    }
    b.call_void(kHelperOut, packed, t.to64(t.reg(0, size)), b.c64(in.pc));
    // Device side effects (debug exit, reset, a raised interrupt) are seen before the next insn.
    t.exit_next();
    return true;
}

bool cli_sti(Translator& t, const X86Insn& in) {
    t.b.call_void(in.op == 0xfa ? kHelperCli : kHelperSti, t.b.c64(in.pc), t.b.c64(in.next_pc()));
    if (in.op == 0xfb) t.exit_next();  // sti: the next instruction runs in the interrupt shadow
    return true;
}

bool clts(Translator& t, const X86Insn&) {
    if (!t.require_cpl0()) return true;
    t.b.set_state(kCr0, t.b.and_(t.b.get_state(Type::I64, kCr0), t.b.c64(~uint64_t(8))));
    return true;
}

bool cache_nop(Translator& t, const X86Insn&) {
    t.require_cpl0();
    return true;
}

bool ud2(Translator& t, const X86Insn&) {
    t.raise_ud();
    return true;
}

bool grp15(Translator& t, const X86Insn& in) {
    const unsigned op = in.reg & 7;
    // lfence / mfence / sfence (no prefix: 66/F3 forms are other, unimplemented instructions):
    // one vCPU, nothing to order.
    if (in.mod == 3) return op >= 5 && !in.opsize_prefix && !in.rep && !in.repne;
    if (op == 7 && !in.opsize_prefix) return true;  // clflush
    (void)t;
    return false;
}

bool syscall(Translator& t, const X86Insn& in) {
    ValueId target = t.b.call(kHelperSyscall, t.b.c64(in.pc), t.b.c64(in.next_pc()));
    t.cc_known = ~0u;
    t.exit_jump(target);
    return true;
}

bool sysret(Translator& t, const X86Insn& in) {
    ValueId target = t.b.call(kHelperSysret, t.b.c64(in.pc), t.b.c64(in.opsize));
    t.cc_known = ~0u;
    t.exit_jump(target);
    return true;
}


}  // namespace corvid::x86
