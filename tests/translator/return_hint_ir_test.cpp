// PushReturnHint in the IR: printed, verified, kept by the optimiser (a side effect without
// guest-visible state), transparent to state forwarding, and a no-op for the interpreter.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/translator/toy_machine.h"
#include "translator/ir/opt/optimize.h"
#include "translator/ir/verify.h"

namespace corvid::toy {
namespace {

using ir::Opcode;

ir::Block call_block() {
    ir::Block blk;
    blk.guest_pc = 0x1000;
    ir::Builder b(blk);
    b.set_pc(0x1000);
    b.set_state(reg_off(1), b.c64(7));
    b.push_return_hint(0x1004);
    b.set_state(reg_off(2), b.get_state(ir::Type::I64, reg_off(1)));  // forwarded across the hint
    b.exit_link(0x2000);
    return blk;
}

size_t count(const ir::Block& blk, Opcode op) {
    return size_t(std::count_if(blk.insts.begin(), blk.insts.end(), [&](const ir::Inst& i) { return i.op == op; }));
}

TEST(ReturnHintIr, PrintedVerifiedAndKept) {
    ir::Block blk = call_block();
    EXPECT_NE(ir::to_string(blk).find("hint.call 0x1004"), std::string::npos) << ir::to_string(blk);
    ASSERT_TRUE(ir::verify(blk).ok());
    ir::optimize(blk);
    ASSERT_TRUE(ir::verify(blk).ok());
    EXPECT_EQ(count(blk, Opcode::PushReturnHint), 1u);
    EXPECT_EQ(count(blk, Opcode::GetState), 0u);  // the hint is no barrier for guest state
}

TEST(ReturnHintIr, TheInterpreterIgnoresIt) {
    ToyMachine m;  // interpreter backend
    m.bus.put(0x100, {enc(kAddi, 1, 0, 4), enc(kCall, 0, 0, (0x400 - 0x104) / 4), enc(kAddi, 1, 1, -1),
                      enc(kBnz, 0, 1, -2), enc(kHalt, 0, 0, 0)});
    m.bus.put(0x400, {enc(kAddi, 2, 2, 9), enc(kRet, 0, kLinkReg, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[2], 36u);
    EXPECT_EQ(m.cpu.x[kLinkReg], 0x108u);
    EXPECT_EQ(m.engine.stats().return_hint_hits + m.engine.stats().return_hint_misses, 0u);
    EXPECT_NE(m.engine.stats_report().find("return hints missed"), std::string::npos);
}

}  // namespace
}  // namespace corvid::toy
