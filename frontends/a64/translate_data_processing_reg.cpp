// A64 "Data processing -- register": logical and add/subtract (shifted, extended, with
// carry), conditional compare/select, and the 1-, 2- and 3-source groups.
#include "frontends/a64/a64_translator.h"

#include <cstddef>

namespace corvid::a64 {

using ir::Opcode;

bool logical_shifted(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31), invert = bit(insn, 21);
    const unsigned opc = bits(insn, 30, 29), shift = bits(insn, 23, 22), amount = bits(insn, 15, 10);
    const unsigned m = bits(insn, 20, 16), n = bits(insn, 9, 5), d = bits(insn, 4, 0);
    if (!sf && amount >= 32) return false;
    ValueId op2 = t.shift_imm(t.x(m, sf), shift, amount);
    if (invert) op2 = t.b.unop(Opcode::Not, op2);
    ValueId a = t.x(n, sf);
    ValueId r;
    switch (opc) {
        case 1: r = t.b.or_(a, op2); break;
        case 2: r = t.b.xor_(a, op2); break;
        default: r = t.b.and_(a, op2); break;
    }
    if (opc == 3) t.logic_flags(r);
    t.set_x(d, r);
    return true;
}

namespace {
// Shared tail of the add/subtract forms: Rd = Rn +/- op2, with flags for the S forms.
ValueId add_sub(Translator& t, bool sub, bool s, ValueId a, ValueId op2) {
    if (!s) return sub ? t.b.sub(a, op2) : t.b.add(a, op2);
    return sub ? t.sub_flags(a, op2) : t.add_flags(a, op2);
}
}  // namespace

bool add_sub_shifted(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31), sub = bit(insn, 30), s = bit(insn, 29);
    const unsigned shift = bits(insn, 23, 22), amount = bits(insn, 15, 10);
    const unsigned m = bits(insn, 20, 16), n = bits(insn, 9, 5), d = bits(insn, 4, 0);
    if (shift == 3 || (!sf && amount >= 32)) return false;
    ValueId op2 = t.shift_imm(t.x(m, sf), shift, amount);
    t.set_x(d, add_sub(t, sub, s, t.x(n, sf), op2));
    return true;
}

bool add_sub_extended(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31), sub = bit(insn, 30), s = bit(insn, 29);
    const unsigned option = bits(insn, 15, 13), amount = bits(insn, 12, 10);
    const unsigned m = bits(insn, 20, 16), n = bits(insn, 9, 5), d = bits(insn, 4, 0);
    if (amount > 4) return false;
    ValueId op2 = t.extend_reg(m, option, amount, sf);
    ValueId r = add_sub(t, sub, s, t.x_sp(n, sf), op2);
    if (s) {
        t.set_x(d, r);
    } else {
        t.set_x_sp(d, r);
    }
    return true;
}

bool add_sub_carry(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31), sub = bit(insn, 30), s = bit(insn, 29);
    const unsigned m = bits(insn, 20, 16), n = bits(insn, 9, 5), d = bits(insn, 4, 0);
    ValueId op2 = t.x(m, sf);
    if (sub) op2 = t.b.unop(Opcode::Not, op2);
    ValueId cin = t.flag(offsetof(A64State, c));
    t.set_x(d, t.add_with_carry(t.x(n, sf), op2, cin, s));
    return true;
}

bool cond_compare(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31), sub = bit(insn, 30), is_imm = bit(insn, 11);
    const unsigned cond = bits(insn, 15, 12), n = bits(insn, 9, 5), nzcv = bits(insn, 3, 0);
    bool inverted;
    ValueId holds = t.condition(cond, &inverted);
    ValueId a = t.x(n, sf);
    ValueId op2 = is_imm ? t.imm(sf, bits(insn, 20, 16)) : t.x(bits(insn, 20, 16), sf);
    if (sub) op2 = t.b.unop(Opcode::Not, op2);
    ValueId cin = t.b.c32(sub ? 1 : 0);
    ValueId r = t.b.add_with_carry(a, op2, cin);
    ValueId zero = t.imm(sf, 0);
    auto pick = [&](ValueId computed, unsigned bitpos) {
        ValueId given = t.b.c32((nzcv >> bitpos) & 1);
        return inverted ? t.b.select(holds, given, computed) : t.b.select(holds, computed, given);
    };
    ValueId fn = pick(t.b.cmp(Opcode::CmpLtS, r, zero), 3);
    ValueId fz = pick(t.b.cmp(Opcode::CmpEq, r, zero), 2);
    ValueId fc = pick(t.b.add_carry(a, op2, cin), 1);
    ValueId fv = pick(t.b.add_overflow(a, op2, cin), 0);
    t.set_flags(fn, fz, fc, fv);
    return true;
}

bool cond_select(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31), op = bit(insn, 30), o2 = bit(insn, 10);
    const unsigned m = bits(insn, 20, 16), cond = bits(insn, 15, 12), n = bits(insn, 9, 5), d = bits(insn, 4, 0);
    bool inverted;
    ValueId holds = t.condition(cond, &inverted);
    ValueId other = t.x(m, sf);
    if (op) other = t.b.unop(Opcode::Not, other);
    if (o2) other = t.b.add(other, t.imm(sf, 1));  // CSINC, and CSNEG as ~m + 1
    ValueId rn = t.x(n, sf);
    t.set_x(d, inverted ? t.b.select(holds, other, rn) : t.b.select(holds, rn, other));
    return true;
}

bool data_proc_3src(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31), o0 = bit(insn, 15);
    const unsigned op31 = bits(insn, 23, 21);
    const unsigned m = bits(insn, 20, 16), a = bits(insn, 14, 10), n = bits(insn, 9, 5), d = bits(insn, 4, 0);
    ValueId product;
    switch (op31) {
        case 0:  // MADD / MSUB
            product = t.b.binop(Opcode::Mul, t.x(n, sf), t.x(m, sf));
            break;
        case 1:  // SMADDL / SMSUBL
            product = t.b.binop(Opcode::Mul, t.b.sext(Type::I64, t.x(n, false)), t.b.sext(Type::I64, t.x(m, false)));
            break;
        case 5:  // UMADDL / UMSUBL
            product = t.b.binop(Opcode::Mul, t.b.zext(Type::I64, t.x(n, false)), t.b.zext(Type::I64, t.x(m, false)));
            break;
        case 2:  // SMULH
            t.set_x(d, t.b.binop(Opcode::MulHiS, t.x(n, true), t.x(m, true)));
            return true;
        case 6:  // UMULH
            t.set_x(d, t.b.binop(Opcode::MulHiU, t.x(n, true), t.x(m, true)));
            return true;
        default: return false;
    }
    ValueId acc = t.x(a, sf);
    t.set_x(d, o0 ? t.b.sub(acc, product) : t.b.add(acc, product));
    return true;
}

bool data_proc_2src(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31);
    const unsigned opcode = bits(insn, 15, 10);
    const unsigned m = bits(insn, 20, 16), n = bits(insn, 9, 5), d = bits(insn, 4, 0);
    Opcode op;
    switch (opcode) {
        case 0x02: op = Opcode::DivU; break;
        case 0x03: op = Opcode::DivS; break;
        case 0x08: op = Opcode::Shl; break;
        case 0x09: op = Opcode::LShr; break;
        case 0x0a: op = Opcode::AShr; break;
        case 0x0b: op = Opcode::RotR; break;
        default: return false;
    }
    t.set_x(d, t.b.binop(op, t.x(n, sf), t.x(m, sf)));
    return true;
}

bool data_proc_1src(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31);
    const unsigned opcode = bits(insn, 15, 10), n = bits(insn, 9, 5), d = bits(insn, 4, 0);
    ValueId v = t.x(n, sf);
    ValueId r;
    switch (opcode) {
        case 0: r = t.b.unop(Opcode::BitRev, v); break;
        case 1: {  // REV16: swap the bytes of every halfword
            const uint64_t lo = sf ? 0x00ff00ff00ff00ffull : 0x00ff00ffull;
            ValueId k = t.imm(sf, lo), eight = t.imm(sf, 8);
            r = t.b.or_(t.b.and_(t.b.lshr(v, eight), k), t.b.shl(t.b.and_(v, k), eight));
            break;
        }
        case 2:  // REV32 (64-bit: bytes of each word), REV (32-bit)
            r = t.b.unop(Opcode::Bswap, v);
            if (sf) r = t.b.binop(Opcode::RotR, r, t.imm(sf, 32));
            break;
        case 3:
            if (!sf) return false;
            r = t.b.unop(Opcode::Bswap, v);
            break;
        case 4: r = t.b.unop(Opcode::Clz, v); break;
        case 5: {  // CLS = CLZ(x ^ (x >> 1 arithmetic)) - 1
            ValueId x = t.b.xor_(v, t.b.ashr(v, t.imm(sf, 1)));
            r = t.b.sub(t.b.unop(Opcode::Clz, x), t.imm(sf, 1));
            break;
        }
        default: return false;
    }
    t.set_x(d, r);
    return true;
}

}  // namespace corvid::a64

namespace corvid::a64 {

namespace {
// Bitwise CRC-32 (reflected) of the low `bytes` bytes of `value`, as the Arm ARM's CRC32
// pseudocode computes it: polynomial 0x04C11DB7 (CRC32*) or 0x1EDC6F41 (CRC32C*).
template <uint32_t kReflectedPoly>
uint64_t crc32_update(CpuCommon*, uint64_t acc, uint64_t value, uint64_t bytes) {
    uint32_t crc = uint32_t(acc);
    for (uint64_t i = 0; i < bytes; ++i) {
        crc ^= uint32_t((value >> (8 * i)) & 0xff);
        for (int k = 0; k < 8; ++k) crc = (crc >> 1) ^ ((crc & 1) ? kReflectedPoly : 0);
    }
    return crc;
}
const ir::HelperInfo kHelperCrc32 = {"a64_crc32", &crc32_update<0xedb88320u>, 3, ir::kHelperPure};
const ir::HelperInfo kHelperCrc32c = {"a64_crc32c", &crc32_update<0x82f63b78u>, 3, ir::kHelperPure};
}  // namespace

bool crc32(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31), castagnoli = bit(insn, 12);
    const unsigned size = bits(insn, 11, 10);
    const unsigned m = bits(insn, 20, 16), n = bits(insn, 9, 5), d = bits(insn, 4, 0);
    if (sf != (size == 3)) return false;  // X form only with 64-bit data, and vice versa
    ValueId acc = t.b.zext(Type::I64, t.x(n, false));
    ValueId r = t.b.call(castagnoli ? kHelperCrc32c : kHelperCrc32, acc, t.x(m, true), t.b.c64(1u << size));
    t.set_x(d, t.b.trunc(Type::I32, r));
    return true;
}

}  // namespace corvid::a64
