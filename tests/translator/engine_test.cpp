// Engine tests on the toy guest: cache, chaining, softmmu paths, faults, self-modifying code,
// code-buffer flushes, TLB maintenance, logging.
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "base/log.h"
#include "tests/translator/toy_machine.h"

namespace corvid::toy {
namespace {

TEST(Engine, RunsStraightLineCodeToHalt) {
    ToyMachine m;
    m.bus.put(0x100, {enc(kAddi, 1, 0, 5), enc(kAddi, 2, 1, -7), enc(kHalt, 0, 0, 0)});
    RunExit r = m.run_from(0x100);
    EXPECT_EQ(r.kind, RunExit::Kind::kHalt);
    EXPECT_EQ(r.halt, ir::HaltReason::kStop);
    EXPECT_EQ(m.cpu.x[1], 5u);
    EXPECT_EQ(m.cpu.x[2], uint64_t(-2));
    EXPECT_EQ(m.cpu.common.pc, 0x10cu);
    EXPECT_EQ(m.engine.stats().blocks_translated, 1u);
}

// x1 = n; loop: x1 -= 1; x2 += 3; bnz x1, loop; halt
void put_loop(ToyBus& bus, int n) {
    bus.put(0x200,
            {enc(kAddi, 1, 0, n), enc(kAddi, 1, 1, -1), enc(kAddi, 2, 2, 3), enc(kBnz, 0, 1, -2), enc(kHalt, 0, 0, 0)});
}

TEST(Engine, LoopIsChainedAndCached) {
    ToyMachine m;
    put_loop(m.bus, 100);
    ASSERT_EQ(m.run_from(0x200).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[2], 300u);
    const EngineStats s = m.engine.stats();
    // Blocks: [0x200..0x20c] (ends at bnz), loop body [0x204..0x20c], halt at 0x210.
    EXPECT_EQ(s.blocks_translated, 3u);
    EXPECT_GE(s.chained_links, 1u);
    // Chained iterations never come back to the run loop.
    EXPECT_LT(s.lookup_exits, 10u);

    // Second run: everything comes from the cache.
    m.cpu.x[2] = 0;
    ASSERT_EQ(m.run_from(0x200).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[2], 300u);
    EXPECT_EQ(m.engine.stats().blocks_translated, 3u);
}

TEST(Engine, InstructionCounting) {
    EngineOptions o;
    o.count_insns = true;
    ToyMachine m(o);
    put_loop(m.bus, 10);
    ASSERT_EQ(m.run_from(0x200).kind, RunExit::Kind::kHalt);
    // addi + 10 * (addi, addi, bnz) + halt
    EXPECT_EQ(m.cpu.common.insn_count, 1u + 30u + 1u);
    EXPECT_EQ(m.engine.stats().executed_insns, 32u);
}

TEST(Engine, ExitRequestReturnsAndIsCleared) {
    ToyMachine m;
    put_loop(m.bus, 5);
    m.cpu.common.exit_request = 1;
    RunExit r = m.run_from(0x200);
    EXPECT_EQ(r.kind, RunExit::Kind::kExitRequest);
    EXPECT_EQ(m.cpu.common.exit_request.load(), 0u);
    EXPECT_EQ(m.cpu.common.pc, 0x200u);
    EXPECT_EQ(m.run_from(0x200).kind, RunExit::Kind::kHalt);
}

TEST(Engine, LoadStoreRamThroughTlb) {
    ToyMachine m;
    m.cpu.x[3] = 0x3000;
    m.cpu.x[4] = 0x1122334455667788ull;
    m.bus.put(0x100, {enc(kSt, 4, 3, 8), enc(kLd, 5, 3, 8), enc(kLd, 6, 3, 8), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.bus.get64(0x3008), 0x1122334455667788ull);
    EXPECT_EQ(m.cpu.x[5], 0x1122334455667788ull);
    EXPECT_EQ(m.cpu.x[6], 0x1122334455667788ull);
    // The data page is now in the TLB with its host addend.
    const TlbEntry& e = m.cpu.common.tlb[(0x3008 >> kPageBits) & (kTlbEntries - 1)];
    EXPECT_EQ(e.read_tag, 0x3000u);
    EXPECT_EQ(e.write_tag, 0x3000u);
    EXPECT_EQ(reinterpret_cast<uint8_t*>(0x3008 + e.addend), m.bus.ram.data() + 0x3008);
}

TEST(Engine, MisalignedAndPageCrossingAccesses) {
    ToyMachine m;
    m.cpu.x[3] = 0x3ffd;  // 8 bytes from 0x3ffd cross into page 0x4000
    m.cpu.x[4] = 0xa1b2c3d4e5f60718ull;
    m.bus.put(0x100, {enc(kSt, 4, 3, 0), enc(kLd, 5, 3, 0), enc(kLd, 6, 3, 1), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.bus.get64(0x3ffd), 0xa1b2c3d4e5f60718ull);
    EXPECT_EQ(m.cpu.x[5], 0xa1b2c3d4e5f60718ull);
    EXPECT_EQ(m.cpu.x[6], 0x00a1b2c3d4e5f607ull);
    EXPECT_TRUE(m.frontend.exceptions.empty());
}

TEST(Engine, MmioIsNeverInTheTlb) {
    ToyMachine m;
    m.cpu.x[3] = kMmioBase;
    m.cpu.x[4] = 0xabcd;
    m.bus.put(0x100, {enc(kSt, 4, 3, 0x10), enc(kLd, 5, 3, 0x20), enc(kLd, 6, 3, 0x20), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    ASSERT_EQ(m.bus.mmio_writes.size(), 1u);
    EXPECT_EQ(m.bus.mmio_writes[0].offset, 0x10u);
    EXPECT_EQ(m.bus.mmio_writes[0].size, 8u);
    EXPECT_EQ(m.bus.mmio_writes[0].value, 0xabcdu);
    EXPECT_EQ(m.cpu.x[5], 0x1120u);
    // Both loads reached the device: no TLB entry short-circuits MMIO.
    EXPECT_EQ(m.bus.mmio_reads, 2u);
    const TlbEntry& e = m.cpu.common.tlb[(kMmioBase >> kPageBits) & (kTlbEntries - 1)];
    EXPECT_EQ(e.read_tag, kTlbInvalid);
    EXPECT_EQ(e.write_tag, kTlbInvalid);
}

TEST(Engine, UnmappedAccessDeliversBusFaultAtThePc) {
    ToyMachine m;
    m.cpu.x[3] = 0x80000;  // nothing there
    m.bus.put(0x100, {enc(kAddi, 1, 0, 1), enc(kLd, 5, 3, 0), enc(kAddi, 1, 0, 2), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    ASSERT_EQ(m.frontend.exceptions.size(), 1u);
    EXPECT_EQ(m.frontend.exceptions[0].cause, kCauseBus);
    EXPECT_EQ(m.frontend.exceptions[0].pc, 0x104u);
    EXPECT_EQ(m.frontend.exceptions[0].detail, 0x80000u);
    EXPECT_EQ(m.cpu.x[1], 1u);                // state before the fault is exact
    EXPECT_EQ(m.cpu.common.pc, kVector + 4);  // the handler ran and halted
}

TEST(Engine, AlignmentFaultOnlyWhenChecked) {
    ToyMachine m;
    m.cpu.x[3] = 0x3001;
    m.bus.put(0x100, {enc(kLd, 5, 3, 0), enc(kLda, 6, 3, 0), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    ASSERT_EQ(m.frontend.exceptions.size(), 1u);
    EXPECT_EQ(m.frontend.exceptions[0].cause, kCauseAlign);
    EXPECT_EQ(m.frontend.exceptions[0].pc, 0x104u);
    EXPECT_EQ(m.frontend.exceptions[0].detail, 0x3001u);
}

TEST(Engine, PageFaultOnDataAndFetch) {
    ToyMachine m;
    m.frontend.faulting[0x5000] = true;
    m.cpu.x[3] = 0x5008;
    m.bus.put(0x100, {enc(kSt, 4, 3, 0), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    ASSERT_EQ(m.frontend.exceptions.size(), 1u);
    EXPECT_EQ(m.frontend.exceptions[0].cause, kCausePageFault);
    EXPECT_EQ(m.frontend.exceptions[0].pc, 0x100u);
    // Jumping into the faulting page: the frontend's fetch fails on the first instruction.
    m.cpu.x[7] = 0x5000;
    m.bus.put(0x200, {enc(kJr, 0, 7, 0)});
    ASSERT_EQ(m.run_from(0x200).kind, RunExit::Kind::kHalt);
    ASSERT_EQ(m.frontend.exceptions.size(), 2u);
    EXPECT_EQ(m.frontend.exceptions[1].cause, kCauseFetch);
    EXPECT_EQ(m.frontend.exceptions[1].pc, 0x5000u);
}

TEST(Engine, HelperRaiseUnwindsToTheLoop) {
    ToyMachine m;
    m.bus.put(0x100, {enc(kAddi, 1, 0, 9), enc(kRaise, 0, 0, 0x77), enc(kAddi, 1, 0, 10), enc(kHalt, 0, 0, 0)});
    for (int round = 0; round < 3; ++round) {  // the loop must be re-entrant after a longjmp
        m.frontend.exceptions.clear();
        ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
        ASSERT_EQ(m.frontend.exceptions.size(), 1u);
        EXPECT_EQ(m.frontend.exceptions[0].cause, kCauseHelper);
        EXPECT_EQ(m.frontend.exceptions[0].detail, 0x77u);
        EXPECT_EQ(m.frontend.exceptions[0].pc, 0x104u);
        EXPECT_EQ(m.cpu.x[1], 9u);
    }
}

TEST(Engine, UndefinedInstructionException) {
    ToyMachine m;
    m.bus.put(0x100, {enc(kAddi, 1, 0, 1), 0xee000000u});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    ASSERT_EQ(m.frontend.exceptions.size(), 1u);
    EXPECT_EQ(m.frontend.exceptions[0].cause, kCauseUndef);
    EXPECT_EQ(m.frontend.exceptions[0].pc, 0x104u);
    EXPECT_EQ(m.frontend.exceptions[0].detail, 0xee000000u);
}

TEST(Engine, InvalidIrIsAnErrorNotACrash) {
    ToyMachine m;
    m.bus.put(0x100, {enc(kAddi, 1, 0, 1), enc(kBadIr, 0, 0, 0)});
    RunExit r = m.run_from(0x100);
    EXPECT_EQ(r.kind, RunExit::Kind::kError);
    EXPECT_NE(r.error.find("IR verifier"), std::string::npos) << r.error;
    EXPECT_NE(r.error.find("exit.cond"), std::string::npos) << r.error;
}

TEST(Engine, StatsReportNamesTheCounters) {
    ToyMachine m;
    put_loop(m.bus, 3);
    ASSERT_EQ(m.run_from(0x200).kind, RunExit::Kind::kHalt);
    std::string rep = m.engine.stats_report();
    EXPECT_NE(rep.find("TB count                 3"), std::string::npos) << rep;
    EXPECT_NE(rep.find("backend                  interp"), std::string::npos) << rep;
}

TEST(Engine, SelfModifyingCodeInTheRunningBlock) {
    ToyMachine m;
    m.cpu.x[2] = enc(kAddi, 1, 1, 100);
    // stw overwrites the instruction at 0x108, which is part of the same block.
    m.bus.put(0x100, {enc(kStw, 2, 0, 0x108), enc(kAddi, 1, 0, 1), enc(kAddi, 1, 0, 7), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 101u);
    EXPECT_GE(m.engine.stats().invalidations, 1u);
    // Running it again executes the new code from a fresh translation.
    m.cpu.x[1] = 0;
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 101u);
}

TEST(Engine, StoreToAnotherCachedBlockInvalidatesIt) {
    ToyMachine m;
    m.bus.put(0x400, {enc(kAddi, 1, 0, 1), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x400).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 1u);
    // Code at 0x100 patches the block at 0x400, then jumps there.
    m.cpu.x[2] = enc(kAddi, 1, 0, 55);
    m.cpu.x[7] = 0x400;
    m.bus.put(0x100, {enc(kStw, 2, 0, 0x400), enc(kJr, 0, 7, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 55u);
    EXPECT_EQ(m.engine.stats().invalidations, 1u);
}

TEST(Engine, BlockCrossingAPageIsInvalidatedThroughItsSecondPage) {
    ToyMachine m;
    m.bus.put(0xff8, {enc(kAddi, 1, 0, 1), enc(kAddi, 1, 1, 2), enc(kAddi, 1, 1, 4), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0xff8).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 7u);
    EXPECT_EQ(m.engine.stats().blocks_translated, 1u);
    // Patch the third instruction (on the second page) from code elsewhere.
    m.cpu.x[2] = enc(kAddi, 1, 1, 40);
    m.bus.put(0x2000, {enc(kStw, 2, 0, 0x1000), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x2000).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.engine.stats().invalidations, 1u);
    ASSERT_EQ(m.run_from(0xff8).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 43u);
}

TEST(Engine, MaxBlockInsnsSplitsLongRuns) {
    EngineOptions o;
    o.max_block_insns = 2;
    ToyMachine m(o);
    m.bus.put(0x100, {enc(kAddi, 1, 0, 1), enc(kAddi, 1, 1, 1), enc(kAddi, 1, 1, 1), enc(kAddi, 1, 1, 1),
                      enc(kAddi, 1, 1, 1), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 5u);
    EXPECT_EQ(m.engine.stats().blocks_translated, 3u);
    EXPECT_EQ(m.engine.stats().guest_insns_translated, 6u);
    EXPECT_EQ(m.engine.stats().chained_links, 2u);
}

TEST(Engine, ChainIntoInvalidatedBlockIsUnlinked) {
    ToyMachine m;
    // 0x100: x1 += 1; b 0x108 (chained) ; 0x108: halt
    m.bus.put(0x100, {enc(kAddi, 1, 1, 1), enc(kB, 0, 0, 1), enc(kAddi, 1, 1, 10), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 22u);
    EXPECT_EQ(m.engine.stats().chained_links, 1u);
    m.bus.put(0x108, enc(kAddi, 1, 1, 20));  // host-side patch (like DMA) ...
    m.engine.invalidate_phys(0x108, 4);      // ... announced to the engine
    m.cpu.x[1] = 0;
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 21u);
    EXPECT_EQ(m.engine.stats().chained_links, 2u);
}

TEST(Engine, FlushAllFromAHelperWhileRunning) {
    ToyMachine m;
    m.bus.put(0x100, {enc(kAddi, 1, 0, 3), enc(kFlush, 0, 0, 0), enc(kAddi, 1, 1, 4), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 7u);
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 7u);
    EXPECT_EQ(m.engine.stats().blocks_translated, 2u);  // the flush dropped the first translation
}

// Reports "code buffer full" on the first compile after it is armed.
class FullOnceBackend final : public ExecBackend {
public:
    explicit FullOnceBackend(std::unique_ptr<ExecBackend> inner) : inner_(std::move(inner)) {}
    const char* name() const override { return "full-once"; }
    Status compile(const ir::Block& b, TranslatedBlock& tb) override {
        if (armed) {
            armed = false;
            return make_error(kBufferFull);
        }
        return inner_->compile(b, tb);
    }
    ExitInfo execute(CpuCommon* cpu, TranslatedBlock* tb) override { return inner_->execute(cpu, tb); }
    void link(TranslatedBlock* f, unsigned s, TranslatedBlock* t) override { inner_->link(f, s, t); }
    void unlink(TranslatedBlock* f, unsigned s) override { inner_->unlink(f, s); }
    void flush() override {
        ++flushes;
        inner_->flush();
    }
    void release(TranslatedBlock& tb) override { inner_->release(tb); }
    std::string disassemble(const TranslatedBlock& tb) const override { return inner_->disassemble(tb); }
    bool armed = false;
    int flushes = 0;

private:
    std::unique_ptr<ExecBackend> inner_;
};

TEST(Engine, CodeBufferFullFlushesAndRetries) {
    auto backend = std::make_unique<FullOnceBackend>(make_interp_backend());
    FullOnceBackend* fb = backend.get();
    ToyMachine m(EngineOptions{}, std::move(backend));
    put_loop(m.bus, 3);
    ASSERT_EQ(m.run_from(0x200).kind, RunExit::Kind::kHalt);
    const uint64_t before = m.engine.stats().blocks_translated;
    fb->armed = true;
    m.bus.put(0x300, {enc(kAddi, 3, 0, 42), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x300).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[3], 42u);
    EXPECT_EQ(m.engine.stats().buffer_flushes, 1u);
    EXPECT_EQ(fb->flushes, 1);
    // The old blocks were dropped: running the loop again translates them again.
    m.cpu.x[2] = 0;
    ASSERT_EQ(m.run_from(0x200).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[2], 9u);
    EXPECT_EQ(m.engine.stats().blocks_translated, before + 1 + 3);
}

TEST(Engine, RemappedCodePageIsNotReusedAfterTlbFlushPage) {
    ToyMachine m;
    constexpr uint64_t va = 0x20000, pa = 0x6000, pb = 0x7000;
    m.bus.put(pa, {enc(kAddi, 1, 0, 1), enc(kHalt, 0, 0, 0)});
    m.bus.put(pb, {enc(kAddi, 1, 0, 2), enc(kHalt, 0, 0, 0)});
    m.frontend.remap[va] = pa;
    ASSERT_EQ(m.run_from(va).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 1u);
    m.frontend.remap[va] = pb;
    m.engine.tlb_flush_page(&m.cpu.common, va);
    ASSERT_EQ(m.run_from(va).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 2u);
    // And back: the first translation is still cached (same pc, physical page pa).
    const uint64_t translated = m.engine.stats().blocks_translated;
    m.frontend.remap[va] = pa;
    m.engine.tlb_flush(&m.cpu.common);
    ASSERT_EQ(m.run_from(va).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[1], 1u);
    EXPECT_EQ(m.engine.stats().blocks_translated, translated);
}

TEST(Engine, DataTlbFollowsRemapAfterFlushPage) {
    ToyMachine m;
    constexpr uint64_t va = 0x30000;
    m.frontend.remap[va] = 0x6000;
    m.bus.ram[0x6000] = 0x11;
    m.bus.ram[0x7000] = 0x22;
    m.cpu.x[3] = va;
    m.bus.put(0x100, {enc(kLd, 5, 3, 0), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[5], 0x11u);
    m.frontend.remap[va] = 0x7000;
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[5], 0x11u);  // stale until the guest flushes: that is the contract
    m.engine.tlb_flush_page(&m.cpu.common, va + 0x10);
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    EXPECT_EQ(m.cpu.x[5], 0x22u);
}

TEST(Engine, CodePagesHaveNoWriteTag) {
    ToyMachine m;
    m.cpu.x[3] = 0x100;
    m.bus.put(0x100, {enc(kLd, 5, 3, 0x40), enc(kHalt, 0, 0, 0)});
    ASSERT_EQ(m.run_from(0x100).kind, RunExit::Kind::kHalt);
    const TlbEntry& e = m.cpu.common.tlb[0];
    EXPECT_EQ(e.read_tag, 0u);
    EXPECT_EQ(e.code_tag, 0u);
    EXPECT_EQ(e.write_tag, kTlbInvalid);
}

TEST(Engine, ExecLogDisablesChainingAndLogsInAsm) {
    char path[] = "/tmp/corvid_engine_logXXXXXX";
    int fd = mkstemp(path);
    ASSERT_GE(fd, 0);
    close(fd);
    ASSERT_TRUE(log::set_file(path).ok());
    log::set_mask(log::kExec | log::kInAsm | log::kOpOpt);
    ToyMachine m;
    put_loop(m.bus, 4);
    ASSERT_EQ(m.run_from(0x200).kind, RunExit::Kind::kHalt);
    log::set_mask(0);
    ASSERT_TRUE(log::set_file("").ok());
    EXPECT_EQ(m.engine.stats().chained_links, 0u);
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string text = ss.str();
    std::remove(path);
    size_t traces = 0;
    for (size_t p = text.find("Trace 0:"); p != std::string::npos; p = text.find("Trace 0:", p + 1)) ++traces;
    EXPECT_EQ(traces, 1u + 3u + 1u);  // entry block (1st iteration), 3 loop-body runs, halt
    EXPECT_NE(text.find("IN: \n0x0000000000000200:  01100004  op01 x1, x0, #4"), std::string::npos) << text;
    EXPECT_NE(text.find("OP after optimization:"), std::string::npos);
}

}  // namespace
}  // namespace corvid::toy
