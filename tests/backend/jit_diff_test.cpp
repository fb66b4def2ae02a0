// Differential test: thousands of seeded random IR blocks (translator/ir/random_block.h) run by
// the real Engine once with the JIT and once with the interpreter; guest state, pc and RAM must
// end up identical.
#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <random>

#include "backend/x64/x64_backend.h"
#include "translator/engine.h"
#include "translator/ir/random_block.h"

namespace corvid::jittest {
namespace {

constexpr uint64_t kCodePc = 0x1000;
constexpr uint64_t kDataBase = 0x10000;
constexpr uint64_t kDataSize = 0x4000;  // four pages: accesses may cross pages
constexpr uint64_t kBusBytes = 0x20000;
constexpr uint64_t kFaultPc = 0x3000;

struct DiffCpu {
    CpuCommon common;
    alignas(8) uint8_t state[256] = {};
};

class DiffBus final : public MemoryBus {
public:
    DiffBus() : ram(kBusBytes, 0) {}
    uint8_t* ram_page(uint64_t paddr, bool* writable) override {
        *writable = true;
        return paddr < kBusBytes ? ram.data() + (paddr & kPageMask) : nullptr;
    }
    MemResult read(uint64_t, unsigned, uint64_t*) override { return MemResult::kUnmapped; }
    MemResult write(uint64_t, unsigned, uint64_t) override { return MemResult::kUnmapped; }
    std::vector<uint8_t> ram;
};

// Replays one prepared block at kCodePc; any exception ends the run through a halt block.
class ReplayFrontend final : public Frontend {
public:
    const char* name() const override { return "replay"; }
    void translate(TranslateContext& ctx) override {
        ir::Block& blk = ctx.builder().block();
        uint32_t word = 0;
        if (blk.guest_pc == kCodePc && ctx.fetch(kCodePc, &word, 4)) {
            blk.insts = block.insts;
            blk.num_labels = block.num_labels;
            blk.guest_insns = block.guest_insns;
            blk.guest_size = 4;
            return;
        }
        ir::Builder& b = ctx.builder();
        b.set_state(0, b.c64(blk.guest_pc));
        b.exit_halt(ir::HaltReason::kStop);
        blk.guest_insns = 1;
        blk.guest_size = 4;
    }
    void deliver_exception(CpuCommon* cpu, uint32_t cause, uint64_t) override {
        ++exceptions;
        last_cause = cause;
        cpu->pc = kFaultPc;
    }
    std::optional<PageTranslation> translate_address(CpuCommon*, uint64_t va, Access, uint32_t*, uint64_t*) override {
        PageTranslation t;
        t.paddr_page = va & kPageMask;
        return t;
    }
    void bus_fault(CpuCommon*, uint64_t va, Access, uint32_t* cause, uint64_t* detail) override {
        *cause = 1;
        *detail = va;
    }
    void alignment_fault(CpuCommon*, uint64_t va, Access, uint32_t* cause, uint64_t* detail) override {
        *cause = 2;
        *detail = va;
    }
    std::string disassemble(uint64_t, const uint8_t*, size_t, size_t* len) const override {
        *len = 4;
        return "replay";
    }
    std::string dump_state(const CpuCommon*) const override { return {}; }

    ir::Block block;
    unsigned exceptions = 0;
    uint32_t last_cause = 0;
};

struct Outcome {
    std::vector<uint8_t> state;
    std::vector<uint8_t> ram;
    uint64_t pc = 0;
    unsigned exceptions = 0;
    RunExit::Kind kind = RunExit::Kind::kExitRequest;
    std::string error;
};

Outcome run_once(const ir::Block& block, bool jit, bool optimize, uint64_t seed) {
    ReplayFrontend fe;
    fe.block = block;
    DiffBus bus;
    DiffCpu cpu;
    std::mt19937_64 rng(seed * 7919 + 1);
    for (auto& byte : cpu.state) byte = uint8_t(rng());
    for (uint64_t a = kDataBase; a < kDataBase + kDataSize; ++a) bus.ram[a] = uint8_t(rng());
    EngineOptions opts;
    opts.optimize = optimize;
    Engine engine(fe, bus, opts, jit ? make_x64_backend(1u << 20) : make_interp_backend());
    cpu.common.pc = kCodePc;
    RunExit r = engine.run(&cpu.common);
    Outcome o;
    o.state.assign(cpu.state, cpu.state + sizeof(cpu.state));
    o.ram.assign(bus.ram.begin() + kDataBase, bus.ram.begin() + kDataBase + kDataSize);
    o.pc = cpu.common.pc;
    o.exceptions = fe.exceptions;
    o.kind = r.kind;
    o.error = r.error;
    return o;
}

// CORVID_JIT_DIFF_SCALE=K runs K times as many seeds (soak runs; the default is 1).
uint64_t seed_scale() {
    const char* s = std::getenv("CORVID_JIT_DIFF_SCALE");
    const uint64_t k = s ? std::strtoull(s, nullptr, 10) : 1;
    return k ? k : 1;
}

void run_seeds(uint64_t first, uint64_t count, bool optimize, const ir::RandomBlockOptions& base) {
    count *= seed_scale();
    for (uint64_t seed = first; seed < first + count; ++seed) {
        ir::RandomBlockOptions o = base;
        o.state_offset = uint32_t(offsetof(DiffCpu, state));
        o.state_bytes = 256;
        o.ram_base = kDataBase;
        o.ram_size = kDataSize;
        o.guest_pc = kCodePc;
        ir::Block block = ir::random_block(seed, o);
        Outcome want = run_once(block, false, optimize, seed);
        Outcome got = run_once(block, true, optimize, seed);
        ASSERT_EQ(got.kind, want.kind) << "seed " << seed << ": " << got.error << want.error;
        ASSERT_EQ(got.exceptions, want.exceptions) << "seed " << seed;
        // cpu->pc at ExitHalt is the frontend's business (random blocks leave it alone); after an
        // exception it is the handler's.
        if (want.exceptions) {
            ASSERT_EQ(got.pc, want.pc) << "seed " << seed;
        }
        for (size_t k = 0; k < want.state.size(); ++k) {
            ASSERT_EQ(got.state[k], want.state[k]) << "seed " << seed << " state byte " << k << "\n"
                                                   << ir::to_string(block);
        }
        ASSERT_TRUE(got.ram == want.ram) << "seed " << seed << " RAM differs\n" << ir::to_string(block);
    }
}

TEST(JitDifferential, RandomBlocksMatchTheInterpreter) {
    ir::RandomBlockOptions o;
    o.num_insts = 80;
    run_seeds(1, 1500, false, o);
}

TEST(JitDifferential, RandomBlocksMatchTheInterpreterOptimised) {
    ir::RandomBlockOptions o;
    o.num_insts = 80;
    run_seeds(100000, 1000, true, o);
}

TEST(JitDifferential, LargeBlocksUnderRegisterPressure) {
    ir::RandomBlockOptions o;
    o.num_insts = 400;
    run_seeds(500000, 300, false, o);
}

}  // namespace
}  // namespace corvid::jittest
