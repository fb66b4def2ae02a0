// The JIT under the real Engine with the toy guest (tests/translator/toy_machine.h): chaining,
// the indirect-jump table, softmmu slow paths, precise faults, longjmp out of generated code,
// self-modifying code, flushes, instruction counting.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "backend/x64/x64_backend.h"
#include "base/log.h"
#include "tests/translator/toy_machine.h"

namespace corvid::toy {
namespace {

struct JitMachine : ToyMachine {
    explicit JitMachine(EngineOptions o = {}, size_t buffer = 4u << 20)
        : ToyMachine(o, make_x64_backend(buffer, o.count_insns)) {}
};

// x1 = n; loop: x1 -= 1; x2 += 3; bnz x1, loop; halt
void put_loop(ToyBus& bus, uint64_t at, int n) {
    bus.put(at, {enc(kAddi, 1, 0, n), enc(kAddi, 1, 1, -1), enc(kAddi, 2, 2, 3), enc(kBnz, 0, 1, -2),
                 enc(kHalt, 0, 0, 0)});
}

TEST(JitEngine, StraightLineToHalt) {
    JitMachine m;
    m.bus.put(0x100, {enc(kAddi, 1, 0, 5), enc(kAddi, 2, 1, -7), enc(kHalt, 0, 0, 0)});
    RunExit r = m.run_from(0x100);
    ASSERT_EQ(r.kind, RunExit::Kind::kHalt) << r.error;
    EXPECT_EQ(m.cpu.x[1], 5u);
    EXPECT_EQ(m.cpu.x[2], uint64_t(-2));
    EXPECT_EQ(m.cpu.common.pc, 0x10cu);
    EXPECT_STREQ(m.engine.backend().name(), "x64");
}

TEST(JitEngine, LoopRunsChainedWithoutTheRunLoop) {
    JitMachine m;
    put_loop(m.bus, 0x200, 1000);
    ASSERT_EQ(m.run_from(0x200).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[2], 3000u);
    const EngineStats s = m.engine.stats();
    EXPECT_EQ(s.blocks_translated, 3u);
    EXPECT_GE(s.chained_links, 2u);
    EXPECT_LT(s.lookup_exits, 10u);  // 1000 iterations, a handful of exits
    m.cpu.x[2] = 0;
    ASSERT_EQ(m.run_from(0x200).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[2], 3000u);
    EXPECT_EQ(m.engine.stats().blocks_translated, 3u);
}

TEST(JitEngine, InstructionCountingAtBlockEntry) {
    EngineOptions o;
    o.count_insns = true;
    JitMachine m(o);
    put_loop(m.bus, 0x200, 10);
    ASSERT_EQ(m.run_from(0x200).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.common.insn_count, 1u + 30u + 1u);
}

TEST(JitEngine, ExitRequestIsSeenAtBlockEntry) {
    JitMachine m;
    put_loop(m.bus, 0x200, 5);
    m.cpu.common.exit_request = 1;
    RunExit r = m.run_from(0x200);
    EXPECT_EQ(r.kind, RunExit::Kind::kExitRequest);
    EXPECT_EQ(m.cpu.common.pc, 0x200u);
    EXPECT_EQ(m.run_from(0x200).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[2], 15u);
}

TEST(JitEngine, RamThroughTheInlineTlb) {
    JitMachine m;
    m.cpu.x[3] = 0x3000;
    m.cpu.x[4] = 0x1122334455667788ull;
    m.bus.put(0x100, {enc(kSt, 4, 3, 8), enc(kLd, 5, 3, 8), enc(kStw, 4, 3, 16), enc(kLd, 6, 3, 16),
                      enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.bus.get64(0x3008), 0x1122334455667788ull);
    EXPECT_EQ(m.cpu.x[5], 0x1122334455667788ull);
    EXPECT_EQ(m.cpu.x[6], 0x55667788u);
}

TEST(JitEngine, MisalignedAndPageCrossingTakeTheSlowPath) {
    JitMachine m;
    m.cpu.x[3] = 0x3ffd;
    m.cpu.x[4] = 0xa1b2c3d4e5f60718ull;
    m.bus.put(0x100, {enc(kSt, 4, 3, 0), enc(kLd, 5, 3, 0), enc(kLd, 6, 3, 1), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.bus.get64(0x3ffd), 0xa1b2c3d4e5f60718ull);
    EXPECT_EQ(m.cpu.x[5], 0xa1b2c3d4e5f60718ull);
    EXPECT_EQ(m.cpu.x[6], 0x00a1b2c3d4e5f607ull);
}

TEST(JitEngine, MmioGoesToTheDeviceEveryTime) {
    JitMachine m;
    m.cpu.x[3] = kMmioBase;
    m.cpu.x[4] = 0xabcd;
    m.bus.put(0x100, {enc(kSt, 4, 3, 0x10), enc(kLd, 5, 3, 0x20), enc(kLd, 6, 3, 0x20), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    ASSERT_EQ(m.bus.mmio_writes.size(), 1u);
    EXPECT_EQ(m.bus.mmio_writes[0].value, 0xabcdu);
    EXPECT_EQ(m.cpu.x[5], 0x1120u);
    EXPECT_EQ(m.bus.mmio_reads, 2u);
}

TEST(JitEngine, BusFaultIsPreciseAfterALongjmpFromGeneratedCode) {
    JitMachine m;
    m.cpu.x[3] = 0x80000;
    m.bus.put(0x100, {enc(kAddi, 1, 0, 1), enc(kLd, 5, 3, 0), enc(kAddi, 1, 0, 2), enc(kHalt, 0, 0, 0)});
    for (int round = 0; round < 3; ++round) {
        m.frontend.exceptions.clear();
        ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
        ASSERT_EQ(m.frontend.exceptions.size(), 1u);
        EXPECT_EQ(m.frontend.exceptions[0].cause, kCauseBus);
        EXPECT_EQ(m.frontend.exceptions[0].pc, 0x104u);
        EXPECT_EQ(m.cpu.x[1], 1u);
        EXPECT_EQ(m.cpu.common.pc, kVector + 4);
    }
}

TEST(JitEngine, AlignmentFaultOnlyWhenChecked) {
    JitMachine m;
    m.cpu.x[3] = 0x3001;
    m.bus.put(0x100, {enc(kLd, 5, 3, 0), enc(kLda, 6, 3, 0), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    ASSERT_EQ(m.frontend.exceptions.size(), 1u);
    EXPECT_EQ(m.frontend.exceptions[0].cause, kCauseAlign);
    EXPECT_EQ(m.frontend.exceptions[0].pc, 0x104u);
}

TEST(JitEngine, HelperRaiseAndUndefinedInstruction) {
    JitMachine m;
    m.bus.put(0x100, {enc(kAddi, 1, 0, 9), enc(kRaise, 0, 0, 0x77), enc(kAddi, 1, 0, 10), enc(kHalt, 0, 0, 0)});
    for (int round = 0; round < 3; ++round) {
        m.frontend.exceptions.clear();
        ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
        ASSERT_EQ(m.frontend.exceptions.size(), 1u);
        EXPECT_EQ(m.frontend.exceptions[0].detail, 0x77u);
        EXPECT_EQ(m.frontend.exceptions[0].pc, 0x104u);
        EXPECT_EQ(m.cpu.x[1], 9u);
    }
    m.frontend.exceptions.clear();
    m.bus.put(0x300, {enc(kAddi, 1, 0, 1), 0xee000000u});
    ASSERT_EQ(m.run_from(0x300).kind, RunExit::Kind::kHalt);
    ASSERT_EQ(m.frontend.exceptions.size(), 1u);
    EXPECT_EQ(m.frontend.exceptions[0].cause, kCauseUndef);
    EXPECT_EQ(m.frontend.exceptions[0].pc, 0x304u);
    EXPECT_EQ(m.frontend.exceptions[0].detail, 0xee000000u);
}

TEST(JitEngine, SelfModifyingCode) {
    JitMachine m;
    m.cpu.x[2] = enc(kAddi, 1, 1, 100);
    m.bus.put(0x100, {enc(kStw, 2, 0, 0x108), enc(kAddi, 1, 0, 1), enc(kAddi, 1, 0, 7), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 101u);
    m.cpu.x[1] = 0;
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 101u);
}

TEST(JitEngine, ChainIntoInvalidatedBlockIsUnlinked) {
    JitMachine m;
    m.bus.put(0x100, {enc(kAddi, 1, 1, 1), enc(kB, 0, 0, 1), enc(kAddi, 1, 1, 10), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 22u);
    m.bus.put(0x108, enc(kAddi, 1, 1, 20));
    m.engine.invalidate_phys(0x108, 4);
    m.cpu.x[1] = 0;
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 21u);
}

TEST(JitEngine, FlushAllFromAHelperWhileRunning) {
    JitMachine m;
    m.bus.put(0x100, {enc(kAddi, 1, 0, 3), enc(kFlush, 0, 0, 0), enc(kAddi, 1, 1, 4), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 7u);
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 7u);
}

// An indirect jump loop: x1 counts down, `jr x7` returns to the loop head each time.
void put_jr_loop(ToyBus& bus, int n) {
    bus.put(0x400, {enc(kAddi, 1, 0, n), enc(kAddi, 7, 0, 0x408), enc(kAddi, 1, 1, -1), enc(kBnz, 0, 1, 2),
                    enc(kHalt, 0, 0, 0), enc(kAddi, 2, 2, 1), enc(kJr, 0, 7, 0)});
}

TEST(JitEngine, IndirectJumpsHitTheGeneratedLookupTable) {
    JitMachine m;
    put_jr_loop(m.bus, 500);
    ASSERT_EQ(m.run_from(0x400).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[2], 499u);
    // Without the in-code table every jr would come back to the run loop (~500 exits).
    EXPECT_LT(m.engine.stats().lookup_exits, 20u);
}

TEST(JitEngine, TracingSendsEveryIndirectJumpThroughTheRunLoopAndOutAsmLogsHostCode) {
    const std::string path = ::testing::TempDir() + "jit_trace.log";
    ASSERT_TRUE(log::set_file(path).ok());
    log::set_mask(log::kExec | log::kOutAsm);
    JitMachine m;
    put_jr_loop(m.bus, 50);
    RunExit r = m.run_from(0x400);
    log::set_mask(0);
    ASSERT_TRUE(log::set_file("").ok());
    ASSERT_EQ(r.kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[2], 49u);
    EXPECT_GE(m.engine.stats().lookup_exits, 49u);  // every jr was seen by the run loop
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    EXPECT_NE(text.str().find("OUT:"), std::string::npos);
    EXPECT_NE(text.str().find("dword ptr [r15 + 8], 0"), std::string::npos);  // the entry check
    std::remove(path.c_str());
}

TEST(JitEngine, IndirectJumpAfterRemapRunsTheNewMapping) {
    JitMachine m;
    // Virtual page 0x6000 maps to physical 0x6000 (x5 += 1) or 0x7000 (x5 += 100).
    m.bus.put(0x6000, {enc(kAddi, 5, 5, 1), enc(kJr, 0, 8, 0)});
    m.bus.put(0x7000, {enc(kAddi, 5, 5, 100), enc(kJr, 0, 8, 0)});
    // 0x500: x9 = 3; loop: jr 0x6000 (x7), which returns to 0x508 (x8); x9 -= 1; bnz
    m.bus.put(0x500, {enc(kAddi, 9, 0, 3), enc(kJr, 0, 7, 0), enc(kAddi, 9, 9, -1), enc(kBnz, 0, 9, -2),
                      enc(kHalt, 0, 0, 0)});
    m.cpu.x[7] = 0x6000;
    m.cpu.x[8] = 0x508;
    ASSERT_EQ(m.run_from(0x500).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[5], 3u);
    m.frontend.remap[0x6000] = 0x7000;
    m.engine.tlb_flush(&m.cpu.common);
    ASSERT_EQ(m.run_from(0x500).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[5], 303u);
}

TEST(JitEngine, SmallCodeBufferFlushesAndKeepsRunning) {
    JitMachine m(EngineOptions{}, 64u << 10);
    // 1500 blocks of "x1 += 1; b next" do not fit in 64 KiB of host code.
    const uint64_t base = 0x1000;
    const int n = 1500;
    for (int k = 0; k < n; ++k) m.bus.put(base + 8 * k, {enc(kAddi, 1, 1, 1), enc(kB, 0, 0, 1)});
    m.bus.put(base + 8 * n, enc(kHalt, 0, 0, 0));
    ASSERT_EQ(m.run_from(base).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], uint64_t(n));
    EXPECT_GE(m.engine.stats().buffer_flushes, 1u);
    m.cpu.x[1] = 0;
    ASSERT_EQ(m.run_from(base).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], uint64_t(n));
}

}  // namespace
}  // namespace corvid::toy
