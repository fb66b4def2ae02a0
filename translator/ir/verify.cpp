// The IR verifier (see verify.h). Every block is verified before it is optimised and compiled,
// so backends may rely on these rules without checking them again.
#include "translator/ir/verify.h"

#include <fmt/format.h>

#include <array>
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

// Per opcode, what quick_check needs of the opcode table, in one small row.
struct Row {
    uint8_t nargs;
    Kind args[3];
    uint8_t result_types;  // bit t: Type(t) is a valid result type
    bool terminal;
    bool call;
    bool extra;  // has opcode-specific checks (labels, branches, memory, state, halt, const)
};

constexpr auto kRows = [] {
    std::array<Row, size_t(Opcode::Count)> t{};
    for (size_t o = 0; o < t.size(); ++o) {
        const OpInfo& info = detail::kOpInfos[o];
        const Opcode op = Opcode(o);
        Row& r = t[o];
        r.nargs = 0;
        while (r.nargs < 3 && info.args[r.nargs] != Kind::V) ++r.nargs;
        for (unsigned a = 0; a < 3; ++a) r.args[a] = info.args[a];
        switch (info.result) {
            case Kind::V: r.result_types = 1u << unsigned(Type::Void); break;
            case Kind::T:
            case Kind::A:
                r.result_types = (1u << unsigned(Type::I8)) | (1u << unsigned(Type::I16)) |
                                 (1u << unsigned(Type::I32)) | (1u << unsigned(Type::I64));
                break;
            case Kind::I32: r.result_types = 1u << unsigned(Type::I32); break;
            case Kind::I64: r.result_types = 1u << unsigned(Type::I64); break;
        }
        r.terminal = (info.flags & kTerminal) != 0;
        r.call = op == Opcode::Call || op == Opcode::CallVoid;
        r.extra = op == Opcode::Label || op == Opcode::Br || op == Opcode::BrCond || op == Opcode::Load ||
                  op == Opcode::Store || op == Opcode::SetState || op == Opcode::ExitHalt || op == Opcode::Const;
    }
    return t;
}();

// The same rules as Verifier, as a yes/no answer without building any message: the cost of
// verifying a good block. It must never accept a block that Verifier rejects (it may be
// stricter; Verifier decides then). The order of the checks does not matter here.
bool quick_check(const Block& b) {
    const auto& insts = b.insts;
    const size_t n = insts.size();
    if (n == 0 || n >= kNoValue) return false;
    thread_local std::vector<uint8_t> label_defined;  // scratch reused across blocks
    label_defined.assign(b.num_labels, 0);
    size_t region_start = 0;
    bool after_terminal = false;
    bool any_branch = false;
    uint64_t pc = ~0ull;
    bool state_written_in_insn = false;
    for (size_t k = 0; k < n; ++k) {
        const Inst& i = insts[k];
        if (size_t(i.op) >= size_t(Opcode::Count)) return false;
        const Row& row = kRows[size_t(i.op)];
        if (after_terminal && i.op != Opcode::Label) return false;
        after_terminal = row.terminal;
        if (i.pc != pc) {
            pc = i.pc;
            state_written_in_insn = false;
        }
        // Result type (an out-of-range Type has no bit).
        if (unsigned(i.type) >= 8 || !((row.result_types >> unsigned(i.type)) & 1)) return false;
        // Operands.
        unsigned nargs = row.nargs;
        if (row.call) {
            const auto* h = reinterpret_cast<const HelperInfo*>(i.imm);
            if (!h || !h->fn || h->num_args > 3) return false;
            nargs = h->num_args;
        }
        if (row.extra && i.op == Opcode::Label) region_start = k;  // checked in full below
        Type shared = Type::Void;
        for (unsigned a = 0; a < nargs; ++a) {
            const ValueId v = i.args[a];
            // One unsigned compare: v < region_start wraps around; kNoValue is >= k too.
            if (size_t(v) - region_start >= k - region_start) return false;
            // Every earlier instruction passed the result check, so it has a value exactly
            // when its type is not Void.
            const Type dt = insts[v].type;
            Type want;
            switch (row.args[a]) {
                case Kind::T: want = i.type; break;
                case Kind::I32: want = Type::I32; break;
                case Kind::I64: want = Type::I64; break;
                default:
                    if (shared == Type::Void) shared = dt;
                    want = shared;
                    break;
            }
            if (dt != want || dt == Type::Void) return false;
        }
        for (unsigned a = nargs; a < 3; ++a) {
            if (i.args[a] != kNoValue) return false;
        }
        if (!row.extra) continue;
        switch (i.op) {
            case Opcode::Label:
                if (i.imm >= b.num_labels || label_defined[i.imm]) return false;
                label_defined[i.imm] = 1;
                state_written_in_insn = false;
                break;
            case Opcode::Const:
                if (i.type != Type::I64 && (i.imm >> bit_width(i.type)) != 0) return false;
                break;
            case Opcode::Br:
            case Opcode::BrCond:
                if (i.imm >= b.num_labels) return false;
                any_branch = true;
                break;
            case Opcode::Load:
            case Opcode::Store:
                if (state_written_in_insn) return false;
                if (i.imm & ~uint64_t(kMemSizeMask | kMemSigned | kMemAlignCheck)) return false;
                if (i.op == Opcode::Load && mem_size_bytes(i.imm) * 8 > bit_width(i.type)) return false;
                if (i.op == Opcode::Store && mem_size_bytes(i.imm) * 8 > bit_width(insts[i.args[1]].type))
                    return false;
                break;
            case Opcode::SetState: state_written_in_insn = true; break;
            case Opcode::ExitHalt:
                if (i.imm < 1 || i.imm > 3) return false;
                break;
            default: break;
        }
    }
    if (!after_terminal) return false;  // the last instruction's flag: the block must end in a terminal
    if (any_branch) {
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
