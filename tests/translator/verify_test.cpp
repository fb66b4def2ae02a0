// The verifier accepts well-formed blocks and rejects each kind of malformed one with a
// message that names the problem and dumps the block.
#include "translator/ir/verify.h"

#include <gtest/gtest.h>

namespace corvid::ir {
namespace {

uint64_t h2(CpuCommon*, uint64_t a, uint64_t b, uint64_t) {
    return a + b;
}
const HelperInfo kTwo{"two_args", h2, 2, kHelperPure};

// Expects verify to fail with `what` in the message and the dump of the block.
void expect_reject(const Block& b, const std::string& what) {
    Status s = verify(b);
    ASSERT_FALSE(s.ok()) << "accepted:\n" << to_string(b);
    EXPECT_NE(s.error().find(what), std::string::npos) << s.error();
    EXPECT_NE(s.error().find("block pc="), std::string::npos) << "no block dump in: " << s.error();
}

TEST(Verify, AcceptsAWellFormedBlock) {
    Block blk;
    Builder b(blk);
    ValueId x = b.get_state(Type::I64, 8);
    ValueId y = b.add(x, b.c64(1));
    b.set_state(8, y);
    b.set_pc(4);
    ValueId c = b.call(kTwo, x, y);
    b.store(c, b.trunc(Type::I32, y), 2);
    uint32_t l = b.new_label();
    b.br_cond(b.cmp(Opcode::CmpEq, x, y), l);
    b.exit_link(0x10);
    b.label(l);
    b.exit_jump(b.get_state(Type::I64, 16));
    Status s = verify(blk);
    EXPECT_TRUE(s.ok()) << s.error();
}

TEST(Verify, RejectsEmptyAndUnterminatedBlocks) {
    Block empty;
    EXPECT_FALSE(verify(empty).ok());
    Block blk;
    Builder b(blk);
    b.set_state(8, b.c64(1));
    expect_reject(blk, "does not end in a terminal");
}

TEST(Verify, RejectsOperandTypeMismatch) {
    Block blk;
    Builder b(blk);
    ValueId x = b.c64(1);
    ValueId y = b.c32(2);
    Inst i;
    i.op = Opcode::Add;
    i.type = Type::I64;
    i.args[0] = x;
    i.args[1] = y;
    b.emit(i);
    b.exit_halt(HaltReason::kStop);
    expect_reject(blk, "must be i64");
}

TEST(Verify, RejectsMixedAOperands) {
    Block blk;
    Builder b(blk);
    b.cmp(Opcode::CmpEq, b.c64(1), b.c32(1));
    b.exit_halt(HaltReason::kStop);
    expect_reject(blk, "must be i64");
}

TEST(Verify, RejectsForwardReferenceAndMissingOperand) {
    {
        Block blk;
        Builder b(blk);
        Inst i;
        i.op = Opcode::Not;
        i.type = Type::I32;
        i.args[0] = 1;  // itself
        b.emit(i);
        b.exit_halt(HaltReason::kStop);
        expect_reject(blk, "not defined before its use");
    }
    {
        Block blk;
        Builder b(blk);
        Inst i;
        i.op = Opcode::Add;
        i.type = Type::I32;
        i.args[0] = b.c32(1);
        b.emit(i);
        b.exit_halt(HaltReason::kStop);
        expect_reject(blk, "missing operand 1");
    }
}

TEST(Verify, RejectsValuesCrossingALabel) {
    Block blk;
    Builder b(blk);
    ValueId x = b.c64(1);
    uint32_t l = b.new_label();
    b.label(l);
    b.set_state(8, x);
    b.exit_halt(HaltReason::kStop);
    expect_reject(blk, "defined before a label");
}

TEST(Verify, RejectsBadLabels) {
    {
        Block blk;
        Builder b(blk);
        b.br(b.new_label());  // never placed
        b.exit_halt(HaltReason::kStop);
        expect_reject(blk, "not placed");
    }
    {
        Block blk;
        Builder b(blk);
        uint32_t l = b.new_label();
        b.label(l);
        b.label(l);
        b.exit_halt(HaltReason::kStop);
        expect_reject(blk, "defined twice");
    }
    {
        Block blk;
        Builder b(blk);
        b.br(7);
        b.exit_halt(HaltReason::kStop);
        expect_reject(blk, "unknown label");
    }
}

TEST(Verify, RejectsCodeAfterATerminal) {
    Block blk;
    Builder b(blk);
    b.exit_link(4);
    b.set_state(8, b.c64(1));
    b.exit_halt(HaltReason::kStop);
    expect_reject(blk, "after a terminal");
}

TEST(Verify, RejectsCallArgumentCountMismatch) {
    Block blk;
    Builder b(blk);
    b.call(kTwo, b.c64(1));
    b.exit_halt(HaltReason::kStop);
    expect_reject(blk, "missing operand 1");
    Block blk2;
    Builder b2(blk2);
    b2.call(kTwo, b2.c64(1), b2.c64(2), b2.c64(3));
    b2.exit_halt(HaltReason::kStop);
    expect_reject(blk2, "unexpected operand 2");
}

TEST(Verify, RejectsMemoryAccessAfterStateWriteInOneInstruction) {
    Block blk;
    Builder b(blk);
    b.set_pc(0x100);
    b.set_state(8, b.c64(1));
    b.load(Type::I64, b.c64(0x1000), 3);
    b.exit_halt(HaltReason::kStop);
    expect_reject(blk, "memory access after a guest-state write");
    // The same sequence split over two guest instructions is fine.
    Block ok;
    Builder c(ok);
    c.set_pc(0x100);
    c.set_state(8, c.c64(1));
    c.set_pc(0x104);
    c.load(Type::I64, c.c64(0x1000), 3);
    c.exit_halt(HaltReason::kStop);
    EXPECT_TRUE(verify(ok).ok());
}

TEST(Verify, RejectsBadResultTypesAndConstants) {
    {
        Block blk;
        Builder b(blk);
        Inst i;
        i.op = Opcode::Const;
        i.type = Type::I8;
        i.imm = 0x100;
        b.emit(i);
        b.exit_halt(HaltReason::kStop);
        expect_reject(blk, "does not fit");
    }
    {
        Block blk;
        Builder b(blk);
        Inst i;
        i.op = Opcode::CmpEq;
        i.type = Type::I64;
        i.args[0] = b.c32(1);
        i.args[1] = b.c32(1);
        b.emit(i);
        b.exit_halt(HaltReason::kStop);
        expect_reject(blk, "result type must be i32");
    }
    {
        Block blk;
        Builder b(blk);
        b.load(Type::I16, b.c64(0), 3);
        b.exit_halt(HaltReason::kStop);
        expect_reject(blk, "wider than its result");
    }
    {
        Block blk;
        Builder b(blk);
        b.exit_cond(b.c64(1), 1, 2);
        expect_reject(blk, "must be i32");
    }
}

}  // namespace
}  // namespace corvid::ir
