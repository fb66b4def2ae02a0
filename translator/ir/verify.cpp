// The IR verifier (see verify.h). Every block is verified before it is optimised and compiled,
// so backends may rely on these rules without checking them again.
#include "translator/ir/verify.h"

#include <fmt/format.h>

#include <vector>

namespace corvid::ir {
namespace {

bool is_int(Type t) {
    return t == Type::I8 || t == Type::I16 || t == Type::I32 || t == Type::I64;
}

// The detailed checker: finds and describes the first offending instruction. It runs only when
// quick_check (below) rejects a block, and its verdict is the one returned.
class Verifier {
public:
    explicit Verifier(const Block& b) : b_(b) {}

    Status run() {
        const size_t n = b_.insts.size();
        if (n == 0) return fail(0, "empty block");
        if (n >= kNoValue) return fail(0, "too many instructions");
        std::vector<int8_t> label_defined(b_.num_labels, 0);
        size_t region_start = 0;
        bool after_terminal = false;
        uint64_t pc = ~0ull;
        bool state_written_in_insn = false;
        for (size_t k = 0; k < n; ++k) {
            const Inst& i = b_.insts[k];
            if (size_t(i.op) >= size_t(Opcode::Count)) return fail(k, "unknown opcode");
            const OpInfo& info = op_info(i.op);
            if (after_terminal && i.op != Opcode::Label) return fail(k, "instruction after a terminal is not a label");
            after_terminal = (info.flags & kTerminal) != 0;
            if (i.op == Opcode::Label) {
                if (i.imm >= b_.num_labels) return fail(k, "label id out of range");
                if (label_defined[i.imm]) return fail(k, "label defined twice");
                label_defined[i.imm] = 1;
                region_start = k;
                state_written_in_insn = false;
            }
            if (i.pc != pc) {
                pc = i.pc;
                state_written_in_insn = false;
            }
            if (Status s = check_operands(k, region_start); !s) return s;
            if (Status s = check_result(k); !s) return s;
            switch (i.op) {
                case Opcode::Br:
                case Opcode::BrCond:
                    if (i.imm >= b_.num_labels) return fail(k, "branch to an unknown label");
                    break;
                case Opcode::Load:
                case Opcode::Store:
                    if (state_written_in_insn)
                        return fail(k, "memory access after a guest-state write of the same instruction");
                    if (i.imm & ~uint64_t(kMemSizeMask | kMemSigned | kMemAlignCheck))
                        return fail(k, "unknown memory flags");
                    if (i.op == Opcode::Load && mem_size_bytes(i.imm) * 8 > bit_width(i.type))
                        return fail(k, "load wider than its result type");
                    if (i.op == Opcode::Store && mem_size_bytes(i.imm) * 8 > bit_width(b_.insts[i.args[1]].type))
                        return fail(k, "store wider than its value");
                    break;
                case Opcode::SetState: state_written_in_insn = true; break;
                case Opcode::ExitHalt:
                    if (i.imm < 1 || i.imm > 3) return fail(k, "unknown halt reason");
                    break;
                default: break;
            }
        }
        if (!(op_info(b_.insts[n - 1].op).flags & kTerminal)) return fail(n - 1, "block does not end in a terminal");
        for (size_t k = 0; k < n; ++k) {
            const Inst& i = b_.insts[k];
            if ((i.op == Opcode::Br || i.op == Opcode::BrCond) && !label_defined[i.imm])
                return fail(k, fmt::format("branch to label L{} which is not placed", i.imm));
        }
        return {};
    }

private:
    Status check_operands(size_t k, size_t region_start) {
        const Inst& i = b_.insts[k];
        const OpInfo& info = op_info(i.op);
        const bool is_call = i.op == Opcode::Call || i.op == Opcode::CallVoid;
        unsigned nargs = info.num_args();
        if (is_call) {
            const auto* h = reinterpret_cast<const HelperInfo*>(i.imm);
            if (!h || !h->fn) return fail(k, "call without a helper");
            if (h->num_args > 3) return fail(k, "helper with more than 3 arguments");
            nargs = h->num_args;
        }
        Type shared = Type::Void;
        for (unsigned a = 0; a < 3; ++a) {
            ValueId v = i.args[a];
            if (a >= nargs) {
                if (v != kNoValue) return fail(k, fmt::format("unexpected operand {}", a));
                continue;
            }
            if (v == kNoValue) return fail(k, fmt::format("missing operand {}", a));
            if (v >= k) return fail(k, fmt::format("operand v{} is not defined before its use", v));
            if (v < region_start)
                return fail(k, fmt::format("operand v{} is defined before a label the use follows", v));
            const Inst& d = b_.insts[v];
            if (op_info(d.op).result == Kind::V || !is_int(d.type))
                return fail(k, fmt::format("operand v{} has no value", v));
            switch (info.args[a]) {
                case Kind::T:
                    if (d.type != i.type) return fail(k, fmt::format("operand v{} must be {}", v, type_name(i.type)));
                    break;
                case Kind::A:
                    if (shared == Type::Void)
                        shared = d.type;
                    else if (d.type != shared)
                        return fail(k, fmt::format("operand v{} must be {}", v, type_name(shared)));
                    break;
                case Kind::I32:
                    if (d.type != Type::I32) return fail(k, fmt::format("operand v{} must be i32", v));
                    break;
                case Kind::I64:
                    if (d.type != Type::I64) return fail(k, fmt::format("operand v{} must be i64", v));
                    break;
                case Kind::V: break;
            }
        }
        return {};
    }

    Status check_result(size_t k) {
        const Inst& i = b_.insts[k];
        switch (op_info(i.op).result) {
            case Kind::V:
                if (i.type != Type::Void) return fail(k, "instruction without a result has a type");
                break;
            case Kind::T:
            case Kind::A:
                if (!is_int(i.type)) return fail(k, "result type must be an integer type");
                if (i.op == Opcode::Const &&
                    i.imm != (i.type == Type::I64 ? i.imm : i.imm & ((1ull << bit_width(i.type)) - 1)))
                    return fail(k, "constant does not fit its type");
                break;
            case Kind::I32:
                if (i.type != Type::I32) return fail(k, "result type must be i32");
                break;
            case Kind::I64:
                if (i.type != Type::I64) return fail(k, "result type must be i64");
                break;
        }
        return {};
    }

    Status fail(size_t k, std::string_view what) {
        return make_error(fmt::format(
            "IR verifier: v{} ({}): {}\n{}", k,
            k < b_.insts.size() && size_t(b_.insts[k].op) < size_t(Opcode::Count) ? op_info(b_.insts[k].op).name : "?",
            what, size_t(k) < b_.insts.size() ? to_string_safe() : std::string()));
    }

    std::string to_string_safe() {
        for (const Inst& i : b_.insts) {
            if (size_t(i.op) >= size_t(Opcode::Count)) return "(block not printable: unknown opcode)";
            if ((i.op == Opcode::Call || i.op == Opcode::CallVoid) && i.imm == 0)
                return "(block not printable: call without helper)";
        }
        return to_string(b_);
    }

    const Block& b_;
};

// quick_check: the same rules as Verifier, as a yes/no answer without building any message,
// which is the cost of verifying a good block. It must never accept a block that Verifier
// rejects (it may be stricter; Verifier decides then). The order of the checks does not matter
// here. Each opcode's checks are instantiated from its opcodes.inc row, so the operand and
// result kinds are compile-time constants and a good instruction costs a few compares.

struct QuickState {
    const Inst* insts;
    uint32_t num_labels;
    uint8_t* label_defined;
    size_t region_start = 0;
    bool state_written_in_insn = false;
    bool any_branch = false;
};

template <Kind R>
[[gnu::always_inline]] inline bool result_ok(const Inst& i) {
    if constexpr (R == Kind::V) {
        return i.type == Type::Void;
    } else if constexpr (R == Kind::T || R == Kind::A) {
        return is_int(i.type);
    } else if constexpr (R == Kind::I32) {
        return i.type == Type::I32;
    } else {
        return i.type == Type::I64;
    }
}

// Operand v of kind K of instruction k. Every earlier instruction passed the result check, so
// it has a value exactly when its type is not Void.
template <Kind K>
[[gnu::always_inline]] inline bool operand_ok(const QuickState& q, const Inst& i, size_t k, ValueId v, Type& shared) {
    if constexpr (K == Kind::V) {
        return v == kNoValue;
    } else {
        // One unsigned compare: v < region_start wraps around; kNoValue is >= k too.
        if (size_t(v) - q.region_start >= k - q.region_start) return false;
        const Type dt = q.insts[v].type;
        if constexpr (K == Kind::T) {
            return dt == i.type && dt != Type::Void;
        } else if constexpr (K == Kind::I32) {
            return dt == Type::I32;
        } else if constexpr (K == Kind::I64) {
            return dt == Type::I64;
        } else {
            if (shared == Type::Void) shared = dt;
            return dt == shared && dt != Type::Void;
        }
    }
}

template <Opcode Op, Kind R, Kind A0, Kind A1, Kind A2>
[[gnu::always_inline]] inline bool check_op(QuickState& q, const Inst& i, size_t k) {
    if (!result_ok<R>(i)) return false;
    Type shared = Type::Void;
    if constexpr (Op == Opcode::Call || Op == Opcode::CallVoid) {
        const auto* h = reinterpret_cast<const HelperInfo*>(i.imm);
        if (!h || !h->fn || h->num_args > 3) return false;
        for (unsigned a = 0; a < 3; ++a) {
            const bool ok = a < h->num_args ? operand_ok<Kind::I64>(q, i, k, i.args[a], shared)
                                            : operand_ok<Kind::V>(q, i, k, i.args[a], shared);
            if (!ok) return false;
        }
    } else {
        if (!operand_ok<A0>(q, i, k, i.args[0], shared) || !operand_ok<A1>(q, i, k, i.args[1], shared) ||
            !operand_ok<A2>(q, i, k, i.args[2], shared))
            return false;
    }
    if constexpr (Op == Opcode::Const) {
        return i.type == Type::I64 || (i.imm >> bit_width(i.type)) == 0;
    } else if constexpr (Op == Opcode::Label) {
        if (i.imm >= q.num_labels || q.label_defined[i.imm]) return false;
        q.label_defined[i.imm] = 1;
        q.region_start = k;
        q.state_written_in_insn = false;
    } else if constexpr (Op == Opcode::Br || Op == Opcode::BrCond) {
        if (i.imm >= q.num_labels) return false;
        q.any_branch = true;
    } else if constexpr (Op == Opcode::Load || Op == Opcode::Store) {
        if (q.state_written_in_insn) return false;
        if (i.imm & ~uint64_t(kMemSizeMask | kMemSigned | kMemAlignCheck)) return false;
        const Type value_type = Op == Opcode::Load ? i.type : q.insts[i.args[1]].type;
        if (mem_size_bytes(i.imm) * 8 > bit_width(value_type)) return false;
    } else if constexpr (Op == Opcode::SetState) {
        q.state_written_in_insn = true;
    } else if constexpr (Op == Opcode::ExitHalt) {
        if (i.imm < 1 || i.imm > 3) return false;
    }
    return true;
}

bool quick_check(const Block& b) {
    const auto& insts = b.insts;
    const size_t n = insts.size();
    if (n == 0 || n >= kNoValue) return false;
    thread_local std::vector<uint8_t> label_defined;  // scratch reused across blocks
    label_defined.assign(b.num_labels, 0);
    QuickState q{insts.data(), b.num_labels, label_defined.data()};
    bool after_terminal = false;
    uint64_t pc = ~0ull;
    for (size_t k = 0; k < n; ++k) {
        const Inst& i = insts[k];
        if (after_terminal && i.op != Opcode::Label) return false;
        if (i.pc != pc) {
            pc = i.pc;
            q.state_written_in_insn = false;
        }
        bool ok;
        switch (i.op) {
#define OPCODE(name, text, res, a0, a1, a2, flags)                                     \
    case Opcode::name:                                                                 \
        ok = check_op<Opcode::name, Kind::res, Kind::a0, Kind::a1, Kind::a2>(q, i, k); \
        after_terminal = ((flags)&kTerminal) != 0;                                     \
        break;
#include "translator/ir/opcodes.inc"
#undef OPCODE
            default: return false;  // unknown opcode
        }
        if (!ok) return false;
    }
    if (!after_terminal) return false;  // the last instruction's: the block must end in a terminal
    if (q.any_branch) {
        for (const Inst& i : insts) {
            if ((i.op == Opcode::Br || i.op == Opcode::BrCond) && !label_defined[i.imm]) return false;
        }
    }
    return true;
}

}  // namespace

Status verify(const Block& block) {
    if (quick_check(block)) return {};
    return Verifier(block).run();
}

}  // namespace corvid::ir
