// Virtual clock and timers. The vCPU thread owns the callbacks; the kicker thread only reads
// deadlines (under the mutex) and calls the kick function, which is required to be cheap and
// thread-safe (it stores atomics).
#include "hw/clock.h"

#include <algorithm>
#include <chrono>
#include <ctime>

namespace corvid {

namespace {
// After a kick, the vCPU is expected to run the expired timers soon. If it has not (the kick
// raced with the vCPU entering guest code, or the VM is stopped), kick again after this long,
// doubling up to the maximum so that a stopped VM does not keep the thread busy.
constexpr auto kRekickInterval = std::chrono::milliseconds(10);
constexpr auto kRekickMax = std::chrono::milliseconds(1000);
}  // namespace

VirtualClock::VirtualClock(bool manual) : manual_(manual) { host_origin_ = host_ns(); }

VirtualClock::~VirtualClock() {
    {
        std::lock_guard<std::mutex> lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    if (kicker_.joinable()) kicker_.join();
}

int64_t VirtualClock::host_ns() const {
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

int64_t VirtualClock::now_ns() const {
    if (manual_) return manual_now_.load();
    return host_ns() - host_origin_;
}

void VirtualClock::set_manual(bool manual) {
    if (manual == manual_) return;
    const int64_t now = now_ns();
    std::lock_guard<std::mutex> lock(mu_);
    if (manual) {
        manual_now_.store(now);
    } else {
        host_origin_ = host_ns() - now;
    }
    manual_ = manual;
    generation_++;
    cv_.notify_all();
}

void VirtualClock::advance(int64_t ns) {
    if (!manual_ || ns <= 0) return;
    manual_now_.fetch_add(ns);
    std::function<void()> kick;
    {
        std::lock_guard<std::mutex> lock(mu_);
        const int64_t e = earliest_locked();
        if (e != kNoDeadline && e <= manual_now_.load()) kick = kick_;
    }
    if (kick) kick();
}

VirtualClock::TimerId VirtualClock::add_timer(std::function<void()> callback) {
    std::lock_guard<std::mutex> lock(mu_);
    timers_.push_back(Timer{std::move(callback), kNoDeadline});
    return static_cast<TimerId>(timers_.size() - 1);
}

void VirtualClock::arm(TimerId id, int64_t deadline_ns) {
    std::lock_guard<std::mutex> lock(mu_);
    if (id < 0 || static_cast<size_t>(id) >= timers_.size()) return;
    timers_[id].deadline = std::max<int64_t>(deadline_ns, 0);
    generation_++;
    ensure_kicker_locked();
    cv_.notify_all();
}

void VirtualClock::cancel(TimerId id) {
    std::lock_guard<std::mutex> lock(mu_);
    if (id < 0 || static_cast<size_t>(id) >= timers_.size()) return;
    timers_[id].deadline = kNoDeadline;
    generation_++;
    cv_.notify_all();
}

bool VirtualClock::armed(TimerId id) const { return deadline(id) != kNoDeadline; }

int64_t VirtualClock::deadline(TimerId id) const {
    std::lock_guard<std::mutex> lock(mu_);
    if (id < 0 || static_cast<size_t>(id) >= timers_.size()) return kNoDeadline;
    return timers_[id].deadline;
}

int64_t VirtualClock::earliest_locked() const {
    int64_t e = kNoDeadline;
    for (const Timer& t : timers_) {
        if (t.deadline != kNoDeadline && (e == kNoDeadline || t.deadline < e)) e = t.deadline;
    }
    return e;
}

void VirtualClock::run_expired() {
    // Each round picks the earliest expired timer and disarms it before calling it, so a
    // callback that re-arms its own timer in the past still runs at most once per round, and
    // a bounded number of rounds keeps a misprogrammed device from starving the vCPU.
    for (int round = 0; round < 1000; round++) {
        std::function<void()>* cb = nullptr;
        {
            std::lock_guard<std::mutex> lock(mu_);
            const int64_t now = now_ns();
            int best = -1;
            for (size_t i = 0; i < timers_.size(); i++) {
                const Timer& t = timers_[i];
                if (t.deadline == kNoDeadline || t.deadline > now) continue;
                if (best < 0 || t.deadline < timers_[best].deadline) best = static_cast<int>(i);
            }
            if (best < 0) return;
            timers_[best].deadline = kNoDeadline;
            generation_++;
            // Stable while unlocked: timers are never removed and a deque does not move
            // its elements when add_timer (any thread, e.g. device hotplug) appends.
            cb = &timers_[best].callback;
        }
        cv_.notify_all();
        if (*cb) (*cb)();
    }
}

int64_t VirtualClock::next_deadline_ns() const {
    std::lock_guard<std::mutex> lock(mu_);
    const int64_t e = earliest_locked();
    if (e == kNoDeadline) return kNoDeadline;
    return std::max<int64_t>(e - now_ns(), 0);
}

void VirtualClock::set_kick(std::function<void()> kick) {
    std::lock_guard<std::mutex> lock(mu_);
    kick_ = std::move(kick);
    ensure_kicker_locked();
    generation_++;
    cv_.notify_all();
}

void VirtualClock::ensure_kicker_locked() {
    if (kicker_.joinable() || !kick_ || earliest_locked() == kNoDeadline) return;
    kicker_ = std::thread([this] { kicker_main(); });
}

void VirtualClock::kicker_main() {
    std::unique_lock<std::mutex> lock(mu_);
    auto rekick = kRekickInterval;
    uint64_t last_kicked_gen = ~0ull;
    while (!stop_) {
        const uint64_t gen = generation_;
        if (gen != last_kicked_gen) rekick = kRekickInterval;  // progress since the last kick
        const int64_t e = earliest_locked();
        if (e == kNoDeadline || manual_ || !kick_) {
            // Manual time is advanced by advance(), which kicks by itself.
            cv_.wait(lock, [&] { return stop_ || generation_ != gen; });
            continue;
        }
        const int64_t now = now_ns();
        if (now < e) {
            cv_.wait_for(lock, std::chrono::nanoseconds(e - now), [&] { return stop_ || generation_ != gen; });
            continue;
        }
        std::function<void()> kick = kick_;
        lock.unlock();
        kick();
        lock.lock();
        if (last_kicked_gen == gen) rekick = std::min(rekick * 2, kRekickMax);
        last_kicked_gen = gen;
        cv_.wait_for(lock, rekick, [&] { return stop_ || generation_ != gen; });
    }
}

}  // namespace corvid
