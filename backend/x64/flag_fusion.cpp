// Host-flag reuse: the guest flag computations of a block (AddWithCarry / AddCarry /
// AddOverflow of one operand triple, compares of their result against zero, and the branch
// conditions built from those) are served by the x86 flags of ONE host add/sub instead of one
// host instruction sequence each. Decided in analyze_flags(), followed by the emitters.
#include <algorithm>

#include "backend/x64/block_compiler.h"
#include "translator/ir/eval.h"

namespace corvid::x64 {

using ir::Opcode;
using ir::Type;
using CC = asmjit::x86::CondCode;

namespace {

bool is_addc_family(Opcode op) {
    return op == Opcode::AddWithCarry || op == Opcode::AddCarry || op == Opcode::AddOverflow;
}

// ALU ops whose host instruction (emit_binop, i32/i64: no renormalisation) leaves SF/ZF
// describing the result.
bool sets_result_flags(const ir::Inst& in) {
    if (in.type != Type::I32 && in.type != Type::I64) return false;
    switch (in.op) {
        case Opcode::Add:
        case Opcode::Sub:
        case Opcode::And:
        case Opcode::Or:
        case Opcode::Xor: return true;
        default: return false;
    }
}

// Emitted with mov/movzx/movsx/setcc only (see emit_get_state, emit_set_state, emit_convert
// and the regalloc moves): the host flags survive them.
bool flag_neutral(Opcode op) {
    switch (op) {
        case Opcode::Const:
        case Opcode::GetState:
        case Opcode::SetState:
        case Opcode::ZExt:
        case Opcode::SExt:
        case Opcode::Trunc: return true;
        default: return false;
    }
}

}  // namespace

// The x86 condition under which value v (a 0/1 value) is non-zero, given that the host flags
// describe `f`; kMaxValue when v is not a function of those flags.
CC BlockCompiler::flag_cond(ValueId v, const HostFlags& f, int depth) const {
    constexpr CC kNone = CC::kMaxValue;
    if (!f.valid || depth > 6) return kNone;
    v = canon(v);
    if (is_const(v)) return kNone;
    const ir::Inst& in = block_.insts[v];
    // A value is "non-zero" exactly when ZF is clear after the instruction that computed it.
    if (v == f.result && type_bytes(in.type) == f.bytes) return CC::kNE;
    switch (in.op) {
        case Opcode::AddCarry:
        case Opcode::AddOverflow:
            if (!f.arith || canon(in.args[0]) != f.a || canon(in.args[1]) != f.b || canon(in.args[2]) != f.cin ||
                type_bytes(type_of(in.args[0])) != f.bytes) {
                return kNone;
            }
            if (in.op == Opcode::AddOverflow) return CC::kO;
            return f.sub ? CC::kAE : CC::kC;
        case Opcode::CmpEq:
        case Opcode::CmpNe:
        case Opcode::CmpLtU:
        case Opcode::CmpLtS:
        case Opcode::CmpLeU:
        case Opcode::CmpLeS: return compare_cond(in, f, depth);
        case Opcode::Xor: {
            if (in.type != Type::I32) return kNone;
            ValueId other = ir::kNoValue;
            if (is_const(in.args[1]) && const_of(in.args[1]) == 1) other = in.args[0];
            else if (is_const(in.args[0]) && const_of(in.args[0]) == 1) other = in.args[1];
            if (other == ir::kNoValue) return kNone;
            CC c = flag_cond(other, f, depth + 1);
            return c == kNone ? kNone : asmjit::x86::negateCond(c);
        }
        case Opcode::And: {
            if (in.type != Type::I32) return kNone;
            CC x = flag_cond(in.args[0], f, depth + 1), y = flag_cond(in.args[1], f, depth + 1);
            if (x == CC::kNE) std::swap(x, y);
            if (y != CC::kNE) return kNone;
            if (x == CC::kAE && f.sub) return CC::kA;  // HI: C && !Z after a subtraction
            if (x == CC::kGE) return CC::kG;           // GT: N == V && !Z
            return kNone;
        }
        default: return kNone;
    }
}

// Compares answered by the flags of `f`: of its result against zero, of the operands of a
// subtraction against each other, and the carry / overflow idioms the frontends emit.
CC BlockCompiler::compare_cond(const ir::Inst& in, const HostFlags& f, int depth) const {
    constexpr CC kNone = CC::kMaxValue;
    const ValueId x = canon(in.args[0]), y = canon(in.args[1]);
    const Type t = type_of(in.args[0]);
    const unsigned bytes = type_bytes(t);
    auto zero = [&](ValueId a) { return is_const(a) && const_of(a) == 0; };
    auto op_of = [&](ValueId v) { return is_const(v) ? Opcode::Const : block_.insts[v].op; };
    const bool plain = !f.arith && (f.op == Opcode::Sub || f.op == Opcode::Add);
    const bool logic = !f.arith && (f.op == Opcode::And || f.op == Opcode::Or || f.op == Opcode::Xor);
    if (bytes == f.bytes && f.result != ir::kNoValue && x == f.result && zero(y)) {
        switch (in.op) {
            case Opcode::CmpEq: return CC::kE;
            case Opcode::CmpNe: return CC::kNE;
            case Opcode::CmpLtS: return CC::kS;
            case Opcode::CmpLeS: return logic ? CC::kLE : kNone;  // OF = 0 after a logic op
            default: return kNone;
        }
    }
    if (bytes == f.bytes && plain && f.op == Opcode::Sub) {
        // a - b: the flags of `cmp a, b`.
        if (x == f.a && y == f.b) {
            switch (in.op) {
                case Opcode::CmpEq: return CC::kE;
                case Opcode::CmpNe: return CC::kNE;
                case Opcode::CmpLtU: return CC::kB;
                case Opcode::CmpLtS: return CC::kL;
                case Opcode::CmpLeU: return CC::kBE;
                case Opcode::CmpLeS: return CC::kLE;
                default: return kNone;
            }
        }
        if (x == f.b && y == f.a) {
            switch (in.op) {
                case Opcode::CmpEq: return CC::kE;
                case Opcode::CmpNe: return CC::kNE;
                case Opcode::CmpLtU: return CC::kA;
                case Opcode::CmpLtS: return CC::kG;
                case Opcode::CmpLeU: return CC::kAE;
                case Opcode::CmpLeS: return CC::kGE;
                default: return kNone;
            }
        }
        // Overflow of a - k as one compare of a: a <s MIN + k (k > 0) or MAX + k <s a (k < 0).
        if (in.op == Opcode::CmpLtS && is_const(f.b) && const_of(f.b) != 0) {
            const uint64_t m = ir::width_mask(t), min = (m >> 1) + 1, k = const_of(f.b);
            if (!(k & min) && x == f.a && is_const(y) && const_of(y) == ((min + k) & m)) return CC::kO;
            if ((k & min) && y == f.a && is_const(x) && const_of(x) == (((m >> 1) + k) & m)) return CC::kO;
        }
    }
    if (bytes == f.bytes && plain && f.op == Opcode::Add && in.op == Opcode::CmpLtU && x == f.result &&
        (y == f.a || y == f.b)) {
        return CC::kC;  // the sum wrapped around
    }
    if (bytes == f.bytes && plain && in.op == Opcode::CmpLtS && zero(y) && op_of(x) != Opcode::Const) {
        // Overflow idioms, sign of: (a ^ b) & (a ^ r) for a - b; (a ^ r) & ~(a ^ b) for a + b.
        const ir::Inst& w = block_.insts[x];
        auto is_xor_of = [&](ValueId v, ValueId p, ValueId q) {
            v = canon(v);
            if (op_of(v) != Opcode::Xor) return false;
            const ValueId s0 = canon(block_.insts[v].args[0]), s1 = canon(block_.insts[v].args[1]);
            return (s0 == p && s1 == q) || (s0 == q && s1 == p);
        };
        if (f.op == Opcode::Sub && w.op == Opcode::And &&
            ((is_xor_of(w.args[0], f.a, f.b) && is_xor_of(w.args[1], f.a, f.result)) ||
             (is_xor_of(w.args[1], f.a, f.b) && is_xor_of(w.args[0], f.a, f.result)))) {
            return CC::kO;
        }
        if (f.op == Opcode::Add && w.op == Opcode::AndNot && is_xor_of(w.args[0], f.a, f.result) &&
            (is_xor_of(w.args[1], f.a, f.b) || is_xor_of(w.args[1], f.b, f.a))) {
            return CC::kO;
        }
        return kNone;
    }
    if (bytes != 4 || (in.op != Opcode::CmpEq && in.op != Opcode::CmpNe)) return kNone;
    // N == V / N != V (GE / LT) from the flags of one arithmetic operation.
    CC cx = flag_cond(x, f, depth + 1), cy = flag_cond(y, f, depth + 1);
    if ((cx == CC::kS && cy == CC::kO) || (cx == CC::kO && cy == CC::kS)) {
        return in.op == Opcode::CmpEq ? CC::kGE : CC::kL;
    }
    return kNone;
}

void BlockCompiler::analyze_flags(std::vector<uint16_t>& uses, bool any_cmp) {
    const size_t n = block_.insts.size();
    std::fill_n(flag_use_, n, uint8_t(kFlagNone));
    std::fill_n(flag_cc_, n, uint8_t(CC::kE));
    scratch_.prezero.clear();
    scratch_.prezero_next = 0;

    // analyze() collected what the steps below look at: the add-with-carry family ops, the
    // conditional branches and the `cmp.lts x, 0` of the overflow idioms. A block with no
    // add-with-carry op, no compare and no conditional branch has nothing to read from the
    // host flags.
    const std::vector<uint32_t>& addcs = scratch_.flag_addcs;
    const std::vector<uint32_t>& branches = scratch_.flag_branches;
    const std::vector<uint32_t>& sign_tests = scratch_.flag_sign_tests;
    if (addcs.empty() && !any_cmp && branches.empty()) return;

    // 1. Subtraction form: a Not whose every use is the second operand of an add-with-carry
    //    family op with carry-in 1 is not emitted; those ops subtract its operand instead.
    std::vector<uint16_t>& qual = scratch_.flag_tmp;
    qual.assign(n, 0);
    std::vector<uint32_t>& nots = scratch_.flag_nots;
    nots.clear();
    for (uint32_t i : addcs) {
        const ir::Inst& in = block_.insts[i];
        if (!is_const(in.args[2]) || (const_of(in.args[2]) & 1) == 0) continue;
        const ValueId b = canon(in.args[1]);
        if (is_const(b) || block_.insts[b].op != Opcode::Not) continue;
        if (canon(in.args[0]) == b) continue;  // a - a: keep it simple
        if (qual[b]++ == 0) nots.push_back(b);
    }
    for (ValueId v : nots) {
        if (qual[v] != uses[v] || alias_[v] != v || cval_[v]) continue;
        const ValueId x = canon(block_.insts[v].args[0]);
        if (is_const(x)) continue;
        flag_use_[v] = kFlagAbsorbed;
        // x is now read where the Not's users are.
        if (last_use_[v] > last_use_[x]) last_use_[x] = last_use_[v];
    }

    // 2. Branch condition trees: nodes used only by their parent (the root only by the branch)
    //    are candidates for deferral (never emitted when the branch reads the host flags).
    std::vector<int32_t>& owner = scratch_.flag_owner;
    owner.assign(n, -1);
    std::vector<ValueId>& stack = scratch_.flag_stack;
    auto internal = [&](ValueId v) {
        const ir::Inst& in = block_.insts[v];
        if (alias_[v] != v || cval_[v] || uses[v] != 1 || in.type != Type::I32) return false;
        if (in.op >= Opcode::CmpEq && in.op <= Opcode::CmpLeS) return true;
        return in.op == Opcode::Xor || in.op == Opcode::And || in.op == Opcode::CmpEq || in.op == Opcode::CmpNe;
    };
    auto mark_tree = [&](uint32_t br, int32_t who) {
        stack.clear();
        stack.push_back(canon(block_.insts[br].args[0]));
        while (!stack.empty()) {
            ValueId v = stack.back();
            stack.pop_back();
            if (is_const(v) || !internal(v)) continue;
            if (who >= 0 && owner[v] >= 0) continue;
            owner[v] = who;
            for (ValueId a : block_.insts[v].args) {
                if (a != ir::kNoValue) stack.push_back(canon(a));
            }
        }
    };
    std::vector<uint8_t>& candidate = scratch_.flag_candidate;
    candidate.assign(n, 0);
    for (uint32_t j : branches) {
        candidate[j] = 1;
        mark_tree(j, int32_t(j));
    }

    // Overflow idioms (see compare_cond): the and/xor tree under `cmp.lts x, 0` is deferred
    // with the compare as its owner when the compare can be read from the flags.
    auto single = [&](ValueId v, Opcode op) {
        return !is_const(v) && alias_[v] == v && !cval_[v] && uses[v] == 1 && block_.insts[v].op == op &&
               owner[v] < 0;
    };
    for (uint32_t j : sign_tests) {
        const ir::Inst& in = block_.insts[j];
        const ValueId x = canon(in.args[0]);
        if (is_const(x)) continue;
        const Opcode xo = block_.insts[x].op;
        if ((xo != Opcode::And && xo != Opcode::AndNot) || !single(x, xo)) continue;
        const ValueId p = canon(block_.insts[x].args[0]), q = canon(block_.insts[x].args[1]);
        if (!single(p, Opcode::Xor) || !single(q, Opcode::Xor)) continue;
        candidate[j] = 2;
        owner[x] = owner[p] = owner[q] = int32_t(j);
    }

    // 3. Simulate the emitted code's effect on the host flags; drop the candidates whose
    //    condition is not available from the flags at the branch, and repeat (rarely twice).
    std::vector<uint32_t>& prod = scratch_.flag_prod;
    for (int round = 0; round < 8; ++round) {
        prod.assign(n, ~0u);
        scratch_.flag_stores.clear();
        bool dropped = false;
        HostFlags f;
        for (uint32_t i = 0; i < n; ++i) {
            const ir::Inst& in = block_.insts[i];
            // This round's starting plan for i (the walk below only reads earlier entries).
            if (flag_use_[i] != kFlagAbsorbed) flag_use_[i] = owner[i] >= 0 ? kFlagDeferred : kFlagNone;
            if (emits_nothing(i)) continue;
            if (is_addc_family(in.op)) {
                const ValueId a = canon(in.args[0]), b = canon(in.args[1]), cin = canon(in.args[2]);
                const unsigned bytes = type_bytes(type_of(in.args[0]));
                if (f.valid && f.arith && f.a == a && f.b == b && f.cin == cin && f.bytes == bytes) {
                    flag_use_[i] = kFlagReuse;
                    prod[i] = f.producer;
                    if (in.op == Opcode::AddWithCarry) {
                        if (f.result == ir::kNoValue) f.result = i;
                    } else {
                        flag_cc_[i] = uint8_t(flag_cond(i, f, 0));
                    }
                    continue;
                }
                flag_use_[i] = kFlagProduce;
                f = HostFlags{};
                f.producer = i;
                f.valid = f.arith = true;
                f.a = a, f.b = b, f.cin = cin, f.bytes = bytes;
                f.sub = is_const(cin) && (const_of(cin) & 1) &&
                        (is_const(b) || flag_use_[b] == kFlagAbsorbed);
                f.result = in.op == Opcode::AddWithCarry ? i : ir::kNoValue;
                continue;
            }
            if (in.op >= Opcode::CmpEq && in.op <= Opcode::CmpLeS) {
                CC c = flag_cond(i, f, 0);
                if (c != CC::kMaxValue) {
                    flag_use_[i] = kFlagReuse;
                    flag_cc_[i] = uint8_t(c);
                    prod[i] = f.producer;
                    continue;
                }
                if (candidate[i] == 2) {
                    // Its deferred operand tree must be emitted after all.
                    candidate[i] = 0;
                    for (size_t v = 0; v < n; ++v) {
                        if (owner[v] == int32_t(i)) owner[v] = -1;
                    }
                    dropped = true;
                }
                f.valid = false;
                continue;
            }
            if (candidate[i]) {
                CC c = flag_cond(in.args[0], f, 0);
                if (c == CC::kMaxValue) {
                    candidate[i] = 0;
                    mark_tree(i, -1);
                    dropped = true;
                } else {
                    flag_use_[i] = kFlagBranch;
                    flag_cc_[i] = uint8_t(c);
                }
                f.valid = false;
                continue;
            }
            if (sets_result_flags(in)) {
                f = HostFlags{};
                f.producer = i;
                f.valid = true;
                f.result = i;
                f.bytes = type_bytes(in.type);
                f.op = in.op;
                f.a = canon(in.args[0]);
                f.b = canon(in.args[1]);
                continue;
            }
            if (in.op == Opcode::SetState) {
                const ValueId v = canon(in.args[0]);
                // Reached with its flags live: a candidate for plan_flag_stores.
                if (f.valid && !is_const(v) && flag_use_[v] == kFlagReuse && prod[v] == f.producer) {
                    scratch_.flag_stores.push_back(i);
                }
                continue;
            }
            if (!flag_neutral(in.op)) f.valid = false;
        }
        if (!dropped) {
            plan_flag_stores(uses);
            find_flags_only(addcs);
            return;
        }
    }
    // Did not settle: no deferral at all (always correct).
    for (size_t v = 0; v < n; ++v) {
        if (flag_use_[v] != kFlagAbsorbed) flag_use_[v] = kFlagNone;
    }
}

}  // namespace corvid::x64

namespace corvid::x64 {

// A boolean read from the flags and only stored to guest state costs setcc + movzx + mov; as
// `mov dword [state], 0` before the producing instruction and `setcc byte [state]` it costs two
// instructions and no register. Only when nothing in between reads or writes that state word,
// and when its other readers are branches that take their condition from the flags too (the
// A64 `cmp; b.eq` case: Z is stored and branched on).
void BlockCompiler::plan_flag_stores(const std::vector<uint16_t>& uses) {
    auto flag_branch_uses = [&](ValueId v) {
        unsigned k = 0;
        for (uint32_t j : scratch_.flag_branches) {
            if (flag_use_[j] == kFlagBranch && canon(block_.insts[j].args[0]) == v) ++k;
        }
        return k;
    };
    const std::vector<uint32_t>& prod = scratch_.flag_prod;
    for (uint32_t s : scratch_.flag_stores) {  // SetStates reached with their flags live, in order
        const ir::Inst& st = block_.insts[s];
        const ValueId v = canon(st.args[0]);
        if (type_of(st.args[0]) != Type::I32 || fused_[v]) continue;
        if (uses[v] != 1 && uses[v] != 1 + flag_branch_uses(v)) continue;
        const Opcode vo = block_.insts[v].op;
        if (vo == Opcode::AddWithCarry) continue;  // not a boolean
        const uint32_t p = prod[v];
        if (p >= s) continue;
        const uint64_t off = st.imm;
        bool clash = false;
        for (uint32_t k = p + 1; k < s && !clash; ++k) {
            const ir::Inst& in = block_.insts[k];
            if ((in.op != Opcode::GetState && in.op != Opcode::SetState) || emits_nothing(k)) continue;
            const unsigned bytes = type_bytes(in.op == Opcode::GetState ? in.type : type_of(in.args[0]));
            if (in.imm < off + 4 && off < in.imm + bytes) clash = true;
        }
        if (clash) continue;
        flag_use_[v] = kFlagToMemory;
        flag_use_[s] = kFlagSetcc;
        scratch_.prezero.emplace_back(p, uint32_t(off));
    }
    std::sort(scratch_.prezero.begin(), scratch_.prezero.end());  // emitted in instruction order
}

// `cmp` on A64 (subs xzr) and x86: the difference is computed for its flags only. Its value
// is not needed at all when every reader takes the flags instead (reused compares, deferred
// branch trees, flag stores): the subtraction becomes a host `cmp`.
void BlockCompiler::find_flags_only(const std::vector<uint32_t>& addcs) {
    const auto& skip = scratch_.skip;
    for (uint32_t p : addcs) {
        if (block_.insts[p].op != Opcode::AddWithCarry || flag_use_[p] != kFlagProduce || last_use_[p] < 0) continue;
        bool read = false;
        for (int32_t j = int32_t(p) + 1; j <= last_use_[p] && !read; ++j) {
            const uint8_t fu = flag_use_[j];
            if (fu == kFlagReuse && block_.insts[j].op == Opcode::AddWithCarry) {
                read = true;  // copies the sum from rax
                break;
            }
            if (skip[j] || fu == kFlagReuse || fu == kFlagDeferred || fu == kFlagToMemory || fu == kFlagAbsorbed) {
                continue;
            }
            for (ValueId a : block_.insts[j].args) {
                if (a != ir::kNoValue && canon(a) == p) read = true;
            }
        }
        if (!read) flag_use_[p] = kFlagsOnly;
    }
}

void BlockCompiler::emit_prezero(uint32_t i) {
    auto& list = scratch_.prezero;  // sorted by (producer, offset)
    size_t& k = scratch_.prezero_next;
    while (k < list.size() && list[k].first <= i) {
        if (list[k].first < i) {  // (never: a producer always emits code)
            ++k;
            continue;
        }
        const uint32_t off = list[k].second;
        // Two adjacent words (A64 C and V) zeroed by one qword store.
        if (k + 1 < list.size() && list[k + 1].first == i && list[k + 1].second == off + 4) {
            as_.mov(asmjit::x86::qword_ptr(asmjit::x86::r15, int32_t(off)), 0);
            k += 2;
        } else {
            as_.mov(asmjit::x86::dword_ptr(asmjit::x86::r15, int32_t(off)), 0);
            k += 1;
        }
    }
}

}  // namespace corvid::x64
