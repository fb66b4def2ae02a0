// The optimiser's incremental entry points: state_forward_first_change reports where it first
// changed a block, and const_fold_from folds from there with the same result as a full fold.
#include <gtest/gtest.h>

#include "translator/ir/opt/optimize.h"
#include "translator/ir/random_block.h"
#include "translator/ir/verify.h"

namespace corvid::ir {
namespace {

RandomBlockOptions small_state_options(uint64_t seed) {
    RandomBlockOptions o;
    o.num_insts = 20 + uint32_t(seed % 100);
    o.state_bytes = 16 + 8 * uint32_t(seed % 4);  // few registers: many gets/sets to forward
    o.labels = seed % 3 != 0;
    o.helpers = seed % 2 == 0;
    return o;
}

TEST(StateForwardReport, UnchangedWhenNothingIsForwarded) {
    Block blk;
    Builder b(blk);
    ValueId x = b.get_state(Type::I64, 8);
    b.set_state(16, b.add(x, b.get_state(Type::I64, 24)));
    b.exit_halt(HaltReason::kStop);
    const std::string before = to_string(blk);
    EXPECT_FALSE(blk.state_forwarded);
    EXPECT_EQ(state_forward_first_change(blk), kUnchanged);
    EXPECT_EQ(to_string(blk), before);
    EXPECT_TRUE(blk.state_forwarded);  // the backend relies on it to skip its own forwarding
}

TEST(StateForwardReport, ReportsTheFirstForwardedGetState) {
    Block blk;
    Builder b(blk);
    ValueId x = b.get_state(Type::I64, 8);                 // v0
    ValueId one = b.c64(1);                                // v1
    b.set_state(16, b.add(x, one));                        // v2 add, v3 set
    ValueId y = b.get_state(Type::I64, 24);                // v4: not known, stays
    ValueId z = b.get_state(Type::I64, 16);                // v5: forwarded from v2
    b.set_state(32, b.sub(z, b.get_state(Type::I64, 8)));  // v6 get (forwarded from v0), v7, v8
    b.set_state(40, y);
    b.exit_halt(HaltReason::kStop);
    Block untouched = blk;
    const size_t first = state_forward_first_change(blk);
    EXPECT_EQ(first, 5u);
    ASSERT_TRUE(verify(blk).ok()) << verify(blk).error();
    ASSERT_LE(first, blk.insts.size());
    for (size_t k = 0; k < first; ++k) {
        EXPECT_EQ(blk.insts[k].op, untouched.insts[k].op) << k;
        EXPECT_EQ(blk.insts[k].imm, untouched.insts[k].imm) << k;
        for (unsigned a = 0; a < 3; ++a) EXPECT_EQ(blk.insts[k].args[a], untouched.insts[k].args[a]) << k;
    }
    // Both forwarded GetStates are gone; the sub now reads v2 and v0 directly.
    EXPECT_EQ(blk.insts.size(), untouched.insts.size() - 2);
    EXPECT_EQ(blk.insts[first].op, Opcode::Sub);
    EXPECT_EQ(blk.insts[first].args[0], 2u);
    EXPECT_EQ(blk.insts[first].args[1], 0u);

    // The plain entry point does the same thing.
    state_forward(untouched);
    EXPECT_EQ(to_string(untouched), to_string(blk));
}

TEST(StateForwardReport, ForwardingThatMakesOperandsEqualFoldsFromThere) {
    // set r1 = x; y = get r1; d = sub y, x: after forwarding d is sub x, x, which folds to 0.
    Block blk;
    Builder b(blk);
    ValueId x = b.get_state(Type::I64, 8);
    b.set_state(16, x);
    ValueId y = b.get_state(Type::I64, 16);
    b.set_state(24, b.sub(y, x));
    b.exit_halt(HaltReason::kStop);
    const_fold(blk);
    const size_t first = state_forward_first_change(blk);
    ASSERT_NE(first, kUnchanged);
    const_fold_from(blk, first);
    ASSERT_TRUE(verify(blk).ok()) << verify(blk).error();
    const Inst& set24 = blk.insts[blk.insts.size() - 2];
    ASSERT_EQ(set24.op, Opcode::SetState);
    EXPECT_EQ(blk.insts[set24.args[0]].op, Opcode::Const);
    EXPECT_EQ(blk.insts[set24.args[0]].imm, 0u);
}

TEST(ConstFoldFrom, MatchesAFullFoldAfterForwarding) {
    size_t forwarded = 0;
    for (uint64_t seed = 0; seed < 400; ++seed) {
        Block blk = random_block(seed, small_state_options(seed));
        const_fold(blk);
        {
            // const_fold's output is its own fixpoint: what the incremental fold relies on.
            Block again = blk;
            const_fold(again);
            ASSERT_EQ(to_string(again), to_string(blk)) << "seed " << seed;
        }
        Block full = blk;
        state_forward(full);
        const_fold(full);

        const size_t first = state_forward_first_change(blk);
        if (first != kUnchanged) {
            ++forwarded;
            const_fold_from(blk, first);
        }
        ASSERT_EQ(to_string(blk), to_string(full)) << "seed " << seed;
        ASSERT_TRUE(verify(blk).ok()) << "seed " << seed << ": " << verify(blk).error();
    }
    EXPECT_GT(forwarded, 100u);  // the corpus does exercise forwarding
}

TEST(ConstFoldFrom, LeavesEarlierInstructionsAlone) {
    Block blk;
    Builder b(blk);
    ValueId a = b.add(b.c32(2), b.c32(3));  // foldable, but before `start`
    ValueId c = b.add(b.c32(4), b.c32(5));
    b.set_state(8, a);
    b.set_state(12, c);
    b.exit_halt(HaltReason::kStop);
    const_fold_from(blk, 3);
    EXPECT_EQ(blk.insts[2].op, Opcode::Add);    // untouched
    EXPECT_EQ(blk.insts[5].op, Opcode::Const);  // folded
    EXPECT_EQ(blk.insts[5].imm, 9u);
    const_fold_from(blk, blk.insts.size() + 5);  // past the end: no-op
    EXPECT_EQ(blk.insts[2].op, Opcode::Add);
}

}  // namespace
}  // namespace corvid::ir
