// Corvid side of the differential fuzzer: an Engine (interpreter or JIT) and an A64Frontend
// over a bus with the fuzzer's memory layout.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "frontends/a64/a64_frontend.h"
#include "tests/a64_diff/diff_types.h"
#include "tests/diff_common/diff_runner_common.h"
#include "translator/engine.h"

namespace corvid::a64diff {

using diffcommon::backend_name;
using diffcommon::CorvidBackend;

// Code (shared, read-only to the guest), vectors (read-only, all WFI) and the data window.
class DiffBus final : public diffcommon::WindowBus {
public:
    explicit DiffBus(const uint8_t* code);
    uint8_t* data() { return data_.data(); }

private:
    std::vector<uint8_t> vectors_;
    std::vector<uint8_t> data_;
};

class CorvidRunner {
public:
    CorvidRunner(CorvidBackend backend, const uint8_t* code);
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
    diffcommon::HangWatchdog watchdog_;  // a run that reaches no WFI within a second is stopped
};

}  // namespace corvid::a64diff
