// Every pure IR opcode at every type through the JIT, against ir::eval_pure (the semantics the
// interpreter and the constant folder share), with register and immediate operand forms.
#include <random>

#include "tests/backend/jit_harness.h"
#include "translator/ir/eval.h"

namespace corvid::jittest {
namespace {

using ir::Opcode;
using ir::Type;

constexpr Type kTypes[] = {Type::I8, Type::I16, Type::I32, Type::I64};

std::vector<uint64_t> edge_values(Type t) {
    const unsigned w = ir::bit_width(t);
    const uint64_t m = ir::width_mask(t);
    std::vector<uint64_t> v = {0, 1, 2, 3, 7, 8, w - 1, w, w + 1, 2 * w - 1, m, m - 1, m >> 1, (m >> 1) + 1,
                               (m >> 1) + 2, 0x5555555555555555ull & m, 0xaaaaaaaaaaaaaaaaull & m,
                               0x8000000080000000ull & m, 0x00000000ffffffffull & m, 0x123456789abcdef0ull & m};
    std::mt19937_64 rng(w);
    for (int k = 0; k < 12; ++k) v.push_back(rng() & m);
    return v;
}

// Builds: a = get T st0; b = get T st1; c = get i32 st2; r = op; set st3 r; halt.
ir::Block op_block(Opcode op, Type rt, Type at, unsigned nargs, const uint64_t* imm_b = nullptr) {
    ir::Block blk;
    ir::Builder b(blk);
    blk.guest_insns = 1;
    ir::ValueId args[3] = {ir::kNoValue, ir::kNoValue, ir::kNoValue};
    Type arg_types[3] = {at, at, Type::I32};
    if (op == Opcode::Select) arg_types[0] = Type::I32, arg_types[1] = at, arg_types[2] = at;
    for (unsigned k = 0; k < nargs; ++k) {
        if (k == 1 && imm_b) {
            args[k] = b.constant(arg_types[k], *imm_b);
        } else {
            args[k] = b.get_state(arg_types[k], st(k));
        }
    }
    ir::Inst in;
    in.op = op;
    in.type = rt;
    for (unsigned k = 0; k < 3; ++k) in.args[k] = args[k];
    ir::ValueId r = b.emit(in);
    b.set_state(st(3), r);
    b.set_state(0, b.c64(0x1234));
    b.exit_halt(ir::HaltReason::kStop);
    return blk;
}

struct OpCase {
    Opcode op;
    unsigned nargs;
    bool result_i32;  // compares and carries produce i32
};
constexpr OpCase kBinary[] = {
    {Opcode::Add, 2, false},    {Opcode::Sub, 2, false},    {Opcode::Mul, 2, false},    {Opcode::MulHiU, 2, false},
    {Opcode::MulHiS, 2, false}, {Opcode::DivU, 2, false},   {Opcode::DivS, 2, false},   {Opcode::RemU, 2, false},
    {Opcode::RemS, 2, false},   {Opcode::And, 2, false},    {Opcode::Or, 2, false},     {Opcode::Xor, 2, false},
    {Opcode::AndNot, 2, false}, {Opcode::Shl, 2, false},    {Opcode::LShr, 2, false},   {Opcode::AShr, 2, false},
    {Opcode::RotL, 2, false},   {Opcode::RotR, 2, false},   {Opcode::CmpEq, 2, true},   {Opcode::CmpNe, 2, true},
    {Opcode::CmpLtU, 2, true},  {Opcode::CmpLtS, 2, true},  {Opcode::CmpLeU, 2, true},  {Opcode::CmpLeS, 2, true},
    {Opcode::Neg, 1, false},    {Opcode::Not, 1, false},    {Opcode::Clz, 1, false},    {Opcode::Ctz, 1, false},
    {Opcode::Popcount, 1, false}, {Opcode::Bswap, 1, false}, {Opcode::BitRev, 1, false},
    {Opcode::AddCarry, 3, true}, {Opcode::AddOverflow, 3, true}, {Opcode::AddWithCarry, 3, false},
};

void check_op(const OpCase& c, Type t) {
    const Type rt = c.result_i32 ? Type::I32 : t;
    Jit jit;
    JitCpu cpu;
    TranslatedBlock* tb = jit.compile(op_block(c.op, rt, t, c.nargs));
    ASSERT_NE(tb, nullptr);
    const auto vals = edge_values(t);
    for (uint64_t a : vals) {
        for (uint64_t b : vals) {
            for (uint64_t cin : {0ull, 1ull, 3ull}) {
                if (c.nargs < 3 && cin != 0) continue;
                cpu.set(st(0), a);
                cpu.set(st(1), b);
                cpu.set(st(2), cin);
                cpu.set(st(3), 0xdeadbeefdeadbeefull);
                ExitInfo e = jit.backend.execute(&cpu.common, tb);
                ASSERT_EQ(e.kind, ExitKind::kHalt);
                const uint64_t want = ir::eval_pure(c.op, rt, t, a, c.nargs > 1 ? b : 0, cin);
                const unsigned bytes = ir::bit_width(rt) / 8;
                ASSERT_EQ(cpu.get(st(3), bytes), want)
                    << ir::op_info(c.op).name << "." << ir::type_name(t) << " a=0x" << std::hex << a << " b=0x" << b
                    << " c=" << cin;
                // Only the result's bytes are written.
                if (bytes < 8) {
                    ASSERT_EQ(cpu.get(st(3) + bytes, 8 - bytes), 0xdeadbeefdeadbeefull >> (8 * bytes));
                }
            }
            if (c.nargs == 1) break;
        }
    }
}

TEST(JitOps, EveryBinaryAndUnaryOpcodeAtEveryType) {
    for (const OpCase& c : kBinary) {
        for (Type t : kTypes) {
            SCOPED_TRACE(std::string(ir::op_info(c.op).name) + "." + ir::type_name(t));
            check_op(c, t);
        }
    }
}

TEST(JitOps, PopcountWithoutHostPopcnt) {
    for (Type t : kTypes) {
        Jit jit;
        jit.backend.set_use_popcnt(false);
        JitCpu cpu;
        TranslatedBlock* tb = jit.compile(op_block(Opcode::Popcount, t, t, 1));
        ASSERT_NE(tb, nullptr);
        EXPECT_EQ(jit.backend.disassemble(*tb).find("popcnt"), std::string::npos);
        for (uint64_t a : edge_values(t)) {
            cpu.set(st(0), a);
            jit.backend.execute(&cpu.common, tb);
            ASSERT_EQ(cpu.get(st(3), ir::bit_width(t) / 8), ir::eval_pure(Opcode::Popcount, t, t, a, 0, 0))
                << ir::type_name(t) << " 0x" << std::hex << a;
        }
    }
}

TEST(JitOps, ImmediateSecondOperand) {
    for (const OpCase& c : kBinary) {
        if (c.nargs != 2) continue;
        for (Type t : kTypes) {
            const Type rt = c.result_i32 ? Type::I32 : t;
            const auto vals = edge_values(t);
            Jit jit;
            JitCpu cpu;
            for (size_t bi = 0; bi < vals.size(); bi += 3) {
                const uint64_t b = vals[bi];
                TranslatedBlock* tb = jit.compile(op_block(c.op, rt, t, 2, &b));
                ASSERT_NE(tb, nullptr);
                for (uint64_t a : vals) {
                    cpu.set(st(0), a);
                    jit.backend.execute(&cpu.common, tb);
                    ASSERT_EQ(cpu.get(st(3), ir::bit_width(rt) / 8), ir::eval_pure(c.op, rt, t, a, b, 0))
                        << ir::op_info(c.op).name << "." << ir::type_name(t) << " a=0x" << std::hex << a
                        << " imm=0x" << b;
                }
            }
        }
    }
}

TEST(JitOps, CompareFusedIntoExitCondAndBrCond) {
    for (Opcode op : {Opcode::CmpEq, Opcode::CmpNe, Opcode::CmpLtU, Opcode::CmpLtS, Opcode::CmpLeU, Opcode::CmpLeS}) {
        for (Type t : kTypes) {
            for (bool zero_imm : {false, true}) {
                Jit jit;
                JitCpu cpu;
                // exit.cond (cmp a b) and: brcond (cmp a b) L; set st3 = 1; L: ...
                ir::Block e;
                ir::Builder be(e);
                ir::ValueId a = be.get_state(t, st(0));
                ir::ValueId b = zero_imm ? be.constant(t, 0) : be.get_state(t, st(1));
                be.exit_cond(be.cmp(op, a, b), 0x100, 0x200);
                TranslatedBlock* te = jit.compile(e);
                ir::Block br;
                ir::Builder bb(br);
                uint32_t l = bb.new_label();
                ir::ValueId a2 = bb.get_state(t, st(0));
                ir::ValueId b2 = zero_imm ? bb.constant(t, 0) : bb.get_state(t, st(1));
                bb.br_cond(bb.cmp(op, a2, b2), l);
                bb.set_state(st(3), bb.c64(1));
                bb.label(l);
                bb.exit_halt(ir::HaltReason::kStop);
                TranslatedBlock* tbr = jit.compile(br);
                ASSERT_TRUE(te && tbr);
                for (uint64_t x : edge_values(t)) {
                    for (uint64_t y : edge_values(t)) {
                        if (zero_imm) y = 0;
                        cpu.set(st(0), x);
                        cpu.set(st(1), y);
                        cpu.set(st(3), 0);
                        const bool want = ir::eval_pure(op, Type::I32, t, x, y, 0) != 0;
                        ExitInfo ex = jit.backend.execute(&cpu.common, te);
                        ASSERT_EQ(ex.kind, ExitKind::kLink);
                        ASSERT_EQ(ex.slot, want ? 0u : 1u) << ir::op_info(op).name << " " << x << " " << y;
                        jit.backend.execute(&cpu.common, tbr);
                        ASSERT_EQ(cpu.get(st(3)), want ? 0u : 1u) << ir::op_info(op).name << " " << x << " " << y;
                    }
                }
            }
        }
    }
}

TEST(JitOps, ConversionsBetweenAllTypes) {
    for (Opcode op : {Opcode::ZExt, Opcode::SExt, Opcode::Trunc}) {
        for (Type from : kTypes) {
            for (Type to : kTypes) {
                Jit jit;
                JitCpu cpu;
                ir::Block blk;
                ir::Builder b(blk);
                ir::ValueId a = b.get_state(from, st(0));
                b.set_state(st(3), b.convert(op, to, a));
                b.exit_halt(ir::HaltReason::kStop);
                TranslatedBlock* tb = jit.compile(blk);
                ASSERT_NE(tb, nullptr);
                for (uint64_t v : edge_values(from)) {
                    cpu.set(st(0), v);
                    cpu.set(st(3), ~0ull);
                    jit.backend.execute(&cpu.common, tb);
                    ASSERT_EQ(cpu.get(st(3), ir::bit_width(to) / 8), ir::eval_pure(op, to, from, v, 0, 0))
                        << ir::op_info(op).name << " " << ir::type_name(from) << "->" << ir::type_name(to) << " v=0x"
                        << std::hex << v;
                }
            }
        }
    }
}

TEST(JitOps, SelectPicksByNonZeroCondition) {
    for (Type t : kTypes) {
        Jit jit;
        JitCpu cpu;
        TranslatedBlock* tb = jit.compile(op_block(Opcode::Select, t, t, 3));
        ASSERT_NE(tb, nullptr);
        for (uint64_t cond : {0ull, 1ull, 2ull, 0x80000000ull}) {
            cpu.set(st(0), cond);
            cpu.set(st(1), 0x1111111111111111ull & ir::width_mask(t));
            cpu.set(st(2), 0x2222222222222222ull & ir::width_mask(t));
            jit.backend.execute(&cpu.common, tb);
            EXPECT_EQ(cpu.get(st(3), ir::bit_width(t) / 8), (cond ? 0x1111111111111111ull : 0x2222222222222222ull) &
                                                                 ir::width_mask(t));
        }
    }
}

TEST(JitOps, ConstantOperandsAreFoldedLikeTheInterpreter) {
    // Both operands constant: the backend folds with eval_pure; the results must still be exact.
    Jit jit;
    JitCpu cpu;
    ir::Block blk;
    ir::Builder b(blk);
    ir::ValueId x = b.c32(0x80000000u), y = b.c32(0xffffffffu);
    b.set_state(st(0), b.binop(Opcode::DivS, x, y));
    b.set_state(st(1), b.binop(Opcode::RemU, x, b.c32(0)));
    b.set_state(st(2), b.unop(Opcode::Clz, b.c64(0)));
    b.set_state(st(3), b.select(b.c32(0), x, y));
    b.exit_halt(ir::HaltReason::kStop);
    jit.run(blk, cpu);
    EXPECT_EQ(cpu.get(st(0), 4), 0x80000000u);
    EXPECT_EQ(cpu.get(st(1), 4), 0x80000000u);
    EXPECT_EQ(cpu.get(st(2)), 64u);
    EXPECT_EQ(cpu.get(st(3), 4), 0xffffffffu);
}

}  // namespace
}  // namespace corvid::jittest
