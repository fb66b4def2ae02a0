// Lazy EFLAGS evaluation (the scheme is described in x86_cpu.h) and the mode bits of a state.
#include "frontends/x86/x86_cpu.h"

namespace corvid {

namespace {

uint64_t parity(uint64_t v) { return (__builtin_popcount(unsigned(v & 0xff)) & 1) ? 0 : kFlagPf; }

}  // namespace

uint64_t x86_arith_flags(const X86State& s) { return x86_arith_flags_of(s.cc_op, s.cc_dst, s.cc_src, s.cc_src2); }

uint64_t x86_arith_flags_of(uint32_t op, uint64_t cc_dst, uint64_t cc_src, uint64_t cc_src2) {
    if (op == kCcEflags || op >= kCcKindCount * 4) return cc_src & kFlagsArith;
    const unsigned bits = 8u << (op & 3);
    const uint64_t mask = bits == 64 ? ~0ull : (1ull << bits) - 1;
    const uint64_t sign = 1ull << (bits - 1);
    const uint64_t res = cc_dst & mask, src = cc_src & mask;
    uint64_t cf = 0, of = 0, af = 0;
    switch (X86CcKind(op >> 2)) {
        case kCcKindAdd:
        case kCcKindAdc: {
            const uint64_t cin = op >> 2 == kCcKindAdc ? (cc_src2 & 1) : 0;
            const uint64_t a = (res - src - cin) & mask;
            cf = cin ? (res <= a) : (res < a);
            of = ((a ^ ~src) & (a ^ res) & sign) != 0;
            af = (a ^ src ^ res) & 0x10;
            break;
        }
        case kCcKindSub:
        case kCcKindSbb: {
            const uint64_t cin = op >> 2 == kCcKindSbb ? (cc_src2 & 1) : 0;
            const uint64_t a = (res + src + cin) & mask;
            cf = cin ? (a <= src) : (a < src);
            of = ((a ^ src) & (a ^ res) & sign) != 0;
            af = (a ^ src ^ res) & 0x10;
            break;
        }
        case kCcKindLogic: break;
        case kCcKindInc:
            cf = src & 1;
            of = res == sign;
            af = (res ^ (res - 1)) & 0x10;
            break;
        case kCcKindDec:
            cf = src & 1;
            of = res == sign - 1;
            af = (res ^ (res + 1)) & 0x10;
            break;
        case kCcKindShl:
            cf = (src & sign) != 0;
            of = cf ^ ((res & sign) != 0);
            break;
        case kCcKindSar:
            cf = src & 1;
            of = ((src ^ res) & sign) != 0;
            break;
        case kCcKindMul:
            cf = of = cc_src != 0;
            break;
        default: break;
    }
    uint64_t f = 0;
    if (cf) f |= kFlagCf;
    if (of) f |= kFlagOf;
    if (af) f |= kFlagAf;
    if (res == 0) f |= kFlagZf;
    if (res & sign) f |= kFlagSf;
    f |= parity(res);
    return f;
}

uint64_t x86_read_eflags(const X86State& s) { return (s.eflags & ~kFlagsArith) | x86_arith_flags(s) | 0x2; }

void x86_write_eflags_raw(X86State& s, uint64_t value) {
    s.eflags = (value & ~kFlagsArith) | 0x2;
    s.cc_op = kCcEflags;
    s.cc_src = value & kFlagsArith;
}

uint32_t x86_state_mode(const X86State& s) {
    uint32_t m = 0;
    const uint16_t cs = s.seg[kSegCs].attr;
    if ((s.efer & kEferLma) && (cs & kSegAttrL)) {
        m |= kX86ModeCode64;
    } else if ((s.cr0 & kCr0Pe) && (cs & kSegAttrDb)) {
        m |= kX86ModeCode32;
    }
    if ((s.cr0 & kCr0Pe) && (s.seg[kSegSs].attr & kSegAttrDb)) m |= kX86ModeStack32;
    unsigned cpl = 0;
    if (s.cr0 & kCr0Pe) cpl = s.seg[kSegCs].selector & 3;
    if (s.eflags & kFlagVm) cpl = 3;
    m |= cpl << kX86ModeCplShift;
    if (s.cr0 & kCr0Pe) m |= kX86ModePe;
    if (!(m & kX86ModeCode64)) {
        for (unsigned i : {unsigned(kSegCs), unsigned(kSegDs), unsigned(kSegEs), unsigned(kSegSs)})
            if (s.seg[i].base != 0) m |= kX86ModeSegBase;
    }
    return m;
}

}  // namespace corvid
