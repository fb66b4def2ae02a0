// Host-flag reuse (backend/x64/flag_fusion.cpp): guest NZCV computed the way the AArch64
// frontend does (add-with-carry family + compares of the result, conditions built from the
// flags) must give the same flags, results and branch decisions as ir::eval_pure, for every
// condition code, operand form (register, immediate, carry-in) and width.
#include <random>

#include "tests/backend/jit_harness.h"
#include "translator/ir/eval.h"

namespace corvid::jittest {
namespace {

using ir::Opcode;
using ir::Type;
using ir::ValueId;

enum class Form { kSubReg, kSubImm, kAddReg, kAdcReg, kAndReg };

struct Flags {
    bool n, z, c, v;
};

// ARM ConditionHolds from NZCV.
bool holds(unsigned cond, Flags f) {
    bool r = false;
    switch (cond >> 1) {
        case 0: r = f.z; break;
        case 1: r = f.c; break;
        case 2: r = f.n; break;
        case 3: r = f.v; break;
        case 4: r = f.c && !f.z; break;
        case 5: r = f.n == f.v; break;
        case 6: r = f.n == f.v && !f.z; break;
        default: return true;
    }
    return (cond & 1) ? !r : r;
}

constexpr uint32_t kN = st(8), kZ = st(8) + 4, kC = st(9), kV = st(9) + 4;

// Like the AArch64 frontend's condition(): reads the flags back from the state.
ValueId condition(ir::Builder& b, unsigned cond) {
    auto flag = [&](uint32_t off) { return b.get_state(Type::I32, off); };
    ValueId r;
    switch (cond >> 1) {
        case 0: r = flag(kZ); break;
        case 1: r = flag(kC); break;
        case 2: r = flag(kN); break;
        case 3: r = flag(kV); break;
        case 4: r = b.and_(flag(kC), b.xor_(flag(kZ), b.c32(1))); break;
        case 5: r = b.cmp(Opcode::CmpEq, flag(kN), flag(kV)); break;
        default: r = b.and_(b.cmp(Opcode::CmpEq, flag(kN), flag(kV)), b.xor_(flag(kZ), b.c32(1))); break;
    }
    if (cond & 1) r = b.xor_(r, b.c32(1));
    return r;
}

// st0 = a, st1 = b (or the immediate), st2 = carry-in; result to st3, NZCV to kN..kV;
// exit.cond on `cond` (slot 0 taken) -- or, with `brcond`, a BrCond that skips `set st4 = 1`.
ir::Block flag_block(Form form, Type t, uint64_t imm, unsigned cond, bool brcond) {
    ir::Block blk;
    ir::Builder b(blk);
    blk.guest_insns = 2;
    ValueId a = b.get_state(t, st(0));
    ValueId r, c, v;
    if (form == Form::kAndReg) {
        r = b.and_(a, b.get_state(t, st(1)));
        c = b.c32(0);
        v = b.c32(0);
    } else {
        ValueId y = form == Form::kSubImm ? b.constant(t, ir::truncate(t, ~imm)) : b.get_state(t, st(1));
        if (form == Form::kSubReg) y = b.unop(Opcode::Not, y);
        ValueId cin = form == Form::kAdcReg  ? b.get_state(Type::I32, st(2))
                      : form == Form::kAddReg ? b.c32(0)
                                              : b.c32(1);
        r = b.add_with_carry(a, y, cin);
        c = b.add_carry(a, y, cin);
        v = b.add_overflow(a, y, cin);
    }
    ValueId zero = b.constant(t, 0);
    ValueId n = b.cmp(Opcode::CmpLtS, r, zero);
    ValueId z = b.cmp(Opcode::CmpEq, r, zero);
    b.set_state(kN, n);
    b.set_state(kZ, z);
    b.set_state(kC, c);
    b.set_state(kV, v);
    b.set_state(st(3), r);
    if (brcond) {
        uint32_t l = b.new_label();
        b.br_cond(condition(b, cond), l);
        b.set_state(st(4), b.c64(1));
        b.label(l);
        b.exit_halt(ir::HaltReason::kStop);
    } else {
        b.exit_cond(condition(b, cond), 0x100, 0x200);
    }
    return blk;
}

std::vector<uint64_t> values(Type t) {
    const uint64_t m = ir::width_mask(t);
    std::vector<uint64_t> v = {0, 1, 2, m, m - 1, m >> 1, (m >> 1) + 1, 0x8000000080000000ull & m, 0x7fffffffull & m};
    std::mt19937_64 rng(ir::bit_width(t));
    for (int k = 0; k < 6; ++k) v.push_back(rng() & m);
    return v;
}

TEST(JitFlags, NzcvAndEveryConditionMatchEvalPure) {
    for (Form form : {Form::kSubReg, Form::kSubImm, Form::kAddReg, Form::kAdcReg, Form::kAndReg}) {
        for (Type t : {Type::I8, Type::I32, Type::I64}) {
            const std::vector<uint64_t> vals = values(t);
            for (uint64_t imm : {uint64_t(0), uint64_t(3), uint64_t(0x80000000), ~uint64_t(0) - 5}) {
                if (form != Form::kSubImm && imm != 0) continue;
                for (unsigned cond = 0; cond < 14; ++cond) {
                    Jit jit;
                    JitCpu cpu;
                    TranslatedBlock* te = jit.compile(flag_block(form, t, imm, cond, false));
                    TranslatedBlock* tb = jit.compile(flag_block(form, t, imm, cond, true));
                    ASSERT_TRUE(te && tb);
                    for (uint64_t x : vals) {
                        for (uint64_t y : vals) {
                            for (uint64_t cin : {0u, 1u}) {
                                if (form != Form::kAdcReg && cin) continue;
                                const uint64_t yb = form == Form::kSubImm ? ir::truncate(t, imm) : y;
                                // Reference: the IR semantics of the same computation.
                                uint64_t r = 0;
                                Flags f{};
                                if (form == Form::kAndReg) {
                                    r = x & y;
                                } else {
                                    const bool sub = form == Form::kSubReg || form == Form::kSubImm;
                                    const uint64_t op2 = sub ? ir::truncate(t, ~yb) : yb;
                                    const uint64_t c_in = sub ? 1 : cin;
                                    r = ir::eval_pure(Opcode::AddWithCarry, t, t, x, op2, c_in);
                                    f.c = ir::eval_pure(Opcode::AddCarry, Type::I32, t, x, op2, c_in) != 0;
                                    f.v = ir::eval_pure(Opcode::AddOverflow, Type::I32, t, x, op2, c_in) != 0;
                                }
                                f.n = ir::eval_pure(Opcode::CmpLtS, Type::I32, t, r, 0, 0) != 0;
                                f.z = r == 0;
                                const bool want = holds(cond, f);
                                cpu.set(st(0), x);
                                cpu.set(st(1), y);
                                cpu.set(st(2), cin);
                                cpu.set(st(4), 0);
                                ExitInfo ex = jit.backend.execute(&cpu.common, te);
                                const auto where = ::testing::Message()
                                                   << "form " << int(form) << " bits " << ir::bit_width(t) << " cond "
                                                   << cond << " x " << x << " y " << yb << " cin " << cin;
                                ASSERT_EQ(ex.kind, ExitKind::kLink) << where;
                                ASSERT_EQ(cpu.common.pc, want ? 0x100u : 0x200u) << where;
                                ASSERT_EQ(cpu.get(st(3)), r) << where;
                                ASSERT_EQ(cpu.get(kN, 4), uint64_t(f.n)) << where;
                                ASSERT_EQ(cpu.get(kZ, 4), uint64_t(f.z)) << where;
                                ASSERT_EQ(cpu.get(kC, 4), uint64_t(f.c)) << where;
                                ASSERT_EQ(cpu.get(kV, 4), uint64_t(f.v)) << where;
                                jit.backend.execute(&cpu.common, tb);
                                ASSERT_EQ(cpu.get(st(4)), want ? 0u : 1u) << where;
                            }
                        }
                    }
                }
            }
        }
    }
}

// The cheap NZCV idioms (AArch64 frontend, a64_flags.cpp): SUBS/ADDS as a plain sub/add whose
// C and V are compares of the operands (or sign tests of xor/and trees), and conditions read in
// the same block as compares of the operands. `kind`: 0 sub reg, 1 sub imm, 2 add reg.
ir::Block idiom_block(int kind, Type t, uint64_t k, unsigned cond, bool from_origin) {
    ir::Block blk;
    ir::Builder b(blk);
    blk.guest_insns = 2;
    const uint64_t m = ir::width_mask(t), min = (m >> 1) + 1, max = m >> 1;
    ValueId a = b.get_state(t, st(0));
    ValueId y = kind == 1 ? b.constant(t, k) : b.get_state(t, st(1));
    ValueId zero = b.constant(t, 0);
    ValueId r, c, v;
    if (kind == 2) {
        r = b.add(a, y);
        c = b.cmp(Opcode::CmpLtU, r, a);
        v = b.cmp(Opcode::CmpLtS, b.binop(Opcode::AndNot, b.xor_(a, r), b.xor_(a, y)), zero);
    } else {
        r = b.binop(Opcode::Sub, a, y);
        c = b.cmp(Opcode::CmpLeU, y, a);
        if (kind == 1) {
            v = (k & min) ? b.cmp(Opcode::CmpLtS, b.constant(t, (max + k) & m), a)
                          : b.cmp(Opcode::CmpLtS, a, b.constant(t, (min + k) & m));
        } else {
            v = b.cmp(Opcode::CmpLtS, b.and_(b.xor_(a, y), b.xor_(a, r)), zero);
        }
    }
    b.set_state(kN, b.cmp(Opcode::CmpLtS, r, zero));
    b.set_state(kZ, b.cmp(Opcode::CmpEq, r, zero));
    b.set_state(kC, c);
    b.set_state(kV, v);
    b.set_state(st(3), r);
    ValueId cv = ir::kNoValue;
    bool swap = false;
    const bool odd = cond & 1;
    if (from_origin && kind != 2) {
        switch (cond >> 1) {
            case 0:
                if (t == Type::I32) {
                    cv = r;
                    swap = !odd;
                } else {
                    cv = b.cmp(odd ? Opcode::CmpNe : Opcode::CmpEq, a, y);
                }
                break;
            case 1: cv = odd ? b.cmp(Opcode::CmpLtU, a, y) : b.cmp(Opcode::CmpLeU, y, a); break;
            case 4: cv = odd ? b.cmp(Opcode::CmpLeU, a, y) : b.cmp(Opcode::CmpLtU, y, a); break;
            case 5: cv = odd ? b.cmp(Opcode::CmpLtS, a, y) : b.cmp(Opcode::CmpLeS, y, a); break;
            case 6: cv = odd ? b.cmp(Opcode::CmpLeS, a, y) : b.cmp(Opcode::CmpLtS, y, a); break;
            default: break;
        }
    } else if (from_origin && kind == 2 && (cond >> 1) == 1) {
        cv = b.cmp(Opcode::CmpLtU, r, a);
        swap = odd;
    }
    if (cv == ir::kNoValue) cv = condition(b, cond);
    if (swap) {
        b.exit_cond(cv, 0x200, 0x100);
    } else {
        b.exit_cond(cv, 0x100, 0x200);
    }
    return blk;
}

TEST(JitFlags, CompareIdiomsMatchArmSemantics) {
    for (int kind : {0, 1, 2}) {
        for (Type t : {Type::I32, Type::I64}) {
            const uint64_t m = ir::width_mask(t);
            const std::vector<uint64_t> vals = values(t);
            const std::vector<uint64_t> imms = kind == 1 ? std::vector<uint64_t>{1, 3, (m >> 1) + 5, m, m >> 1}
                                                         : std::vector<uint64_t>{0};
            for (uint64_t k : imms) {
                for (unsigned cond = 0; cond < 14; ++cond) {
                    for (bool origin : {false, true}) {
                        Jit jit;
                        JitCpu cpu;
                        TranslatedBlock* tb = jit.compile(idiom_block(kind, t, k, cond, origin));
                        ASSERT_TRUE(tb);
                        for (uint64_t x : vals) {
                            for (uint64_t y : vals) {
                                const uint64_t yb = kind == 1 ? k : y;
                                const uint64_t w = ir::bit_width(t);
                                const uint64_t sign = 1ull << (w - 1);
                                Flags f{};
                                uint64_t r;
                                if (kind == 2) {
                                    r = (x + yb) & m;
                                    f.c = r < x;
                                    f.v = ((x ^ r) & ~(x ^ yb) & sign) != 0;
                                } else {
                                    r = (x - yb) & m;
                                    f.c = x >= yb;
                                    f.v = ((x ^ yb) & (x ^ r) & sign) != 0;
                                }
                                f.n = (r & sign) != 0;
                                f.z = r == 0;
                                cpu.set(st(0), x);
                                cpu.set(st(1), y);
                                ExitInfo ex = jit.backend.execute(&cpu.common, tb);
                                const auto where = ::testing::Message() << "kind " << kind << " bits " << w << " cond "
                                                                        << cond << " origin " << origin << " x " << x
                                                                        << " y " << yb;
                                ASSERT_EQ(ex.kind, ExitKind::kLink) << where;
                                ASSERT_EQ(cpu.common.pc, holds(cond, f) ? 0x100u : 0x200u) << where;
                                ASSERT_EQ(cpu.get(st(3)), r) << where;
                                ASSERT_EQ(cpu.get(kN, 4), uint64_t(f.n)) << where;
                                ASSERT_EQ(cpu.get(kZ, 4), uint64_t(f.z)) << where;
                                ASSERT_EQ(cpu.get(kC, 4), uint64_t(f.c)) << where;
                                ASSERT_EQ(cpu.get(kV, 4), uint64_t(f.v)) << where;
                            }
                        }
                    }
                }
            }
        }
    }
}

// The subtraction form must not leave the absorbed Not's operand in a register for the rest
// of the block: many compares in one block still compile and compute correctly.
TEST(JitFlags, ManySubtractionsInOneBlock) {
    Jit jit;
    JitCpu cpu;
    ir::Block blk;
    ir::Builder b(blk);
    blk.guest_insns = 40;
    ValueId acc = b.c64(0);
    for (unsigned k = 0; k < 40; ++k) {
        ValueId x = b.get_state(Type::I64, st(k % 8));
        ValueId y = b.get_state(Type::I64, st((k + 3) % 8));
        ValueId nb = b.unop(Opcode::Not, y);
        ValueId c = b.add_carry(x, nb, b.c32(1));
        acc = b.add(b.shl(acc, b.c64(1)), b.zext(Type::I64, c));
    }
    b.set_state(st(10), acc);
    b.exit_halt(ir::HaltReason::kStop);
    uint64_t want = 0;
    for (unsigned k = 0; k < 8; ++k) cpu.set(st(k), 0x1000 * (k * 7 % 8));
    for (unsigned k = 0; k < 40; ++k) {
        const uint64_t x = cpu.get(st(k % 8)), y = cpu.get(st((k + 3) % 8));
        want = (want << 1) + (x >= y ? 1 : 0);
    }
    jit.run(blk, cpu);
    EXPECT_EQ(cpu.get(st(10)), want);
}

}  // namespace
}  // namespace corvid::jittest
