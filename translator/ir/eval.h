// Evaluation of the pure IR opcodes: the one definition of their semantics, shared by the
// interpreter and the constant folder so that folding can never disagree with execution.
#pragma once

#include <bit>
#include <cstdint>

#include "translator/ir/ir.h"

namespace corvid::ir {

constexpr uint64_t width_mask(Type t) {
    unsigned w = bit_width(t);
    return w >= 64 ? ~0ull : ((1ull << w) - 1);
}
constexpr uint64_t truncate(Type t, uint64_t v) {
    return v & width_mask(t);
}
constexpr int64_t sign_extend(Type t, uint64_t v) {
    unsigned w = bit_width(t);
    if (w >= 64 || w == 0) return int64_t(v);
    unsigned s = 64 - w;
    return int64_t(v << s) >> s;
}

// True for opcodes whose result depends only on their operands (Const excluded).
constexpr bool is_pure(Opcode op) {
    return op >= Opcode::Add && op <= Opcode::AddWithCarry;
}

// The type shared by an instruction's A/T operands (what eval_pure needs as `arg_type`).
inline Type operand_type(const Block& b, const Inst& i) {
    if (i.op == Opcode::Select) return b.insts[i.args[1]].type;
    return i.args[0] == kNoValue ? i.type : b.insts[i.args[0]].type;
}

// Evaluates pure opcode `op` with result type `type`. a, b, c are the operands' values,
// zero-extended from `arg_type` (the shared operand type; for Select the type of b and c; c of
// AddCarry/AddOverflow/AddWithCarry is the i32 carry-in). The result is zero-extended.
inline uint64_t eval_pure(Opcode op, Type type, Type arg_type, uint64_t a, uint64_t b, uint64_t c) {
    const unsigned w = bit_width(type);
    const uint64_t m = width_mask(type);
    switch (op) {
        case Opcode::Add: return (a + b) & m;
        case Opcode::Sub: return (a - b) & m;
        case Opcode::Mul: return (a * b) & m;
        case Opcode::MulHiU:
            if (w == 64) return uint64_t((unsigned __int128)a * b >> 64);
            return ((a * b) >> w) & m;
        case Opcode::MulHiS: {
            if (w == 64) return uint64_t((__int128)int64_t(a) * int64_t(b) >> 64);
            int64_t p = sign_extend(type, a) * sign_extend(type, b);
            return uint64_t(p >> w) & m;
        }
        case Opcode::DivU: return b == 0 ? 0 : (a / b) & m;
        case Opcode::RemU: return b == 0 ? a : (a % b) & m;
        case Opcode::DivS: {
            if (b == 0) return 0;
            int64_t x = sign_extend(type, a), y = sign_extend(type, b);
            if (y == -1) return (0 - a) & m;  // INT_MIN / -1 wraps to INT_MIN
            return uint64_t(x / y) & m;
        }
        case Opcode::RemS: {
            if (b == 0) return a;
            int64_t x = sign_extend(type, a), y = sign_extend(type, b);
            if (y == -1) return 0;
            return uint64_t(x % y) & m;
        }
        case Opcode::Neg: return (0 - a) & m;
        case Opcode::And: return a & b;
        case Opcode::Or: return a | b;
        case Opcode::Xor: return a ^ b;
        case Opcode::AndNot: return a & ~b & m;
        case Opcode::Not: return ~a & m;
        case Opcode::Shl: return (a << (b & (w - 1))) & m;
        case Opcode::LShr: return a >> (b & (w - 1));
        case Opcode::AShr: return uint64_t(sign_extend(type, a) >> (b & (w - 1))) & m;
        case Opcode::RotL: {
            unsigned s = unsigned(b & (w - 1));
            return s == 0 ? a : ((a << s) | (a >> (w - s))) & m;
        }
        case Opcode::RotR: {
            unsigned s = unsigned(b & (w - 1));
            return s == 0 ? a : ((a >> s) | (a << (w - s))) & m;
        }
        case Opcode::ZExt: return truncate(type, a);
        case Opcode::SExt: return uint64_t(sign_extend(arg_type, a)) & m;
        case Opcode::Trunc: return a & m;
        case Opcode::CmpEq: return a == b;
        case Opcode::CmpNe: return a != b;
        case Opcode::CmpLtU: return a < b;
        case Opcode::CmpLeU: return a <= b;
        case Opcode::CmpLtS: return sign_extend(arg_type, a) < sign_extend(arg_type, b);
        case Opcode::CmpLeS: return sign_extend(arg_type, a) <= sign_extend(arg_type, b);
        case Opcode::Select: return (a != 0 ? b : c) & m;
        case Opcode::Clz: return a == 0 ? w : unsigned(std::countl_zero(a)) - (64 - w);
        case Opcode::Ctz: return a == 0 ? w : unsigned(std::countr_zero(a));
        case Opcode::Popcount: return unsigned(std::popcount(a));
        case Opcode::Bswap: {
            uint64_t r = __builtin_bswap64(a);
            return r >> (64 - w);
        }
        case Opcode::BitRev: {
            uint64_t r = 0, x = a;
            for (unsigned i = 0; i < 64; ++i, x >>= 1) r = (r << 1) | (x & 1);
            return r >> (64 - w);
        }
        case Opcode::AddCarry: {
            unsigned aw = bit_width(arg_type);
            unsigned __int128 s = (unsigned __int128)a + b + (c & 1);
            return uint64_t(s >> aw) & 1;
        }
        case Opcode::AddOverflow: {
            uint64_t am = width_mask(arg_type);
            uint64_t r = (a + b + (c & 1)) & am;
            uint64_t sign = 1ull << (bit_width(arg_type) - 1);
            // Overflow iff the operands share a sign and the result's sign differs.
            return ((~(a ^ b) & (a ^ r)) & sign) != 0;
        }
        case Opcode::AddWithCarry: return (a + b + (c & 1)) & m;
        default: return 0;
    }
}

}  // namespace corvid::ir
