// Random byte streams through the whole translator in 16-, 32- and 64-bit modes and at CPL 0
// and 3: every block must pass the IR verifier before and after optimisation (an invalid
// block would stop the machine with an internal error instead of raising a guest #UD).
#include <gtest/gtest.h>

#include <cstring>
#include <random>
#include <vector>

#include "frontends/x86/x86_frontend.h"
#include "translator/bytes_context.h"
#include "translator/ir/opt/optimize.h"
#include "translator/ir/verify.h"

namespace corvid::x86test {
namespace {

TEST(X86TranslateFuzz, RandomBytesGiveValidIr) {
    static constexpr uint32_t kModes[] = {
        kX86ModeCode64 | kX86ModePe,
        kX86ModeCode64 | kX86ModePe | (3u << kX86ModeCplShift),
        kX86ModeCode32 | kX86ModeStack32 | kX86ModePe,
        kX86ModeCode32 | kX86ModeStack32 | kX86ModePe | kX86ModeSegBase,
        0,
        kX86ModeCode64 | kX86ModePe | kX86ModeShadow,
    };
    std::mt19937_64 rng(1234);
    X86Frontend fe;
    unsigned blocks = 0, insns = 0;
    for (unsigned iter = 0; iter < 30000; ++iter) {
        std::vector<uint8_t> code(48);
        for (auto& b : code) b = uint8_t(rng());
        // Bias towards real opcode space: frequent prefixes, REX and the 0F escape.
        if (rng() % 3 == 0) code[0] = 0x0f;
        if (rng() % 4 == 0) code[0] = uint8_t(0x40 | (rng() & 15));
        for (uint32_t mode : kModes) {
            ir::Block blk;
            blk.guest_pc = 0x1000;
            blk.mode = mode;
            ir::Builder b(blk);
            BytesContext ctx(b, 0x1000, code);
            ctx.max_insns = 16;
            fe.translate(ctx);
            auto st = ir::verify(blk);
            ASSERT_TRUE(st.ok()) << "mode 0x" << std::hex << mode << " first bytes " << unsigned(code[0]) << " "
                                 << unsigned(code[1]) << " " << unsigned(code[2]) << ": " << st.error() << "\n"
                                 << ir::to_string(blk);
            ir::optimize(blk);
            ASSERT_TRUE(ir::verify(blk).ok()) << ir::to_string(blk);
            ASSERT_GE(blk.guest_insns, 1u);
            ++blocks;
            insns += blk.guest_insns;
        }
    }
    EXPECT_EQ(blocks, 30000u * std::size(kModes));
    EXPECT_GT(insns, blocks);
}

}  // namespace
}  // namespace corvid::x86test
