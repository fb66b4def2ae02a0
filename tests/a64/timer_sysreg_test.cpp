// The generic timer's system registers: CTL.ISTATUS computed from the counter on read, TVAL as
// CVAL - count (both ways), ISTATUS read-only, and each write leaving generated code so that
// the board can re-evaluate the timer's interrupt.
#include <gtest/gtest.h>

#include "tests/a64/a64_harness.h"

namespace corvid::a64test {
namespace {

class TimerSysregs : public A64Test {};

// Runs to the final wfi across the exit requests that every timer write makes.
void finish(Machine& m, RunExit e) {
    for (int i = 0; i < 100 && e.kind == RunExit::Kind::kExitRequest; ++i) e = m.resume();
    ASSERT_EQ(e.kind, RunExit::Kind::kHalt);
}

TEST_P(TimerSysregs, StatusTvalAndExits) {
    RUN_A64(R"(
        mrs x9, cntvct_el0
        add x10, x9, #0x100000       // about 16 ms away
        msr cntv_cval_el0, x10
        mov x0, #1
        msr cntv_ctl_el0, x0
        mrs x1, cntv_ctl_el0         // enabled, not yet met
        mrs x2, cntv_tval_el0        // remaining ticks
        mov x3, #-5
        msr cntv_tval_el0, x3        // CVAL = count - 5: met
        mrs x4, cntv_ctl_el0
        mrs x5, cntv_cval_el0
        mrs x6, cntvct_el0
        mov x7, #7                   // ISTATUS is read-only: only ENABLE and IMASK stick
        msr cntp_ctl_el0, x7
        mrs x8, cntp_ctl_el0         // CVAL 0: met, masked
        msr cntp_ctl_el0, xzr
        mrs x11, cntp_ctl_el0
        wfi
    )");
    // The first timer write asked the run loop to return.
    EXPECT_EQ(last_exit_.kind, RunExit::Kind::kExitRequest);
    finish(m, last_exit_);
    EXPECT_EQ(m.s().x[1], 1u);
    EXPECT_GT(m.s().x[2], 0u);
    EXPECT_LE(m.s().x[2], 0x100000u);
    EXPECT_EQ(m.s().x[4], 5u);  // ENABLE | ISTATUS
    EXPECT_LE(m.s().x[5], m.s().x[6]);
    EXPECT_GT(m.s().x[5], m.s().x[9]);
    EXPECT_EQ(m.s().x[8], 7u);
    EXPECT_EQ(m.s().x[11], 0u);
    EXPECT_EQ(m.s().cntv_ctl_el0 & 3, 1u);
    EXPECT_EQ(m.s().cntp_ctl_el0 & 3, 0u);
}

A64_INSTANTIATE(TimerSysregs);

}  // namespace
}  // namespace corvid::a64test
