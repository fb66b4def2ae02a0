// The Corvid side of the differential fuzzer.
#include "tests/a64_diff/corvid_runner.h"

#include <chrono>
#include <cstring>

#include <fmt/format.h>

#include "backend/x64/x64_backend.h"

namespace corvid::a64diff {
namespace {

constexpr uint32_t kEcInsnAbortSame = 0x21;
constexpr uint32_t kEcPcAlign = 0x22;
constexpr uint64_t kHangNs = 1'000'000'000;

uint64_t now_ns() {
    return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                        std::chrono::steady_clock::now().time_since_epoch())
                        .count());
}

}  // namespace

const char* backend_name(CorvidBackend b) { return b == CorvidBackend::kInterp ? "interp" : "jit"; }

DiffBus::DiffBus(const uint8_t* code)
    : code_(const_cast<uint8_t*>(code)), vectors_(kVectorSize), data_(kDataSize, 0) {
    for (size_t off = 0; off < kVectorSize; off += 4) std::memcpy(vectors_.data() + off, &kWfiWord, 4);
}

uint8_t* DiffBus::region(uint64_t paddr, unsigned size, bool* writable) {
    auto in = [&](uint64_t base, uint64_t len) { return paddr >= base && paddr - base + size <= len; };
    if (in(kCodeBase, kCodeSize)) {
        *writable = false;
        return code_ + (paddr - kCodeBase);
    }
    if (in(kVectorBase, kVectorSize)) {
        *writable = false;
        return vectors_.data() + (paddr - kVectorBase);
    }
    if (in(kDataBase, kDataSize)) {
        *writable = true;
        return data_.data() + (paddr - kDataBase);
    }
    return nullptr;
}

uint8_t* DiffBus::ram_page(uint64_t paddr, bool* writable) {
    return region(paddr & kPageMask, unsigned(kPageSize), writable);
}

MemResult DiffBus::read(uint64_t paddr, unsigned size, uint64_t* value) {
    bool writable = false;
    const uint8_t* p = region(paddr, size, &writable);
    if (!p) return MemResult::kUnmapped;
    *value = 0;
    std::memcpy(value, p, size);
    return MemResult::kOk;
}

MemResult DiffBus::write(uint64_t paddr, unsigned size, uint64_t value) {
    bool writable = false;
    uint8_t* p = region(paddr, size, &writable);
    if (!p || !writable) return MemResult::kUnmapped;
    std::memcpy(p, &value, size);
    return MemResult::kOk;
}

CorvidRunner::CorvidRunner(CorvidBackend backend, const uint8_t* code)
    : backend_(backend), bus_(code), frontend_(nullptr), cpu_(std::make_unique<A64State>()) {
    EngineOptions opts;
    opts.backend = backend == CorvidBackend::kJit ? EngineOptions::BackendKind::kJit
                                                  : EngineOptions::BackendKind::kInterp;
    std::unique_ptr<ExecBackend> be = backend == CorvidBackend::kJit ? make_x64_backend(8u << 20) : make_interp_backend();
    engine_ = std::make_unique<Engine>(frontend_, bus_, opts, std::move(be));
    frontend_.reset(*cpu_, kSlot);
    watchdog_ = std::thread([this] {
        while (!stop_.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            const uint64_t started = run_started_ns_.load();
            if (started != 0 && now_ns() - started > kHangNs) {
                hung_.store(true);
                cpu_->common.exit_request.store(1);
            }
        }
    });
}

CorvidRunner::~CorvidRunner() {
    stop_.store(true);
    watchdog_.join();
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

    hung_.store(false);
    run_started_ns_.store(now_ns());
    // YIELD (and WFE) also leave the run loop: only the WFI halt ends the test code.
    RunExit e;
    for (int i = 0; i < 100; ++i) {
        e = engine_->run(&s.common);
        if (hung_.load() || e.kind == RunExit::Kind::kError) break;
        if (e.kind == RunExit::Kind::kHalt && e.halt == ir::HaltReason::kWaitForInterrupt) break;
    }
    run_started_ns_.store(0);

    Outcome out;
    std::memcpy(out.state.x, s.x, sizeof s.x);
    out.state.sp = s.sp_el1;
    out.state.nzcv = (s.n << 3) | (s.z << 2) | (s.c << 1) | s.v;
    if (hung_.load()) {
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
