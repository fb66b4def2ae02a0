// Descriptor tables and segment register loads for the x86 frontend (see x86_segments.h).
#include "frontends/x86/x86_segments.h"

#include "frontends/x86/x86_translator.h"
#include "translator/engine.h"

namespace corvid::x86 {

bool read_descriptor(X86State& s, uint16_t sel, uint64_t* desc, X86Fault* f) {
    const bool ldt = sel & 4;
    const uint64_t base = ldt ? s.ldtr.base : s.gdtr_base;
    const uint32_t limit = ldt ? s.ldtr.limit : s.gdtr_limit;
    const uint32_t index = sel & ~7u;
    if (uint64_t(index) + 7 > limit) {
        f->vector = kVecGp;
        f->error = sel & ~3u;
        return false;
    }
    return x86_read_virt(s, base + index, desc, 8, 0, f);
}

void segment_from_descriptor(X86Segment& seg, uint16_t sel, uint64_t d) {
    seg.selector = sel;
    seg.base = ((d >> 16) & 0xffffff) | (((d >> 56) & 0xff) << 24);
    uint32_t limit = uint32_t((d & 0xffff) | (((d >> 48) & 0xf) << 16));
    seg.attr = uint16_t(d >> 40);
    if (seg.attr & kSegAttrG) limit = (limit << 12) | 0xfff;
    seg.limit = limit;
}

X86Segment flat_segment(uint16_t sel, uint16_t attr) {
    X86Segment seg;
    seg.selector = sel;
    seg.base = 0;
    seg.limit = 0xffffffff;
    seg.attr = attr;
    return seg;
}

bool load_data_segment(X86State& s, unsigned seg, uint16_t sel, X86Fault* f) {
    X86Segment& dst = s.seg[seg];
    if (!(s.cr0 & kCr0Pe) || (s.eflags & kFlagVm)) {
        dst.selector = sel;
        dst.base = uint64_t(sel) << 4;
        return true;
    }
    const unsigned cpl = x86_cpl(s);
    if ((sel & ~3u) == 0) {
        if (seg == kSegSs && !((s.efer & kEferLma) && (s.common.mode & kX86ModeCode64) && cpl != 3)) {
            f->vector = kVecGp;
            f->error = 0;
            return false;
        }
        dst = X86Segment{};
        dst.selector = sel;
        dst.limit = 0;
        return true;
    }
    uint64_t d = 0;
    if (!read_descriptor(s, sel, &d, f)) return false;
    const uint16_t attr = uint16_t(d >> 40);
    const unsigned type = attr & 0xf, dpl = seg_attr_dpl(attr), rpl = sel & 3;
    const bool code = type & 8;
    auto gp = [&]() {
        f->vector = kVecGp;
        f->error = sel & ~3u;
        return false;
    };
    if (!(attr & kSegAttrS)) return gp();
    if (seg == kSegSs) {
        if (code || !(type & 2) || rpl != cpl || dpl != cpl) return gp();
        if (!(attr & kSegAttrP)) {
            f->vector = kVecSs;
            f->error = sel & ~3u;
            return false;
        }
    } else {
        if (code && !(type & 2)) return gp();  // execute-only code
        if (!(attr & kSegAttrP)) {
            f->vector = kVecNp;
            f->error = sel & ~3u;
            return false;
        }
    }
    segment_from_descriptor(dst, sel, d);
    return true;
}

bool load_code_segment(X86State& s, uint16_t sel, unsigned new_cpl, X86Fault* f) {
    X86Segment& cs = s.seg[kSegCs];
    if (!(s.cr0 & kCr0Pe) || (s.eflags & kFlagVm)) {
        cs.selector = sel;
        cs.base = uint64_t(sel) << 4;
        return true;
    }
    if ((sel & ~3u) == 0) {
        f->vector = kVecGp;
        f->error = 0;
        return false;
    }
    uint64_t d = 0;
    if (!read_descriptor(s, sel, &d, f)) return false;
    const uint16_t attr = uint16_t(d >> 40);
    if (!(attr & kSegAttrS) || !(attr & 8)) {
        f->vector = kVecGp;
        f->error = sel & ~3u;
        return false;
    }
    if (!(attr & kSegAttrP)) {
        f->vector = kVecNp;
        f->error = sel & ~3u;
        return false;
    }
    segment_from_descriptor(cs, uint16_t((sel & ~3u) | new_cpl), d);
    return true;
}

void write_eflags_checked(X86State& s, uint64_t value, unsigned size, unsigned cpl) {
    uint64_t mask = kFlagsArith | kFlagTf | kFlagDf | kFlagNt | kFlagRf | kFlagAc | kFlagId;
    const unsigned iopl = unsigned((s.eflags & kFlagIopl) >> 12);
    if (cpl <= iopl) mask |= kFlagIf;
    if (cpl == 0) mask |= kFlagIopl;
    if (size == 2) mask &= 0xffff;
    const uint64_t old = x86_read_eflags(s);
    x86_write_eflags_raw(s, (old & ~mask) | (value & mask));
    request_exit_if_irq_unmasked(s);
}

void update_mode(X86State& s) {
    const uint32_t old = s.common.mode;
    s.common.mode = x86_state_mode(s) | (old & kX86ModeShadow);
    if (((old ^ s.common.mode) & kX86ModeCplMask) && s.common.engine) s.common.engine->tlb_flush(&s.common);
}

void request_exit_if_irq_unmasked(X86State& s) {
    if (s.frontend && s.frontend->irq_line() && (s.eflags & kFlagIf))
        s.common.exit_request.store(1, std::memory_order_release);
}

}  // namespace corvid::x86
