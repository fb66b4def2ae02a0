// The interpreter ExecBackend: runs verified IR directly. It is the portable backend and the
// oracle the JIT is checked against, so it follows the opcode table's semantics literally
// (pure ops through ir::eval_pure, memory through the same TLB fast path the JIT inlines).
#include <cstring>
#include <unordered_set>
#include <vector>

#include "translator/engine.h"
#include "translator/ir/eval.h"

namespace corvid {
namespace {

using ir::Opcode;
using ir::Type;

// A block prepared for interpretation: instructions with their operand type resolved and
// labels mapped to instruction indices.
struct InterpCode {
    struct Op {
        Opcode op;
        Type type;
        Type arg_type;
        uint32_t args[3];
        uint64_t imm;
        uint64_t imm2;
        uint64_t pc;
    };
    std::vector<Op> ops;
    std::vector<uint32_t> label_pos;
};

inline uint64_t load_host(const uint8_t* p, unsigned size) {
    switch (size) {
        case 1: return *p;
        case 2: {
            uint16_t v;
            std::memcpy(&v, p, 2);
            return v;
        }
        case 4: {
            uint32_t v;
            std::memcpy(&v, p, 4);
            return v;
        }
        default: {
            uint64_t v;
            std::memcpy(&v, p, 8);
            return v;
        }
    }
}

inline void store_host(uint8_t* p, unsigned size, uint64_t v) {
    switch (size) {
        case 1: *p = uint8_t(v); break;
        case 2: {
            uint16_t x = uint16_t(v);
            std::memcpy(p, &x, 2);
            break;
        }
        case 4: {
            uint32_t x = uint32_t(v);
            std::memcpy(p, &x, 4);
            break;
        }
        default: std::memcpy(p, &v, 8); break;
    }
}

class InterpBackend final : public ExecBackend {
public:
    ~InterpBackend() override { flush(); }
    const char* name() const override { return "interp"; }

    Status compile(const ir::Block& block, TranslatedBlock& tb) override {
        auto* code = new InterpCode;
        code->ops.reserve(block.insts.size());
        code->label_pos.assign(block.num_labels, 0);
        for (size_t k = 0; k < block.insts.size(); ++k) {
            const ir::Inst& i = block.insts[k];
            InterpCode::Op o{i.op, i.type, ir::Type::Void, {i.args[0], i.args[1], i.args[2]}, i.imm, i.imm2, i.pc};
            if (ir::is_pure(i.op) || i.op == Opcode::SetState || i.op == Opcode::Store)
                o.arg_type = i.op == Opcode::Store ? block.insts[i.args[1]].type : ir::operand_type(block, i);
            if (i.op == Opcode::Label) code->label_pos[i.imm] = uint32_t(k);
            code->ops.push_back(o);
        }
        tb.code = code;
        tb.code_size = 0;
        live_.insert(code);
        return {};
    }

    ExitInfo execute(CpuCommon* cpu, TranslatedBlock* tb) override {
        auto* state = reinterpret_cast<uint8_t*>(cpu);
        for (;;) {
            if (cpu->exit_request.load(std::memory_order_relaxed)) {
                cpu->pc = tb->guest_pc;
                return ExitInfo{ExitKind::kExitRequest, tb, 0, 0, 0};
            }
            cpu->insn_count += tb->guest_insns;
            const auto* code = static_cast<const InterpCode*>(tb->code);
            const size_t n = code->ops.size();
            if (vals_.size() < n) vals_.resize(n);
            uint64_t* v = vals_.data();
            size_t k = 0;
            TranslatedBlock* next = nullptr;
            for (;;) {
                const InterpCode::Op& o = code->ops[k];
                switch (o.op) {
                    case Opcode::Const: v[k] = o.imm; break;
                    case Opcode::GetState: {
                        unsigned bytes = ir::bit_width(o.type) / 8;
                        v[k] = load_host(state + o.imm, bytes);
                        break;
                    }
                    case Opcode::SetState:
                        store_host(state + o.imm, ir::bit_width(o.arg_type) / 8, v[o.args[0]]);
                        break;
                    case Opcode::Load: v[k] = ir::truncate(o.type, load(cpu, v[o.args[0]], o.imm, o.pc)); break;
                    case Opcode::Store: store(cpu, v[o.args[0]], v[o.args[1]], o.imm, o.pc); break;
                    case Opcode::Call:
                    case Opcode::CallVoid: {
                        const auto* h = reinterpret_cast<const ir::HelperInfo*>(o.imm);
                        uint64_t a[3] = {0, 0, 0};
                        for (unsigned j = 0; j < h->num_args; ++j) a[j] = v[o.args[j]];
                        // Helpers may raise at cpu->pc or read it: it must name this
                        // instruction (pure helpers do neither; the JIT skips them too).
                        if (!(h->flags & ir::kHelperPure)) cpu->pc = o.pc;
                        uint64_t r = h->fn(cpu, a[0], a[1], a[2]);
                        if (o.op == Opcode::Call) v[k] = ir::truncate(o.type, r);
                        break;
                    }
                    case Opcode::Label:
                    case Opcode::PushReturnHint: break;  // a JIT prediction only
                    case Opcode::Br: k = code->label_pos[o.imm]; break;
                    case Opcode::BrCond:
                        if (v[o.args[0]] != 0) k = code->label_pos[o.imm];
                        break;
                    case Opcode::ExitLink:
                    case Opcode::ExitCond: {
                        unsigned slot = (o.op == Opcode::ExitCond && v[o.args[0]] == 0) ? 1 : 0;
                        uint64_t target = slot == 0 ? o.imm : o.imm2;
                        cpu->pc = target;
                        next = tb->linked[slot];
                        if (!next) return ExitInfo{ExitKind::kLink, tb, uint8_t(slot), 0, 0};
                        goto chained;
                    }
                    case Opcode::ExitJump:
                    case Opcode::ExitReturn: cpu->pc = v[o.args[0]]; return ExitInfo{ExitKind::kJump, tb, 0, 0, 0};
                    case Opcode::ExitException:
                        cpu->pc = o.pc;
                        return ExitInfo{ExitKind::kException, tb, 0, uint32_t(o.imm), o.imm2};
                    case Opcode::ExitHalt: return ExitInfo{ExitKind::kHalt, tb, 0, uint32_t(o.imm), 0};
                    default: {
                        uint64_t a = v[o.args[0]];
                        uint64_t b = o.args[1] != ir::kNoValue ? v[o.args[1]] : 0;
                        uint64_t c = o.args[2] != ir::kNoValue ? v[o.args[2]] : 0;
                        v[k] = ir::eval_pure(o.op, o.type, o.arg_type, a, b, c);
                        break;
                    }
                }
                ++k;
            }
        chained:
            tb = next;
        }
    }

    void link(TranslatedBlock* from, unsigned slot, TranslatedBlock* to) override { from->linked[slot] = to; }
    void unlink(TranslatedBlock* from, unsigned slot) override { from->linked[slot] = nullptr; }
    void flush() override {
        for (InterpCode* c : live_) delete c;
        live_.clear();
    }
    void release(TranslatedBlock& tb) override {
        auto* code = static_cast<InterpCode*>(tb.code);
        if (live_.erase(code)) delete code;
        tb.code = nullptr;
    }
    std::string disassemble(const TranslatedBlock&) const override { return {}; }

private:
    // The inline softmmu fast path of translator/cpu.h; everything else goes to the engine.
    static uint64_t load(CpuCommon* cpu, uint64_t va, uint64_t flags, uint64_t pc) {
        const unsigned size = ir::mem_size_bytes(flags);
        const TlbEntry& e = cpu->tlb[(va >> kPageBits) & (kTlbEntries - 1)];
        if ((va & (kPageMask | (size - 1))) != e.read_tag) return cpu->engine->slow_load(cpu, va, uint32_t(flags), pc);
        uint64_t x = load_host(reinterpret_cast<const uint8_t*>(va + e.addend), size);
        if (flags & ir::kMemSigned)
            x = uint64_t(ir::sign_extend(size == 1   ? Type::I8
                                         : size == 2 ? Type::I16
                                         : size == 4 ? Type::I32
                                                     : Type::I64,
                                         x));
        return x;
    }

    static void store(CpuCommon* cpu, uint64_t va, uint64_t value, uint64_t flags, uint64_t pc) {
        const unsigned size = ir::mem_size_bytes(flags);
        const TlbEntry& e = cpu->tlb[(va >> kPageBits) & (kTlbEntries - 1)];
        if ((va & (kPageMask | (size - 1))) != e.write_tag)
            return cpu->engine->slow_store(cpu, va, value, uint32_t(flags), pc);
        store_host(reinterpret_cast<uint8_t*>(va + e.addend), size, value);
    }

    // Scratch value array reused across blocks: execute() may be left by longjmp, so it
    // must not own heap memory in its own frame.
    std::vector<uint64_t> vals_;
    // Every compiled block, so that flush() can free the ones the engine no longer tracks.
    std::unordered_set<InterpCode*> live_;
};

}  // namespace

std::unique_ptr<ExecBackend> make_interp_backend() {
    return std::make_unique<InterpBackend>();
}

}  // namespace corvid
