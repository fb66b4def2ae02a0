// x86 exception and interrupt delivery: real-mode IVT, 32-bit protected-mode IDT gates, long
// mode 64-bit gates with TSS stack switch and IST, double and triple faults, the -d int log.
#include <fmt/format.h>

#include "base/log.h"
#include "frontends/x86/x86_frontend.h"
#include "frontends/x86/x86_segments.h"
#include "frontends/x86/x86_translator.h"
#include "translator/engine.h"

namespace corvid {

uint32_t x86_fetch_fault_error(X86State& s, uint64_t va, bool* non_canonical);  // x86_mmu.cpp

using namespace x86;

namespace {

bool contributory(uint32_t v) { return v == kVecDe || (v >= kVecTs && v <= kVecGp); }

// Pushes a frame of `n` values of `size` bytes below `sp` (highest first), privilege `cpl`.
bool push_frame(X86State& s, uint64_t seg_base, uint64_t sp, uint64_t sp_mask, const uint64_t* vals, unsigned n,
                unsigned size, unsigned cpl, uint64_t* new_sp, X86Fault* f) {
    for (unsigned i = 0; i < n; ++i) {
        sp = (sp - size) & sp_mask;
        if (!x86_write_virt(s, seg_base + sp, &vals[i], size, cpl, f)) return false;
    }
    *new_sp = sp;
    return true;
}

bool deliver_real(X86State& s, uint32_t vec, uint64_t rip, X86Fault* f) {
    uint32_t ent = 0;
    if (vec * 4 + 3 > s.idtr_limit) {
        f->vector = kVecGp;
        f->error = vec * 8 + 2;
        return false;
    }
    if (!x86_read_virt(s, s.idtr_base + vec * 4, &ent, 4, 0, f)) return false;
    const uint64_t vals[3] = {x86_read_eflags(s) & 0xffff, s.seg[kSegCs].selector, rip & 0xffff};
    uint64_t nsp = 0;
    if (!push_frame(s, s.seg[kSegSs].base, s.regs[4] & 0xffff, 0xffff, vals, 3, 2, 0, &nsp, f)) return false;
    s.regs[4] = (s.regs[4] & ~0xffffull) | nsp;
    s.seg[kSegCs].selector = uint16_t(ent >> 16);
    s.seg[kSegCs].base = uint64_t(ent >> 16) << 4;
    s.eflags &= ~(kFlagIf | kFlagTf | kFlagAc);
    s.common.pc = ent & 0xffff;
    return true;
}

// One delivery attempt through the IDT; on a fault nothing architectural has changed.
bool deliver_protected(X86State& s, uint32_t vec, uint32_t err, bool has_err, uint64_t rip, bool soft, bool ext,
                       X86Fault* f) {
    const bool lm = s.efer & kEferLma;
    const unsigned cpl = x86_cpl(s);
    const unsigned gate_size = lm ? 16 : 8;
    const uint32_t idt_err = vec * 8 + 2 + (ext ? 1 : 0);
    auto fail = [&](uint32_t v, uint32_t e) {
        f->vector = v;
        f->error = e;
        return false;
    };
    if (uint64_t(vec) * gate_size + gate_size - 1 > s.idtr_limit) return fail(kVecGp, idt_err);
    uint64_t gate[2] = {0, 0};
    if (!x86_read_virt(s, s.idtr_base + uint64_t(vec) * gate_size, gate, gate_size, 0, f)) return false;
    const uint64_t lo = gate[0];
    const unsigned type = (lo >> 40) & 0xf, dpl = (lo >> 45) & 3;
    const bool present = (lo >> 47) & 1;
    const uint16_t sel = uint16_t(lo >> 16);
    uint64_t offset = (lo & 0xffff) | ((lo >> 32) & 0xffff0000);
    bool gate32 = true, trap = false;
    if (lm) {
        if (type != 0xe && type != 0xf) return fail(kVecGp, idt_err);
        offset |= gate[1] << 32;
        trap = type == 0xf;
    } else {
        if (type == 0x5) {
            log::logf(log::kUnimp, "x86: task gate for vector {} not implemented", vec);
            return fail(kVecGp, idt_err);
        }
        if (type != 0xe && type != 0xf && type != 0x6 && type != 0x7) return fail(kVecGp, idt_err);
        gate32 = type & 8;
        trap = type & 1;
    }
    if (soft && dpl < cpl) return fail(kVecGp, idt_err);
    if (!present) return fail(kVecNp, idt_err);

    uint64_t desc = 0;
    if ((sel & ~3u) == 0) return fail(kVecGp, ext ? 1 : 0);
    if (!read_descriptor(s, sel, &desc, f)) return false;
    const uint16_t cs_attr = uint16_t(desc >> 40);
    if (!(cs_attr & kSegAttrS) || !(cs_attr & 8)) return fail(kVecGp, (sel & ~3u) | (ext ? 1 : 0));
    if (!(cs_attr & kSegAttrP)) return fail(kVecNp, (sel & ~3u) | (ext ? 1 : 0));
    const bool conforming = cs_attr & 4;
    const unsigned new_cpl = conforming ? cpl : seg_attr_dpl(cs_attr);
    if (new_cpl > cpl) return fail(kVecGp, (sel & ~3u) | (ext ? 1 : 0));

    const uint64_t flags = x86_read_eflags(s);
    const uint16_t old_cs = s.seg[kSegCs].selector, old_ss = s.seg[kSegSs].selector;
    const uint64_t old_sp = s.regs[4];
    uint64_t sp = old_sp;
    X86Segment new_ss = s.seg[kSegSs];
    bool switch_stack = new_cpl < cpl;
    uint64_t nsp = 0;

    if (lm) {
        const unsigned ist = (lo >> 32) & 7;
        if (switch_stack || ist) {
            const uint64_t off = ist ? 0x24 + 8 * (ist - 1) : 4 + 8 * new_cpl;
            if (!x86_read_virt(s, s.tr.base + off, &sp, 8, 0, f)) return false;
        }
        if (switch_stack) {
            new_ss = X86Segment{};
            new_ss.selector = uint16_t(new_cpl);
            new_ss.limit = 0;
        }
        sp &= ~15ull;
        uint64_t vals[6] = {old_ss, old_sp, flags, old_cs, rip, err};
        if (!push_frame(s, 0, sp, ~0ull, vals, has_err ? 6 : 5, 8, new_cpl, &nsp, f)) return false;
    } else {
        const unsigned size = gate32 ? 4 : 2;
        uint64_t ss_base = s.seg[kSegSs].base;
        uint64_t sp_mask = (s.seg[kSegSs].attr & kSegAttrDb) ? 0xffffffff : 0xffff;
        if (switch_stack) {
            uint32_t esp0 = 0;
            uint16_t ss0 = 0;
            if (!x86_read_virt(s, s.tr.base + 4 + 8 * new_cpl, &esp0, 4, 0, f)) return false;
            if (!x86_read_virt(s, s.tr.base + 8 + 8 * new_cpl, &ss0, 2, 0, f)) return false;
            uint64_t sd = 0;
            if (!read_descriptor(s, ss0, &sd, f)) return false;
            segment_from_descriptor(new_ss, ss0, sd);
            sp = esp0;
            ss_base = new_ss.base;
            sp_mask = (new_ss.attr & kSegAttrDb) ? 0xffffffff : 0xffff;
            uint64_t vals[6] = {old_ss, old_sp, flags, old_cs, rip, err};
            if (!push_frame(s, ss_base, sp, sp_mask, vals, has_err ? 6 : 5, size, new_cpl, &nsp, f)) return false;
        } else {
            uint64_t vals[4] = {flags, old_cs, rip, err};
            if (!push_frame(s, ss_base, sp & sp_mask, sp_mask, vals, has_err ? 4 : 3, size, new_cpl, &nsp, f))
                return false;
            nsp = (old_sp & ~sp_mask) | nsp;
        }
        if (!gate32) offset &= 0xffff;
    }

    // Commit.
    s.seg[kSegSs] = new_ss;
    s.regs[4] = nsp;
    segment_from_descriptor(s.seg[kSegCs], uint16_t((sel & ~3u) | new_cpl), desc);
    s.eflags &= ~(kFlagTf | kFlagNt | kFlagRf | kFlagVm);
    if (!trap) s.eflags &= ~kFlagIf;
    s.common.pc = offset;
    update_mode(s);
    return true;
}

}  // namespace

void X86Frontend::deliver_exception(CpuCommon* cpu, uint32_t cause, uint64_t detail) {
    X86State& s = x86_state(cpu);
    uint32_t vec = cause & 0xff;
    bool has_err = cause & kCauseHasError;
    uint32_t err = has_err ? uint32_t(detail) : 0;
    bool soft = cause & kCauseSoft;
    const bool ext = cause & kCauseExtInt;
    uint64_t rip = cpu->pc;
    if (soft) rip = cpu->pc + detail;
    if (!(s.common.mode & kX86ModeCode64)) rip &= 0xffffffff;
    if (cause & kCauseFetch) {
        bool noncanon = false;
        err = x86_fetch_fault_error(s, detail, &noncanon);
        has_err = true;
        if (noncanon || err == 0) {
            if (!noncanon)
                log::logf(log::kGuestErrors, "x86: instruction fetch from non-RAM address 0x{:x}", detail);
            vec = kVecGp;
            err = 0;
        } else {
            vec = kVecPf;
            s.fault_va = detail;
        }
    } else if (cause & kCauseTooLong) {
        vec = kVecGp;
        has_err = true;
        err = 0;
    }
    // The interrupt shadow ends with any event.
    s.common.mode &= ~kX86ModeShadow;

    for (unsigned depth = 0;; ++depth) {
        if (vec == kVecPf) s.cr2 = s.fault_va;
        if (log::enabled(log::kInt)) {
            log::write(fmt::format("int: vector 0x{:02x}{} err=0x{:x} rip=0x{:x} cr2=0x{:x} cpl={}", vec,
                                   ext ? " (external)" : soft ? " (software)" : "", err, rip, s.cr2, x86_cpl(s)));
        }
        X86Fault f;
        bool ok;
        if (!(s.cr0 & kCr0Pe)) {
            ok = deliver_real(s, vec, rip, &f);
        } else {
            ok = deliver_protected(s, vec, err, has_err && (s.cr0 & kCr0Pe), rip, soft, ext, &f);
        }
        if (ok) return;
        const bool df = vec == kVecDf ||
                        ((contributory(vec) || vec == kVecPf) && (contributory(f.vector) || f.vector == kVecPf) &&
                         !(contributory(vec) && f.vector == kVecPf));
        if (vec == kVecDf || depth >= 3) {
            log::logf(log::kInt | log::kGuestErrors, "x86: triple fault at rip 0x{:x}", cpu->pc);
            if (platform_) platform_->triple_fault();
            s.common.exit_request.store(1, std::memory_order_release);
            return;
        }
        if (df) {
            vec = kVecDf;
            err = 0;
        } else {
            vec = f.vector;
            err = f.error;
        }
        has_err = vec == kVecDf || vec == kVecPf || (vec >= kVecTs && vec <= kVecGp) || vec == kVecAc;
        rip = cpu->pc;  // the faulting instruction (or the interrupted one)
        soft = false;
    }
}

bool X86Frontend::interrupts_enabled(const X86State& s) {
    return (s.eflags & kFlagIf) && !(s.common.mode & kX86ModeShadow);
}

bool X86Frontend::take_pending_interrupt(X86State& s, int vector) {
    if (!interrupts_enabled(s) || vector < 0 || vector > 255) return false;
    deliver_exception(&s.common, uint32_t(vector) | kCauseExtInt, 0);
    return true;
}

}  // namespace corvid
