// Every pure opcode's edge cases through the interpreter, cross-checked against the constant
// folder (both must give the hand-computed value); exits, branches, loops and helper calls.
#include <gtest/gtest.h>

#include "tests/translator/ir_harness.h"
#include "translator/ir/opt/optimize.h"

namespace corvid::test {
namespace {

using ir::Opcode;
using ir::Type;

constexpr uint32_t kRes = kState + 64;

// The op through the interpreter (operands from guest state, so nothing folds)...
uint64_t interp(Opcode op, Type t, Type at, uint64_t a, uint64_t b, uint64_t c) {
    ir::Block blk;
    ir::Builder bb(blk);
    StateCpu cpu;
    cpu.set(kState + 0, a);
    cpu.set(kState + 8, b);
    cpu.set(kState + 16, c);
    const unsigned nargs = ir::op_info(op).num_args();
    const Type bt = op == Opcode::Select ? t : at;
    ir::ValueId va = bb.get_state(op == Opcode::Select ? Type::I32 : at, kState + 0);
    ir::ValueId vb = nargs > 1 ? bb.get_state(bt, kState + 8) : ir::kNoValue;
    ir::ValueId vc = nargs > 2 ? bb.get_state(op == Opcode::Select ? t : Type::I32, kState + 16) : ir::kNoValue;
    ir::Inst i;
    i.op = op;
    i.type = t;
    i.args[0] = va;
    i.args[1] = vb;
    i.args[2] = vc;
    ir::ValueId r = bb.emit(i);
    bb.set_state(kRes, bb.zext(Type::I64, r));
    bb.exit_halt(ir::HaltReason::kStop);
    ExitInfo e = run_interp(blk, cpu);
    EXPECT_EQ(e.kind, ExitKind::kHalt);
    return cpu.get(kRes);
}

// ... and through the constant folder.
uint64_t folded(Opcode op, Type t, Type at, uint64_t a, uint64_t b, uint64_t c) {
    ir::Block blk;
    ir::Builder bb(blk);
    const unsigned nargs = ir::op_info(op).num_args();
    auto mask = [](Type ty, uint64_t v) { return ty == Type::I64 ? v : v & ((1ull << ir::bit_width(ty)) - 1); };
    const Type ta = op == Opcode::Select ? Type::I32 : at;
    const Type tb = op == Opcode::Select ? t : at;
    const Type tc = op == Opcode::Select ? t : Type::I32;
    ir::Inst i;
    i.op = op;
    i.type = t;
    i.args[0] = bb.constant(ta, mask(ta, a));
    if (nargs > 1) i.args[1] = bb.constant(tb, mask(tb, b));
    if (nargs > 2) i.args[2] = bb.constant(tc, mask(tc, c));
    ir::ValueId r = bb.emit(i);
    bb.set_state(kRes, bb.zext(Type::I64, r));
    bb.exit_halt(ir::HaltReason::kStop);
    ir::optimize(blk);
    EXPECT_TRUE(ir::verify(blk).ok());
    // Fully folded: a constant, a set, the exit.
    EXPECT_EQ(blk.insts.size(), 3u) << ir::to_string(blk);
    return blk.insts[0].imm;
}

uint64_t ev(Opcode op, Type t, uint64_t a, uint64_t b = 0, uint64_t c = 0, Type at = Type::Void) {
    if (at == Type::Void) at = t;
    uint64_t x = interp(op, t, at, a, b, c);
    uint64_t y = folded(op, t, at, a, b, c);
    EXPECT_EQ(x, y) << ir::op_info(op).name << "." << ir::type_name(t) << " interpreter and folder disagree";
    return x;
}

TEST(InterpOps, AddSubMulWrap) {
    EXPECT_EQ(ev(Opcode::Add, Type::I16, 0xffff, 1), 0u);
    EXPECT_EQ(ev(Opcode::Add, Type::I64, ~0ull, 2), 1u);
    EXPECT_EQ(ev(Opcode::Sub, Type::I8, 0, 1), 0xffu);
    EXPECT_EQ(ev(Opcode::Sub, Type::I32, 5, 7), 0xfffffffeu);
    EXPECT_EQ(ev(Opcode::Mul, Type::I32, 0x10000, 0x10000), 0u);
    EXPECT_EQ(ev(Opcode::Mul, Type::I8, 0x10, 0x11), 0x10u);
    EXPECT_EQ(ev(Opcode::Neg, Type::I32, 0x80000000u), 0x80000000u);
    EXPECT_EQ(ev(Opcode::Neg, Type::I64, 1), ~0ull);
}

TEST(InterpOps, MulHigh) {
    EXPECT_EQ(ev(Opcode::MulHiU, Type::I64, ~0ull, ~0ull), 0xfffffffffffffffeull);
    EXPECT_EQ(ev(Opcode::MulHiS, Type::I64, ~0ull, ~0ull), 0u);
    EXPECT_EQ(ev(Opcode::MulHiS, Type::I64, 0x8000000000000000ull, 2), ~0ull);
    EXPECT_EQ(ev(Opcode::MulHiS, Type::I32, 0x80000000u, 0x80000000u), 0x40000000u);
    EXPECT_EQ(ev(Opcode::MulHiU, Type::I32, 0xffffffffu, 0xffffffffu), 0xfffffffeu);
    EXPECT_EQ(ev(Opcode::MulHiU, Type::I8, 0xff, 0xff), 0xfeu);
    EXPECT_EQ(ev(Opcode::MulHiS, Type::I8, 0x80, 0x7f), 0xc0u);
    EXPECT_EQ(ev(Opcode::MulHiS, Type::I16, 0xffff, 0x0002), 0xffffu);
}

TEST(InterpOps, DivisionEdgeCases) {
    EXPECT_EQ(ev(Opcode::DivU, Type::I32, 7, 0), 0u);
    EXPECT_EQ(ev(Opcode::DivS, Type::I64, 7, 0), 0u);
    EXPECT_EQ(ev(Opcode::RemU, Type::I32, 7, 0), 7u);
    EXPECT_EQ(ev(Opcode::RemS, Type::I16, 0x8001, 0), 0x8001u);
    EXPECT_EQ(ev(Opcode::DivS, Type::I32, 0x80000000u, 0xffffffffu), 0x80000000u);
    EXPECT_EQ(ev(Opcode::DivS, Type::I64, 0x8000000000000000ull, ~0ull), 0x8000000000000000ull);
    EXPECT_EQ(ev(Opcode::DivS, Type::I8, 0x80, 0xff), 0x80u);
    EXPECT_EQ(ev(Opcode::RemS, Type::I32, 0x80000000u, 0xffffffffu), 0u);
    EXPECT_EQ(ev(Opcode::RemS, Type::I64, 0x8000000000000000ull, ~0ull), 0u);
    EXPECT_EQ(ev(Opcode::DivS, Type::I8, 0xf9, 2), 0xfdu);  // -7 / 2 = -3 (truncating)
    EXPECT_EQ(ev(Opcode::RemS, Type::I8, 0xf9, 2), 0xffu);  // -7 % 2 = -1
    EXPECT_EQ(ev(Opcode::DivU, Type::I8, 0xf9, 2), 0x7cu);
    EXPECT_EQ(ev(Opcode::RemU, Type::I64, 100, 7), 2u);
}

TEST(InterpOps, ShiftsTakeTheAmountModuloTheWidth) {
    EXPECT_EQ(ev(Opcode::Shl, Type::I32, 1, 0), 1u);
    EXPECT_EQ(ev(Opcode::Shl, Type::I32, 1, 31), 0x80000000u);
    EXPECT_EQ(ev(Opcode::Shl, Type::I32, 1, 32), 1u);
    EXPECT_EQ(ev(Opcode::Shl, Type::I32, 1, 33), 2u);
    EXPECT_EQ(ev(Opcode::Shl, Type::I8, 0x81, 1), 0x02u);
    EXPECT_EQ(ev(Opcode::Shl, Type::I8, 1, 8), 1u);
    EXPECT_EQ(ev(Opcode::Shl, Type::I64, 3, 64), 3u);
    EXPECT_EQ(ev(Opcode::LShr, Type::I64, 0x8000000000000000ull, 63), 1u);
    EXPECT_EQ(ev(Opcode::LShr, Type::I64, 0x8000000000000000ull, 64), 0x8000000000000000ull);
    EXPECT_EQ(ev(Opcode::LShr, Type::I16, 0x8000, 15), 1u);
    EXPECT_EQ(ev(Opcode::AShr, Type::I16, 0x8000, 15), 0xffffu);
    EXPECT_EQ(ev(Opcode::AShr, Type::I16, 0x8000, 16), 0x8000u);
    EXPECT_EQ(ev(Opcode::AShr, Type::I32, 0x80000000u, 4), 0xf8000000u);
    EXPECT_EQ(ev(Opcode::AShr, Type::I64, 0x4000000000000000ull, 62), 1u);
    EXPECT_EQ(ev(Opcode::AShr, Type::I8, 0x80, 7), 0xffu);
}

TEST(InterpOps, Rotates) {
    EXPECT_EQ(ev(Opcode::RotL, Type::I8, 0x81, 1), 0x03u);
    EXPECT_EQ(ev(Opcode::RotL, Type::I8, 0x81, 8), 0x81u);
    EXPECT_EQ(ev(Opcode::RotL, Type::I8, 0x81, 9), 0x03u);
    EXPECT_EQ(ev(Opcode::RotR, Type::I32, 1, 1), 0x80000000u);
    EXPECT_EQ(ev(Opcode::RotR, Type::I32, 0x12345678u, 0), 0x12345678u);
    EXPECT_EQ(ev(Opcode::RotR, Type::I32, 0x12345678u, 32), 0x12345678u);
    EXPECT_EQ(ev(Opcode::RotL, Type::I64, 0x8000000000000001ull, 4), 0x18u);
    EXPECT_EQ(ev(Opcode::RotR, Type::I16, 0x0001, 4), 0x1000u);
}

TEST(InterpOps, Logic) {
    EXPECT_EQ(ev(Opcode::And, Type::I32, 0xff00ff00u, 0x0ff00ff0u), 0x0f000f00u);
    EXPECT_EQ(ev(Opcode::Or, Type::I8, 0xf0, 0x0f), 0xffu);
    EXPECT_EQ(ev(Opcode::Xor, Type::I16, 0xffff, 0x00ff), 0xff00u);
    EXPECT_EQ(ev(Opcode::AndNot, Type::I32, 0xffffffffu, 0x0000ffffu), 0xffff0000u);
    EXPECT_EQ(ev(Opcode::AndNot, Type::I8, 0xff, 0xf0), 0x0fu);
    EXPECT_EQ(ev(Opcode::Not, Type::I16, 0), 0xffffu);
    EXPECT_EQ(ev(Opcode::Not, Type::I64, 0), ~0ull);
}

TEST(InterpOps, Extensions) {
    EXPECT_EQ(ev(Opcode::SExt, Type::I64, 0x80, 0, 0, Type::I8), 0xffffffffffffff80ull);
    EXPECT_EQ(ev(Opcode::SExt, Type::I32, 0x7fff, 0, 0, Type::I16), 0x7fffu);
    EXPECT_EQ(ev(Opcode::SExt, Type::I16, 0xff, 0, 0, Type::I8), 0xffffu);
    EXPECT_EQ(ev(Opcode::SExt, Type::I64, 0x80000000u, 0, 0, Type::I32), 0xffffffff80000000ull);
    EXPECT_EQ(ev(Opcode::ZExt, Type::I32, 0x80, 0, 0, Type::I8), 0x80u);
    EXPECT_EQ(ev(Opcode::ZExt, Type::I64, 0xffffffffu, 0, 0, Type::I32), 0xffffffffu);
    EXPECT_EQ(ev(Opcode::Trunc, Type::I32, 0x123456789ull, 0, 0, Type::I64), 0x23456789u);
    EXPECT_EQ(ev(Opcode::Trunc, Type::I8, 0x1ff, 0, 0, Type::I16), 0xffu);
    // Conversions to a narrower type truncate, to a wider one extend.
    EXPECT_EQ(ev(Opcode::SExt, Type::I8, 0x1280, 0, 0, Type::I16), 0x80u);
}

TEST(InterpOps, Compares) {
    EXPECT_EQ(ev(Opcode::CmpLtS, Type::I32, 0x80, 0x7f, 0, Type::I8), 1u);
    EXPECT_EQ(ev(Opcode::CmpLtU, Type::I32, 0x80, 0x7f, 0, Type::I8), 0u);
    EXPECT_EQ(ev(Opcode::CmpLeS, Type::I32, ~0ull, 0, 0, Type::I64), 1u);
    EXPECT_EQ(ev(Opcode::CmpLeU, Type::I32, ~0ull, 0, 0, Type::I64), 0u);
    EXPECT_EQ(ev(Opcode::CmpLeU, Type::I32, 5, 5, 0, Type::I16), 1u);
    EXPECT_EQ(ev(Opcode::CmpLtS, Type::I32, 5, 5, 0, Type::I16), 0u);
    EXPECT_EQ(ev(Opcode::CmpEq, Type::I32, 0xffff, 0xffff, 0, Type::I16), 1u);
    EXPECT_EQ(ev(Opcode::CmpNe, Type::I32, 1, 2, 0, Type::I64), 1u);
    EXPECT_EQ(ev(Opcode::CmpLtS, Type::I32, 0x80000000u, 1, 0, Type::I32), 1u);
}

TEST(InterpOps, Select) {
    EXPECT_EQ(ev(Opcode::Select, Type::I64, 0, 11, 22), 22u);
    EXPECT_EQ(ev(Opcode::Select, Type::I64, 5, 11, 22), 11u);
    EXPECT_EQ(ev(Opcode::Select, Type::I8, 0x80000000u, 0xaa, 0xbb), 0xaau);
}

TEST(InterpOps, BitCounts) {
    EXPECT_EQ(ev(Opcode::Clz, Type::I32, 0), 32u);
    EXPECT_EQ(ev(Opcode::Clz, Type::I8, 0), 8u);
    EXPECT_EQ(ev(Opcode::Clz, Type::I8, 1), 7u);
    EXPECT_EQ(ev(Opcode::Clz, Type::I64, 1), 63u);
    EXPECT_EQ(ev(Opcode::Clz, Type::I16, 0x8000), 0u);
    EXPECT_EQ(ev(Opcode::Ctz, Type::I16, 0), 16u);
    EXPECT_EQ(ev(Opcode::Ctz, Type::I64, 0), 64u);
    EXPECT_EQ(ev(Opcode::Ctz, Type::I64, 0x8000000000000000ull), 63u);
    EXPECT_EQ(ev(Opcode::Ctz, Type::I32, 0x18), 3u);
    EXPECT_EQ(ev(Opcode::Popcount, Type::I64, ~0ull), 64u);
    EXPECT_EQ(ev(Opcode::Popcount, Type::I8, 0x81), 2u);
    EXPECT_EQ(ev(Opcode::Bswap, Type::I16, 0x1234), 0x3412u);
    EXPECT_EQ(ev(Opcode::Bswap, Type::I32, 0x11223344u), 0x44332211u);
    EXPECT_EQ(ev(Opcode::Bswap, Type::I64, 0x0102030405060708ull), 0x0807060504030201ull);
    EXPECT_EQ(ev(Opcode::Bswap, Type::I8, 0x5a), 0x5au);
    EXPECT_EQ(ev(Opcode::BitRev, Type::I8, 0x01), 0x80u);
    EXPECT_EQ(ev(Opcode::BitRev, Type::I32, 0x1), 0x80000000u);
    EXPECT_EQ(ev(Opcode::BitRev, Type::I16, 0x00f1), 0x8f00u);
    EXPECT_EQ(ev(Opcode::BitRev, Type::I64, 0x3), 0xc000000000000000ull);
}

TEST(InterpOps, CarriesAndOverflowAtAllWidths) {
    EXPECT_EQ(ev(Opcode::AddCarry, Type::I32, 0xff, 0, 1, Type::I8), 1u);
    EXPECT_EQ(ev(Opcode::AddCarry, Type::I32, 0xfe, 0, 1, Type::I8), 0u);
    EXPECT_EQ(ev(Opcode::AddCarry, Type::I32, 0x8000, 0x8000, 0, Type::I16), 1u);
    EXPECT_EQ(ev(Opcode::AddCarry, Type::I32, 0xffffffffu, 0, 1, Type::I32), 1u);
    EXPECT_EQ(ev(Opcode::AddCarry, Type::I32, ~0ull, 1, 0, Type::I64), 1u);
    EXPECT_EQ(ev(Opcode::AddCarry, Type::I32, ~0ull, ~0ull, 1, Type::I64), 1u);
    EXPECT_EQ(ev(Opcode::AddCarry, Type::I32, ~0ull - 1, 0, 1, Type::I64), 0u);
    EXPECT_EQ(ev(Opcode::AddOverflow, Type::I32, 0x7f, 0, 1, Type::I8), 1u);
    EXPECT_EQ(ev(Opcode::AddOverflow, Type::I32, 0x80, 0xff, 0, Type::I8), 1u);
    EXPECT_EQ(ev(Opcode::AddOverflow, Type::I32, 0x7f, 0x80, 1, Type::I8), 0u);
    EXPECT_EQ(ev(Opcode::AddOverflow, Type::I32, 0x7fff, 1, 0, Type::I16), 1u);
    EXPECT_EQ(ev(Opcode::AddOverflow, Type::I32, 0x7fffffffu, 0, 0, Type::I32), 0u);
    EXPECT_EQ(ev(Opcode::AddOverflow, Type::I32, 0x7fffffffffffffffull, 0, 1, Type::I64), 1u);
    EXPECT_EQ(ev(Opcode::AddOverflow, Type::I32, 0x8000000000000000ull, ~0ull, 0, Type::I64), 1u);
    EXPECT_EQ(ev(Opcode::AddWithCarry, Type::I16, 0xffff, 0, 1), 0u);
    EXPECT_EQ(ev(Opcode::AddWithCarry, Type::I64, 1, 2, 1), 4u);
    EXPECT_EQ(ev(Opcode::AddWithCarry, Type::I8, 0x7f, 0x7f, 1), 0xffu);
}

uint64_t record_args(CpuCommon* cpu, uint64_t a, uint64_t b, uint64_t c) {
    auto* s = reinterpret_cast<StateCpu*>(cpu);
    s->set(kState + 200, cpu->pc);
    return a * 100 + b * 10 + c;
}
const ir::HelperInfo kRecord{"record", record_args, 3, ir::kHelperWritesState};

TEST(InterpControl, HelperCallSeesArgumentsAndPc) {
    ir::Block blk;
    ir::Builder b(blk);
    b.set_pc(0x4444);
    ir::ValueId r = b.call(kRecord, b.c64(1), b.c64(2), b.c64(3));
    b.set_state(kRes, r);
    b.exit_halt(ir::HaltReason::kYield);
    StateCpu cpu;
    ExitInfo e = run_interp(blk, cpu);
    EXPECT_EQ(e.kind, ExitKind::kHalt);
    EXPECT_EQ(e.cause, uint32_t(ir::HaltReason::kYield));
    EXPECT_EQ(cpu.get(kRes), 123u);
    EXPECT_EQ(cpu.get(kState + 200), 0x4444u);
}

TEST(InterpControl, CountedLoopWithLabels) {
    // sum = 0; i = 10; L: sum += i; i -= 1; brcond i != 0, L
    ir::Block blk;
    ir::Builder b(blk);
    b.set_state(kState + 0, b.c64(0));
    b.set_state(kState + 8, b.c64(10));
    uint32_t l = b.new_label();
    b.label(l);
    ir::ValueId i = b.get_state(Type::I64, kState + 8);
    b.set_state(kState + 0, b.add(b.get_state(Type::I64, kState + 0), i));
    ir::ValueId n = b.sub(i, b.c64(1));
    b.set_state(kState + 8, n);
    b.br_cond(b.cmp(Opcode::CmpNe, n, b.c64(0)), l);
    b.exit_halt(ir::HaltReason::kStop);
    StateCpu cpu;
    run_interp(blk, cpu);
    EXPECT_EQ(cpu.get(kState + 0), 55u);
    // The optimised block computes the same.
    ir::optimize(blk);
    ASSERT_TRUE(ir::verify(blk).ok());
    StateCpu cpu2;
    run_interp(blk, cpu2);
    EXPECT_EQ(cpu2.get(kState + 0), 55u);
}

TEST(InterpControl, ForwardBranchSkipsCode) {
    for (uint64_t cond : {0u, 1u}) {
        ir::Block blk;
        ir::Builder b(blk);
        uint32_t skip = b.new_label();
        b.br_cond(b.get_state(Type::I32, kState + 0), skip);
        b.set_state(kState + 8, b.c64(77));
        b.br(skip);  // unconditional branch to the same place
        b.label(skip);
        b.exit_halt(ir::HaltReason::kStop);
        StateCpu cpu;
        cpu.set(kState + 0, cond, 4);
        run_interp(blk, cpu);
        EXPECT_EQ(cpu.get(kState + 8), cond ? 0u : 77u);
    }
}

TEST(InterpControl, ExitKinds) {
    StateCpu cpu;
    {
        ir::Block blk;
        ir::Builder b(blk);
        b.exit_link(0x1234);
        ExitInfo e = run_interp(blk, cpu);
        EXPECT_EQ(e.kind, ExitKind::kLink);
        EXPECT_EQ(e.slot, 0);
        EXPECT_EQ(cpu.common.pc, 0x1234u);
    }
    for (uint32_t c : {0u, 1u}) {
        ir::Block blk;
        ir::Builder b(blk);
        b.exit_cond(b.c32(c), 0x10, 0x20);
        ExitInfo e = run_interp(blk, cpu);
        EXPECT_EQ(e.kind, ExitKind::kLink);
        EXPECT_EQ(e.slot, c ? 0 : 1);
        EXPECT_EQ(cpu.common.pc, c ? 0x10u : 0x20u);
    }
    {
        ir::Block blk;
        ir::Builder b(blk);
        b.exit_jump(b.c64(0xabc));
        ExitInfo e = run_interp(blk, cpu);
        EXPECT_EQ(e.kind, ExitKind::kJump);
        EXPECT_EQ(cpu.common.pc, 0xabcu);
    }
    {
        ir::Block blk;
        ir::Builder b(blk);
        b.set_pc(0x900);
        b.exit_exception(3, 0x55);
        ExitInfo e = run_interp(blk, cpu);
        EXPECT_EQ(e.kind, ExitKind::kException);
        EXPECT_EQ(e.cause, 3u);
        EXPECT_EQ(e.detail, 0x55u);
        EXPECT_EQ(cpu.common.pc, 0x900u);
    }
    {
        cpu.common.exit_request = 1;
        ir::Block blk;
        blk.guest_pc = 0x777;
        ir::Builder b(blk);
        b.exit_link(0x1);
        ExitInfo e = run_interp(blk, cpu);
        EXPECT_EQ(e.kind, ExitKind::kExitRequest);
        EXPECT_EQ(cpu.common.pc, 0x777u);
    }
}

}  // namespace
}  // namespace corvid::test
