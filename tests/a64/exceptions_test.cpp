// A64 synchronous exceptions and IRQs through the Engine: vector offsets, ESR_EL1, ELR_EL1,
// SPSR_EL1, FAR_EL1, PSTATE on entry, ERET, and the platform hooks (HVC, semihosting).
#include <gtest/gtest.h>

#include "tests/a64/a64_harness.h"

namespace corvid::a64test {
namespace {

class Exceptions : public A64Test {
protected:
    // The run stops at the WFI of the vector at kVectors + offset.
    void expect_vector(uint64_t offset) {
        EXPECT_EQ(last_exit_.kind, RunExit::Kind::kHalt);
        EXPECT_EQ(m_->s().common.pc, kVectors + offset + 4) << "stopped at the wrong vector";
        EXPECT_EQ(m_->s().el, 1u);
        EXPECT_EQ(m_->s().spsel, 1u);
        EXPECT_EQ(m_->s().daif, kDaifMask);
    }
    uint32_t ec() { return uint32_t(m_->s().esr_el1 >> 26); }
    uint32_t iss() { return uint32_t(m_->s().esr_el1 & 0x1ffffff); }
    bool il() { return (m_->s().esr_el1 >> 25) & 1; }
};

TEST_P(Exceptions, UndefinedInstruction) {
    RUN_A64(R"(
        mov x0, #1
        msr daifclr, #0xf
        .inst 0x00000000   // udf #0
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(ec(), 0x00u);
    EXPECT_TRUE(il());
    EXPECT_EQ(m.s().elr_el1, kCode + 8);
    // SPSR: EL1h (0b0101), DAIF cleared by the msr, Z still set from reset (as QEMU).
    EXPECT_EQ(m.s().spsr_el1, 0x40000005u);
}

// CPACR_EL1.FPEN is 0 at reset: FP/SIMD traps with EC 0x07 (ESR 0x1fe00000, as QEMU).
TEST_P(Exceptions, FpSimdTrapsWhileCpacrDisablesIt) {
    RUN_A64(R"(
        fmov d0, x1
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(m.s().esr_el1, 0x1fe00000u);
    EXPECT_EQ(m.s().elr_el1, kCode);
}

// With FPEN = 0b11 FP/SIMD is not trapped but not implemented either: UNDEFINED.
TEST_P(Exceptions, FpSimdIsUndefinedWhenEnabled) {
    RUN_A64(R"(
        mov x0, #(3 << 20)
        msr cpacr_el1, x0
        mrs x2, cpacr_el1
        ldr q0, [x1]
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(ec(), 0x00u);
    EXPECT_EQ(m.s().elr_el1, kCode + 12);
    EXPECT_EQ(m.s().x[2], 3u << 20);
}

// FPEN = 0b01 traps EL0 only.
TEST_P(Exceptions, FpSimdTrapAtEl0Only) {
    RUN_A64(R"(
        mov x0, #(1 << 20)
        msr cpacr_el1, x0
        ldr x0, =0x40000100
        msr elr_el1, x0
        msr spsr_el1, xzr
        eret
        .org 0x100
        fmov d0, x1
        wfi
    )");
    expect_vector(0x400);
    EXPECT_EQ(ec(), 0x07u);
    EXPECT_EQ(m.s().elr_el1, 0x40000100u);
}

TEST_P(Exceptions, SvcSavesFlagsAndReturnAddress) {
    RUN_A64(R"(
        mov x0, #0
        cmp x0, #1          // N=1, C=0
        svc #0x1234
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(ec(), 0x15u);
    EXPECT_EQ(iss(), 0x1234u);
    EXPECT_TRUE(il());
    EXPECT_EQ(m.s().elr_el1, kCode + 12);  // the instruction after SVC
    EXPECT_EQ(m.s().spsr_el1, 0x800003c5u);
}

TEST_P(Exceptions, BrkReportsImmediateAndItsOwnPc) {
    RUN_A64(R"(
        nop
        brk #0x42
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(ec(), 0x3cu);
    EXPECT_EQ(iss(), 0x42u);
    EXPECT_EQ(m.s().elr_el1, kCode + 4);
}

TEST_P(Exceptions, DataAbortOnUnmappedAddress) {
    RUN_A64(R"(
        mov x1, #0x1000
        movk x1, #0x1, lsl #32     // 0x1_0000_1000: nothing there
        mov x2, #7
        ldr x2, [x1, #8]
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(ec(), 0x25u);
    EXPECT_EQ(iss() & 0x3f, 0x10u);  // synchronous external abort
    EXPECT_EQ(iss() & (1u << 6), 0u);  // read
    EXPECT_EQ(m.s().far_el1, 0x100001008ull);
    EXPECT_EQ(m.s().elr_el1, kCode + 12);
    EXPECT_EQ(m.s().x[2], 7u) << "the faulting load must not write its register";
}

TEST_P(Exceptions, DataAbortOnStoreSetsWnR) {
    RUN_A64(R"(
        mov x1, #0x09000000
        str w0, [x1]
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(ec(), 0x25u);
    EXPECT_EQ(iss() & 0x3f, 0x10u);
    EXPECT_NE(iss() & (1u << 6), 0u);
    EXPECT_EQ(m.s().far_el1, 0x09000000u);
}

TEST_P(Exceptions, PostIndexStoreFaultLeavesBaseUnchanged) {
    RUN_A64(R"(
        mov x1, #0x09000000
        str x0, [x1], #16
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(m.s().x[1], 0x09000000u);
}

TEST_P(Exceptions, ExclusiveLoadAlignmentFault) {
    RUN_A64(R"(
        ldr x1, =0x40020004
        ldxr x0, [x1]
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(ec(), 0x25u);
    EXPECT_EQ(iss() & 0x3f, 0x21u);  // alignment fault
    EXPECT_EQ(m.s().far_el1, 0x40020004u);
}

// The 64-bit exclusive pair is one 16-byte access: 8-byte alignment is not enough
// (found by the differential fuzzer: 0xc87f728b ldxp x11, x28, [x20] loaded without a fault).
TEST_P(Exceptions, ExclusivePairNeedsSixteenByteAlignment) {
    RUN_A64(R"(
        ldr x20, =0x40020010
        mov x11, #7
        mov x28, #9
        ldaxp x2, x3, [x20]       // 16-byte aligned: fine
        add x20, x20, #8
        ldxp x11, x28, [x20]      // 0x40020018: faults
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(ec(), 0x25u);
    EXPECT_EQ(iss() & 0x3f, 0x21u);  // alignment fault
    EXPECT_EQ(iss() & (1u << 6), 0u);  // WnR: a read
    EXPECT_EQ(m.s().far_el1, 0x40020018u);
    EXPECT_EQ(m.s().elr_el1, kCode + 20);
    EXPECT_EQ(m.s().x[11], 7u);  // nothing loaded
    EXPECT_EQ(m.s().x[28], 9u);
}

TEST_P(Exceptions, AcquireExclusivePairNeedsSixteenByteAlignment) {
    RUN_A64(R"(
        ldr x5, =0x40020028
        ldaxp x6, x7, [x5]
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(ec(), 0x25u);
    EXPECT_EQ(iss() & 0x3f, 0x21u);
    EXPECT_EQ(m.s().far_el1, 0x40020028u);
    EXPECT_EQ(m.s().elr_el1, kCode + 4);
}

// A 32-bit pair is 8 bytes: 8-byte alignment suffices there.
TEST_P(Exceptions, WordExclusivePairAtEightByteAlignmentLoads) {
    RUN_A64(R"(
        ldr x5, =0x40020028
        ldr x0, =0x1122334455667788
        str x0, [x5]
        ldxp w6, w7, [x5]
        wfi
    )");
    EXPECT_EQ(m.s().common.pc, kCode + 20);
    EXPECT_EQ(m.s().x[6], 0x55667788u);
    EXPECT_EQ(m.s().x[7], 0x11223344u);
}

TEST_P(Exceptions, MisalignedBranchTargetIsPcAlignmentFault) {
    RUN_A64(R"(
        ldr x1, =0x40000102
        br x1
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(ec(), 0x22u);
    EXPECT_EQ(m.s().elr_el1, 0x40000102u);
    EXPECT_EQ(m.s().far_el1, 0x40000102u);
}

TEST_P(Exceptions, InstructionAbortOutsideRam) {
    RUN_A64(R"(
        mov x1, #0x08000000
        blr x1
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(ec(), 0x21u);
    EXPECT_EQ(iss() & 0x3f, 0x10u);
    EXPECT_EQ(m.s().elr_el1, 0x08000000u);
    EXPECT_EQ(m.s().far_el1, 0x08000000u);
    EXPECT_EQ(m.s().x[30], kCode + 8);
}

TEST_P(Exceptions, VectorOffsetWithSpEl0IsZero) {
    RUN_A64(R"(
        msr spsel, #0
        svc #0
        wfi
    )");
    expect_vector(0x000);
    EXPECT_EQ(m.s().spsr_el1 & 0xf, 0x4u);  // EL1t
}

// ERET to EL0, an SVC from EL0 goes to the lower-EL vector; the handler returns with ERET
// and the monitor is cleared.
TEST_P(Exceptions, EretToEl0AndSvcBack) {
    const std::string src = R"(
        ldr x0, =0x40000100      // EL0 code
        msr elr_el1, x0
        mov x0, #0               // SPSR: EL0t, all unmasked, flags clear
        msr spsr_el1, x0
        ldr x1, =0x40020000
        ldxr x2, [x1]            // arm the monitor; ERET must clear it
        eret
        .org 0x100
        mrs x3, tpidr_el0        // allowed at EL0
        mov x4, #5
        svc #7
        wfi
    )";
    RUN_A64(src);
    expect_vector(0x400);
    EXPECT_EQ(ec(), 0x15u);
    EXPECT_EQ(iss(), 7u);
    EXPECT_EQ(m.s().elr_el1, 0x4000010cu);
    EXPECT_EQ(m.s().spsr_el1, 0u);
    EXPECT_EQ(m.s().x[4], 5u);
    EXPECT_EQ(m.s().excl_valid, 0u);
}

TEST_P(Exceptions, El1OnlyRegisterAtEl0IsUndefined) {
    RUN_A64(R"(
        ldr x0, =0x40000100
        msr elr_el1, x0
        msr spsr_el1, xzr
        eret
        .org 0x100
        mrs x0, vbar_el1
        wfi
    )");
    expect_vector(0x400);
    EXPECT_EQ(ec(), 0x00u);
    EXPECT_EQ(m.s().elr_el1, 0x40000100u);
}

TEST_P(Exceptions, EretRestoresFlagsDaifAndSpSelection) {
    RUN_A64(R"(
        ldr x0, =0x40000100
        msr elr_el1, x0
        mov x0, #0xa0000000      // N and C
        orr x0, x0, #0x4         // EL1t
        orr x0, x0, #0x80        // I masked
        msr spsr_el1, x0
        eret
        .org 0x100
        mrs x5, nzcv
        mrs x6, daif
        mrs x7, spsel
        mrs x8, currentel
        wfi
    )");
    EXPECT_EQ(last_exit_.kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.s().common.pc, 0x40000114u);
    EXPECT_EQ(m.s().x[5], 0xa0000000u);
    EXPECT_EQ(m.s().x[6], 0x80u);
    EXPECT_EQ(m.s().x[7], 0u);
    EXPECT_EQ(m.s().x[8], 4u);
}

TEST_P(Exceptions, IllegalExceptionReturn) {
    RUN_A64(R"(
        ldr x0, =0x40000100
        msr elr_el1, x0
        mov x0, #0x9             // EL2h: not implemented -> illegal return
        msr spsr_el1, x0
        eret
        .org 0x100
        nop
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(ec(), 0x0eu);
    EXPECT_EQ(m.s().elr_el1, 0x40000100u);
    EXPECT_NE(m.s().spsr_el1 & (1u << 20), 0u);  // IL saved
}

TEST_P(Exceptions, HvcGoesToThePlatform) {
    RUN_A64(R"(
        mov x0, #1
        hvc #0
        mov x1, #2
        wfi
    )");
    EXPECT_EQ(last_exit_.kind, RunExit::Kind::kHalt);
    EXPECT_EQ(platform_.hvc_calls, 1);
    EXPECT_EQ(m.s().x[0], 0u);  // set by the platform
    EXPECT_EQ(m.s().x[1], 2u);
}

TEST_P(Exceptions, HvcPsciOffStopsTheRun) {
    RUN_A64(R"(
        ldr x0, =0x84000008
        hvc #0
        mov x1, #2
        wfi
    )");
    EXPECT_EQ(last_exit_.kind, RunExit::Kind::kExitRequest);
    EXPECT_TRUE(platform_.shutdown);
    EXPECT_EQ(m.s().x[1], 0u) << "nothing may run after the shutdown request";
    EXPECT_EQ(m.s().common.pc, kCode + 8);
}

TEST_P(Exceptions, UnhandledHvcIsUndefined) {
    platform_.handle_hvc = false;
    RUN_A64(R"(
        nop
        hvc #3
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(ec(), 0x00u);
    EXPECT_EQ(m.s().elr_el1, kCode + 4);
    EXPECT_EQ(platform_.last_hvc_imm, 3);
}

TEST_P(Exceptions, SemihostingHltWhenEnabled) {
    platform_.semihosting_enabled = true;
    RUN_A64(R"(
        hlt #0xf000
        wfi
    )");
    EXPECT_EQ(last_exit_.kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.s().common.pc, kCode + 8);
    EXPECT_EQ(m.s().x[0], 0x5eu);
}

TEST_P(Exceptions, HltWithoutSemihostingIsUndefined) {
    RUN_A64(R"(
        hlt #0xf000
        wfi
    )");
    expect_vector(0x200);
    EXPECT_EQ(ec(), 0x00u);
    EXPECT_EQ(platform_.semihosting_calls, 1);
    EXPECT_EQ(m.s().elr_el1, kCode);
}

TEST_P(Exceptions, IrqTakenOnlyWhenUnmasked) {
    RUN_A64(R"(
        mov x0, #1
        wfi
        msr daifclr, #2
        mov x1, #1
        wfi
    )");
    EXPECT_EQ(m.s().common.pc, kCode + 8);  // first wfi
    m.frontend.set_irq_line(true);
    EXPECT_FALSE(m.frontend.take_pending_interrupt(m.s())) << "PSTATE.I is set";
    // Raising the line requested an exit: the next run returns at once, still masked.
    RunExit e = m.engine->run(&m.s().common);
    EXPECT_EQ(e.kind, RunExit::Kind::kExitRequest);
    EXPECT_EQ(m.s().common.pc, kCode + 8);
    EXPECT_FALSE(m.frontend.take_pending_interrupt(m.s()));
    // The run stops right after the DAIFClr: the exit request lets the accelerator take it.
    e = m.engine->run(&m.s().common);
    EXPECT_EQ(e.kind, RunExit::Kind::kExitRequest);
    EXPECT_EQ(m.s().common.pc, kCode + 12);
    ASSERT_TRUE(m.frontend.take_pending_interrupt(m.s()));
    EXPECT_EQ(m.s().common.pc, kVectors + 0x280);
    EXPECT_EQ(m.s().elr_el1, kCode + 12);
    EXPECT_EQ(m.s().spsr_el1 & 0x3c0, 0x340u);  // D, A, F still masked; I clear
    EXPECT_EQ(m.s().daif, kDaifMask);
    m.frontend.set_irq_line(false);
}

A64_INSTANTIATE(Exceptions);

}  // namespace
}  // namespace corvid::a64test

namespace corvid::a64test {
namespace {

class AlignmentCheck : public A64Test {};

// With SCTLR_EL1.A set every misaligned data access faults; without it only the
// exclusive / acquire-release ones do (MMU off, as QEMU).
TEST_P(AlignmentCheck, SctlrAEnablesAlignmentFaults) {
    RUN_A64(R"(
        ldr x1, =0x40020001
        ldr x2, [x1]              // fine: SCTLR_EL1.A is clear
        mrs x3, sctlr_el1
        orr x3, x3, #2
        msr sctlr_el1, x3
        ldrh w4, [x1, #1]         // 0x40020002: aligned halfword, fine
        ldr w5, [x1]              // faults
        wfi
    )");
    EXPECT_EQ(m.s().common.pc, kVectors + 0x204);
    EXPECT_EQ(m.s().esr_el1 >> 26, 0x25u);
    EXPECT_EQ(m.s().esr_el1 & 0x3f, 0x21u);
    EXPECT_EQ(m.s().far_el1, 0x40020001u);
    EXPECT_EQ(m.s().elr_el1, kCode + 24);
}

A64_INSTANTIATE(AlignmentCheck);

}  // namespace
}  // namespace corvid::a64test
