// The translator's IR: typed SSA values in one linear block per guest translation unit.
//
// A Block is a vector of Inst. Every Inst may produce one value, named by its index.
// Structure rules (checked by the verifier, translator/ir/verify.h):
//   - operands refer to earlier instructions only, and never across a Label: a value used
//     after a Label must be defined after that Label (values do not flow along in-block
//     branches; pass them through guest state or scratch state instead);
//   - the last instruction is a terminal; an instruction after a terminal must be a Label;
//   - every Br/BrCond names a Label of the same block; labels may be forward or backward.
//   - within one guest instruction every memory access precedes every guest-state write,
//     so a fault (or a self-modifying store that restarts the instruction) is precise.
#pragma once

#include <cstdint>
#include <iterator>
#include <string>
#include <vector>

namespace corvid {
struct CpuCommon;
}

namespace corvid::ir {

enum class Type : uint8_t { Void, I8, I16, I32, I64 };

constexpr unsigned bit_width(Type t) {
    switch (t) {
        case Type::I8: return 8;
        case Type::I16: return 16;
        case Type::I32: return 32;
        case Type::I64: return 64;
        default: return 0;
    }
}
const char* type_name(Type t);

enum class Opcode : uint8_t {
#define OPCODE(name, text, res, a0, a1, a2, flags) name,
#include "translator/ir/opcodes.inc"
#undef OPCODE
    Count
};

enum OpFlag : uint32_t {
    kSideEffect = 1u << 0,
    kTerminal = 1u << 1,
    kMayFault = 1u << 2,
    kReadsState = 1u << 3,
    kWritesState = 1u << 4,
};

// Operand / result kinds of the opcode table.
enum class Kind : uint8_t { V, T, A, I32, I64 };

struct OpInfo {
    const char* name;
    Kind result;
    Kind args[3];
    uint32_t flags;
    unsigned num_args() const {
        unsigned n = 0;
        while (n < 3 && args[n] != Kind::V) ++n;
        return n;
    }
};

namespace detail {
inline constexpr OpInfo kOpInfos[] = {
#define OPCODE(name, text, res, a0, a1, a2, flags) {text, Kind::res, {Kind::a0, Kind::a1, Kind::a2}, flags},
#include "translator/ir/opcodes.inc"
#undef OPCODE
};
static_assert(std::size(kOpInfos) == size_t(Opcode::Count));
}  // namespace detail

// Inline: every pass and the backend ask for it per instruction.
inline const OpInfo& op_info(Opcode op) { return detail::kOpInfos[size_t(op)]; }

// Memory access descriptor carried in Inst::imm of Load/Store.
enum MemFlag : uint32_t {
    kMemSizeMask = 0x3,       // log2 of the access size in bytes (0..3)
    kMemSigned = 1u << 2,     // loads: sign-extend to the result type
    kMemAlignCheck = 1u << 3, // a misaligned address raises the guest alignment fault
};
constexpr uint32_t mem_size_log2(uint64_t flags) { return uint32_t(flags & kMemSizeMask); }
constexpr unsigned mem_size_bytes(uint64_t flags) { return 1u << mem_size_log2(flags); }

// Helper functions callable from IR (SysV ABI): uint64_t fn(CpuCommon*, u64, u64, u64).
// Flags declare what the helper may do; the optimiser and the register allocator trust them.
enum HelperFlag : uint32_t {
    kHelperReadsState = 1u << 0,   // reads guest state through the CPU pointer
    kHelperWritesState = 1u << 1,  // writes guest state
    kHelperMayRaise = 1u << 2,     // may raise a guest exception (does not return)
    kHelperPure = 1u << 3,         // no side effects at all: may be folded / removed when unused
};

using corvid::CpuCommon;  // the one CPU state type (translator/cpu.h), not an ir:: twin
using HelperFn = uint64_t (*)(CpuCommon* cpu, uint64_t a, uint64_t b, uint64_t c);

struct HelperInfo {
    const char* name;
    HelperFn fn;
    uint8_t num_args;
    uint32_t flags;
};

// Why a block stopped with ExitHalt; the run loop returns it to the accelerator.
enum class HaltReason : uint32_t {
    kWaitForInterrupt = 1,  // wfi / hlt: idle until an interrupt or an exit request
    kYield = 2,             // give other work a chance (wfe, yield, pause)
    kStop = 3,              // the frontend asked the run loop to return (state already set)
};

using ValueId = uint32_t;
constexpr ValueId kNoValue = 0xffffffffu;

struct Inst {
    Opcode op = Opcode::Const;
    Type type = Type::Void;
    ValueId args[3] = {kNoValue, kNoValue, kNoValue};
    // Const: the value (truncated to type). GetState/SetState: byte offset in the CPU state.
    // Load/Store: MemFlag bits. Call: const HelperInfo*. Label/Br/BrCond: label id.
    // ExitLink: target pc. ExitCond: pc if the condition is non-zero. ExitException: cause.
    // ExitHalt: HaltReason. PushReturnHint: the return pc.
    uint64_t imm = 0;
    // ExitCond: pc if the condition is zero. ExitException: frontend-defined detail.
    uint64_t imm2 = 0;
    // The guest pc of the instruction this IR came from (exact for faults and helpers).
    uint64_t pc = 0;
};

struct Block {
    uint64_t guest_pc = 0;    // first guest instruction
    uint32_t mode = 0;        // frontend mode bits (part of the cache key)
    uint32_t guest_insns = 0; // guest instructions translated into this block
    uint64_t guest_size = 0;  // bytes of guest code covered, starting at guest_pc
    uint32_t num_labels = 0;
    std::vector<Inst> insts;
    // Set by the state_forward pass: no GetState reads a value an earlier GetState or SetState
    // of the block already holds, so a backend need not look for one again.
    bool state_forwarded = false;

    const Inst& at(ValueId v) const { return insts[v]; }
};

std::string to_string(const Block& block);

// Builder: the only way frontends and tests make IR. Folds nothing; passes do that.
class Builder {
public:
    explicit Builder(Block& block) : b_(block) {}

    Block& block() { return b_; }
    void set_pc(uint64_t pc) { pc_ = pc; }
    uint64_t pc() const { return pc_; }

    ValueId constant(Type t, uint64_t v);
    ValueId c32(uint32_t v) { return constant(Type::I32, v); }
    ValueId c64(uint64_t v) { return constant(Type::I64, v); }

    ValueId get_state(Type t, uint32_t offset);
    void set_state(uint32_t offset, ValueId v);

    // Two-operand ops whose result type is the operands' type.
    ValueId binop(Opcode op, ValueId a, ValueId b);
    ValueId unop(Opcode op, ValueId a);
    ValueId add(ValueId a, ValueId b) { return binop(Opcode::Add, a, b); }
    ValueId sub(ValueId a, ValueId b) { return binop(Opcode::Sub, a, b); }
    ValueId and_(ValueId a, ValueId b) { return binop(Opcode::And, a, b); }
    ValueId or_(ValueId a, ValueId b) { return binop(Opcode::Or, a, b); }
    ValueId xor_(ValueId a, ValueId b) { return binop(Opcode::Xor, a, b); }
    ValueId shl(ValueId a, ValueId b) { return binop(Opcode::Shl, a, b); }
    ValueId lshr(ValueId a, ValueId b) { return binop(Opcode::LShr, a, b); }
    ValueId ashr(ValueId a, ValueId b) { return binop(Opcode::AShr, a, b); }

    ValueId zext(Type t, ValueId a) { return convert(Opcode::ZExt, t, a); }
    ValueId sext(Type t, ValueId a) { return convert(Opcode::SExt, t, a); }
    ValueId trunc(Type t, ValueId a) { return convert(Opcode::Trunc, t, a); }
    ValueId convert(Opcode op, Type t, ValueId a);

    ValueId cmp(Opcode op, ValueId a, ValueId b);  // CmpEq..CmpLeS, result i32
    ValueId select(ValueId cond, ValueId a, ValueId b);

    ValueId add_carry(ValueId a, ValueId b, ValueId cin);
    ValueId add_overflow(ValueId a, ValueId b, ValueId cin);
    ValueId add_with_carry(ValueId a, ValueId b, ValueId cin);

    ValueId load(Type t, ValueId addr, uint32_t mem_flags);
    void store(ValueId addr, ValueId value, uint32_t mem_flags);

    ValueId call(const HelperInfo& h, ValueId a = kNoValue, ValueId b = kNoValue, ValueId c = kNoValue);
    void call_void(const HelperInfo& h, ValueId a = kNoValue, ValueId b = kNoValue, ValueId c = kNoValue);

    uint32_t new_label() { return b_.num_labels++; }
    void label(uint32_t id);
    void br(uint32_t id);
    void br_cond(ValueId cond, uint32_t id);

    // At a call: predicts that an ExitReturn will come back to return_pc (PushReturnHint).
    void push_return_hint(uint64_t return_pc);

    void exit_link(uint64_t target_pc);
    void exit_cond(ValueId cond, uint64_t taken_pc, uint64_t not_taken_pc);
    void exit_jump(ValueId target_pc);
    void exit_return(ValueId target_pc);
    void exit_exception(uint32_t cause, uint64_t detail);
    void exit_halt(HaltReason reason);

    Type type_of(ValueId v) const { return b_.insts[v].type; }
    ValueId emit(const Inst& inst);

private:
    Block& b_;
    uint64_t pc_ = 0;
};

}  // namespace corvid::ir
