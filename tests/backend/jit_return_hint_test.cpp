// The return-stack hint of the JIT under the real Engine (toy guest): calls push a prediction,
// returns follow it when it matches, and a wrong, overflowed or stale prediction never sends
// a return to the wrong place.
#include <gtest/gtest.h>

#include "backend/x64/x64_backend.h"
#include "tests/translator/toy_machine.h"

namespace corvid::toy {
namespace {

struct JitMachine : ToyMachine {
    // Hints are off by default (-accel tcg,return-hints=on turns them on); these tests want them.
    explicit JitMachine(EngineOptions o = {}, size_t buffer = 4u << 20)
        : ToyMachine(o, make_x64_backend(buffer, o.count_insns, /*return_hints=*/true)) {}
};

int rel(uint64_t from, uint64_t to) { return int(int64_t(to - from) / 4); }

// main (0x100): x1 = n; loop: call f; x1 -= 1; bnz x1, loop; halt
// f (0x400): body..., ret x15
void put_call_loop(ToyBus& bus, int n, std::initializer_list<uint32_t> f_body) {
    bus.put(0x100, {enc(kAddi, 1, 0, n), enc(kCall, 0, 0, rel(0x104, 0x400)), enc(kAddi, 1, 1, -1),
                    enc(kBnz, 0, 1, rel(0x10c, 0x104)), enc(kHalt, 0, 0, 0)});
    uint64_t at = 0x400;
    for (uint32_t w : f_body) bus.put(at, w), at += 4;
    bus.put(at, enc(kRet, 0, kLinkReg, 0));
}

TEST(JitReturnHint, CallReturnPairIsPredicted) {
    JitMachine m;
    put_call_loop(m.bus, 200, {enc(kAddi, 2, 2, 3)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[2], 600u);
    EXPECT_EQ(m.cpu.x[1], 0u);
    EXPECT_EQ(m.cpu.common.pc, 0x114u);
    const EngineStats s = m.engine.stats();
    // Every return goes back to its call: all predicted, none missed.
    EXPECT_EQ(s.return_hint_hits, 200u);
    EXPECT_EQ(s.return_hint_misses, 0u);
    // Only the first returns of each call site resolve the prediction through the run loop.
    EXPECT_LT(s.lookup_exits, 12u);
    EXPECT_NE(m.engine.stats_report().find("return hints hit         200"), std::string::npos)
        << m.engine.stats_report();
}

TEST(JitReturnHint, IndirectCallIsPredictedToo) {
    JitMachine m;
    m.cpu.x[9] = 0x400;
    m.bus.put(0x100, {enc(kAddi, 1, 0, 50), enc(kCallr, 0, 9, 0), enc(kAddi, 1, 1, -1),
                      enc(kBnz, 0, 1, rel(0x10c, 0x104)), enc(kHalt, 0, 0, 0)});
    m.bus.put(0x400, {enc(kAddi, 2, 2, 5), enc(kRet, 0, kLinkReg, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[2], 250u);
    EXPECT_EQ(m.engine.stats().return_hint_hits, 50u);
    EXPECT_EQ(m.engine.stats().return_hint_misses, 0u);
}

TEST(JitReturnHint, SwitchedOffReturnsUseTheLookupTable) {
    JitMachine m;
    static_cast<x64::X64Backend&>(m.engine.backend()).set_return_hints(false);
    put_call_loop(m.bus, 200, {enc(kAddi, 2, 2, 3)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[2], 600u);
    EXPECT_EQ(m.engine.stats().return_hint_hits, 0u);
    EXPECT_EQ(m.engine.stats().return_hint_misses, 0u);
    EXPECT_LT(m.engine.stats().lookup_exits, 12u);  // the in-code table still finds the target
}

TEST(JitReturnHint, OffByDefault) {
    // The default backend (as -accel tcg without return-hints=on) pushes and pops nothing.
    ToyMachine m({}, make_x64_backend(4u << 20));
    put_call_loop(m.bus, 100, {enc(kAddi, 2, 2, 5)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[2], 500u);
    EXPECT_EQ(m.engine.stats().return_hint_hits + m.engine.stats().return_hint_misses, 0u);
    // A fresh machine with hints on predicts the same loop's returns (the counters work).
    JitMachine on;
    put_call_loop(on.bus, 100, {enc(kAddi, 2, 2, 5)});
    ASSERT_EQ(on.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_GT(on.engine.stats().return_hint_hits, 0u);
}

TEST(JitReturnHint, ModifiedReturnAddressStillGoesToTheRightPlace) {
    JitMachine m;
    // f skips the instruction after the call: x15 += 4. The caller's x3 must stay 0.
    m.bus.put(0x100, {enc(kAddi, 1, 0, 30), enc(kCall, 0, 0, rel(0x104, 0x400)), enc(kAddi, 3, 3, 1),
                      enc(kAddi, 4, 4, 1), enc(kAddi, 1, 1, -1), enc(kBnz, 0, 1, rel(0x114, 0x104)),
                      enc(kHalt, 0, 0, 0)});
    m.bus.put(0x400, {enc(kAddi, kLinkReg, kLinkReg, 4), enc(kRet, 0, kLinkReg, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[3], 0u);
    EXPECT_EQ(m.cpu.x[4], 30u);
    EXPECT_EQ(m.cpu.common.pc, 0x11cu);
    EXPECT_EQ(m.engine.stats().return_hint_hits, 0u);
    EXPECT_EQ(m.engine.stats().return_hint_misses, 30u);
}

// Three functions calling each other in a cycle A -> B -> C -> A ... `depth` activations deep,
// each saving x15 on a stack (x14) and adding its weight to x5 after the inner call returns.
constexpr uint64_t kFn[3] = {0x400, 0x600, 0x800};
constexpr int kWeight[3] = {1, 10, 100};
constexpr uint64_t kStack = 0x3000;

void put_cycle(ToyBus& bus) {
    for (int k = 0; k < 3; ++k) {
        const uint64_t f = kFn[k], next = kFn[(k + 1) % 3];
        bus.put(f, {enc(kSt, kLinkReg, 14, 0), enc(kAddi, 14, 14, 8), enc(kAddi, 1, 1, -1),
                    enc(kBnz, 0, 1, 2),                   // x1 != 0: go to the call
                    enc(kB, 0, 0, 2),                     // else skip it
                    enc(kCall, 0, 0, rel(f + 0x14, next)),  // f + 0x14
                    enc(kAddi, 14, 14, -8), enc(kLd, kLinkReg, 14, 0), enc(kAddi, 5, 5, kWeight[k]),
                    enc(kRet, 0, kLinkReg, 0)});
    }
}

uint64_t cycle_sum(int depth) {
    uint64_t sum = 0;
    for (int k = 0; k < depth; ++k) sum += uint64_t(kWeight[k % 3]);
    return sum;
}

TEST(JitReturnHint, DeepRecursionOverflowingTheRingStaysCorrect) {
    static_assert(kReturnHintEntries < 40 && kReturnHintEntries % 3 != 0);
    JitMachine m;
    put_cycle(m.bus);
    m.bus.put(0x100, {enc(kAddi, 1, 0, 40), enc(kAddi, 14, 0, int(kStack)), enc(kCall, 0, 0, rel(0x108, kFn[0])),
                      enc(kHalt, 0, 0, 0)});
    for (int round = 0; round < 3; ++round) {
        m.cpu.x[5] = 0;
        ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
        EXPECT_EQ(m.cpu.x[5], cycle_sum(40));
        EXPECT_EQ(m.cpu.x[14], kStack);
        EXPECT_EQ(m.cpu.x[1], 0u);
        EXPECT_EQ(m.cpu.common.pc, 0x110u);
    }
    const EngineStats s = m.engine.stats();
    // 40 returns a round: the innermost ring-full are predicted; the older predictions were
    // overwritten, and the ring size is not a multiple of the cycle length, so some of those miss.
    EXPECT_EQ(s.return_hint_hits + s.return_hint_misses, 3u * 40u);
    EXPECT_GE(s.return_hint_hits, 3u * kReturnHintEntries);
    EXPECT_GT(s.return_hint_misses, 0u);
}

TEST(JitReturnHint, RecursionMatchesTheInterpreter) {
    for (int depth : {1, 2, 7, 8, 9, 33}) {
        JitMachine jit;
        ToyMachine interp;
        for (ToyMachine* m : {static_cast<ToyMachine*>(&jit), &interp}) {
            put_cycle(m->bus);
            m->bus.put(0x100, {enc(kAddi, 1, 0, depth), enc(kAddi, 14, 0, int(kStack)),
                               enc(kCall, 0, 0, rel(0x108, kFn[0])), enc(kHalt, 0, 0, 0)});
            ASSERT_EQ(m->run_from(0x100).kind, RunExit::Kind::kHalt);
        }
        EXPECT_EQ(jit.cpu.x[5], cycle_sum(depth)) << depth;
        EXPECT_EQ(interp.cpu.x[5], cycle_sum(depth)) << depth;
        EXPECT_EQ(interp.engine.stats().return_hint_hits, 0u);  // the interpreter only ignores hints
    }
}

TEST(JitReturnHint, CodeRewrittenWhileItsPredictionIsInTheRing) {
    JitMachine m;
    // f: if x7 != 0, store x8 (32 bits) over the instruction after the call (the return target), then
    // return. The prediction was pushed before the store: following it would run stale code.
    constexpr uint64_t kTarget = 0x108;
    m.bus.put(0x100, {enc(kAddi, 1, 0, 3), enc(kCall, 0, 0, rel(0x104, 0x400)), enc(kAddi, 6, 6, 1),
                      enc(kAddi, 1, 1, -1), enc(kBnz, 0, 1, rel(0x110, 0x104)), enc(kHalt, 0, 0, 0)});
    m.bus.put(0x400, {enc(kBnz, 0, 7, 2), enc(kRet, 0, kLinkReg, 0), enc(kStw, 8, 9, 0), enc(kRet, 0, kLinkReg, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    ASSERT_EQ(m.cpu.x[6], 3u);
    const uint64_t hits = m.engine.stats().return_hint_hits;
    EXPECT_EQ(hits, 3u);

    m.cpu.x[7] = 1;
    m.cpu.x[8] = enc(kAddi, 6, 6, 100);
    m.cpu.x[9] = kTarget;
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[6], 3u + 300u);
    EXPECT_GT(m.engine.stats().invalidations, 0u);
    EXPECT_GT(m.engine.stats().return_hint_misses, 0u);  // the invalidation dropped the prediction
}

TEST(JitReturnHint, FlushWhileEntriesAreInTheRing) {
    JitMachine m;
    // f flushes the whole code buffer (like an instruction-cache invalidate) and returns.
    put_call_loop(m.bus, 40, {enc(kAddi, 2, 2, 1), enc(kFlush, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[2], 40u);
    EXPECT_EQ(m.cpu.common.pc, 0x114u);
    EXPECT_EQ(m.engine.stats().return_hint_hits, 0u);  // every prediction died with its code
    EXPECT_EQ(m.engine.stats().return_hint_misses, 40u);
}

TEST(JitReturnHint, FullCodeBufferFlushesWithEntriesInTheRing) {
    // The smallest buffer and many distinct call sites: the buffer fills up and is flushed
    // several times while predictions are outstanding.
    JitMachine m({}, 64u << 10);
    constexpr int kSites = 400;
    uint64_t at = 0x1000;
    m.bus.put(0x100, {enc(kB, 0, 0, rel(0x100, at))});
    for (int k = 0; k < kSites; ++k, at += 8) m.bus.put(at, {enc(kCall, 0, 0, rel(at, 0x400)), enc(kB, 0, 0, 1)});
    m.bus.put(at, enc(kHalt, 0, 0, 0));
    m.bus.put(0x400, {enc(kAddi, 2, 2, 1), enc(kAddi, 3, 2, 0), enc(kAddi, 4, 3, 0), enc(kRet, 0, kLinkReg, 0)});
    for (int round = 0; round < 4; ++round) {
        m.cpu.x[2] = 0;
        ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
        EXPECT_EQ(m.cpu.x[2], uint64_t(kSites));
        EXPECT_EQ(m.cpu.common.pc, at + 4);
    }
    EXPECT_GT(m.engine.stats().buffer_flushes, 0u);
    EXPECT_GT(m.engine.stats().return_hint_hits, 0u);
}

TEST(JitReturnHint, RemapBetweenCallAndReturnDropsThePrediction) {
    JitMachine m;
    // main on virtual page 0: x6 += 1 after each call. Physical page 0x8000 holds a copy of it
    // whose return target adds 100 instead. f (page 0x2000): if x7 != 0, remap page 0 to the
    // copy (a TLB flush) before returning, while the call's prediction is in the ring.
    auto put_main = [&](uint64_t phys, int add) {
        m.bus.put(phys + 0x100, {enc(kAddi, 1, 0, 3), enc(kCall, 0, 0, rel(0x104, 0x2000)), enc(kAddi, 6, 6, add),
                                 enc(kAddi, 1, 1, -1), enc(kBnz, 0, 1, rel(0x110, 0x104)), enc(kHalt, 0, 0, 0)});
    };
    put_main(0, 1);
    put_main(0x8000, 100);
    m.bus.put(0x2000, {enc(kBnz, 0, 7, 2), enc(kRet, 0, kLinkReg, 0), enc(kRemap, 10, 11, 0), enc(kRet, 0, kLinkReg, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    ASSERT_EQ(m.cpu.x[6], 3u);
    ASSERT_EQ(m.engine.stats().return_hint_hits, 3u);

    m.cpu.x[7] = 1;
    m.cpu.x[10] = 0;
    m.cpu.x[11] = 0x8000;
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[6], 3u + 300u);
}

TEST(JitReturnHint, AnotherEngineNeverFollowsTheHintsOfTheFirst) {
    // The same CPU state run by a second engine (e.g. after the accelerator is rebuilt): the
    // first engine's predictions name code in a buffer that is gone.
    ToyFrontend frontend;
    ToyBus bus;
    ToyCpu cpu;
    bus.put(kVector, enc(kHalt, 0, 0, 0));
    // main calls f, which halts inside (leaving its prediction on the ring); resuming returns.
    bus.put(0x100, {enc(kCall, 0, 0, rel(0x100, 0x400)), enc(kAddi, 3, 3, 1), enc(kHalt, 0, 0, 0)});
    bus.put(0x400, {enc(kAddi, 2, 2, 1), enc(kHalt, 0, 0, 0), enc(kRet, 0, kLinkReg, 0)});
    {
        Engine first(frontend, bus, {}, make_x64_backend(1u << 20, false, true));
        cpu.common.engine = &first;
        cpu.common.pc = 0x100;
        ASSERT_EQ(first.run(&cpu.common).kind, RunExit::Kind::kHalt);  // halted in f
        cpu.common.pc = 0x100;
        ASSERT_EQ(first.run(&cpu.common).kind, RunExit::Kind::kHalt);  // once more: linked
    }
    Engine second(frontend, bus, {}, make_x64_backend(1u << 20, false, true));
    cpu.common.engine = &second;
    ASSERT_EQ(second.run(&cpu.common).kind, RunExit::Kind::kHalt);  // f's ret, then main's halt
    EXPECT_EQ(cpu.x[3], 1u);
    EXPECT_EQ(cpu.common.pc, 0x10cu);
    EXPECT_EQ(second.stats().return_hint_hits, 0u);
}

}  // namespace
}  // namespace corvid::toy
