// Each optimiser pass does what it claims, shown on small before/after blocks.
#include <gtest/gtest.h>

#include "translator/ir/opt/optimize.h"
#include "translator/ir/verify.h"

namespace corvid::ir {
namespace {

size_t count(const Block& b, Opcode op) {
    size_t n = 0;
    for (const Inst& i : b.insts) n += i.op == op;
    return n;
}

uint64_t h_pure(CpuCommon*, uint64_t a, uint64_t, uint64_t) {
    return a + 1;
}
uint64_t h_plain(CpuCommon*, uint64_t a, uint64_t, uint64_t) {
    return a;
}
const HelperInfo kPure{"pure", h_pure, 1, kHelperPure};
const HelperInfo kWrites{"writes", h_plain, 1, kHelperWritesState};
const HelperInfo kReads{"reads", h_plain, 1, kHelperReadsState};
const HelperInfo kQuiet{"quiet", h_plain, 1, 0};  // neither touches state nor raises

void expect_valid(const Block& b) {
    Status s = verify(b);
    EXPECT_TRUE(s.ok()) << s.error();
}

TEST(ConstFold, FoldsConstantExpressions) {
    Block blk;
    Builder b(blk);
    ValueId x = b.add(b.c32(2), b.c32(3));
    ValueId y = b.shl(x, b.c32(33));  // 5 << (33 % 32)
    b.set_state(8, y);
    b.exit_halt(HaltReason::kStop);
    const_fold(blk);
    dead_code(blk);
    expect_valid(blk);
    ASSERT_EQ(blk.insts.size(), 3u) << to_string(blk);
    EXPECT_EQ(blk.insts[0].op, Opcode::Const);
    EXPECT_EQ(blk.insts[0].imm, 10u);
    EXPECT_EQ(blk.insts[1].args[0], 0u);
}

TEST(ConstFold, AlgebraicIdentities) {
    Block blk;
    Builder b(blk);
    ValueId x = b.get_state(Type::I64, 16);
    b.set_state(8, b.add(x, b.c64(0)));
    b.set_state(24, b.binop(Opcode::Mul, b.c64(1), x));
    b.set_state(32, b.xor_(x, x));
    b.set_state(40, b.and_(x, b.c64(~0ull)));
    b.set_state(48, b.select(b.c32(0), b.c64(5), x));
    b.exit_halt(HaltReason::kStop);
    const_fold(blk);
    dead_code(blk);
    expect_valid(blk);
    std::vector<const Inst*> sets;
    for (const Inst& i : blk.insts) {
        if (i.op == Opcode::SetState) sets.push_back(&i);
    }
    ASSERT_EQ(sets.size(), 5u);
    EXPECT_EQ(blk.insts[sets[0]->args[0]].op, Opcode::GetState);
    EXPECT_EQ(blk.insts[sets[1]->args[0]].op, Opcode::GetState);
    EXPECT_EQ(blk.insts[sets[2]->args[0]].op, Opcode::Const);
    EXPECT_EQ(blk.insts[sets[2]->args[0]].imm, 0u);
    EXPECT_EQ(blk.insts[sets[3]->args[0]].op, Opcode::GetState);
    EXPECT_EQ(blk.insts[sets[4]->args[0]].op, Opcode::GetState);
    EXPECT_EQ(count(blk, Opcode::Add) + count(blk, Opcode::Mul) + count(blk, Opcode::Xor) + count(blk, Opcode::And) +
                  count(blk, Opcode::Select),
              0u)
        << to_string(blk);
}

TEST(ConstFold, ConstantConditions) {
    Block blk;
    Builder b(blk);
    uint32_t l = b.new_label();
    b.br_cond(b.c32(0), l);  // never taken: removed
    b.set_state(8, b.c64(1));
    b.label(l);
    b.exit_cond(b.cmp(Opcode::CmpLtU, b.c64(1), b.c64(2)), 0x100, 0x200);
    const_fold(blk);
    expect_valid(blk);
    EXPECT_EQ(count(blk, Opcode::BrCond), 0u);
    EXPECT_EQ(count(blk, Opcode::ExitCond), 0u);
    ASSERT_EQ(blk.insts.back().op, Opcode::ExitLink);
    EXPECT_EQ(blk.insts.back().imm, 0x100u);
}

TEST(ConstFold, KeepsDivisionByZeroSemantics) {
    Block blk;
    Builder b(blk);
    b.set_state(8, b.binop(Opcode::DivS, b.c32(7), b.c32(0)));
    b.set_state(12, b.binop(Opcode::RemU, b.c32(7), b.c32(0)));
    b.exit_halt(HaltReason::kStop);
    optimize(blk);
    expect_valid(blk);
    ASSERT_EQ(count(blk, Opcode::SetState), 2u);
    for (const Inst& i : blk.insts) {
        if (i.op != Opcode::SetState) continue;
        EXPECT_EQ(blk.insts[i.args[0]].imm, i.imm == 8 ? 0u : 7u);
    }
}

TEST(StateForward, GetAfterSetReusesTheValue) {
    Block blk;
    Builder b(blk);
    ValueId v = b.add(b.get_state(Type::I64, 16), b.c64(3));
    b.set_state(8, v);
    ValueId g = b.get_state(Type::I64, 8);
    b.set_state(24, g);
    b.exit_halt(HaltReason::kStop);
    state_forward(blk);
    expect_valid(blk);
    EXPECT_EQ(count(blk, Opcode::GetState), 1u) << to_string(blk);
    EXPECT_EQ(blk.insts[blk.insts.size() - 2].args[0], blk.insts[blk.insts.size() - 3].args[0]);
}

TEST(StateForward, RepeatedGetsShareOneLoad) {
    Block blk;
    Builder b(blk);
    ValueId a = b.get_state(Type::I32, 8);
    ValueId c = b.get_state(Type::I32, 8);
    b.set_state(16, b.add(a, c));
    b.exit_halt(HaltReason::kStop);
    state_forward(blk);
    expect_valid(blk);
    EXPECT_EQ(count(blk, Opcode::GetState), 1u);
}

TEST(StateForward, BarriersAndMismatches) {
    Block blk;
    Builder b(blk);
    b.set_state(8, b.c64(1));
    b.call_void(kWrites, b.c64(0));  // may change state: forget
    b.set_state(16, b.get_state(Type::I64, 8));
    b.set_state(24, b.c64(2));
    b.set_state(32, b.get_state(Type::I32, 24));  // other type: not forwarded
    b.set_state(40, b.c64(3));
    b.set_state(44, b.c32(4));  // overlaps bytes 44..47 of the i64 at 40
    b.set_state(48, b.get_state(Type::I64, 40));
    b.set_state(56, b.c64(5));
    uint32_t l = b.new_label();
    b.label(l);  // labels are barriers
    b.set_state(64, b.get_state(Type::I64, 56));
    b.exit_halt(HaltReason::kStop);
    const size_t gets = count(blk, Opcode::GetState);
    state_forward(blk);
    expect_valid(blk);
    EXPECT_EQ(count(blk, Opcode::GetState), gets) << to_string(blk);
}

TEST(DeadStore, OverwrittenStoreIsRemoved) {
    Block blk;
    Builder b(blk);
    b.set_state(8, b.c64(1));
    b.set_state(8, b.c64(2));
    b.exit_halt(HaltReason::kStop);
    dead_store(blk);
    expect_valid(blk);
    ASSERT_EQ(count(blk, Opcode::SetState), 1u);
    for (const Inst& i : blk.insts) {
        if (i.op == Opcode::SetState) {
            EXPECT_EQ(blk.insts[i.args[0]].imm, 2u);
        }
    }
}

TEST(DeadStore, WiderLaterStoreCoversANarrowerOne) {
    Block blk;
    Builder b(blk);
    b.set_state(12, b.c32(1));
    b.set_state(8, b.c64(2));
    b.exit_halt(HaltReason::kStop);
    dead_store(blk);
    EXPECT_EQ(count(blk, Opcode::SetState), 1u);
    // The other way round the first store's upper bytes survive.
    Block blk2;
    Builder c(blk2);
    c.set_state(8, c.c64(2));
    c.set_state(12, c.c32(1));
    c.exit_halt(HaltReason::kStop);
    dead_store(blk2);
    EXPECT_EQ(count(blk2, Opcode::SetState), 2u);
}

TEST(DeadStore, FaultsHelpersReadsAndLabelsSeeExactState) {
    auto build = [](auto&& middle) {
        Block blk;
        Builder b(blk);
        b.set_pc(0);
        b.set_state(8, b.c64(1));
        b.set_pc(4);
        middle(b);
        b.set_pc(8);
        b.set_state(8, b.c64(2));
        b.exit_halt(HaltReason::kStop);
        dead_store(blk);
        return count(blk, Opcode::SetState);
    };
    EXPECT_EQ(build([](Builder& b) { b.load(Type::I64, b.c64(0), 3); }), 2u);
    EXPECT_EQ(build([](Builder& b) { b.store(b.c64(0), b.c64(0), 3); }), 2u);
    EXPECT_EQ(build([](Builder& b) { b.call_void(kReads, b.c64(0)); }), 2u);
    EXPECT_EQ(build([](Builder& b) { b.set_state(16, b.get_state(Type::I8, 9)); }), 3u);  // + the store at 16
    EXPECT_EQ(build([](Builder& b) { b.label(b.new_label()); }), 2u);
    // A helper that neither reads state nor raises is no barrier; nor is a read elsewhere.
    EXPECT_EQ(build([](Builder& b) { b.call_void(kQuiet, b.c64(0)); }), 1u);
    EXPECT_EQ(build([](Builder& b) { b.set_state(16, b.get_state(Type::I64, 24)); }), 2u);  // 2 = the 16 store + last
}

TEST(DeadCode, RemovesUnusedPureValuesOnly) {
    Block blk;
    Builder b(blk);
    b.add(b.c64(1), b.get_state(Type::I64, 8));  // unused: goes
    b.call(kPure, b.c64(1));                     // unused pure helper: goes
    b.call(kQuiet, b.c64(1));                    // has effects: stays
    b.load(Type::I64, b.c64(0x100), 3);          // may fault: stays
    b.exit_halt(HaltReason::kStop);
    dead_code(blk);
    expect_valid(blk);
    EXPECT_EQ(count(blk, Opcode::Add), 0u);
    EXPECT_EQ(count(blk, Opcode::GetState), 0u);
    EXPECT_EQ(count(blk, Opcode::Call), 1u);
    EXPECT_EQ(count(blk, Opcode::Load), 1u);
    EXPECT_EQ(blk.insts.size(), 5u) << to_string(blk);  // 2 consts, call, load, exit
}

TEST(DeadCode, DropsUnreferencedFallThroughLabels) {
    Block blk;
    Builder b(blk);
    b.set_state(8, b.c64(1));
    b.label(b.new_label());
    uint32_t used = b.new_label();
    b.br_cond(b.get_state(Type::I32, 16), used);
    b.label(used);
    b.exit_halt(HaltReason::kStop);
    dead_code(blk);
    expect_valid(blk);
    EXPECT_EQ(count(blk, Opcode::Label), 1u);
}

// The flag-liveness effect: flags written by one instruction and redefined by the next
// before any read cost nothing after dead_store + dead_code.
TEST(Optimize, FlagComputationOfOverwrittenFlagsDisappears) {
    constexpr uint32_t kX = 8, kY = 16, kFlagZ = 24, kFlagN = 28;
    Block blk;
    Builder b(blk);
    for (int insn = 0; insn < 2; ++insn) {
        b.set_pc(0x100 + 4 * insn);
        ValueId x = b.get_state(Type::I64, kX);
        ValueId r = b.sub(x, b.get_state(Type::I64, kY));
        b.set_state(kX, r);
        b.set_state(kFlagZ, b.cmp(Opcode::CmpEq, r, b.c64(0)));
        b.set_state(kFlagN, b.cmp(Opcode::CmpLtS, r, b.c64(0)));
    }
    b.exit_link(0x108);
    const size_t cmps_before = count(blk, Opcode::CmpEq) + count(blk, Opcode::CmpLtS);
    optimize(blk);
    expect_valid(blk);
    EXPECT_EQ(cmps_before, 4u);
    EXPECT_EQ(count(blk, Opcode::CmpEq) + count(blk, Opcode::CmpLtS), 2u) << to_string(blk);
    EXPECT_EQ(count(blk, Opcode::SetState), 3u);  // x once, each flag once
    EXPECT_EQ(count(blk, Opcode::GetState), 2u);  // x and y read once
}

}  // namespace
}  // namespace corvid::ir
