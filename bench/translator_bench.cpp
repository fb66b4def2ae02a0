// Translator core micro-benchmarks: IR instructions per second through the verifier and the
// optimiser passes, interpreter execution of an optimised block, and the run loop.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "tests/translator/toy_machine.h"
#include "translator/engine.h"
#include "translator/ir/opt/optimize.h"
#include "translator/ir/random_block.h"
#include "translator/ir/verify.h"

namespace corvid {
namespace {

struct BenchCpu {
    CpuCommon common;
    uint64_t regs[32] = {};
};

ir::RandomBlockOptions bench_options(uint32_t insts, bool memory) {
    ir::RandomBlockOptions o;
    o.num_insts = insts;
    o.state_offset = uint32_t(offsetof(BenchCpu, regs));
    o.state_bytes = 256;
    if (memory) {
        o.ram_base = 0x10000;
        o.ram_size = 0x1000;
    }
    return o;
}

std::vector<ir::Block> corpus(uint32_t insts, bool memory = true) {
    std::vector<ir::Block> blocks;
    for (uint64_t seed = 0; seed < 64; ++seed) blocks.push_back(ir::random_block(seed, bench_options(insts, memory)));
    return blocks;
}

// Runs `fn` over a corpus of 64 random blocks per iteration (copies made outside the timing,
// once per batch so that pausing the timer costs little).
template <typename Fn>
void run_pass(benchmark::State& state, Fn&& fn) {
    const auto blocks = corpus(uint32_t(state.range(0)));
    size_t per_batch = 0;
    for (const auto& b : blocks) per_batch += b.insts.size();
    std::vector<ir::Block> work = blocks;
    size_t insts = 0;
    for (auto _ : state) {
        state.PauseTiming();
        for (size_t k = 0; k < blocks.size(); ++k) work[k].insts = blocks[k].insts;
        state.ResumeTiming();
        for (auto& b : work) {
            fn(b);
            benchmark::DoNotOptimize(b.insts.data());
        }
        insts += per_batch;
    }
    state.counters["ir_insts/s"] = benchmark::Counter(double(insts), benchmark::Counter::kIsRate);
}

void BM_Verify(benchmark::State& state) {
    run_pass(state, [](ir::Block& b) { benchmark::DoNotOptimize(ir::verify(b).ok()); });
}
void BM_ConstFold(benchmark::State& state) {
    run_pass(state, ir::const_fold);
}
void BM_StateForward(benchmark::State& state) {
    run_pass(state, ir::state_forward);
}
void BM_DeadStore(benchmark::State& state) {
    run_pass(state, ir::dead_store);
}
void BM_DeadCode(benchmark::State& state) {
    run_pass(state, ir::dead_code);
}
void BM_VerifyAndOptimize(benchmark::State& state) {
    run_pass(state, [](ir::Block& b) {
        benchmark::DoNotOptimize(ir::verify(b).ok());
        ir::optimize(b);
    });
}

BENCHMARK(BM_Verify)->Arg(64)->Arg(512);
BENCHMARK(BM_ConstFold)->Arg(64)->Arg(512);
BENCHMARK(BM_StateForward)->Arg(64)->Arg(512);
BENCHMARK(BM_DeadStore)->Arg(64)->Arg(512);
BENCHMARK(BM_DeadCode)->Arg(64)->Arg(512);
BENCHMARK(BM_VerifyAndOptimize)->Arg(64)->Arg(512);

// The interpreter on an optimised random block without memory operations (IR insts/s).
void BM_InterpExecute(benchmark::State& state) {
    ir::RandomBlockOptions o = bench_options(uint32_t(state.range(0)), false);
    o.labels = false;
    ir::Block blk = ir::random_block(1, o);
    ir::optimize(blk);
    auto backend = make_interp_backend();
    TranslatedBlock tb;
    if (!backend->compile(blk, tb).ok()) {
        state.SkipWithError("compile failed");
        return;
    }
    BenchCpu cpu;
    for (auto& e : cpu.common.tlb) e = TlbEntry{kTlbInvalid, kTlbInvalid, kTlbInvalid, 0};
    size_t insts = 0;
    for (auto _ : state) {
        ExitInfo e = backend->execute(&cpu.common, &tb);
        benchmark::DoNotOptimize(e);
        insts += blk.insts.size();
    }
    backend->release(tb);
    state.counters["ir_insts/s"] = benchmark::Counter(double(insts), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_InterpExecute)->Arg(256);

}  // namespace
}  // namespace corvid

// The run loop on the toy guest (interpreter backend): an indirect jump per iteration makes
// every iteration a jump-cache lookup in the run loop; the direct loop is chained.

namespace corvid {
namespace {

void BM_RunLoopIndirectJumps(benchmark::State& state) {
    toy::ToyMachine m;
    // 0x100: x1 -= 1; jr x7 (-> 0x200)   0x200: bnz x1, 0x100; halt
    m.bus.put(0x100, {toy::enc(toy::kAddi, 1, 1, -1), toy::enc(toy::kJr, 0, 7, 0)});
    m.bus.put(0x200, {toy::enc(toy::kBnz, 0, 1, -64), toy::enc(toy::kHalt, 0, 0, 0)});
    const int iters = 10000;
    for (auto _ : state) {
        m.cpu.x[1] = iters;
        m.cpu.x[7] = 0x200;
        m.run_from(0x100);
    }
    state.counters["lookups/s"] = benchmark::Counter(double(state.iterations()) * iters, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RunLoopIndirectJumps);

void BM_RunLoopChained(benchmark::State& state) {
    toy::ToyMachine m;
    m.bus.put(0x100, {toy::enc(toy::kAddi, 1, 1, -1), toy::enc(toy::kBnz, 0, 1, -1), toy::enc(toy::kHalt, 0, 0, 0)});
    const int iters = 10000;
    for (auto _ : state) {
        m.cpu.x[1] = iters;
        m.run_from(0x100);
    }
    state.counters["blocks/s"] = benchmark::Counter(double(state.iterations()) * iters, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RunLoopChained);

}  // namespace
}  // namespace corvid
