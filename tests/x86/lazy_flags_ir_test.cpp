// Golden IR checks for lazy EFLAGS: flag computations overwritten before being read disappear
// after optimisation, jcc after cmp/sub/test is evaluated inline (no flags helper), and blocks
// verify.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstring>
#include <vector>

#include "frontends/x86/x86_frontend.h"
#include "frontends/x86/x86_translator.h"
#include "translator/bytes_context.h"
#include "translator/ir/opt/optimize.h"
#include "translator/ir/verify.h"

namespace corvid::x86test {
namespace {

struct Counts {
    unsigned cc_sets = 0, flag_helper_calls = 0, insts = 0;
};

Counts translate(const std::vector<uint8_t>& code, bool optimize) {
    X86Frontend fe;
    ir::Block blk;
    blk.guest_pc = 0x1000;
    blk.mode = kX86ModeCode64 | kX86ModePe;
    ir::Builder b(blk);
    BytesContext ctx(b, 0x1000, code);
    fe.translate(ctx);
    EXPECT_TRUE(ir::verify(blk).ok());
    if (optimize) ir::optimize(blk);
    EXPECT_TRUE(ir::verify(blk).ok());
    Counts c;
    c.insts = unsigned(blk.insts.size());
    for (const ir::Inst& i : blk.insts) {
        if (i.op == ir::Opcode::SetState &&
            (i.imm == offsetof(X86State, cc_op) || i.imm == offsetof(X86State, cc_dst) ||
             i.imm == offsetof(X86State, cc_src)))
            ++c.cc_sets;
        if ((i.op == ir::Opcode::Call || i.op == ir::Opcode::CallVoid) &&
            reinterpret_cast<const ir::HelperInfo*>(i.imm) == &x86::kHelperArithFlags)
            ++c.flag_helper_calls;
    }
    return c;
}

TEST(X86LazyFlags, DeadFlagWritesAreRemoved) {
    // add rax, rbx; sub rcx, rdx; xor esi, edi; cmp rax, rcx; jl +0
    const std::vector<uint8_t> code = {0x48, 0x01, 0xd8, 0x48, 0x29, 0xd1, 0x31, 0xfe, 0x48, 0x39, 0xc8, 0x7c, 0x00};
    Counts raw = translate(code, false);
    Counts opt = translate(code, true);
    EXPECT_EQ(raw.cc_sets, 4u * 3 - 1);  // xor (logic) writes no cc_src
    EXPECT_EQ(opt.cc_sets, 3u);          // only cmp's op/dst/src stay live at the block exit
    EXPECT_EQ(opt.flag_helper_calls, 0u);
    EXPECT_LT(opt.insts, raw.insts);
}

TEST(X86LazyFlags, ConditionsAfterTestAndSubAreInline) {
    // test eax, eax; sete cl; sub rdx, rbx; setb al; ja +0
    const std::vector<uint8_t> code = {0x85, 0xc0, 0x0f, 0x94, 0xc1, 0x48, 0x29, 0xda, 0x0f, 0x92, 0xc0, 0x77, 0x00};
    EXPECT_EQ(translate(code, true).flag_helper_calls, 0u);
}

TEST(X86LazyFlags, UnknownFlagsUseTheHelper) {
    // jl at the start of a block: the producer is in another block.
    const std::vector<uint8_t> code = {0x7c, 0x00};
    EXPECT_EQ(translate(code, true).flag_helper_calls, 1u);
}

// A partial flag writer (rol keeps SF/ZF/AF/PF) builds the flags word with the helper, but when
// the next producer overwrites it in the same block the helper call is dead and removed.
TEST(X86LazyFlags, OverwrittenRotateFlagsDropTheHelper) {
    // xor rcx, rsi; rol rsi, 7; cmp rdi, 0x10; jne +0
    const std::vector<uint8_t> code = {0x48, 0x31, 0xf1, 0x48, 0xc1, 0xc6, 0x07,
                                       0x48, 0x83, 0xff, 0x10, 0x75, 0x00};
    EXPECT_EQ(translate(code, false).flag_helper_calls, 1u);
    EXPECT_EQ(translate(code, true).flag_helper_calls, 0u);
}

TEST(X86LazyFlags, RotateFlagsOverwrittenByALogicOpDropTheHelper) {
    // rol rsi, 7; and edi, 0x30; jne +0 (logic ops do not use cc_src, but must kill rol's word)
    const std::vector<uint8_t> code = {0x48, 0xc1, 0xc6, 0x07, 0x83, 0xe7, 0x30, 0x75, 0x00};
    EXPECT_EQ(translate(code, false).flag_helper_calls, 1u);
    EXPECT_EQ(translate(code, true).flag_helper_calls, 0u);
}

TEST(X86LazyFlags, RotateThroughCarryTakesTheCarryInline) {
    // sub rax, rbx; rcl rsi, 1; cmp rdi, 0x10; jne +0: CF of the sub is computed inline.
    const std::vector<uint8_t> code = {0x48, 0x29, 0xd8, 0x48, 0xd1, 0xd6, 0x48, 0x83, 0xff, 0x10, 0x75, 0x00};
    EXPECT_EQ(translate(code, true).flag_helper_calls, 0u);
}

TEST(X86LazyFlags, LiveRotateFlagsKeepTheHelper) {
    // rol rsi, 7; jo +0: OF comes from the rotate, the rest of the word is still needed at exit.
    const std::vector<uint8_t> code = {0x48, 0xc1, 0xc6, 0x07, 0x70, 0x00};
    EXPECT_EQ(translate(code, true).flag_helper_calls, 1u);
}

}  // namespace
}  // namespace corvid::x86test
