// Helpers called from x86 generated code: lazy flags, division, rotates through carry and
// double shifts, control registers, segment loads and far transfers, iret, syscall/sysret,
// cli/sti and the interrupt shadow, port I/O. CPUID, RDTSC and MSRs are in x86_cpuid_msr.cpp.
#include "base/log.h"
#include "frontends/x86/x86_frontend.h"
#include "frontends/x86/x86_segments.h"
#include "frontends/x86/x86_translator.h"
#include "translator/engine.h"

namespace corvid::x86 {

namespace {

constexpr uint32_t kRead = ir::kHelperReadsState;
constexpr uint32_t kRw = ir::kHelperReadsState | ir::kHelperWritesState;
constexpr uint32_t kRwRaise = ir::kHelperReadsState | ir::kHelperWritesState | ir::kHelperMayRaise;

[[noreturn]] void raise_at(CpuCommon* cpu, uint64_t pc, uint32_t vector, uint32_t err, bool has_err = true) {
    cpu->pc = pc;
    cpu->engine->raise(cpu, vector | (has_err ? kCauseHasError : 0), err);
}
[[noreturn]] void raise_fault(CpuCommon* cpu, uint64_t pc, const X86Fault& f) {
    const bool has_err = f.vector == kVecPf || (f.vector >= kVecTs && f.vector <= kVecGp) || f.vector == kVecDf;
    raise_at(cpu, pc, f.vector, f.error, has_err);
}

// Pure: the lazy slots come in as arguments (see Translator::arith_flags), so the call is
// removed when a later flag producer overwrites what it computes.
uint64_t arith_flags(CpuCommon*, uint64_t op_cin, uint64_t dst, uint64_t src) {
    return x86_arith_flags_of(uint32_t(op_cin), dst, src, op_cin >> 32);
}

uint64_t write_eflags(CpuCommon* cpu, uint64_t value, uint64_t size, uint64_t) {
    X86State& s = x86_state(cpu);
    write_eflags_checked(s, value, unsigned(size), x86_cpl(s));
    return 0;
}

// div/idiv: packed = size | signed << 4. Raises #DE on a zero divisor or quotient overflow.
uint64_t div(CpuCommon* cpu, uint64_t packed, uint64_t divisor, uint64_t pc) {
    X86State& s = x86_state(cpu);
    const unsigned size = unsigned(packed & 0xf);
    const bool sgn = packed & 0x10;
    const unsigned bits = size * 8;
    const uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
    divisor &= mask;
    if (divisor == 0) raise_at(cpu, pc, kVecDe, 0, false);
    unsigned __int128 dividend;
    if (size == 1) {
        dividend = s.regs[0] & 0xffff;
    } else {
        dividend = ((unsigned __int128)(s.regs[2] & mask) << bits) | (s.regs[0] & mask);
    }
    uint64_t q, r;
    if (!sgn) {
        const unsigned __int128 qq = dividend / divisor;
        if (qq > mask) raise_at(cpu, pc, kVecDe, 0, false);
        q = uint64_t(qq);
        r = uint64_t(dividend % divisor);
    } else {
        // Sign-extend the 2*bits dividend and the divisor.
        const unsigned dbits = 2 * bits;
        __int128 sd = (__int128)(dividend << (128 - dbits)) >> (128 - dbits);
        const int64_t sv = int64_t(divisor << (64 - bits)) >> (64 - bits);
        // INT128_MIN / -1 would overflow the host division itself: it is #DE anyway.
        const __int128 min128 = (__int128)((unsigned __int128)1 << 127);
        if (sv == -1 && sd == min128) raise_at(cpu, pc, kVecDe, 0, false);
        const __int128 qq = sd / sv;
        const __int128 lim = (__int128)1 << (bits - 1);
        if (qq >= lim || qq < -lim) raise_at(cpu, pc, kVecDe, 0, false);
        q = uint64_t(qq) & mask;
        r = uint64_t(sd % sv) & mask;
    }
    auto put = [&](unsigned reg, uint64_t v) {
        if (size == 4) {
            s.regs[reg] = v & mask;
        } else if (size == 8) {
            s.regs[reg] = v;
        } else {
            s.regs[reg] = (s.regs[reg] & ~mask) | (v & mask);
        }
    };
    if (size == 1) {
        s.regs[0] = (s.regs[0] & ~0xffffull) | (q & 0xff) | ((r & 0xff) << 8);
    } else {
        put(0, q);
        put(2, r);
    }
    return 0;
}

// rcl/rcr: packed = size | right << 4 | want_flags << 5; arg = count | cf << 8. Pure.
uint64_t rot_carry(CpuCommon*, uint64_t packed, uint64_t value, uint64_t arg) {
    const unsigned size = unsigned(packed & 0xf), bits = size * 8;
    const bool right = packed & 0x10, want_flags = packed & 0x20;
    const uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
    unsigned count = unsigned(arg & 0x3f);
    if (bits < 32) count %= bits + 1;
    uint64_t v = value & mask, cf = (arg >> 8) & 1;
    for (unsigned i = 0; i < count; ++i) {
        if (!right) {
            const uint64_t out = (v >> (bits - 1)) & 1;
            v = ((v << 1) | cf) & mask;
            cf = out;
        } else {
            const uint64_t out = v & 1;
            v = (v >> 1) | (cf << (bits - 1));
            cf = out;
        }
    }
    if (!want_flags) return v;
    uint64_t of;
    if (!right) {
        of = ((v >> (bits - 1)) & 1) ^ cf;
    } else {
        of = ((v >> (bits - 1)) ^ (v >> (bits - 2))) & 1;
    }
    return (cf ? kFlagCf : 0) | (of ? kFlagOf : 0);
}

// shld/shrd: packed = size | right << 4 | want_flags << 5 | count << 8. Pure.
uint64_t shift_double(CpuCommon*, uint64_t packed, uint64_t dst, uint64_t src) {
    const unsigned size = unsigned(packed & 0xf), bits = size * 8;
    const bool right = packed & 0x10, want_flags = packed & 0x20;
    const unsigned count = unsigned((packed >> 8) & 0x3f);
    const uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
    dst &= mask;
    src &= mask;
    if (count == 0) return want_flags ? 0 : dst;
    uint64_t res = dst, cf = 0;
    // Bit by bit keeps the 16-bit count > 16 case (undefined) deterministic.
    for (unsigned i = 0; i < count; ++i) {
        const unsigned k = i % bits;
        if (!right) {
            cf = (res >> (bits - 1)) & 1;
            res = ((res << 1) | ((src >> (bits - 1 - k)) & 1)) & mask;
        } else {
            cf = res & 1;
            res = (res >> 1) | (((src >> k) & 1) << (bits - 1));
        }
    }
    if (!want_flags) return res;
    uint64_t f = cf ? kFlagCf : 0;
    const uint64_t sign = 1ull << (bits - 1);
    if (((res ^ dst) & sign) != 0) f |= kFlagOf;
    if (res == 0) f |= kFlagZf;
    if (res & sign) f |= kFlagSf;
    if (!(__builtin_popcount(unsigned(res & 0xff)) & 1)) f |= kFlagPf;
    return f;
}

uint64_t check_align16(CpuCommon* cpu, uint64_t addr, uint64_t pc, uint64_t) {
    if (addr & 15) raise_at(cpu, pc, kVecGp, 0);
    return 0;
}

uint64_t read_cr(CpuCommon* cpu, uint64_t n, uint64_t, uint64_t) {
    X86State& s = x86_state(cpu);
    switch (n) {
        case 0: return s.cr0;
        case 2: return s.cr2;
        case 3: return s.cr3;
        case 4: return s.cr4;
        default: return s.cr8;
    }
}

uint64_t write_cr(CpuCommon* cpu, uint64_t n, uint64_t v, uint64_t pc) {
    X86State& s = x86_state(cpu);
    Engine* e = cpu->engine;
    auto gp = [&]() { raise_at(cpu, pc, kVecGp, 0); };
    switch (n) {
        case 0x100:  // lmsw: PE can be set, not cleared
            v = (s.cr0 & ~0xeull) | (v & 0xf) | (s.cr0 & kCr0Pe);
            [[fallthrough]];
        case 0: {
            v = (v & 0xffffffff) | kCr0Et;
            if ((v & kCr0Pg) && !(v & kCr0Pe)) gp();
            uint64_t efer = s.efer;
            if ((v & kCr0Pg) && !(s.cr0 & kCr0Pg) && (efer & kEferLme)) {
                if (!(s.cr4 & kCr4Pae)) gp();
                efer |= kEferLma;
            }
            if (!(v & kCr0Pg)) efer &= ~kEferLma;
            const bool flush = (v ^ s.cr0) & (kCr0Pg | kCr0Wp | kCr0Pe);
            s.cr0 = v;
            s.efer = efer;
            if (flush) e->tlb_flush(cpu);
            break;
        }
        case 2: s.cr2 = v; break;
        case 3:
            s.cr3 = v;
            e->tlb_flush(cpu);
            break;
        case 4:
            if ((s.efer & kEferLma) && !(v & kCr4Pae)) gp();
            if (v & ~0x3fffffull) gp();
            if ((v ^ s.cr4) & (kCr4Pae | kCr4Pge | kCr4Pse)) e->tlb_flush(cpu);
            s.cr4 = v;
            break;
        default: s.cr8 = v & 0xf; break;
    }
    update_mode(s);
    return 0;
}

uint64_t load_seg(CpuCommon* cpu, uint64_t seg, uint64_t sel, uint64_t pc) {
    X86State& s = x86_state(cpu);
    X86Fault f;
    if (!load_data_segment(s, unsigned(seg), uint16_t(sel), &f)) raise_fault(cpu, pc, f);
    update_mode(s);
    // mov ss / pop ss: no interrupt before the next instruction (the stack pointer load).
    if (seg == kSegSs) cpu->mode |= kX86ModeShadow;
    return 0;
}

uint64_t far_jump(CpuCommon* cpu, uint64_t sel, uint64_t offset, uint64_t pc) {
    X86State& s = x86_state(cpu);
    X86Fault f;
    const unsigned cpl = x86_cpl(s);
    if ((s.cr0 & kCr0Pe) && !(s.eflags & kFlagVm) && (sel & 3) > cpl) {
        log::logf(log::kUnimp, "x86: far transfer to an outer privilege level (selector 0x{:x}) not implemented", sel);
        raise_at(cpu, pc, kVecGp, uint32_t(sel & ~3u));
    }
    if (!load_code_segment(s, uint16_t(sel), cpl, &f)) raise_fault(cpu, pc, f);
    update_mode(s);
    if (s.common.mode & kX86ModeCode64) return offset;
    return (s.common.mode & kX86ModeCode32) ? (offset & 0xffffffff) : (offset & 0xffff);
}

uint64_t iret(CpuCommon* cpu, uint64_t size, uint64_t pc, uint64_t) {
    X86State& s = x86_state(cpu);
    const unsigned n = unsigned(size), cpl = x86_cpl(s);
    const bool pe = s.cr0 & kCr0Pe, lm = s.efer & kEferLma, code64 = s.common.mode & kX86ModeCode64;
    const uint64_t sp_mask = code64 ? ~0ull : (s.seg[kSegSs].attr & kSegAttrDb) ? 0xffffffff : 0xffff;
    const uint64_t ss_base = code64 ? 0 : s.seg[kSegSs].base;
    uint64_t sp = s.regs[4] & sp_mask;
    X86Fault f;
    auto pop = [&]() {
        uint64_t v = 0;
        if (!x86_read_virt(s, ss_base + sp, &v, n, cpl, &f)) raise_fault(cpu, pc, f);
        sp = (sp + n) & sp_mask;
        return v;
    };
    if (pe && (s.eflags & kFlagNt) && !lm) {
        log::logf(log::kUnimp, "x86: iret with NT set (task return) not implemented");
        raise_at(cpu, pc, kVecGp, 0);
    }
    const uint64_t ip = pop();
    const uint16_t cs = uint16_t(pop());
    const uint64_t flags = pop();
    if (!pe) {
        s.seg[kSegCs].selector = cs;
        s.seg[kSegCs].base = uint64_t(cs) << 4;
        s.regs[4] = (s.regs[4] & ~sp_mask) | sp;
        write_eflags_checked(s, flags, n, 0);
        update_mode(s);
        return ip & 0xffff;
    }
    const unsigned new_cpl = cs & 3;
    if (new_cpl < cpl) raise_at(cpu, pc, kVecGp, cs & ~3u);
    uint64_t new_sp = 0;
    uint16_t new_ss = 0;
    const bool pop_stack = code64 || new_cpl > cpl;
    if (pop_stack) {
        new_sp = pop();
        new_ss = uint16_t(pop());
    }
    // Restored on a fault while loading the segments.
    const X86Segment saved_cs = s.seg[kSegCs], saved_ss = s.seg[kSegSs];
    if (!load_code_segment(s, cs, new_cpl, &f)) raise_fault(cpu, pc, f);
    update_mode(s);  // CPL (and with it SS checks) follow the new CS
    if (pop_stack) {
        if (!load_data_segment(s, kSegSs, new_ss, &f)) {
            s.seg[kSegCs] = saved_cs;
            s.seg[kSegSs] = saved_ss;
            update_mode(s);
            raise_fault(cpu, pc, f);
        }
        s.regs[4] = new_sp;
    } else {
        s.regs[4] = (s.regs[4] & ~sp_mask) | sp;
    }
    write_eflags_checked(s, flags, n, cpl);
    update_mode(s);
    if (s.common.mode & kX86ModeCode64) return ip;
    return (s.common.mode & kX86ModeCode32) ? (ip & 0xffffffff) : (ip & 0xffff);
}

uint64_t ltr_lldt(CpuCommon* cpu, uint64_t sel, uint64_t pc, bool tr) {
    X86State& s = x86_state(cpu);
    X86Fault f;
    X86Segment& dst = tr ? s.tr : s.ldtr;
    if ((sel & ~3u) == 0) {
        if (tr) raise_at(cpu, pc, kVecGp, 0);
        dst = X86Segment{};
        return 0;
    }
    uint64_t d = 0;
    if (!read_descriptor(s, uint16_t(sel), &d, &f)) raise_fault(cpu, pc, f);
    segment_from_descriptor(dst, uint16_t(sel), d);
    if (s.efer & kEferLma) {
        uint32_t hi = 0;
        if (!x86_read_virt(s, s.gdtr_base + (sel & ~7u) + 8, &hi, 4, 0, &f)) raise_fault(cpu, pc, f);
        dst.base |= uint64_t(hi) << 32;
    }
    return 0;
}
uint64_t ltr(CpuCommon* cpu, uint64_t sel, uint64_t pc, uint64_t) { return ltr_lldt(cpu, sel, pc, true); }
uint64_t lldt(CpuCommon* cpu, uint64_t sel, uint64_t pc, uint64_t) { return ltr_lldt(cpu, sel, pc, false); }

uint64_t invlpg(CpuCommon* cpu, uint64_t va, uint64_t, uint64_t) {
    cpu->engine->tlb_flush_page(cpu, va);
    return 0;
}

bool io_allowed(const X86State& s) {
    if (!(s.cr0 & kCr0Pe)) return true;
    if (s.eflags & kFlagVm) return false;
    return x86_cpl(s) <= unsigned((s.eflags & kFlagIopl) >> 12);
}

uint64_t cli(CpuCommon* cpu, uint64_t pc, uint64_t, uint64_t) {
    X86State& s = x86_state(cpu);
    if (!io_allowed(s)) raise_at(cpu, pc, kVecGp, 0);
    s.eflags &= ~kFlagIf;
    return 0;
}

uint64_t sti(CpuCommon* cpu, uint64_t pc, uint64_t, uint64_t) {
    X86State& s = x86_state(cpu);
    if (!io_allowed(s)) raise_at(cpu, pc, kVecGp, 0);
    if (!(s.eflags & kFlagIf)) {
        s.eflags |= kFlagIf;
        cpu->mode |= kX86ModeShadow;  // the next instruction runs before any interrupt
    }
    return 0;
}

uint64_t end_shadow(CpuCommon* cpu, uint64_t, uint64_t, uint64_t) {
    X86State& s = x86_state(cpu);
    cpu->mode &= ~kX86ModeShadow;
    request_exit_if_irq_unmasked(s);
    return 0;
}

uint64_t swapgs(CpuCommon* cpu, uint64_t, uint64_t, uint64_t) {
    X86State& s = x86_state(cpu);
    std::swap(s.seg[kSegGs].base, s.kernel_gs_base);
    return 0;
}

uint64_t syscall(CpuCommon* cpu, uint64_t pc, uint64_t next, uint64_t) {
    X86State& s = x86_state(cpu);
    if (!(s.efer & kEferSce)) raise_at(cpu, pc, kVecUd, 0, false);
    const uint16_t sel = uint16_t((s.star >> 32) & 0xfffc);
    if (s.efer & kEferLma) {
        s.regs[1] = next;
        s.regs[11] = x86_read_eflags(s) & ~kFlagRf;
        s.seg[kSegCs] = flat_segment(sel, 0x9b | kSegAttrL | kSegAttrG);
        s.seg[kSegSs] = flat_segment(uint16_t(sel + 8), 0x93 | kSegAttrDb | kSegAttrG);
        x86_write_eflags_raw(s, x86_read_eflags(s) & ~(s.sfmask | kFlagRf));
        update_mode(s);
        return (s.common.mode & kX86ModeCode64) ? s.lstar : s.cstar;
    }
    s.regs[1] = next & 0xffffffff;
    s.seg[kSegCs] = flat_segment(sel, 0x9b | kSegAttrDb | kSegAttrG);
    s.seg[kSegSs] = flat_segment(uint16_t(sel + 8), 0x93 | kSegAttrDb | kSegAttrG);
    s.eflags &= ~(kFlagIf | kFlagRf | kFlagVm);
    update_mode(s);
    return s.star & 0xffffffff;
}

uint64_t sysret(CpuCommon* cpu, uint64_t pc, uint64_t size, uint64_t) {
    X86State& s = x86_state(cpu);
    if (!(s.efer & kEferSce)) raise_at(cpu, pc, kVecUd, 0, false);
    if (x86_cpl(s) != 0 || !(s.cr0 & kCr0Pe)) raise_at(cpu, pc, kVecGp, 0);
    const uint16_t base = uint16_t((s.star >> 48) & 0xfffc);
    uint64_t rip;
    if (size == 8) {
        s.seg[kSegCs] = flat_segment(uint16_t((base + 16) | 3), 0xfb | kSegAttrL | kSegAttrG);
        rip = s.regs[1];
    } else {
        s.seg[kSegCs] = flat_segment(uint16_t(base | 3), 0xfb | kSegAttrDb | kSegAttrG);
        rip = s.regs[1] & 0xffffffff;
    }
    s.seg[kSegSs] = flat_segment(uint16_t((base + 8) | 3), 0xf3 | kSegAttrDb | kSegAttrG);
    if (s.efer & kEferLma) {
        x86_write_eflags_raw(s, (s.regs[11] & 0x3c7fd7) | 2);
    } else {
        s.eflags |= kFlagIf;
    }
    update_mode(s);
    request_exit_if_irq_unmasked(s);
    return rip;
}

uint64_t io_in(CpuCommon* cpu, uint64_t packed, uint64_t pc, uint64_t) {
    X86State& s = x86_state(cpu);
    if (!io_allowed(s)) raise_at(cpu, pc, kVecGp, 0);
    const uint16_t port = uint16_t(packed);
    const unsigned size = unsigned(packed >> 16);
    X86Platform* p = s.frontend ? s.frontend->platform() : nullptr;
    const uint64_t mask = size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
    if (!p) return mask;  // nothing on the bus: all ones
    cpu->pc = pc;
    return p->io_read(port, size) & mask;
}

uint64_t io_out(CpuCommon* cpu, uint64_t packed, uint64_t value, uint64_t pc) {
    X86State& s = x86_state(cpu);
    if (!io_allowed(s)) raise_at(cpu, pc, kVecGp, 0);
    const uint16_t port = uint16_t(packed);
    const unsigned size = unsigned(packed >> 16);
    X86Platform* p = s.frontend ? s.frontend->platform() : nullptr;
    const uint64_t mask = size == 4 ? 0xffffffffull : (1ull << (8 * size)) - 1;
    cpu->pc = pc;
    if (p) p->io_write(port, value & mask, size);
    return 0;
}

}  // namespace

const ir::HelperInfo kHelperArithFlags = {"x86_arith_flags", &arith_flags, 3, ir::kHelperPure};
const ir::HelperInfo kHelperWriteEflags = {"x86_write_eflags", &write_eflags, 2, kRw};
const ir::HelperInfo kHelperDiv = {"x86_div", &div, 3, kRwRaise};
const ir::HelperInfo kHelperRotCarry = {"x86_rot_carry", &rot_carry, 3, ir::kHelperPure};
const ir::HelperInfo kHelperShiftDouble = {"x86_shift_double", &shift_double, 3, ir::kHelperPure};
const ir::HelperInfo kHelperCheckAlign16 = {"x86_check_align16", &check_align16, 2, ir::kHelperMayRaise};
const ir::HelperInfo kHelperReadCr = {"x86_read_cr", &read_cr, 1, kRead};
const ir::HelperInfo kHelperWriteCr = {"x86_write_cr", &write_cr, 3, kRwRaise};
const ir::HelperInfo kHelperLoadSeg = {"x86_load_seg", &load_seg, 3, kRwRaise};
const ir::HelperInfo kHelperFarJump = {"x86_far_jump", &far_jump, 3, kRwRaise};
const ir::HelperInfo kHelperIret = {"x86_iret", &iret, 2, kRwRaise};
const ir::HelperInfo kHelperLtr = {"x86_ltr", &ltr, 2, kRwRaise};
const ir::HelperInfo kHelperLldt = {"x86_lldt", &lldt, 2, kRwRaise};
const ir::HelperInfo kHelperInvlpg = {"x86_invlpg", &invlpg, 1, kRw};
const ir::HelperInfo kHelperCli = {"x86_cli", &cli, 2, kRwRaise};
const ir::HelperInfo kHelperSti = {"x86_sti", &sti, 2, kRwRaise};
const ir::HelperInfo kHelperEndShadow = {"x86_end_shadow", &end_shadow, 0, kRw};
const ir::HelperInfo kHelperSwapgs = {"x86_swapgs", &swapgs, 0, kRw};
const ir::HelperInfo kHelperSyscall = {"x86_syscall", &syscall, 2, kRwRaise};
const ir::HelperInfo kHelperSysret = {"x86_sysret", &sysret, 2, kRwRaise};
const ir::HelperInfo kHelperIn = {"x86_in", &io_in, 2, kRwRaise};
const ir::HelperInfo kHelperOut = {"x86_out", &io_out, 3, kRwRaise};

}  // namespace corvid::x86
