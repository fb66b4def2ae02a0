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

// NZCV of additions and subtractions at the signed/unsigned boundaries, independent of Unicorn.
TEST_P(DataProcessing, AddSubFlags) {
    RUN_A64(R"(
        mov x1, #0x7fffffffffffffff
        adds x2, x1, #1           // signed overflow: N V
        mrs x10, nzcv
        mov x3, #-1
        adds x4, x3, #1           // carry, zero: Z C
        mrs x11, nzcv
        mov w16, #0
        subs w5, w16, #1          // 0 - 1: borrow -> C clear, N
        mrs x12, nzcv
        mov w6, #5
        cmp w6, #5                // equal: Z C
        mrs x13, nzcv
        mov x7, #0x8000000000000000
        subs x8, x7, #1           // INT_MIN - 1: V, C
        mrs x14, nzcv
        adds wzr, w3, w3          // 0xffffffff + 0xffffffff: N C
        mrs x15, nzcv
        wfi
    )");
    EXPECT_EQ(m.s().x[2], 0x8000000000000000u);
    EXPECT_EQ(m.s().x[10], 0x90000000u);
    EXPECT_EQ(m.s().x[4], 0u);
    EXPECT_EQ(m.s().x[11], 0x60000000u);
    EXPECT_EQ(m.s().x[5], 0xffffffffu);
    EXPECT_EQ(m.s().x[12], 0x80000000u);
    EXPECT_EQ(m.s().x[13], 0x60000000u);
    EXPECT_EQ(m.s().x[8], 0x7fffffffffffffffu);
    EXPECT_EQ(m.s().x[14], 0x30000000u);
    EXPECT_EQ(m.s().x[15], 0xa0000000u);
}

TEST_P(DataProcessing, LogicalBitfieldAndDivision) {
    RUN_A64(R"(
        mov x1, #0xff00
        and x2, x1, #0xf0f0f0f0f0f0f0f0
        ands w3, w1, #0xff        // zero: Z, C and V cleared
        mrs x10, nzcv
        ubfx x4, x1, #8, #4
        sbfx x5, x1, #12, #4      // 0xf -> -1
        lsl w6, w1, #20           // 0xff00 << 20 truncated to 32 bits
        mov x7, #100
        udiv x8, x7, xzr          // division by zero gives 0
        mov x9, #0x8000000000000000
        mov x11, #-1
        sdiv x12, x9, x11         // INT_MIN / -1 = INT_MIN
        mov x13, #-7
        mov x14, #2
        sdiv x15, x13, x14        // rounds towards zero: -3
        clz x16, x14
        rbit w17, w14
        rev x18, x1
        wfi
    )");
    EXPECT_EQ(m.s().x[2], 0xf000u);
    EXPECT_EQ(m.s().x[3], 0u);
    EXPECT_EQ(m.s().x[10], 0x40000000u);
    EXPECT_EQ(m.s().x[4], 0xfu);
    EXPECT_EQ(m.s().x[5], ~0ull);
    EXPECT_EQ(m.s().x[6], uint64_t(uint32_t(0xff00u << 20)));
    EXPECT_EQ(m.s().x[8], 0u);
    EXPECT_EQ(m.s().x[12], 0x8000000000000000u);
    EXPECT_EQ(m.s().x[15], uint64_t(-3));
    EXPECT_EQ(m.s().x[16], 62u);
    EXPECT_EQ(m.s().x[17], 0x40000000u);
    EXPECT_EQ(m.s().x[18], 0x00ff000000000000u);
}

TEST_P(DataProcessing, ReservedLogicalImmediateIsUndefined) {
    // AND (immediate) with N=0, imms=0b111111: reserved in DecodeBitMasks.
    const std::vector<uint32_t> prog = {0x1200fc20, kWfi};  // and w0, w1, #<reserved>
    m_->load(kCode, prog);
    m_->run();
    EXPECT_EQ(m_->s().common.pc, kVectors + 0x204);
    EXPECT_EQ(m_->s().esr_el1 >> 26, 0u);
}

A64_INSTANTIATE(DataProcessing);

}  // namespace
}  // namespace corvid::a64test
