// A64 branches, loops, system registers, hints, barriers and the exclusive monitor, executed
// through the Engine (interpreter and JIT).
#include <gtest/gtest.h>

#include <thread>

#include "tests/a64/a64_harness.h"

namespace corvid::a64test {
namespace {

class BranchSystem : public A64Test {};

TEST_P(BranchSystem, CallReturnAndLoops) {
    RUN_A64(R"(
        mov x0, #0
        mov x1, #100
    1:  add x0, x0, x1           // sum 1..100
        subs x1, x1, #1
        b.ne 1b
        bl func
        mov x3, x30
        adr x4, tail
        blr x4
        wfi
    func:
        mov x2, #77
        ret
    tail:
        mov x5, #1
        cbz x5, 2f
        cbnz x5, 3f
    2:  mov x6, #0xbad
    3:  tbz x0, #0, 4f           // 5050 is even
        mov x6, #0xbad
    4:  tbnz x0, #12, 5f         // bit 12 of 5050 (0x13ba) is set
        mov x6, #0xbad
    5:  mov x7, #0x8000000000000000
        tbnz x7, #63, 6f
        mov x6, #0xbad
    6:  ret
    )");
    EXPECT_EQ(last_exit_.kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.s().x[0], 5050u);
    EXPECT_EQ(m.s().x[2], 77u);
    EXPECT_EQ(m.s().x[3], kCode + 24);  // return address of the bl
    EXPECT_EQ(m.s().x[5], 1u);
    EXPECT_EQ(m.s().x[6], 0u);
    EXPECT_EQ(m.s().common.pc, kCode + 40);
}

TEST_P(BranchSystem, AllConditionCodes) {
    // For each condition, cset after cmp of the pair; expectations from C++ comparisons.
    RUN_A64(R"(
        mov x1, #-5
        mov x2, #3
        cmp x1, x2
        cset x10, eq
        cset x11, ne
        cset x12, cs
        cset x13, cc
        cset x14, mi
        cset x15, pl
        cset x16, vs
        cset x17, vc
        cset x18, hi
        cset x19, ls
        cset x20, ge
        cset x21, lt
        cset x22, gt
        cset x23, le
        wfi
    )");
    const int64_t a = -5, b = 3;
    const uint64_t ua = uint64_t(a), ub = uint64_t(b);
    EXPECT_EQ(m.s().x[10], uint64_t(a == b));
    EXPECT_EQ(m.s().x[11], uint64_t(a != b));
    EXPECT_EQ(m.s().x[12], uint64_t(ua >= ub));
    EXPECT_EQ(m.s().x[13], uint64_t(ua < ub));
    EXPECT_EQ(m.s().x[14], uint64_t(a - b < 0));
    EXPECT_EQ(m.s().x[15], uint64_t(a - b >= 0));
    EXPECT_EQ(m.s().x[16], 0u);
    EXPECT_EQ(m.s().x[17], 1u);
    EXPECT_EQ(m.s().x[18], uint64_t(ua > ub));
    EXPECT_EQ(m.s().x[19], uint64_t(ua <= ub));
    EXPECT_EQ(m.s().x[20], uint64_t(a >= b));
    EXPECT_EQ(m.s().x[21], uint64_t(a < b));
    EXPECT_EQ(m.s().x[22], uint64_t(a > b));
    EXPECT_EQ(m.s().x[23], uint64_t(a <= b));
}

TEST_P(BranchSystem, SystemRegisters) {
    RUN_A64(R"(
        mrs x0, currentel
        mrs x1, midr_el1
        mrs x2, mpidr_el1
        mrs x3, cntfrq_el0
        mov x4, #0x1234
        msr tpidr_el0, x4
        mrs x5, tpidr_el0
        msr tpidr_el1, x4
        mrs x6, tpidr_el1
        msr tpidrro_el0, x4
        mrs x7, tpidrro_el0
        mov x8, #0x70000000       // Z, C, V
        msr nzcv, x8
        mrs x9, nzcv
        mrs x10, daif
        msr daifclr, #0x2         // unmask I
        mrs x11, daif
        msr daifset, #0x6
        mrs x12, daif
        msr spsel, #0
        mov x13, sp
        mrs x14, spsel
        msr spsel, #1
        ldr x15, =0x40012345
        msr sp_el0, x15
        mrs x16, sp_el0
        msr sctlr_el1, x15
        mrs x17, sctlr_el1
        mrs x18, dczid_el0
        mrs x19, id_aa64pfr0_el1
        ldr x21, =0x10301234      // TTA, FPEN = 0b11 and bits that are RES0
        msr cpacr_el1, x21
        mrs x20, cpacr_el1
        wfi
    )");
    EXPECT_EQ(last_exit_.kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.s().x[0], 4u);
    EXPECT_EQ(m.s().x[1], 0x411fd070u);
    EXPECT_EQ(m.s().x[2], 0x80000000u);
    EXPECT_EQ(m.s().x[3], 62500000u);
    EXPECT_EQ(m.s().x[5], 0x1234u);
    EXPECT_EQ(m.s().x[6], 0x1234u);
    EXPECT_EQ(m.s().x[7], 0x1234u);
    EXPECT_EQ(m.s().x[9], 0x70000000u);
    EXPECT_EQ(m.nzcv(), 0x7u);
    EXPECT_EQ(m.s().x[10], 0x3c0u);
    EXPECT_EQ(m.s().x[11], 0x340u);
    EXPECT_EQ(m.s().x[12], 0x3c0u);
    EXPECT_EQ(m.s().x[13], 0u);  // SP_EL0 was 0
    EXPECT_EQ(m.s().x[14], 0u);
    EXPECT_EQ(m.s().x[16], 0x40012345u);
    EXPECT_EQ(m.s().sp_el0, 0x40012345u);
    EXPECT_EQ(m.s().x[17], 0x40012345u);
    EXPECT_EQ(m.s().x[18], 4u);
    EXPECT_EQ(m.s().x[19], 0xff0022u);  // FP/AdvSIMD not implemented
    EXPECT_EQ(m.s().x[20], 0x10300000u);
}

TEST_P(BranchSystem, UnknownSystemRegisterIsUndefined) {
    RUN_A64(R"(
        mrs x0, s3_7_c15_c15_7
        wfi
    )");
    EXPECT_EQ(m.s().common.pc, kVectors + 0x204);
    EXPECT_EQ(m.s().esr_el1 >> 26, 0u);
    EXPECT_EQ(m.s().elr_el1, kCode);
}

TEST_P(BranchSystem, WritingReadOnlyRegisterIsUndefined) {
    RUN_A64(R"(
        msr midr_el1, x0
        wfi
    )");
    EXPECT_EQ(m.s().common.pc, kVectors + 0x204);
}

TEST_P(BranchSystem, CounterAdvancesWithHostTime) {
    RUN_A64(R"(
        mrs x0, cntvct_el0
        wfi
        mrs x1, cntvct_el0
        wfi
    )");
    const uint64_t first = m.s().x[0];
    EXPECT_GT(first, 0u);
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    m.resume();
    const uint64_t delta = m.s().x[1] - first;
    // 20 ms at 62.5 MHz is 1.25 M ticks; allow generous scheduling slack.
    EXPECT_GE(delta, 1'200'000u);
    EXPECT_LT(delta, 1'000'000'000u);
}

TEST_P(BranchSystem, HintsAndBarriers) {
    RUN_A64(R"(
        nop
        sev
        sevl
        dmb ish
        dsb sy
        isb
        hint #0x7f
        yield
        mov x0, #1
        wfe
        mov x1, #2
        wfi
    )");
    EXPECT_EQ(last_exit_.kind, RunExit::Kind::kHalt);
    EXPECT_EQ(last_exit_.halt, ir::HaltReason::kYield);
    EXPECT_EQ(m.s().common.pc, kCode + 32);  // after the yield
    EXPECT_EQ(m.s().x[0], 0u);
    RunExit e = m.resume();
    EXPECT_EQ(e.halt, ir::HaltReason::kYield);  // wfe
    EXPECT_EQ(m.s().x[0], 1u);
    e = m.resume();
    EXPECT_EQ(e.halt, ir::HaltReason::kWaitForInterrupt);
    EXPECT_EQ(m.s().x[1], 2u);
    EXPECT_EQ(m.s().common.pc, kCode + 48);
}

TEST_P(BranchSystem, ExclusiveMonitor) {
    RUN_A64(R"(
        ldr x1, =0x40020000
        mov x2, #5
        str x2, [x1]
        ldxr x3, [x1]
        add x3, x3, #1
        stxr w4, x3, [x1]         // succeeds: 0
        stxr w5, x3, [x1]         // monitor cleared by the first: 1
        ldxr x6, [x1]
        clrex
        stxr w7, x6, [x1]         // cleared by clrex: 1
        ldxr x6, [x1]
        add x18, x1, #8
        stxr w8, x6, [x18]        // other address: 1
        ldaxr w9, [x1]
        stlxr w10, w2, [x1]       // 0, stores 5 into the low word
        ldxp x11, x12, [x1]
        stxp w13, x12, x11, [x1]  // 0, swaps the two words
        ldr x14, [x1]
        ldr x15, [x1, #8]
        ldxrb w16, [x1]
        stxrh w17, w16, [x1]      // size differs: 1
        wfi
    )");
    EXPECT_EQ(last_exit_.kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.s().x[4], 0u);
    EXPECT_EQ(m.s().x[5], 1u);
    EXPECT_EQ(m.s().x[7], 1u);
    EXPECT_EQ(m.s().x[8], 1u);
    EXPECT_EQ(m.s().x[9], 6u);
    EXPECT_EQ(m.s().x[10], 0u);
    EXPECT_EQ(m.s().x[11], 5u);
    EXPECT_EQ(m.s().x[13], 0u);
    EXPECT_EQ(m.s().x[15], 5u);
    EXPECT_EQ(m.s().x[14], m.s().x[12]);
    EXPECT_EQ(m.s().x[17], 1u);
}

TEST_P(BranchSystem, DcZvaZeroesAnAlignedBlock) {
    RUN_A64(R"(
        ldr x1, =0x40020000
        mov x2, #-1
        mov x3, #0
    1:  str x2, [x1, x3, lsl #3]
        add x3, x3, #1
        cmp x3, #32
        b.ne 1b
        add x4, x1, #0x47         // inside the second 64-byte block
        dc zva, x4
        ic iallu
        tlbi vmalle1
        wfi
    )");
    EXPECT_EQ(last_exit_.kind, RunExit::Kind::kHalt);
    for (unsigned i = 0; i < 32; ++i) {
        const uint64_t want = (i >= 8 && i < 16) ? 0 : ~0ull;
        EXPECT_EQ(m.bus.read64(kData + i * 8), want) << i;
    }
}

TEST_P(BranchSystem, SelfModifyingCodeIsSeen) {
    RUN_A64(R"(
        mov x5, #0
        adr x1, patch
        ldr w2, newinsn
    2:  bl patch
        add x5, x5, #1
        str w2, [x1]              // rewrite "mov x0, #1" into "mov x0, #2"
        cmp x5, #2
        b.ne 2b
        wfi
    patch:
        mov x0, #1
        ret
    newinsn:
        mov x0, #2
    )");
    EXPECT_EQ(last_exit_.kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.s().x[0], 2u);
}

A64_INSTANTIATE(BranchSystem);

}  // namespace
}  // namespace corvid::a64test
