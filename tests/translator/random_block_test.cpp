// Random IR blocks: always verifier-clean, and every optimiser pass (alone and together)
// preserves their behaviour (guest state and RAM) when run through the engine + interpreter.
#include "translator/ir/random_block.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <random>

#include "tests/translator/toy_machine.h"
#include "translator/ir/eval.h"
#include "translator/ir/opt/optimize.h"
#include "translator/ir/verify.h"

namespace corvid::toy {
namespace {

// Hands a prepared IR block to the engine instead of decoding guest code.
class BlockFrontend final : public Frontend {
public:
    const char* name() const override { return "block"; }
    void translate(TranslateContext& ctx) override {
        ir::Block& out = ctx.builder().block();
        const uint64_t pc = out.guest_pc;
        const uint32_t mode = out.mode;
        out = block;
        out.guest_pc = pc;
        out.mode = mode;
        if (transform) transform(out);
    }
    void deliver_exception(CpuCommon*, uint32_t cause, uint64_t) override { faults.push_back(cause); }
    std::optional<PageTranslation> translate_address(CpuCommon*, uint64_t va, Access, uint32_t*, uint64_t*) override {
        return PageTranslation{va & kPageMask, true, true, true};
    }
    void bus_fault(CpuCommon*, uint64_t, Access, uint32_t* c, uint64_t*) override { *c = kCauseBus; }
    void alignment_fault(CpuCommon*, uint64_t, Access, uint32_t* c, uint64_t*) override { *c = kCauseAlign; }
    std::string disassemble(uint64_t, const uint8_t*, size_t, size_t* len) const override { return *len = 4, ""; }
    std::string dump_state(const CpuCommon*) const override { return {}; }

    ir::Block block;
    std::function<void(ir::Block&)> transform;
    std::vector<uint32_t> faults;
};

constexpr uint64_t kWindow = 0x8000, kWindowSize = 0x2000;  // crosses the page at 0x9000

ir::RandomBlockOptions options() {
    ir::RandomBlockOptions o;
    o.num_insts = 120;
    o.state_offset = reg_off(0);
    o.state_bytes = 128;
    o.ram_base = kWindow;
    o.ram_size = kWindowSize;
    return o;
}

struct Outcome {
    uint64_t regs[16];
    std::vector<uint8_t> ram;
    std::vector<uint32_t> faults;
};

Outcome run(const ir::Block& blk, uint64_t seed, bool optimize, std::function<void(ir::Block&)> transform = {}) {
    BlockFrontend fe;
    fe.block = blk;
    fe.transform = std::move(transform);
    ToyBus bus;
    EngineOptions o;
    o.optimize = optimize;
    Engine engine(fe, bus, o, make_interp_backend());
    ToyCpu cpu;
    std::mt19937_64 rng(seed ^ 0x1234);
    for (auto& r : cpu.x) r = rng();
    for (uint64_t a = kWindow; a < kWindow + kWindowSize; ++a) bus.ram[a] = uint8_t(rng());
    cpu.common.pc = blk.guest_pc;
    RunExit r = engine.run(&cpu.common);
    EXPECT_EQ(r.kind, RunExit::Kind::kHalt) << r.error;
    Outcome out;
    std::memcpy(out.regs, cpu.x, sizeof out.regs);
    out.ram.assign(bus.ram.begin() + kWindow, bus.ram.begin() + kWindow + kWindowSize);
    out.faults = fe.faults;
    return out;
}

void expect_same(const Outcome& a, const Outcome& b, const ir::Block& blk, const char* what) {
    for (unsigned r = 0; r < 16; ++r)
        ASSERT_EQ(a.regs[r], b.regs[r]) << what << ": x" << r << "\n" << ir::to_string(blk);
    ASSERT_TRUE(a.ram == b.ram) << what << ": RAM differs\n" << ir::to_string(blk);
    ASSERT_EQ(a.faults, b.faults) << what;
}

TEST(RandomBlock, IsVerifierCleanAndDeterministic) {
    for (uint64_t seed = 0; seed < 500; ++seed) {
        ir::Block blk = ir::random_block(seed, options());
        Status s = ir::verify(blk);
        ASSERT_TRUE(s.ok()) << "seed " << seed << ": " << s.error();
        ASSERT_EQ(blk.insts.back().op, ir::Opcode::ExitHalt);
        ir::optimize(blk);
        s = ir::verify(blk);
        ASSERT_TRUE(s.ok()) << "seed " << seed << " after optimize: " << s.error();
    }
    EXPECT_EQ(ir::to_string(ir::random_block(7, options())), ir::to_string(ir::random_block(7, options())));
    EXPECT_NE(ir::to_string(ir::random_block(7, options())), ir::to_string(ir::random_block(8, options())));
}

TEST(RandomBlock, UsesEveryPureOpcode) {
    std::vector<bool> seen(size_t(ir::Opcode::Count), false);
    for (uint64_t seed = 0; seed < 200; ++seed) {
        for (const ir::Inst& i : ir::random_block(seed, options()).insts) seen[size_t(i.op)] = true;
    }
    for (size_t op = 0; op < seen.size(); ++op) {
        if (ir::is_pure(ir::Opcode(op))) {
            EXPECT_TRUE(seen[op]) << ir::op_info(ir::Opcode(op)).name;
        }
    }
    for (ir::Opcode op : {ir::Opcode::Load, ir::Opcode::Store, ir::Opcode::Call, ir::Opcode::Label, ir::Opcode::BrCond,
                          ir::Opcode::GetState, ir::Opcode::SetState})
        EXPECT_TRUE(seen[size_t(op)]) << ir::op_info(op).name;
}

// CORVID_RANDOM_SEEDS=N runs more seeds (default 300) for longer soak runs.
uint64_t seed_count() {
    const char* s = std::getenv("CORVID_RANDOM_SEEDS");
    return s ? std::strtoull(s, nullptr, 10) : 300;
}

TEST(RandomBlock, OptimiserPreservesBehaviour) {
    const uint64_t seeds = seed_count();
    for (uint64_t seed = 0; seed < seeds; ++seed) {
        ir::Block blk = ir::random_block(seed, options());
        Outcome ref = run(blk, seed, false);
        expect_same(ref, run(blk, seed, true), blk, "optimize");
        expect_same(ref, run(blk, seed, false, ir::const_fold), blk, "const_fold");
        expect_same(ref, run(blk, seed, false, ir::state_forward), blk, "state_forward");
        expect_same(ref, run(blk, seed, false, ir::dead_store), blk, "dead_store");
        expect_same(ref, run(blk, seed, false, ir::dead_code), blk, "dead_code");
        if (HasFatalFailure()) return;
    }
}

TEST(RandomBlock, OptimiserShrinksBlocks) {
    size_t before = 0, after = 0;
    for (uint64_t seed = 0; seed < 100; ++seed) {
        ir::Block blk = ir::random_block(seed, options());
        before += blk.insts.size();
        ir::optimize(blk);
        after += blk.insts.size();
    }
    EXPECT_LT(after, before);
}

}  // namespace
}  // namespace corvid::toy
