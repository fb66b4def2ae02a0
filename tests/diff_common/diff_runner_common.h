// What the Corvid sides of the A64 and x86 differential fuzzers share: the backend choice, a
// memory bus over a few fixed RAM windows, and the watchdog that stops a run that never halts.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include "backend/x64/x64_backend.h"
#include "base/memory_bus.h"
#include "translator/engine.h"

namespace corvid::diffcommon {

enum class CorvidBackend { kInterp, kJit };

inline const char* backend_name(CorvidBackend b) { return b == CorvidBackend::kInterp ? "interp" : "jit"; }

inline std::unique_ptr<Engine> make_diff_engine(Frontend& frontend, MemoryBus& bus, CorvidBackend backend) {
    EngineOptions opts;
    const bool jit = backend == CorvidBackend::kJit;
    opts.backend = jit ? EngineOptions::BackendKind::kJit : EngineOptions::BackendKind::kInterp;
    return std::make_unique<Engine>(frontend, bus, opts, jit ? make_x64_backend(8u << 20) : make_interp_backend());
}

// RAM windows at fixed guest-physical addresses; everything else is unmapped. Windows are
// added before the first access and never move.
class WindowBus : public MemoryBus {
public:
    void add_window(uint64_t base, uint64_t size, uint8_t* host, bool writable) {
        windows_.push_back(Window{base, size, host, writable});
    }
    uint8_t* ram_page(uint64_t paddr, bool* writable) override {
        return find(paddr & kPageMask, unsigned(kPageSize), writable);
    }
    MemResult read(uint64_t paddr, unsigned size, uint64_t* value) override {
        bool writable = false;
        const uint8_t* p = find(paddr, size, &writable);
        if (!p) return MemResult::kUnmapped;
        *value = 0;
        std::memcpy(value, p, size);
        return MemResult::kOk;
    }
    MemResult write(uint64_t paddr, unsigned size, uint64_t value) override {
        bool writable = false;
        uint8_t* p = find(paddr, size, &writable);
        if (!p || !writable) return MemResult::kUnmapped;
        std::memcpy(p, &value, size);
        return MemResult::kOk;
    }

private:
    struct Window {
        uint64_t base, size;
        uint8_t* host;
        bool writable;
    };
    uint8_t* find(uint64_t paddr, unsigned size, bool* writable) {
        for (const Window& w : windows_) {
            if (paddr >= w.base && paddr - w.base + size <= w.size) {
                *writable = w.writable;
                return w.host + (paddr - w.base);
            }
        }
        return nullptr;
    }
    std::vector<Window> windows_;
};

// A run that has not halted within a second (a branch loop) is stopped through the CPU's
// exit_request; the runner then reports it as a Corvid error.
class HangWatchdog {
public:
    explicit HangWatchdog(std::atomic<uint32_t>& exit_request)
        : exit_request_(exit_request), thread_([this] { watch(); }) {}
    ~HangWatchdog() {
        stop_.store(true);
        thread_.join();
    }
    HangWatchdog(const HangWatchdog&) = delete;
    HangWatchdog& operator=(const HangWatchdog&) = delete;

    void start_run() {
        hung_.store(false);
        started_ns_.store(now_ns());
    }
    void end_run() { started_ns_.store(0); }
    bool hung() const { return hung_.load(); }

private:
    static constexpr uint64_t kHangNs = 1'000'000'000;
    static uint64_t now_ns() {
        return uint64_t(std::chrono::duration_cast<std::chrono::nanoseconds>(
                            std::chrono::steady_clock::now().time_since_epoch())
                            .count());
    }
    void watch() {
        while (!stop_.load()) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            const uint64_t started = started_ns_.load();
            if (started != 0 && now_ns() - started > kHangNs) {
                hung_.store(true);
                exit_request_.store(1);
            }
        }
    }
    std::atomic<uint32_t>& exit_request_;
    std::atomic<uint64_t> started_ns_{0};
    std::atomic<bool> hung_{false};
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

}  // namespace corvid::diffcommon
