// Constant folding and algebraic simplification (see optimize.h).
#include "translator/ir/eval.h"
#include "translator/ir/opt/optimize.h"

namespace corvid::ir {
namespace {

void make_const(Inst& i, uint64_t v) {
    i.op = Opcode::Const;
    i.imm = truncate(i.type, v);
    i.imm2 = 0;
    i.args[0] = i.args[1] = i.args[2] = kNoValue;
}

}  // namespace

void const_fold(Block& block) {
    auto& insts = block.insts;
    const size_t n = insts.size();
    thread_local std::vector<ValueId> repl;  // scratch reused across blocks
    repl.resize(n);
    thread_local std::vector<uint8_t> dead;
    dead.assign(n, 0);
    bool any = false;
    for (size_t k = 0; k < n; ++k) {
        Inst& i = insts[k];
        repl[k] = ValueId(k);
        for (ValueId& a : i.args) {
            if (a != kNoValue) a = repl[a];
        }
        auto is_c = [&](unsigned j) { return i.args[j] != kNoValue && insts[i.args[j]].op == Opcode::Const; };
        auto cval = [&](unsigned j) { return insts[i.args[j]].imm; };
        auto replace = [&](ValueId v) {
            repl[k] = v;
            dead[k] = 1;
            any = true;
        };
        if (is_pure(i.op)) {
            const unsigned na = op_info(i.op).num_args();
            bool all_const = true;
            for (unsigned j = 0; j < na; ++j) all_const = all_const && is_c(j);
            if (all_const) {
                uint64_t a = cval(0), b = na > 1 ? cval(1) : 0, c = na > 2 ? cval(2) : 0;
                make_const(i, eval_pure(i.op, i.type, operand_type(block, i), a, b, c));
                continue;
            }
            const uint64_t ones = width_mask(i.type);
            const ValueId x = i.args[0], y = i.args[1];
            switch (i.op) {
                case Opcode::Add:
                case Opcode::Or:
                case Opcode::Xor:
                    if (is_c(1) && cval(1) == 0)
                        replace(x);
                    else if (is_c(0) && cval(0) == 0)
                        replace(y);
                    else if (i.op == Opcode::Xor && x == y)
                        make_const(i, 0);
                    else if (i.op == Opcode::Or && x == y)
                        replace(x);
                    else if (i.op == Opcode::Or && ((is_c(1) && cval(1) == ones) || (is_c(0) && cval(0) == ones)))
                        make_const(i, ones);
                    break;
                case Opcode::Sub:
                    if (is_c(1) && cval(1) == 0)
                        replace(x);
                    else if (x == y)
                        make_const(i, 0);
                    break;
                case Opcode::Shl:
                case Opcode::LShr:
                case Opcode::AShr:
                case Opcode::RotL:
                case Opcode::RotR:
                    if (is_c(1) && (cval(1) & (bit_width(i.type) - 1)) == 0) replace(x);
                    break;
                case Opcode::And:
                    if ((is_c(1) && cval(1) == 0) || (is_c(0) && cval(0) == 0))
                        make_const(i, 0);
                    else if (is_c(1) && cval(1) == ones)
                        replace(x);
                    else if (is_c(0) && cval(0) == ones)
                        replace(y);
                    else if (x == y)
                        replace(x);
                    break;
                case Opcode::AndNot:
                    if (is_c(1) && cval(1) == 0)
                        replace(x);
                    else if (x == y)
                        make_const(i, 0);
                    break;
                case Opcode::Mul:
                    if ((is_c(1) && cval(1) == 0) || (is_c(0) && cval(0) == 0))
                        make_const(i, 0);
                    else if (is_c(1) && cval(1) == 1)
                        replace(x);
                    else if (is_c(0) && cval(0) == 1)
                        replace(y);
                    break;
                case Opcode::ZExt:
                case Opcode::SExt:
                case Opcode::Trunc:
                    if (insts[x].type == i.type) replace(x);
                    break;
                case Opcode::Select:
                    if (is_c(0))
                        replace(cval(0) ? i.args[1] : i.args[2]);
                    else if (i.args[1] == i.args[2])
                        replace(i.args[1]);
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
            continue;
        }
        if (i.op == Opcode::BrCond && is_c(0)) {
            if (cval(0) != 0) {
                i.op = Opcode::Br;
                i.args[0] = kNoValue;
            } else {
                dead[k] = 1;
                any = true;
            }
        } else if (i.op == Opcode::ExitCond && is_c(0)) {
            uint64_t target = cval(0) != 0 ? i.imm : i.imm2;
            i.op = Opcode::ExitLink;
            i.imm = target;
            i.imm2 = 0;
            i.args[0] = kNoValue;
        }
    }
    if (any) compact(block, dead);
}

}  // namespace corvid::ir
