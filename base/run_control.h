// Process-wide run state: shutdown/reset requests, termination signals, and the idle wait
// that a halted vCPU (or a CPU-less accelerator) sleeps in without using CPU.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>

namespace corvid {

// Why the run resets or ends: QMP's ShutdownCause, the "reason" of RESET and SHUTDOWN events.
enum class ShutdownCause : uint8_t {
    kNone,
    kHostError,
    kHostQmpQuit,
    kHostQmpSystemReset,
    kHostSignal,
    kHostUi,
    kGuestShutdown,
    kGuestReset,
    kGuestPanic,
    kSubsystemReset,
};
const char* shutdown_cause_name(ShutdownCause cause);  // "guest-reset", "host-qmp-quit", ...
bool shutdown_cause_is_guest(ShutdownCause cause);     // the events' "guest" member

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
    // Without a cause: the guest asked (guest-shutdown / guest-reset). The first shutdown
    // request's cause is kept.
    void request_shutdown(int status, ShutdownCause cause = ShutdownCause::kGuestShutdown);
    void request_reset(ShutdownCause cause = ShutdownCause::kGuestReset);
    ShutdownCause shutdown_cause() const { return shutdown_cause_.load(); }
    ShutdownCause reset_cause() const { return reset_cause_.load(); }
    // -no-reboot: a reset request (other than a subsystem reset) ends the run instead, with
    // the reset's cause as the shutdown cause (QEMU's SHUTDOWN "reason": "guest-reset").
    void set_no_reboot(bool no_reboot) { no_reboot_.store(no_reboot); }
    // Told when an accelerator performs a requested reset (clear_reset()), in that thread;
    // the monitors turn it into the RESET event. One listener; empty removes it.
    void set_reset_listener(std::function<void(ShutdownCause)> listener);
    // Async-signal-safe.
    void request_terminate(int signal);

    bool shutdown_requested() const { return shutdown_.load(); }
    bool reset_requested() const { return reset_.load(); }
    // The accelerator performs the pending reset now: clears the request and tells the
    // listener (QEMU reports RESET when the reset happens, not when it is requested).
    void clear_reset();
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

    // --- Monitor hand-off (QMP/HMP/qtest; see system/monitor/README.md) ---
    // An accelerator whose loop calls service() between guest runs says so with
    // set_vcpu_service(true) (and false when its loop ends, which runs what is still queued).
    void set_vcpu_service(bool serving);
    // vCPU thread, between runs: runs queued monitor jobs; while paused, sleeps here (still
    // running jobs) until resumed or told to stop.
    void service();
    // Runs fn with the machine quiescent and waits for it: in the vCPU thread when a loop
    // serves, else in the caller's thread under the machine mutex (no vCPU touches devices).
    void run_on_vcpu(const std::function<void()>& fn);
    // stop / cont: the vCPU stays in service() while paused.
    void pause();
    void resume();
    bool paused() const { return paused_.load(); }

private:
    struct Job {
        const std::function<void()>* fn;
        bool done = false;
    };
    void run_jobs_locked(std::unique_lock<std::mutex>& lock);

    std::mutex jobs_mu_;
    std::condition_variable jobs_cv_;
    std::deque<Job*> jobs_;
    bool serving_ = false;
    std::thread::id vcpu_thread_;
    std::mutex machine_mu_;  // serialises direct execution when no vCPU loop serves
    std::atomic<bool> paused_{false};

    std::atomic<bool> shutdown_{false};
    std::atomic<bool> reset_{false};
    std::atomic<ShutdownCause> shutdown_cause_{ShutdownCause::kNone};
    std::atomic<ShutdownCause> reset_cause_{ShutdownCause::kNone};
    std::atomic<bool> no_reboot_{false};
    std::mutex listener_mu_;
    std::function<void(ShutdownCause)> reset_listener_;
    std::atomic<int> status_{0};
    std::atomic<int> signal_{0};
    int event_fd_ = -1;
    std::function<void()> kick_;
};

}  // namespace corvid
