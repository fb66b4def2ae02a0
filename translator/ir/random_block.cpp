// Seeded random IR block generator (see random_block.h).
#include "translator/ir/random_block.h"

#include <random>
#include <vector>

namespace corvid::ir {
namespace {

uint64_t mix0(CpuCommon*, uint64_t, uint64_t, uint64_t) {
    return 0x5a5a1234deadbeefull;
}
uint64_t mix1(CpuCommon*, uint64_t a, uint64_t, uint64_t) {
    return (a ^ (a >> 29)) * 0xbf58476d1ce4e5b9ull;
}
uint64_t mix2(CpuCommon*, uint64_t a, uint64_t b, uint64_t) {
    return (a + 0x9e3779b97f4a7c15ull) ^ (b << 7) ^ (b >> 3);
}
uint64_t mix3(CpuCommon*, uint64_t a, uint64_t b, uint64_t c) {
    return a * 3 + b * 5 + c * 7;
}

const HelperInfo kHelpers[] = {
    {"rb_mix0", mix0, 0, kHelperPure},
    {"rb_mix1", mix1, 1, kHelperPure},
    {"rb_mix2", mix2, 2, kHelperPure},
    {"rb_mix3", mix3, 3, kHelperPure},
};

constexpr Type kTypes[] = {Type::I8, Type::I16, Type::I32, Type::I64};

constexpr Opcode kBinary[] = {Opcode::Add,    Opcode::Sub,  Opcode::Mul,  Opcode::MulHiU, Opcode::MulHiS, Opcode::DivU,
                              Opcode::DivS,   Opcode::RemU, Opcode::RemS, Opcode::And,    Opcode::Or,     Opcode::Xor,
                              Opcode::AndNot, Opcode::Shl,  Opcode::LShr, Opcode::AShr,   Opcode::RotL,   Opcode::RotR};
constexpr Opcode kUnary[] = {Opcode::Neg,      Opcode::Not,   Opcode::Clz,   Opcode::Ctz,
                             Opcode::Popcount, Opcode::Bswap, Opcode::BitRev};
constexpr Opcode kCompare[] = {Opcode::CmpEq,  Opcode::CmpNe,  Opcode::CmpLtU,
                               Opcode::CmpLtS, Opcode::CmpLeU, Opcode::CmpLeS};

class Generator {
public:
    Generator(uint64_t seed, const RandomBlockOptions& o) : rng_(seed), o_(o), b_(block_) {
        block_.guest_pc = o.guest_pc;
        block_.mode = 0;
        pc_ = o.guest_pc;
        b_.set_pc(pc_);
    }

    Block run() {
        uint32_t insns = 0;
        while (block_.insts.size() < o_.num_insts) {
            next_insn();
            ++insns;
            unsigned r = pick(100);
            if (o_.labels && r < 6 && block_.insts.size() + 20 < o_.num_insts)
                forward_branch();
            else if (o_.labels && r < 9 && block_.insts.size() + 30 < o_.num_insts)
                counted_loop();
            else
                emit_random();
        }
        next_insn();
        ++insns;
        b_.exit_halt(HaltReason::kStop);
        block_.guest_insns = insns;
        block_.guest_size = uint64_t(insns) * 4;
        return std::move(block_);
    }

private:
    unsigned pick(unsigned n) { return unsigned(rng_() % n); }
    Type any_type() { return kTypes[pick(4)]; }

    // A new "guest instruction": a new pc, and memory may be accessed again.
    void next_insn() {
        pc_ += 4;
        b_.set_pc(pc_);
        wrote_state_ = false;
    }

    uint64_t interesting(Type t) {
        const uint64_t m = t == Type::I64 ? ~0ull : (1ull << bit_width(t)) - 1;
        switch (pick(8)) {
            case 0: return 0;
            case 1: return 1;
            case 2: return m;                           // -1
            case 3: return (m >> 1) + 1;                // INT_MIN
            case 4: return m >> 1;                      // INT_MAX
            case 5: return bit_width(t) - 1 + pick(3);  // shift amounts around the width
            default: return rng_() & m;
        }
    }

    // A value of type t from the current region, made if none is at hand.
    ValueId value(Type t) {
        std::vector<ValueId> c;
        for (ValueId v : pool_) {
            if (block_.insts[v].type == t) c.push_back(v);
        }
        if (c.empty() || pick(5) == 0) return fresh(t);
        return c[pick(unsigned(c.size()))];
    }

    ValueId fresh(Type t) {
        ValueId v;
        if (pick(2) == 0) {
            v = b_.constant(t, interesting(t));
        } else {
            v = b_.get_state(t, state_slot(t));
        }
        pool_.push_back(v);
        return v;
    }

    uint32_t state_slot(Type t) {
        const unsigned bytes = bit_width(t) / 8;
        const uint32_t usable = o_.state_bytes - 8;  // the last 8 bytes are the loop counter
        uint32_t off = uint32_t(pick(usable / bytes)) * bytes;
        return o_.state_offset + off;
    }

    ValueId keep(ValueId v) {
        pool_.push_back(v);
        return v;
    }

    void emit_random() {
        Type t = any_type();
        switch (pick(16)) {
            case 0:
            case 1:
            case 2:
            case 3: keep(b_.binop(kBinary[pick(std::size(kBinary))], value(t), value(t))); break;
            case 4: keep(b_.unop(kUnary[pick(std::size(kUnary))], value(t))); break;
            case 5: {
                const Opcode ops[] = {Opcode::ZExt, Opcode::SExt, Opcode::Trunc};
                Opcode op = ops[pick(3)];
                Type from = any_type();
                if (op == Opcode::Trunc && bit_width(from) < bit_width(t)) std::swap(from, t);
                if (op != Opcode::Trunc && bit_width(from) > bit_width(t)) std::swap(from, t);
                keep(b_.convert(op, t, value(from)));
                break;
            }
            case 6: keep(b_.cmp(kCompare[pick(std::size(kCompare))], value(t), value(t))); break;
            case 7: keep(b_.select(value(Type::I32), value(t), value(t))); break;
            case 8: {
                ValueId cin = b_.and_(value(Type::I32), b_.c32(1));
                const Opcode ops[] = {Opcode::AddCarry, Opcode::AddOverflow, Opcode::AddWithCarry};
                Opcode op = ops[pick(3)];
                ValueId x = value(t), y = value(t);
                if (op == Opcode::AddCarry)
                    keep(b_.add_carry(x, y, cin));
                else if (op == Opcode::AddOverflow)
                    keep(b_.add_overflow(x, y, cin));
                else
                    keep(b_.add_with_carry(x, y, cin));
                break;
            }
            case 9:
            case 10: {
                ValueId v = value(t);
                b_.set_state(state_slot(t), v);
                wrote_state_ = true;
                break;
            }
            case 11:
            case 12:
                if (o_.ram_size) {
                    memory_op(t);
                    break;
                }
                [[fallthrough]];
            case 13:
                if (o_.helpers) {
                    unsigned count = 0;
                    const HelperInfo* hs = random_block_helpers(&count);
                    const HelperInfo& h = hs[pick(count)];
                    ValueId a[3] = {kNoValue, kNoValue, kNoValue};
                    for (unsigned j = 0; j < h.num_args; ++j) a[j] = value(Type::I64);
                    keep(b_.call(h, a[0], a[1], a[2]));
                    break;
                }
                [[fallthrough]];
            default: next_insn(); break;
        }
    }

    void memory_op(Type t) {
        if (wrote_state_) next_insn();  // memory accesses precede state writes within an insn
        const unsigned log2 = std::min(unsigned(pick(4)), bit_width(t) == 8    ? 0u
                                                          : bit_width(t) == 16 ? 1u
                                                          : bit_width(t) == 32 ? 2u
                                                                               : 3u);
        ValueId raw = value(Type::I64);
        uint64_t mask = o_.ram_size - (uint64_t(1) << log2);     // stays inside the window
        if (pick(3) != 0) mask &= ~((uint64_t(1) << log2) - 1);  // mostly aligned
        ValueId addr = b_.add(b_.and_(raw, b_.c64(mask)), b_.c64(o_.ram_base));
        if (pick(2) == 0) {
            uint32_t flags = log2 | (pick(2) ? uint32_t(kMemSigned) : 0u);
            keep(b_.load(t, addr, flags));
        } else {
            b_.store(addr, value(t), log2);
        }
    }

    // brcond c, L; ...; label L
    void forward_branch() {
        uint32_t l = b_.new_label();
        b_.br_cond(value(Type::I32), l);
        unsigned k = 1 + pick(6);
        for (unsigned j = 0; j < k; ++j) emit_random();
        next_insn();
        b_.label(l);
        pool_.clear();
    }

    // counter = n; label L; body; counter -= 1; brcond counter != 0, L
    void counted_loop() {
        const uint32_t counter = o_.state_offset + o_.state_bytes - 8;
        next_insn();
        b_.set_state(counter, b_.c64(1 + pick(4)));
        next_insn();
        uint32_t l = b_.new_label();
        b_.label(l);
        pool_.clear();
        unsigned k = 1 + pick(6);
        for (unsigned j = 0; j < k; ++j) emit_random();
        next_insn();
        ValueId c = b_.sub(b_.get_state(Type::I64, counter), b_.c64(1));
        b_.set_state(counter, c);
        b_.br_cond(b_.cmp(Opcode::CmpNe, c, b_.c64(0)), l);
        next_insn();
        uint32_t after = b_.new_label();  // values must not flow out of the loop body
        b_.br(after);
        b_.label(after);
        pool_.clear();
    }

    std::mt19937_64 rng_;
    RandomBlockOptions o_;
    Block block_;
    Builder b_;
    uint64_t pc_ = 0;
    bool wrote_state_ = false;
    std::vector<ValueId> pool_;
};

}  // namespace

Block random_block(uint64_t seed, const RandomBlockOptions& options) {
    return Generator(seed, options).run();
}

const HelperInfo* random_block_helpers(unsigned* count) {
    *count = unsigned(std::size(kHelpers));
    return kHelpers;
}

}  // namespace corvid::ir
