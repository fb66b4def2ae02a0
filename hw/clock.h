// The board's virtual clock (ns) and device timers: callbacks run only in the vCPU thread
// (Machine::poll_devices), and a small kicker thread wakes the vCPU when a deadline passes.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <deque>
#include <mutex>
#include <thread>

namespace corvid {

class VirtualClock {
public:
    using TimerId = int;
    static constexpr int64_t kNoDeadline = -1;

    // `manual`: time moves only through advance() (qtest's clock_step); otherwise it follows
    // the host's monotonic clock from the moment the clock was created.
    explicit VirtualClock(bool manual = false);
    ~VirtualClock();
    VirtualClock(const VirtualClock&) = delete;
    VirtualClock& operator=(const VirtualClock&) = delete;

    int64_t now_ns() const;
    bool manual() const { return manual_.load(); }
    // Switches to manual mode keeping the current time (qtest enables it before the run).
    void set_manual(bool manual);
    // Manual mode only (ignored otherwise): moves time forward and kicks if a deadline passed.
    void advance(int64_t ns);

    // Timers. A timer is armed with an absolute deadline on this clock; when it expires its
    // callback runs (once) from run_expired(). Callbacks may re-arm or cancel timers.
    TimerId add_timer(std::function<void()> callback);
    void arm(TimerId id, int64_t deadline_ns);
    void cancel(TimerId id);
    bool armed(TimerId id) const;
    int64_t deadline(TimerId id) const;  // kNoDeadline when not armed

    // Runs the callbacks of every expired timer, in deadline order. vCPU thread only.
    void run_expired();
    // Nanoseconds until the earliest deadline (0 if already passed), kNoDeadline if none.
    int64_t next_deadline_ns() const;

    // The function the kicker thread calls when the earliest deadline passes (usually
    // Machine::kick_cpu). The thread starts with the first armed timer. Null: no kicking.
    void set_kick(std::function<void()> kick);

private:
    struct Timer {
        std::function<void()> callback;
        int64_t deadline = kNoDeadline;
    };

    int64_t host_ns() const;
    int64_t earliest_locked() const;
    void kicker_main();
    void ensure_kicker_locked();

    std::atomic<bool> manual_;
    int64_t host_origin_ = 0;
    std::atomic<int64_t> manual_now_{0};

    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::deque<Timer> timers_;  // never shrinks; a deque keeps elements in place as it grows
    std::function<void()> kick_;
    bool stop_ = false;
    uint64_t generation_ = 0;  // bumped whenever deadlines change: the kicker re-evaluates
    std::thread kicker_;
};

}  // namespace corvid
