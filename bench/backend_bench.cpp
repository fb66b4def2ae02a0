// x86-64 JIT micro-benchmarks: compile throughput, block-to-block dispatch (chained jump,
// in-code lookup table, return to the caller), TLB-hit loads.
#include <benchmark/benchmark.h>

#include <cstring>
#include <vector>

#include "backend/x64/x64_backend.h"

namespace corvid {
namespace {

using ir::Opcode;
using ir::Type;

struct BenchCpu {
    CpuCommon common;
    alignas(8) uint64_t regs[32] = {};
    BenchCpu() {
        for (auto& e : common.tlb) e = TlbEntry{kTlbInvalid, kTlbInvalid, kTlbInvalid, 0};
    }
};
constexpr uint32_t reg(unsigned r) { return uint32_t(offsetof(BenchCpu, regs) + 8 * r); }

uint64_t no_slow_load(CpuCommon*, uint64_t, uint64_t, uint64_t) { return 0; }
void no_slow_store(CpuCommon*, uint64_t, uint64_t, uint64_t, uint64_t) {}

// About five guest instructions' worth of IR (~30 ops): add, load, store, compare, branch.
ir::Block typical_block(uint64_t pc) {
    ir::Block blk;
    blk.guest_pc = pc;
    blk.guest_insns = 5;
    ir::Builder b(blk);
    auto r = [&](unsigned n) { return b.get_state(Type::I64, reg(n)); };
    b.set_pc(pc);
    b.set_state(reg(1), b.add(r(2), b.c64(16)));
    b.set_pc(pc + 4);
    ir::ValueId a = b.add(r(3), b.c64(8));
    b.set_state(reg(4), b.load(Type::I64, a, 3));
    b.set_pc(pc + 8);
    ir::ValueId a2 = b.add(r(5), b.c64(24));
    b.store(a2, b.trunc(Type::I32, r(6)), 2);
    b.set_pc(pc + 12);
    ir::ValueId x = r(7), y = r(8);
    ir::ValueId d = b.sub(x, y);
    b.set_state(reg(9), b.zext(Type::I64, b.cmp(Opcode::CmpEq, d, b.c64(0))));
    b.set_state(reg(10), b.zext(Type::I64, b.cmp(Opcode::CmpLtS, d, b.c64(0))));
    b.set_state(reg(11), b.zext(Type::I64, b.cmp(Opcode::CmpLtU, x, y)));
    b.set_pc(pc + 16);
    ir::ValueId c = b.cmp(Opcode::CmpNe, r(9), b.c64(0));
    b.exit_cond(c, pc + 0x40, pc + 20);
    return blk;
}

void BM_CompileTypicalBlock(benchmark::State& state) {
    x64::X64Backend be(32u << 20, false);
    ir::Block blk = typical_block(0x1000);
    std::vector<TranslatedBlock> tbs(4096);
    size_t k = 0, flushes = 0;
    for (auto _ : state) {
        TranslatedBlock& tb = tbs[k++ & 4095];
        Status s = be.compile(blk, tb);
        if (!s) {
            be.flush();
            ++flushes;
            benchmark::DoNotOptimize(be.compile(blk, tb).ok());
        }
    }
    state.SetItemsProcessed(int64_t(state.iterations() * blk.insts.size()));  // IR ops/s
    state.counters["ir_ops"] = double(blk.insts.size());
    state.counters["flushes"] = double(flushes);
}
BENCHMARK(BM_CompileTypicalBlock);

// Block A at 0x1000: r0 -= 1; if r0 != 0 go to A again, else to B (halt). Chained, the whole
// loop stays in generated code: one iteration = one block transition.
ir::Block countdown_block(bool indirect) {
    ir::Block blk;
    blk.guest_pc = 0x1000;
    blk.guest_insns = 2;
    ir::Builder b(blk);
    ir::ValueId n = b.sub(b.get_state(Type::I64, reg(0)), b.c64(1));
    b.set_state(reg(0), n);
    ir::ValueId c = b.cmp(Opcode::CmpNe, n, b.c64(0));
    if (indirect) {
        b.exit_jump(b.select(c, b.c64(0x1000), b.c64(0x2000)));
    } else {
        b.exit_cond(c, 0x1000, 0x2000);
    }
    return blk;
}
ir::Block halt_block() {
    ir::Block blk;
    blk.guest_pc = 0x2000;
    ir::Builder b(blk);
    b.exit_halt(ir::HaltReason::kStop);
    return blk;
}

constexpr uint64_t kTransitions = 1000;

void BM_DispatchChained(benchmark::State& state) {
    x64::X64Backend be(1u << 20, false);
    BenchCpu cpu;
    TranslatedBlock a, h;
    a.guest_pc = 0x1000;
    h.guest_pc = 0x2000;
    if (!be.compile(countdown_block(false), a) || !be.compile(halt_block(), h)) state.SkipWithError("compile");
    be.link(&a, 0, &a);
    be.link(&a, 1, &h);
    for (auto _ : state) {
        cpu.regs[0] = kTransitions;
        benchmark::DoNotOptimize(be.execute(&cpu.common, &a));
    }
    if (cpu.regs[0] != 0) state.SkipWithError("the chain did not run to the end");
    state.SetItemsProcessed(int64_t(state.iterations() * kTransitions));  // transitions/s
}
BENCHMARK(BM_DispatchChained);

void BM_DispatchLookupTable(benchmark::State& state) {
    x64::X64Backend be(1u << 20, false);
    BenchCpu cpu;
    for (uint64_t page : {0x1000ull, 0x2000ull}) cpu.common.tlb[page >> kPageBits].code_tag = page;
    TranslatedBlock a, h;
    a.guest_pc = 0x1000;
    h.guest_pc = 0x2000;
    if (!be.compile(countdown_block(true), a) || !be.compile(halt_block(), h)) state.SkipWithError("compile");
    be.execute(&cpu.common, &h);  // entering a block records it in the table
    cpu.regs[0] = 1;
    be.execute(&cpu.common, &a);
    for (auto _ : state) {
        cpu.regs[0] = kTransitions;
        benchmark::DoNotOptimize(be.execute(&cpu.common, &a));
    }
    state.SetItemsProcessed(int64_t(state.iterations() * kTransitions));
}
BENCHMARK(BM_DispatchLookupTable);

void BM_DispatchThroughCaller(benchmark::State& state) {
    // Unlinked: every transition leaves generated code (what the run loop pays before its own
    // cache lookup).
    x64::X64Backend be(1u << 20, false);
    BenchCpu cpu;
    TranslatedBlock a;
    a.guest_pc = 0x1000;
    if (!be.compile(countdown_block(false), a)) state.SkipWithError("compile");
    for (auto _ : state) {
        cpu.regs[0] = kTransitions;
        for (;;) {
            ExitInfo e = be.execute(&cpu.common, &a);
            if (e.slot == 1) break;
        }
    }
    state.SetItemsProcessed(int64_t(state.iterations() * kTransitions));
}
BENCHMARK(BM_DispatchThroughCaller);

constexpr unsigned kLoads = 64;

void BM_TlbHitLoad(benchmark::State& state) {
    x64::X64Backend be(1u << 20, false);
    be.set_slow_paths(no_slow_load, no_slow_store);
    BenchCpu cpu;
    alignas(4096) static uint8_t ram[4096];
    std::memset(ram, 1, sizeof(ram));
    constexpr uint64_t va = 0x40000000;
    TlbEntry& e = cpu.common.tlb[(va >> kPageBits) & (kTlbEntries - 1)];
    e.read_tag = e.write_tag = va;
    e.addend = uint64_t(reinterpret_cast<uintptr_t>(ram)) - va;
    ir::Block blk;
    ir::Builder b(blk);
    // Each address depends on the previous load, so loads cannot overlap: latency per load.
    ir::ValueId addr = b.get_state(Type::I64, reg(0));
    ir::ValueId acc = b.c64(0);
    for (unsigned k = 0; k < kLoads; ++k) {
        ir::ValueId v = b.load(Type::I64, addr, 3);
        acc = b.add(acc, v);
        addr = b.add(b.and_(v, b.c64(0)), addr);
    }
    b.set_state(reg(1), acc);
    b.exit_halt(ir::HaltReason::kStop);
    TranslatedBlock tb;
    if (!be.compile(blk, tb)) state.SkipWithError("compile");
    cpu.regs[0] = va + 64;
    for (auto _ : state) benchmark::DoNotOptimize(be.execute(&cpu.common, &tb));
    state.SetItemsProcessed(int64_t(state.iterations() * kLoads));  // loads/s
}
BENCHMARK(BM_TlbHitLoad);

}  // namespace
}  // namespace corvid
