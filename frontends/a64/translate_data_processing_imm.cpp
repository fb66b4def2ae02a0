// A64 "Data processing -- immediate": PC-relative addressing, add/subtract, logical, move
// wide, bitfield and extract.
#include "frontends/a64/a64_translator.h"

namespace corvid::a64 {

using ir::Opcode;

namespace {
uint64_t ones(unsigned n) { return n >= 64 ? ~0ull : ((1ull << n) - 1); }
}  // namespace

bool pc_rel(Translator& t, uint32_t insn) {
    const bool page = bit(insn, 31);
    const uint64_t raw = (uint64_t(bits(insn, 23, 5)) << 2) | bits(insn, 30, 29);
    int64_t offset = sign_extend(raw, 21);
    uint64_t value = page ? (t.pc & ~0xfffull) + (uint64_t(offset) << 12) : t.pc + uint64_t(offset);
    t.set_x(bits(insn, 4, 0), t.b.c64(value));
    return true;
}

bool add_sub_imm(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31), sub = bit(insn, 30), s = bit(insn, 29);
    const unsigned n = bits(insn, 9, 5), d = bits(insn, 4, 0);
    const uint64_t imm = uint64_t(bits(insn, 21, 10)) << (bit(insn, 22) ? 12 : 0);
    ValueId a = t.x_sp(n, sf);
    if (!s) {
        ValueId r = sub ? t.b.sub(a, t.imm(sf, imm)) : t.b.add(a, t.imm(sf, imm));
        t.set_x_sp(d, r);
        return true;
    }
    ValueId bv = t.imm(sf, imm);
    t.set_x(d, sub ? t.sub_flags(a, bv) : t.add_flags(a, bv));
    return true;
}

bool logical_imm(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31), nbit = bit(insn, 22);
    const unsigned opc = bits(insn, 30, 29), n = bits(insn, 9, 5), d = bits(insn, 4, 0);
    if (!sf && nbit) return false;
    uint64_t wmask, tmask;
    if (!decode_bit_masks(nbit, bits(insn, 15, 10), bits(insn, 21, 16), true, sf ? 64 : 32, &wmask, &tmask)) {
        return false;
    }
    ValueId a = t.x(n, sf);
    ValueId m = t.imm(sf, wmask);
    ValueId r;
    switch (opc) {
        case 0: r = t.b.and_(a, m); break;
        case 1: r = t.b.or_(a, m); break;
        case 2: r = t.b.xor_(a, m); break;
        default: r = t.b.and_(a, m); break;
    }
    if (opc == 3) {
        t.logic_flags(r);
        t.set_x(d, r);
    } else {
        t.set_x_sp(d, r);
    }
    return true;
}

bool move_wide(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31);
    const unsigned opc = bits(insn, 30, 29), hw = bits(insn, 22, 21), d = bits(insn, 4, 0);
    if (!sf && hw >= 2) return false;
    const unsigned pos = hw * 16;
    const uint64_t imm = uint64_t(bits(insn, 20, 5)) << pos;
    switch (opc) {
        case 0: t.set_x(d, t.imm(sf, ~imm)); break;  // MOVN
        case 2: t.set_x(d, t.imm(sf, imm)); break;   // MOVZ
        case 3: {                                    // MOVK
            ValueId keep = t.b.and_(t.x(d, sf), t.imm(sf, ~(0xffffull << pos)));
            t.set_x(d, t.b.or_(keep, t.imm(sf, imm)));
            break;
        }
        default: return false;
    }
    return true;
}

bool bitfield(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31), nbit = bit(insn, 22);
    const unsigned opc = bits(insn, 30, 29), r = bits(insn, 21, 16), s = bits(insn, 15, 10);
    const unsigned n = bits(insn, 9, 5), d = bits(insn, 4, 0);
    const unsigned w = sf ? 64 : 32;
    if (opc == 3 || sf != nbit) return false;
    if (!sf && (r >= 32 || s >= 32)) return false;
    auto c = [&](uint64_t v) { return t.imm(sf, v); };
    // src<len-1:0>: a byte, halfword or word field is a zero extension (one host move; an
    // AND with 0xffffffff would need the mask in a register).
    auto low_bits = [&](ValueId v, unsigned len) {
        if (len < w && (len == 8 || len == 16 || len == 32)) {
            const Type narrow = len == 8 ? Type::I8 : len == 16 ? Type::I16 : Type::I32;
            return t.b.zext(Translator::ty(sf), t.b.trunc(narrow, v));
        }
        return t.b.and_(v, c(ones(len)));
    };
    ValueId src = t.x(n, sf);
    ValueId result;
    if (s >= r) {
        // The field src<s:r> goes to the bottom (SBFX/UBFX/BFXIL, ASR/LSR, SXT*/UXT*).
        const unsigned len = s - r + 1;
        switch (opc) {
            case 0:  // SBFM
                if (r == 0 && (len == 8 || len == 16 || (len == 32 && sf))) {
                    // SXTB / SXTH / SXTW: one host sign extension instead of two shifts.
                    const Type narrow = len == 8 ? Type::I8 : len == 16 ? Type::I16 : Type::I32;
                    result = t.b.sext(Translator::ty(sf), t.b.trunc(narrow, src));
                } else {
                    result = t.b.ashr(t.b.shl(src, c(w - 1 - s)), c(w - len));
                }
                break;
            case 2:  // UBFM
                result = t.b.lshr(src, c(r));
                // LSR (s == w - 1) leaves exactly the field: no mask.
                if (s != w - 1) result = low_bits(result, len);
                break;
            default: {  // BFM
                ValueId field = t.b.and_(t.b.lshr(src, c(r)), c(ones(len)));
                ValueId keep = t.b.and_(t.x(d, sf), c(~ones(len)));
                result = t.b.or_(keep, field);
                break;
            }
        }
    } else {
        // The field src<s:0> goes to bit w-r (SBFIZ/UBFIZ/BFI, LSL).
        const unsigned len = s + 1, lsb = w - r;
        switch (opc) {
            case 0:  // SBFM
                result = t.b.shl(t.b.ashr(t.b.shl(src, c(w - len)), c(w - len)), c(lsb));
                break;
            case 2:  // UBFM
                // LSL (len + lsb == w): the shift drops the bits the mask would clear.
                result = t.b.shl(len + lsb == w ? src : low_bits(src, len), c(lsb));
                break;
            default: {  // BFM
                const uint64_t mask = (ones(len) << lsb) & ones(w);
                ValueId field = t.b.shl(t.b.and_(src, c(ones(len))), c(lsb));
                ValueId keep = t.b.and_(t.x(d, sf), c(~mask));
                result = t.b.or_(keep, field);
                break;
            }
        }
    }
    t.set_x(d, result);
    return true;
}

bool extract(Translator& t, uint32_t insn) {
    const bool sf = bit(insn, 31), nbit = bit(insn, 22);
    const unsigned m = bits(insn, 20, 16), lsb = bits(insn, 15, 10), n = bits(insn, 9, 5), d = bits(insn, 4, 0);
    const unsigned w = sf ? 64 : 32;
    if (sf != nbit || (!sf && lsb >= 32)) return false;
    ValueId lo = t.x(m, sf);
    ValueId result;
    if (lsb == 0) {
        result = lo;
    } else if (n == m) {
        result = t.b.binop(Opcode::RotR, lo, t.imm(sf, lsb));
    } else {
        ValueId hi = t.x(n, sf);
        result = t.b.or_(t.b.lshr(lo, t.imm(sf, lsb)), t.b.shl(hi, t.imm(sf, w - lsb)));
    }
    t.set_x(d, result);
    return true;
}

}  // namespace corvid::a64
