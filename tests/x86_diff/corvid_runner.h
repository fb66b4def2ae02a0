// Corvid side of the x86 differential fuzzer: an Engine (interpreter or JIT) and an X86Frontend
// in 64-bit mode (identity paging, flat segments, an IDT whose handlers are HLTs) over a bus
// with the fuzzer's memory layout.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/memory_bus.h"
#include "frontends/x86/x86_frontend.h"
#include "tests/x86_diff/diff_types.h"
#include "translator/engine.h"

namespace corvid::x86diff {

enum class CorvidBackend { kInterp, kJit };
const char* backend_name(CorvidBackend b);

// Code (shared, read-only to the guest), the data window, and the system area.
class DiffBus final : public MemoryBus {
public:
    explicit DiffBus(const uint8_t* code);
    uint8_t* ram_page(uint64_t paddr, bool* writable) override;
    MemResult read(uint64_t paddr, unsigned size, uint64_t* value) override;
    MemResult write(uint64_t paddr, unsigned size, uint64_t value) override;
    uint8_t* data() { return data_.data(); }
    uint8_t* sys() { return sys_.data(); }

private:
    uint8_t* region(uint64_t paddr, unsigned size, bool* writable);
    uint8_t* code_;
    std::vector<uint8_t> data_;
    std::vector<uint8_t> sys_;
};

// Port I/O is never generated; a triple fault ends the run (reported as an error).
class DiffPlatform final : public X86Platform {
public:
    uint64_t io_read(uint16_t, unsigned) override { return 0; }
    void io_write(uint16_t, uint64_t, unsigned) override {}
    void triple_fault() override { triple_faulted = true; }
    bool triple_faulted = false;
};

class CorvidRunner {
public:
    CorvidRunner(CorvidBackend backend, const uint8_t* code);
    ~CorvidRunner();
    CorvidRunner(const CorvidRunner&) = delete;
    CorvidRunner& operator=(const CorvidRunner&) = delete;

    void code_changed(uint64_t addr, uint64_t size) { engine_->invalidate_phys(addr, size); }
    // Runs from init.rip until a HLT. A HLT in the handler area is an exception (vector from
    // its address); internal errors and hangs are reported as kFault with "corvid ERROR".
    Outcome run(const ArchState& init);
    uint8_t* data() { return bus_.data(); }
    CorvidBackend backend() const { return backend_; }
    X86Frontend& frontend() { return frontend_; }

private:
    void setup_system_area();

    CorvidBackend backend_;
    DiffBus bus_;
    DiffPlatform platform_;
    X86Frontend frontend_;
    std::unique_ptr<X86State> cpu_;
    std::unique_ptr<Engine> engine_;
    // Watchdog: a run that does not reach a HLT within a second (a loop) is stopped.
    std::atomic<uint64_t> run_started_ns_{0};
    std::atomic<bool> hung_{false};
    std::atomic<bool> stop_{false};
    std::thread watchdog_;
};

}  // namespace corvid::x86diff
