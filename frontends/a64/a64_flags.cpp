// NZCV emission and condition evaluation. SUBS/ADDS emit the add-with-carry triple (addc,
// addc.c, addc.v of one operand triple) plus sign/zero compares of the result: the x64
// backend serves all of them, and branches on the flags, from ONE host add/sub
// (backend/x64/flag_fusion.cpp), which measured cheaper than separate compares per flag.
#include <cstddef>

#include "frontends/a64/a64_translator.h"

namespace corvid::a64 {

using ir::Opcode;

namespace {
constexpr uint32_t kN = offsetof(A64State, n);
constexpr uint32_t kZ = offsetof(A64State, z);
constexpr uint32_t kC = offsetof(A64State, c);
constexpr uint32_t kV = offsetof(A64State, v);
}  // namespace

void Translator::set_flags(ValueId n, ValueId z, ValueId c, ValueId v) {
    b.set_state(kN, n);
    b.set_state(kZ, z);
    b.set_state(kC, c);
    b.set_state(kV, v);
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

ValueId Translator::sub_flags(ValueId a, ValueId bv) {
    // a - b = a + NOT(b) + 1: a constant is inverted here, a register by a Not that the JIT
    // absorbs into one host subtraction.
    uint64_t k;
    ValueId inv = const_value(bv, &k) ? b.constant(b.type_of(bv), ~k) : b.unop(Opcode::Not, bv);
    return add_with_carry(a, inv, b.c32(1), true);
}

ValueId Translator::add_flags(ValueId a, ValueId bv) { return add_with_carry(a, bv, b.c32(0), true); }

void Translator::logic_flags(ValueId result) { set_flags_nz(result, b.c32(0), b.c32(0)); }

ValueId Translator::add_with_carry(ValueId a, ValueId bv, ValueId cin, bool set_flags_too) {
    ValueId result = b.add_with_carry(a, bv, cin);
    if (set_flags_too) {
        ValueId c = b.add_carry(a, bv, cin);
        ValueId v = b.add_overflow(a, bv, cin);
        set_flags_nz(result, c, v);
    }
    return result;
}

ValueId Translator::condition(unsigned cond, bool* inverted) {
    *inverted = false;
    if (cond >= 14) return b.c32(1);  // AL / NV
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
