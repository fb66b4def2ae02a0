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
    // Looks back a short way (no label or helper call in between) for an i32 that already
    // holds W[r]: the operand of the latest W write (zext(v)), or an earlier trunc of the
    // register's current value. The optimiser has no CSE: without this a W read of a W write
    // is trunc(zext(v)) and two W reads are two truncs, each a host instruction.
    constexpr size_t kLookBack = 48, kMax = 8;
    const auto& insts = b.block().insts;
    ValueId trunc_of[kMax], trunc_id[kMax], same[kMax];
    size_t num_truncs = 0, num_same = 0;
    auto reuse = [&]() -> ValueId {
        for (size_t t = 0; t < num_truncs; ++t) {  // latest first
            for (size_t k = 0; k < num_same; ++k) {
                if (trunc_of[t] == same[k]) return trunc_id[t];
            }
        }
        return ir::kNoValue;
    };
    for (size_t k = insts.size(), seen = 0; k > 0 && seen < kLookBack; --k, ++seen) {
        const ir::Inst& i = insts[k - 1];
        switch (i.op) {
            case Opcode::Label:  // values do not cross labels
            case Opcode::Call:
            case Opcode::CallVoid: return reuse();
            case Opcode::GetState:
                // Reads of X[r] after its last write all hold its current value.
                if (i.imm == offset && i.type == Type::I64 && num_same < kMax) same[num_same++] = ValueId(k - 1);
                break;
            case Opcode::Trunc:
                if (i.type == Type::I32 && num_truncs < kMax) {
                    trunc_of[num_truncs] = i.args[0];
                    trunc_id[num_truncs++] = ValueId(k - 1);
                }
                break;
            case Opcode::SetState: {
                const uint64_t bytes = ir::bit_width(insts[i.args[0]].type) / 8;
                if (i.imm + bytes <= offset || offset + 8 <= i.imm) break;  // another field
                if (i.imm != offset) return reuse();
                const ir::Inst& v = insts[i.args[0]];
                if (v.op == Opcode::ZExt && insts[v.args[0]].type == Type::I32) return v.args[0];
                if (num_same < kMax) same[num_same++] = i.args[0];
                return reuse();
            }
            default: break;
        }
    }
    return reuse();
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
    // Byte, halfword and word extends read Wm (a W value of this block is reused as is).
    ValueId v = (option & 3) == 3 ? x(m, true) : x(m, false);
    switch (option) {
        case 0: v = b.zext(Type::I64, b.trunc(Type::I8, v)); break;
        case 1: v = b.zext(Type::I64, b.trunc(Type::I16, v)); break;
        case 2: v = b.zext(Type::I64, v); break;
        case 4: v = b.sext(Type::I64, b.trunc(Type::I8, v)); break;
        case 5: v = b.sext(Type::I64, b.trunc(Type::I16, v)); break;
        case 6: v = b.sext(Type::I64, v); break;
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
