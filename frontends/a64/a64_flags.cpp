// NZCV emission and condition evaluation. Flag-setting compares are the most frequent
// instructions of integer code, so SUBS/ADDS/ANDS compute each flag with one cheap operation
// (a compare or a sign test) instead of three add-with-carry evaluations, and a condition
// read in the same block as the compare that set it compares the operands directly
// (`cmp x0, x1; b.lt` becomes one signed compare) instead of combining the stored flags.
#include <cstddef>

#include "frontends/a64/a64_translator.h"

namespace corvid::a64 {

using ir::Opcode;

namespace {
constexpr uint32_t kN = offsetof(A64State, n);
constexpr uint32_t kZ = offsetof(A64State, z);
constexpr uint32_t kC = offsetof(A64State, c);
constexpr uint32_t kV = offsetof(A64State, v);
static_assert(kZ == kN + 4 && kC == kN + 8 && kV == kN + 12, "flag_origin_valid assumes n, z, c, v are adjacent");

uint64_t width_mask(Type t) { return t == Type::I64 ? ~0ull : 0xffffffffull; }
uint64_t sign_mask(Type t) { return t == Type::I64 ? 1ull << 63 : 1ull << 31; }
}  // namespace

void Translator::set_flags(ValueId n, ValueId z, ValueId c, ValueId v) {
    b.set_state(kN, n);
    b.set_state(kZ, z);
    b.set_state(kC, c);
    b.set_state(kV, v);
    origin_.kind = FlagOrigin::Kind::kNone;
}

void Translator::set_flags_nz(ValueId result, ValueId c, ValueId v) {
    ValueId zero = b.constant(b.type_of(result), 0);
    set_flags(sign_bit(result), b.cmp(Opcode::CmpEq, result, zero), c, v);
}

ValueId Translator::sign_bit(ValueId v) { return b.cmp(Opcode::CmpLtS, v, b.constant(b.type_of(v), 0)); }

bool Translator::const_value(ValueId v, uint64_t* out) const {
    const ir::Inst& i = b.block().insts[v];
    if (i.op != Opcode::Const) return false;
    *out = i.imm;
    return true;
}

Translator::Nzcv Translator::sub_nzcv(ValueId a, ValueId bv, ValueId result) {
    const Type t = b.type_of(a);
    Nzcv f;
    f.n = sign_bit(result);
    f.z = b.cmp(Opcode::CmpEq, result, b.constant(t, 0));
    uint64_t k;
    if (const_value(bv, &k)) {
        // C: no borrow, a >= k. V, one compare of a: a - k leaves the signed range below
        // (k > 0: a < MIN + k) or above (k < 0: a > MAX + k, i.e. MAX + k < a).
        const uint64_t min = sign_mask(t), max = width_mask(t) >> 1;
        f.c = k == 0 ? b.c32(1) : b.cmp(Opcode::CmpLeU, bv, a);
        if (k == 0) {
            f.v = b.c32(0);
        } else if (k & min) {
            f.v = b.cmp(Opcode::CmpLtS, b.constant(t, (max + k) & width_mask(t)), a);
        } else {
            f.v = b.cmp(Opcode::CmpLtS, a, b.constant(t, min + k));
        }
        return f;
    }
    f.c = b.cmp(Opcode::CmpLeU, bv, a);
    // Overflow: the operands' signs differ and the result's sign differs from a's.
    f.v = sign_bit(b.and_(b.xor_(a, bv), b.xor_(a, result)));
    return f;
}

Translator::Nzcv Translator::add_nzcv(ValueId a, ValueId bv, ValueId result) {
    const Type t = b.type_of(a);
    Nzcv f;
    f.n = sign_bit(result);
    f.z = b.cmp(Opcode::CmpEq, result, b.constant(t, 0));
    uint64_t k;
    if (const_value(bv, &k) && k == 0) {
        f.c = b.c32(0);
        f.v = b.c32(0);
        return f;
    }
    f.c = b.cmp(Opcode::CmpLtU, result, a);  // the sum wrapped around
    // Overflow: the operands' signs agree and the result's sign differs from a's.
    f.v = sign_bit(b.binop(Opcode::AndNot, b.xor_(a, result), b.xor_(a, bv)));
    return f;
}

void Translator::set_origin(FlagOrigin::Kind kind, ValueId a, ValueId bv, ValueId result) {
    origin_ = FlagOrigin{kind, a, bv, result, b.block().insts.size()};
}

ValueId Translator::sub_flags(ValueId a, ValueId bv) {
    ValueId result = b.sub(a, bv);
    Nzcv f = sub_nzcv(a, bv, result);
    set_flags(f.n, f.z, f.c, f.v);
    set_origin(FlagOrigin::Kind::kSub, a, bv, result);
    return result;
}

ValueId Translator::add_flags(ValueId a, ValueId bv) {
    const Type t = b.type_of(a);
    uint64_t k;
    if (const_value(bv, &k) && k != 0 && k != sign_mask(t)) {
        // a + k sets exactly the flags of a - (-k) when neither k nor -k is 0 or the minimum:
        // same result, carry (a + k >= 2^w iff a >= 2^w - k) and overflow. CMN #k thereby
        // gets the cheap compares of CMP.
        return sub_flags(a, b.constant(t, (0 - k) & width_mask(t)));
    }
    ValueId result = b.add(a, bv);
    Nzcv f = add_nzcv(a, bv, result);
    set_flags(f.n, f.z, f.c, f.v);
    set_origin(FlagOrigin::Kind::kAdd, a, bv, result);
    return result;
}

void Translator::logic_flags(ValueId result) {
    set_flags_nz(result, b.c32(0), b.c32(0));
    set_origin(FlagOrigin::Kind::kLogic, ir::kNoValue, ir::kNoValue, result);
}

ValueId Translator::add_with_carry(ValueId a, ValueId bv, ValueId cin, bool set_flags_too) {
    ValueId result = b.add_with_carry(a, bv, cin);
    if (set_flags_too) {
        ValueId c = b.add_carry(a, bv, cin);
        ValueId v = b.add_overflow(a, bv, cin);
        set_flags_nz(result, c, v);
    }
    return result;
}

bool Translator::flag_origin_valid() const {
    if (origin_.kind == FlagOrigin::Kind::kNone) return false;
    const auto& insts = b.block().insts;
    // Fewer instructions: a failed handler dropped its IR (the block ends there anyway).
    if (insts.size() < origin_.end) return false;
    for (size_t k = origin_.end; k < insts.size(); ++k) {
        const ir::Inst& i = insts[k];
        switch (i.op) {
            case Opcode::Label:  // values do not cross labels
            case Opcode::Call:
            case Opcode::CallVoid: return false;
            case Opcode::SetState:
                if (i.imm >= kN && i.imm < kV + 4) return false;
                break;
            default: break;
        }
    }
    return true;
}

ValueId Translator::condition_from_origin(unsigned cond, bool* inverted) {
    const bool odd = cond & 1;
    const ValueId a = origin_.a, bv = origin_.bv, res = origin_.result;
    const Type t = b.type_of(res);
    const ValueId zero = b.constant(t, 0);
    uint64_t k;
    // With a constant second operand the compare keeps it on the right (an x86 immediate) and
    // the caller swaps its arms instead.
    const bool kb = bv != ir::kNoValue && const_value(bv, &k);
    auto ordered = [&](Opcode rev, Opcode rev_inv) {
        // The even condition is "a rev-compares after b", i.e. rev(b, a); the odd one its
        // complement rev_inv(a, b) (e.g. GE = b <=s a, LT = a <s b).
        if (kb) {
            *inverted = !odd;
            return b.cmp(rev_inv, a, bv);
        }
        *inverted = false;
        return odd ? b.cmp(rev_inv, a, bv) : b.cmp(rev, bv, a);
    };
    if ((cond >> 1) == 0 && t == Type::I32) {
        // EQ / NE: a 32-bit result is itself the "non-zero" condition that selects and exits
        // take, which saves materialising a compare.
        *inverted = !odd;
        return res;
    }
    switch (origin_.kind) {
        case FlagOrigin::Kind::kSub:
            switch (cond >> 1) {
                case 0: *inverted = false; return b.cmp(odd ? Opcode::CmpNe : Opcode::CmpEq, a, bv);
                case 1: return ordered(Opcode::CmpLeU, Opcode::CmpLtU);  // CS: a >=u b
                case 2: *inverted = odd; return sign_bit(res);
                case 4: return ordered(Opcode::CmpLtU, Opcode::CmpLeU);  // HI: a >u b
                case 5: return ordered(Opcode::CmpLeS, Opcode::CmpLtS);  // GE: a >=s b
                case 6: return ordered(Opcode::CmpLtS, Opcode::CmpLeS);  // GT: a >s b
                default: return ir::kNoValue;                          // VS / VC: the V flag
            }
        case FlagOrigin::Kind::kAdd:
            switch (cond >> 1) {
                case 0: *inverted = false; return b.cmp(odd ? Opcode::CmpNe : Opcode::CmpEq, res, zero);
                case 1: *inverted = odd; return b.cmp(Opcode::CmpLtU, res, a);
                case 2: *inverted = odd; return sign_bit(res);
                default: return ir::kNoValue;
            }
        case FlagOrigin::Kind::kLogic:
            // C = V = 0: CS, VS and HI never hold; GE is N == 0, GT is N == 0 && Z == 0.
            switch (cond >> 1) {
                case 0: *inverted = false; return b.cmp(odd ? Opcode::CmpNe : Opcode::CmpEq, res, zero);
                case 1:
                case 3:
                case 4: *inverted = false; return b.c32(odd ? 1 : 0);
                case 2: *inverted = odd; return sign_bit(res);
                case 5: *inverted = !odd; return sign_bit(res);
                case 6: *inverted = !odd; return b.cmp(Opcode::CmpLeS, res, zero);
                default: return ir::kNoValue;
            }
        default: return ir::kNoValue;
    }
}

ValueId Translator::condition(unsigned cond, bool* inverted) {
    *inverted = false;
    if (cond >= 14) return b.c32(1);  // AL / NV
    if (flag_origin_valid()) {
        ValueId r = condition_from_origin(cond, inverted);
        if (r != ir::kNoValue) return r;
        *inverted = false;
    }
    ValueId r;
    switch (cond >> 1) {
        case 0: r = flag(kZ); break;  // EQ / NE
        case 1: r = flag(kC); break;  // CS / CC
        case 2: r = flag(kN); break;  // MI / PL
        case 3: r = flag(kV); break;  // VS / VC
        case 4: {                     // HI / LS: C && !Z
            ValueId notz = b.xor_(flag(kZ), b.c32(1));
            r = b.and_(flag(kC), notz);
            break;
        }
        case 5: r = b.cmp(Opcode::CmpEq, flag(kN), flag(kV)); break;  // GE / LT
        default: {                                                     // GT / LE: N == V && !Z
            ValueId ge = b.cmp(Opcode::CmpEq, flag(kN), flag(kV));
            ValueId notz = b.xor_(flag(kZ), b.c32(1));
            r = b.and_(ge, notz);
            break;
        }
    }
    *inverted = cond & 1;
    return r;
}

ValueId Translator::condition(unsigned cond) {
    bool inverted;
    ValueId r = condition(cond, &inverted);
    return inverted ? b.xor_(r, b.c32(1)) : r;
}

}  // namespace corvid::a64
