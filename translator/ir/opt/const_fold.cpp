// Constant folding and algebraic simplification (see optimize.h).
#include "translator/ir/eval.h"
#include "translator/ir/opt/optimize.h"

namespace corvid::ir {
namespace {

// fold_one's verdicts besides "replace by value v". Neither is a valid ValueId: the verifier
// keeps blocks below kNoValue instructions.
constexpr ValueId kKeep = kNoValue;
constexpr ValueId kDrop = kNoValue - 1;

void make_const(Inst& i, uint64_t v) {
    i.op = Opcode::Const;
    i.imm = truncate(i.type, v);
    i.imm2 = 0;
    i.args[0] = i.args[1] = i.args[2] = kNoValue;
}

// Folds `i` (whose operands are final) in place. Returns kKeep, kDrop or the value to use
// instead of `i`. Inlined into both walks of const_fold: the call itself was a fair part of
// the per-instruction cost.
[[gnu::always_inline]] inline ValueId fold_one(const Block& block, Inst& i) {
    const auto& insts = block.insts;
    auto is_c = [&](unsigned j) { return i.args[j] != kNoValue && insts[i.args[j]].op == Opcode::Const; };
    auto cval = [&](unsigned j) { return insts[i.args[j]].imm; };
    if (!is_pure(i.op) && i.op != Opcode::BrCond && i.op != Opcode::ExitCond) return kKeep;
    if (is_pure(i.op)) {
        const unsigned na = op_info(i.op).num_args();
        bool all_const = true;
        for (unsigned j = 0; j < na; ++j) all_const = all_const && is_c(j);
        if (all_const) {
            uint64_t a = cval(0), b = na > 1 ? cval(1) : 0, c = na > 2 ? cval(2) : 0;
            make_const(i, eval_pure(i.op, i.type, operand_type(block, i), a, b, c));
            return kKeep;
        }
        const ValueId x = i.args[0], y = i.args[1];
        const uint64_t ones = width_mask(i.type);
        switch (i.op) {
            case Opcode::Add:
            case Opcode::Or:
            case Opcode::Xor:
                if (is_c(1) && cval(1) == 0)
                    return x;
                else if (is_c(0) && cval(0) == 0)
                    return y;
                else if (i.op == Opcode::Xor && x == y)
                    make_const(i, 0);
                else if (i.op == Opcode::Or && x == y)
                    return x;
                else if (i.op == Opcode::Or && ((is_c(1) && cval(1) == ones) || (is_c(0) && cval(0) == ones)))
                    make_const(i, ones);
                break;
            case Opcode::Sub:
                if (is_c(1) && cval(1) == 0)
                    return x;
                else if (x == y)
                    make_const(i, 0);
                break;
            case Opcode::Shl:
            case Opcode::LShr:
            case Opcode::AShr:
            case Opcode::RotL:
            case Opcode::RotR:
                if (is_c(1) && (cval(1) & (bit_width(i.type) - 1)) == 0) return x;
                break;
            case Opcode::And:
                if ((is_c(1) && cval(1) == 0) || (is_c(0) && cval(0) == 0))
                    make_const(i, 0);
                else if (is_c(1) && cval(1) == ones)
                    return x;
                else if (is_c(0) && cval(0) == ones)
                    return y;
                else if (x == y)
                    return x;
                break;
            case Opcode::AndNot:
                if (is_c(1) && cval(1) == 0)
                    return x;
                else if (x == y)
                    make_const(i, 0);
                break;
            case Opcode::Mul:
                if ((is_c(1) && cval(1) == 0) || (is_c(0) && cval(0) == 0))
                    make_const(i, 0);
                else if (is_c(1) && cval(1) == 1)
                    return x;
                else if (is_c(0) && cval(0) == 1)
                    return y;
                break;
            case Opcode::ZExt:
            case Opcode::SExt:
            case Opcode::Trunc:
                if (insts[x].type == i.type) return x;
                break;
            case Opcode::Select:
                if (is_c(0))
                    return cval(0) ? i.args[1] : i.args[2];
                else if (i.args[1] == i.args[2])
                    return i.args[1];
                break;
            case Opcode::CmpEq:
            case Opcode::CmpLeU:
            case Opcode::CmpLeS:
                if (x == y) make_const(i, 1);
                break;
            case Opcode::CmpNe:
            case Opcode::CmpLtU:
            case Opcode::CmpLtS:
                if (x == y) make_const(i, 0);
                break;
            default: break;
        }
        return kKeep;
    }
    if (i.op == Opcode::BrCond && is_c(0)) {
        if (cval(0) == 0) return kDrop;
        i.op = Opcode::Br;
        i.args[0] = kNoValue;
    } else if (i.op == Opcode::ExitCond && is_c(0)) {
        uint64_t target = cval(0) != 0 ? i.imm : i.imm2;
        i.op = Opcode::ExitLink;
        i.imm = target;
        i.imm2 = 0;
        i.args[0] = kNoValue;
    }
    return kKeep;
}

}  // namespace

// One forward walk that also compacts in place: instructions before `out` are final (folded
// and renumbered), so operands, which always point backwards, can be read there directly.
// Until the first removal nothing moves and no operand needs renaming.
void const_fold(Block& block) {
    const_fold_from(block, 0);
}

void const_fold_from(Block& block, size_t start) {
    auto& insts = block.insts;
    const size_t n = insts.size();
    if (start >= n) return;
    size_t k = start;
    ValueId r = kKeep;
    for (; k < n; ++k) {
        r = fold_one(block, insts[k]);
        if (r != kKeep) break;
    }
    if (k == n) return;
    // From the first removal on: repl maps an old index >= first to its new value.
    const size_t first = k;
    thread_local std::vector<ValueId> repl;  // scratch reused across blocks; only [first, n) is read
    repl.resize(n);
    repl[k] = r == kDrop ? kNoValue : r;
    size_t out = k;
    for (++k; k < n; ++k) {
        Inst i = insts[k];
        for (ValueId& a : i.args) {
            if (a != kNoValue && a >= first) a = repl[a];
        }
        insts[out] = i;  // fold in the compacted slot, where later lookups will find it
        r = fold_one(block, insts[out]);
        if (r == kKeep) {
            repl[k] = ValueId(out++);
        } else {
            repl[k] = r == kDrop ? kNoValue : r;
        }
    }
    insts.resize(out);
}

}  // namespace corvid::ir
