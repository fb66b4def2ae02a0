// Process-wide run state: shutdown/reset requests, termination signals, and the idle wait
// that a halted vCPU (or a CPU-less accelerator) sleeps in without using CPU.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>

namespace corvid {

class RunControl {
public:
    RunControl();
    ~RunControl();
    RunControl(const RunControl&) = delete;
    RunControl& operator=(const RunControl&) = delete;

    // Installs SIGINT/SIGTERM/SIGHUP handlers that call request_terminate(signal).
    void install_signal_handlers();

    // The guest or a device asks to end the run with a status (PSCI SYSTEM_OFF,
    // isa-debug-exit, semihosting exit, quit).
    void request_shutdown(int status);
    void request_reset();
    // Async-signal-safe.
    void request_terminate(int signal);

    bool shutdown_requested() const { return shutdown_.load(); }
    bool reset_requested() const { return reset_.load(); }
    void clear_reset() { reset_.store(false); }
    int exit_status() const { return status_.load(); }
    int terminate_signal() const { return signal_.load(); }
    bool should_stop() const { return shutdown_.load() || signal_.load() != 0; }

    // Wakes whoever is in wait(); also calls the kick function (to leave generated code).
    // Async-signal-safe as long as the kick function is (it only stores atomics).
    void notify();
    void set_kick(std::function<void()> kick);

    // Sleeps until notify() or the timeout (negative: forever). Consumes pending wake-ups.
    void wait(std::chrono::milliseconds timeout = std::chrono::milliseconds(-1));

    // The fd that becomes readable on notify (for poll loops that also watch sockets).
    int event_fd() const { return event_fd_; }

    static RunControl& global();

private:
    std::atomic<bool> shutdown_{false};
    std::atomic<bool> reset_{false};
    std::atomic<int> status_{0};
    std::atomic<int> signal_{0};
    int event_fd_ = -1;
    std::function<void()> kick_;
};

}  // namespace corvid
