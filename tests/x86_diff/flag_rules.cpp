// Defined-flag rules (see flag_rules.h). Everything the SDM calls "undefined" is masked out;
// unaffected flags keep their (defined) input value and are compared.
#include "tests/x86_diff/flag_rules.h"

namespace corvid::x86diff {
namespace {

constexpr uint64_t kNoAf = kAllCompared & ~kAf;
constexpr uint64_t kMulDefined = kAllCompared & ~(kSf | kZf | kAf | kPf);  // CF, OF (and DF)

uint64_t alu_flags(unsigned kind) {
    // or, and, xor: OF = CF = 0, AF undefined.
    return (kind == 1 || kind == 4 || kind == 6) ? kNoAf : kAllCompared;
}

// C0/C1/D0-D3: rol ror rcl rcr shl shr sal sar.
uint64_t shift_flags(unsigned kind, unsigned opsize, uint64_t count) {
    const unsigned bits = opsize * 8;
    const uint64_t c = count & (opsize == 8 ? 63 : 31);
    if (c == 0) return kAllCompared;                                   // no flag changes
    if (kind < 4) return c == 1 ? kAllCompared : kAllCompared & ~kOf;  // rotates: CF, OF(count 1) only
    uint64_t m = kNoAf;
    if (c != 1) m &= ~kOf;
    if (kind != 7 && c >= bits) m &= ~kCf;  // SHL/SHR: "CF undefined where count >= operand size"
    return m;
}

uint64_t double_shift_flags(unsigned opsize, uint64_t count) {
    const uint64_t c = count & (opsize == 8 ? 63 : 31);
    if (c == 0) return kAllCompared;
    uint64_t m = kNoAf;
    if (c != 1) m &= ~kOf;
    return m;
}

}  // namespace

uint64_t defined_flags(x86::OpMap map, uint8_t op, unsigned reg, unsigned opsize, bool f3, uint64_t count) {
    reg &= 7;
    if (map == x86::kMapPrimary) {
        if (op < 0x40 && (op & 7) < 6) return alu_flags(op >> 3);
        switch (op) {
            case 0x69:
            case 0x6b: return kMulDefined;
            case 0x80:
            case 0x81:
            case 0x83: return alu_flags(reg);
            case 0x84:
            case 0x85:
            case 0xa8:
            case 0xa9: return kNoAf;
            case 0xc0:
            case 0xc1:
            case 0xd0:
            case 0xd1:
            case 0xd2:
            case 0xd3: return shift_flags(reg, opsize, count);
            case 0xf6:
            case 0xf7:
                if (reg < 2) return kNoAf;         // test
                if (reg < 4) return kAllCompared;  // not (none), neg
                if (reg < 6) return kMulDefined;   // mul, imul
                return kDf;                        // div, idiv: all arithmetic flags undefined
            default: return kAllCompared;
        }
    }
    if (map == x86::kMap0F) {
        switch (op) {
            case 0xa3:
            case 0xab:
            case 0xb3:
            case 0xbb:
            case 0xba: return kAllCompared & ~(kOf | kSf | kAf | kPf);  // CF defined, ZF unaffected
            case 0xa4:
            case 0xa5:
            case 0xac:
            case 0xad: return double_shift_flags(opsize, count);
            case 0xaf: return kMulDefined;
            case 0xbc:
            case 0xbd:
                // TZCNT/LZCNT: CF and ZF; BSF/BSR: ZF only.
                return f3 ? kAllCompared & ~(kOf | kSf | kAf | kPf) : kAllCompared & ~(kCf | kOf | kSf | kAf | kPf);
            default: return kAllCompared;
        }
    }
    return kAllCompared;
}

uint64_t condition_reads(unsigned cc) {
    switch ((cc & 15) >> 1) {
        case 0: return kOf;
        case 1: return kCf;
        case 2: return kZf;
        case 3: return kCf | kZf;
        case 4: return kSf;
        case 5: return kPf;
        case 6: return kSf | kOf;
        default: return kZf | kSf | kOf;
    }
}

}  // namespace corvid::x86diff
