// The translator's run loop: block cache, chaining, softmmu slow paths, exceptions, statistics.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "base/memory_bus.h"
#include "translator/backend.h"
#include "translator/cpu.h"
#include "translator/frontend.h"

namespace corvid {

struct EngineOptions {
    enum class BackendKind { kJit, kInterp };
    BackendKind backend = BackendKind::kJit;
    size_t code_buffer_bytes = 32u << 20;  // -accel tcg,tb-size=MiB
    uint32_t max_block_insns = 64;
    bool optimize = true;
    bool count_insns = false;              // maintain CpuCommon::insn_count
};

struct EngineStats {
    uint64_t blocks_translated = 0;
    uint64_t guest_insns_translated = 0;
    uint64_t host_code_bytes = 0;
    uint64_t translate_ns = 0;
    uint64_t buffer_flushes = 0;
    uint64_t invalidations = 0;
    uint64_t chained_links = 0;     // links patched
    uint64_t lookup_exits = 0;      // returns to the run loop that needed a cache lookup
    uint64_t executed_insns = 0;    // when counting is enabled
    uint64_t return_hint_hits = 0;  // returns whose target was the top return-stack hint (JIT)
    uint64_t return_hint_misses = 0;
};

// Why Engine::run returned.
struct RunExit {
    // kError: an internal translator failure (IR verifier, backend); `error` says what.
    enum class Kind { kHalt, kExitRequest, kError } kind = Kind::kExitRequest;
    ir::HaltReason halt = ir::HaltReason::kStop;
    std::string error;
};

class Engine {
public:
    Engine(Frontend& frontend, MemoryBus& bus, EngineOptions options,
           std::unique_ptr<ExecBackend> backend);
    ~Engine();
    Engine(const Engine&) = delete;
    Engine& operator=(const Engine&) = delete;

    // Runs guest code until an ExitHalt or until cpu->exit_request is seen (it is cleared
    // before returning). Guest exceptions are delivered through the frontend and execution
    // continues. Safe to call again afterwards.
    RunExit run(CpuCommon* cpu);

    // From helpers (called from generated code or the interpreter): raise a guest exception
    // at cpu->pc; does not return (unwinds to the run loop).
    [[noreturn]] void raise(CpuCommon* cpu, uint32_t cause, uint64_t detail);
    // From helpers: leave generated code now, resuming at cpu->pc (already set by the caller).
    [[noreturn]] void exit_to_loop(CpuCommon* cpu);

    // softmmu slow paths (called on a TLB miss, MMIO, misaligned or code-page access).
    uint64_t slow_load(CpuCommon* cpu, uint64_t va, uint32_t mem_flags, uint64_t pc);
    void slow_store(CpuCommon* cpu, uint64_t va, uint64_t value, uint32_t mem_flags, uint64_t pc);

    // TLB maintenance for frontends (page-table changes) and for the board (memory map changes).
    void tlb_flush(CpuCommon* cpu);
    void tlb_flush_page(CpuCommon* cpu, uint64_t va);

    // Drops every translated block (e.g. on reset or a full code buffer).
    void flush_all();
    // Invalidates the blocks that contain code from a guest-physical range.
    void invalidate_phys(uint64_t paddr, uint64_t size);

    const EngineStats& stats() const { return stats_; }
    std::string stats_report() const;
    Frontend& frontend() { return frontend_; }
    MemoryBus& bus() { return bus_; }
    ExecBackend& backend() { return *backend_; }

private:
    struct Impl;
    Frontend& frontend_;
    MemoryBus& bus_;
    EngineOptions options_;
    std::unique_ptr<ExecBackend> backend_;
    EngineStats stats_;
    std::unique_ptr<Impl> impl_;
};

// Factories for the two backends (the engine does not depend on the JIT's library; the
// accelerator glue chooses one).
std::unique_ptr<ExecBackend> make_interp_backend();

}  // namespace corvid
