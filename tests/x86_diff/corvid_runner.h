// Corvid side of the x86 differential fuzzer: an Engine (interpreter or JIT) and an X86Frontend
// in 64-bit mode (identity paging, flat segments, an IDT whose handlers are HLTs) over a bus
// with the fuzzer's memory layout.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "frontends/x86/x86_frontend.h"
#include "tests/diff_common/diff_runner_common.h"
#include "tests/x86_diff/diff_types.h"
#include "translator/engine.h"

namespace corvid::x86diff {

using diffcommon::backend_name;
using diffcommon::CorvidBackend;

// Code (shared, read-only to the guest), the data window, and the system area.
class DiffBus final : public diffcommon::WindowBus {
public:
    explicit DiffBus(const uint8_t* code);
    uint8_t* data() { return data_.data(); }
    uint8_t* sys() { return sys_.data(); }

private:
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
    diffcommon::HangWatchdog watchdog_;  // a run that reaches no HLT within a second is stopped
};

}  // namespace corvid::x86diff
