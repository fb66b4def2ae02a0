// The per-block translator context: register, flag and terminal emission shared by all
// translate_*.cpp files, plus the Arm ARM's DecodeBitMasks.
#include "frontends/a64/a64_translator.h"

#include <cstddef>

namespace corvid::a64 {

using ir::Opcode;

namespace {
uint64_t ones(unsigned n) { return n >= 64 ? ~0ull : ((1ull << n) - 1); }
uint64_t ror(uint64_t v, unsigned amount, unsigned width) {
    amount %= width;
    if (amount == 0) return v;
    return ((v >> amount) | (v << (width - amount))) & ones(width);
}
uint64_t replicate(uint64_t v, unsigned esize, unsigned width) {
    uint64_t r = 0;
    for (unsigned i = 0; i < width; i += esize) r |= v << i;
    return r;
}
}  // namespace

bool decode_bit_masks(bool n, uint32_t imms, uint32_t immr, bool immediate, unsigned datasize,
                      uint64_t* wmask, uint64_t* tmask) {
    // len = HighestSetBit(N:NOT(imms)); esize = 2^len.
    uint32_t combined = (uint32_t(n) << 6) | (~imms & 0x3f);
    if (combined == 0) return false;
    int len = 31 - __builtin_clz(combined);
    if (len < 1) return false;
    unsigned esize = 1u << len;
    if (esize > datasize) return false;
    uint32_t levels = uint32_t(ones(unsigned(len)));
    if (immediate && (imms & levels) == levels) return false;
    uint32_t s = imms & levels;
    uint32_t r = immr & levels;
    uint32_t diff = (s - r) & levels;
    uint64_t welem = ones(s + 1);
    uint64_t telem = ones(diff + 1);
    *wmask = replicate(ror(welem, r, esize), esize, datasize);
    *tmask = replicate(telem, esize, datasize);
    return true;
}

uint32_t Translator::sp_offset() const {
    return a64_mode_uses_sp_elx(mode) ? uint32_t(offsetof(A64State, sp_el1)) : uint32_t(offsetof(A64State, sp_el0));
}

ValueId Translator::last_w_write(uint32_t offset) const {
    // Looks back a short way for the latest write of X[r]; the state forwarding pass would
    // turn the read into that value anyway, but a W read of a W write would then be
    // trunc(zext(v)), which costs a host instruction where plain v costs none.
    constexpr size_t kLookBack = 48;
    const auto& insts = b.block().insts;
    for (size_t k = insts.size(), seen = 0; k > 0 && seen < kLookBack; --k, ++seen) {
        const ir::Inst& i = insts[k - 1];
        switch (i.op) {
            case Opcode::Label:  // values do not cross labels
            case Opcode::Call:
            case Opcode::CallVoid: return ir::kNoValue;
            case Opcode::SetState: {
                const uint64_t bytes = ir::bit_width(insts[i.args[0]].type) / 8;
                if (i.imm + bytes <= offset || offset + 8 <= i.imm) break;  // another field
                if (i.imm != offset) return ir::kNoValue;
                const ir::Inst& v = insts[i.args[0]];
                if (v.op == Opcode::ZExt && insts[v.args[0]].type == Type::I32) return v.args[0];
                return ir::kNoValue;
            }
            default: break;
        }
    }
    return ir::kNoValue;
}

ValueId Translator::x(unsigned r, bool sf) {
    if (r == 31) return imm(sf, 0);
    if (!sf) {
        ValueId w = last_w_write(a64_xreg_offset(r));
        if (w != ir::kNoValue) return w;
    }
    ValueId v = b.get_state(Type::I64, a64_xreg_offset(r));
    return sf ? v : b.trunc(Type::I32, v);
}

ValueId Translator::x_sp(unsigned r, bool sf) {
    if (r != 31) return x(r, sf);
    ValueId v = b.get_state(Type::I64, sp_offset());
    return sf ? v : b.trunc(Type::I32, v);
}

void Translator::set_x(unsigned r, ValueId v) {
    if (r == 31) return;
    b.set_state(a64_xreg_offset(r), to64(v));
}

void Translator::set_x_sp(unsigned r, ValueId v) {
    if (r != 31) return set_x(r, v);
    b.set_state(sp_offset(), to64(v));
}

ValueId Translator::shift_imm(ValueId v, unsigned type, unsigned amount) {
    if (amount == 0) return v;
    ValueId a = b.constant(b.type_of(v), amount);
    switch (type) {
        case 0: return b.shl(v, a);
        case 1: return b.lshr(v, a);
        case 2: return b.ashr(v, a);
        default: return b.binop(Opcode::RotR, v, a);
    }
}

ValueId Translator::extend_reg(unsigned m, unsigned option, unsigned shift, bool sf) {
    ValueId v = x(m, true);
    switch (option) {
        case 0: v = b.zext(Type::I64, b.trunc(Type::I8, v)); break;
        case 1: v = b.zext(Type::I64, b.trunc(Type::I16, v)); break;
        case 2: v = b.zext(Type::I64, b.trunc(Type::I32, v)); break;
        case 4: v = b.sext(Type::I64, b.trunc(Type::I8, v)); break;
        case 5: v = b.sext(Type::I64, b.trunc(Type::I16, v)); break;
        case 6: v = b.sext(Type::I64, b.trunc(Type::I32, v)); break;
        default: break;  // UXTX / SXTX
    }
    if (shift) v = b.shl(v, b.c64(shift));
    return sf ? v : b.trunc(Type::I32, v);
}

void Translator::exit_link(uint64_t target) {
    b.exit_link(target);
    ended = true;
}

void Translator::raise(uint32_t cause, uint64_t detail) {
    b.exit_exception(cause, detail);
    ended = true;
}

void Translator::exit_to(uint64_t target) {
    b.exit_jump(b.c64(target));
    ended = true;
}

}  // namespace corvid::a64
