// Corvid side of the differential fuzzer: an Engine (interpreter or JIT) and an A64Frontend
// over a bus with the fuzzer's memory layout.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "base/memory_bus.h"
#include "frontends/a64/a64_frontend.h"
#include "tests/a64_diff/diff_types.h"
#include "translator/engine.h"

namespace corvid::a64diff {

enum class CorvidBackend { kInterp, kJit };
const char* backend_name(CorvidBackend b);

// Code (shared, read-only to the guest), vectors (read-only, all WFI) and the data window.
class DiffBus final : public MemoryBus {
public:
    explicit DiffBus(const uint8_t* code);
    uint8_t* ram_page(uint64_t paddr, bool* writable) override;
    MemResult read(uint64_t paddr, unsigned size, uint64_t* value) override;
    MemResult write(uint64_t paddr, unsigned size, uint64_t value) override;
    uint8_t* data() { return data_.data(); }

private:
    uint8_t* region(uint64_t paddr, unsigned size, bool* writable);
    uint8_t* code_;
    std::vector<uint8_t> vectors_;
    std::vector<uint8_t> data_;
};

class CorvidRunner {
public:
    CorvidRunner(CorvidBackend backend, const uint8_t* code);
    ~CorvidRunner();
    CorvidRunner(const CorvidRunner&) = delete;
    CorvidRunner& operator=(const CorvidRunner&) = delete;

    void code_changed(uint64_t addr, uint64_t size) { engine_->invalidate_phys(addr, size); }
    // Runs from init.pc until the WFI after the test code, or an exception (whose vector holds
    // a WFI as well). Internal errors and hangs are reported as kFault with "corvid ERROR".
    Outcome run(const ArchState& init);
    uint8_t* data() { return bus_.data(); }
    CorvidBackend backend() const { return backend_; }
    A64Frontend& frontend() { return frontend_; }

private:
    CorvidBackend backend_;
    DiffBus bus_;
    A64Frontend frontend_;
    std::unique_ptr<A64State> cpu_;
    std::unique_ptr<Engine> engine_;
    // Watchdog: a run that does not reach a WFI within a second (a branch loop) is stopped.
    std::atomic<uint64_t> run_started_ns_{0};
    std::atomic<bool> hung_{false};
    std::atomic<bool> stop_{false};
    std::thread watchdog_;
};

}  // namespace corvid::a64diff
