// A64 data-processing instructions executed through the Engine (interpreter and JIT):
// results and NZCV checked against values computed here.
#include <gtest/gtest.h>

#include "tests/a64/a64_harness.h"

namespace corvid::a64test {
namespace {

class DataProcessing : public A64Test {};

TEST_P(DataProcessing, MoveWideAndAddImmediate) {
    RUN_A64(R"(
        movz x0, #0x1234, lsl #16
        movk x0, #0x5678
        movk x0, #0xdead, lsl #48
        movn x1, #0
        movn w2, #0x10, lsl #16
        add x3, x0, #0xfff
        add x4, x0, #1, lsl #12
        sub w5, w0, #1
        mov x6, #-2
        wfi
    )");
    EXPECT_EQ(last_exit_.kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.s().x[0], 0xdead000012345678ull);
    EXPECT_EQ(m.s().x[1], ~0ull);
    EXPECT_EQ(m.s().x[2], uint64_t(uint32_t(~(0x10u << 16))));
    EXPECT_EQ(m.s().x[3], 0xdead000012345678ull + 0xfff);
    EXPECT_EQ(m.s().x[4], 0xdead000012345678ull + 0x1000);
    EXPECT_EQ(m.s().x[5], uint64_t(0x12345677u));
    EXPECT_EQ(m.s().x[6], uint64_t(-2));
    EXPECT_EQ(m.s().common.pc, kCode + 10 * 4);
}

A64_INSTANTIATE(DataProcessing);

}  // namespace
}  // namespace corvid::a64test
