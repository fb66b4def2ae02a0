// The Corvid side of the differential fuzzer.
#include "tests/a64_diff/corvid_runner.h"

#include <cstring>

#include <fmt/format.h>

namespace corvid::a64diff {
namespace {

constexpr uint32_t kEcInsnAbortSame = 0x21;
constexpr uint32_t kEcPcAlign = 0x22;

}  // namespace

DiffBus::DiffBus(const uint8_t* code) : vectors_(kVectorSize), data_(kDataSize, 0) {
    for (size_t off = 0; off < kVectorSize; off += 4) std::memcpy(vectors_.data() + off, &kWfiWord, 4);
    add_window(kCodeBase, kCodeSize, const_cast<uint8_t*>(code), false);
    add_window(kVectorBase, kVectorSize, vectors_.data(), false);
    add_window(kDataBase, kDataSize, data_.data(), true);
}

CorvidRunner::CorvidRunner(CorvidBackend backend, const uint8_t* code)
    : backend_(backend),
      bus_(code),
      frontend_(nullptr),
      cpu_(std::make_unique<A64State>()),
      engine_(diffcommon::make_diff_engine(frontend_, bus_, backend)),
      watchdog_(cpu_->common.exit_request) {
    frontend_.reset(*cpu_, kSlot);
}

Outcome CorvidRunner::run(const ArchState& init) {
    A64State& s = *cpu_;
    frontend_.reset(s, init.pc);
    std::memcpy(s.x, init.x, sizeof s.x);
    s.sp_el1 = init.sp;
    s.n = (init.nzcv >> 3) & 1;
    s.z = (init.nzcv >> 2) & 1;
    s.c = (init.nzcv >> 1) & 1;
    s.v = init.nzcv & 1;
    s.vbar_el1 = kVectorBase;
    s.common.mode = a64_state_mode(s);

    watchdog_.start_run();
    // YIELD (and WFE) also leave the run loop: only the WFI halt ends the test code.
    RunExit e;
    for (int i = 0; i < 100; ++i) {
        e = engine_->run(&s.common);
        if (watchdog_.hung() || e.kind == RunExit::Kind::kError) break;
        if (e.kind == RunExit::Kind::kHalt && e.halt == ir::HaltReason::kWaitForInterrupt) break;
    }
    watchdog_.end_run();

    Outcome out;
    std::memcpy(out.state.x, s.x, sizeof s.x);
    out.state.sp = s.sp_el1;
    out.state.nzcv = (s.n << 3) | (s.z << 2) | (s.c << 1) | s.v;
    if (watchdog_.hung()) {
        out.kind = Outcome::Kind::kFault;
        out.fault = fmt::format("corvid ERROR: no WFI reached within 1 s (pc 0x{:x})", s.common.pc);
        return out;
    }
    if (e.kind != RunExit::Kind::kHalt) {
        out.kind = Outcome::Kind::kFault;
        out.fault = "corvid ERROR: run ended without a halt: " + e.error;
        return out;
    }
    const uint64_t halt_pc = s.common.pc - 4;  // WFI leaves the pc past itself
    // Synchronous exceptions from EL1h enter at VBAR + 0x200; any other WFI of the vector page
    // was reached by a branch and is an ordinary end.
    if (halt_pc == kVectorBase + 0x200) {
        const uint32_t ec = uint32_t(s.esr_el1 >> 26);
        if (ec == kEcInsnAbortSame || ec == kEcPcAlign) {
            out.state.pc = s.elr_el1;  // a branch whose target cannot be fetched
            return out;
        }
        out.kind = Outcome::Kind::kFault;
        out.esr = s.esr_el1;
        out.elr = s.elr_el1;
        out.fault = fmt::format("corvid: exception EC=0x{:02x} ESR=0x{:x} ELR=0x{:x} FAR=0x{:x}", ec, s.esr_el1,
                                s.elr_el1, s.far_el1);
        return out;
    }
    out.state.pc = halt_pc;
    return out;
}

}  // namespace corvid::a64diff
