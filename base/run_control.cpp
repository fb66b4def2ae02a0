// RunControl: eventfd-based wake-ups and termination signal handling.
#include "base/run_control.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>


namespace corvid {

RunControl::RunControl() { event_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); }

RunControl::~RunControl() {
    if (event_fd_ >= 0) close(event_fd_);
}

RunControl& RunControl::global() {
    static RunControl rc;
    return rc;
}

namespace {
void on_signal(int sig) { RunControl::global().request_terminate(sig); }
}  // namespace

void RunControl::install_signal_handlers() {
    struct sigaction sa = {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, nullptr);
    sigaction(SIGTERM, &sa, nullptr);
    sigaction(SIGHUP, &sa, nullptr);
    signal(SIGPIPE, SIG_IGN);
}

const char* shutdown_cause_name(ShutdownCause cause) {
    switch (cause) {
        case ShutdownCause::kNone: return "none";
        case ShutdownCause::kHostError: return "host-error";
        case ShutdownCause::kHostQmpQuit: return "host-qmp-quit";
        case ShutdownCause::kHostQmpSystemReset: return "host-qmp-system-reset";
        case ShutdownCause::kHostSignal: return "host-signal";
        case ShutdownCause::kHostUi: return "host-ui";
        case ShutdownCause::kGuestShutdown: return "guest-shutdown";
        case ShutdownCause::kGuestReset: return "guest-reset";
        case ShutdownCause::kGuestPanic: return "guest-panic";
        case ShutdownCause::kSubsystemReset: return "subsystem-reset";
    }
    return "none";
}

bool shutdown_cause_is_guest(ShutdownCause cause) {
    return cause == ShutdownCause::kGuestShutdown || cause == ShutdownCause::kGuestReset ||
           cause == ShutdownCause::kGuestPanic;
}

void RunControl::request_shutdown(int status, ShutdownCause cause) {
    status_.store(status);
    ShutdownCause none = ShutdownCause::kNone;
    shutdown_cause_.compare_exchange_strong(none, cause);
    shutdown_.store(true);
    notify();
}

void RunControl::request_reset(ShutdownCause cause) {
    if (no_reboot_.load() && cause != ShutdownCause::kSubsystemReset) {
        request_shutdown(0, cause);
        return;
    }
    reset_cause_.store(cause);
    reset_.store(true);
    notify();
}

void RunControl::set_reset_listener(std::function<void(ShutdownCause)> listener) {
    std::lock_guard lock(listener_mu_);
    reset_listener_ = std::move(listener);
}

void RunControl::clear_reset() {
    if (!reset_.exchange(false)) return;
    std::function<void(ShutdownCause)> listener;
    {
        std::lock_guard lock(listener_mu_);
        listener = reset_listener_;
    }
    if (listener) listener(reset_cause_.load());
}

void RunControl::request_terminate(int sig) {
    int expected = 0;
    signal_.compare_exchange_strong(expected, sig);
    notify();
}

void RunControl::set_kick(std::function<void()> kick) { kick_ = std::move(kick); }

void RunControl::notify() {
    if (event_fd_ >= 0) {
        uint64_t one = 1;
        ssize_t r = ::write(event_fd_, &one, sizeof one);
        (void)r;
    }
    if (kick_) kick_();
}

void RunControl::wait(std::chrono::milliseconds timeout) {
    // A stop request is sticky: never sleep once one is pending (its wake-up may already
    // have been consumed by an earlier wait).
    if (event_fd_ < 0 || should_stop()) return;
    struct pollfd p = {event_fd_, POLLIN, 0};
    // A signal (EINTR) ends the wait too: callers re-check their conditions and wait again.
    (void)poll(&p, 1, timeout.count() < 0 ? -1 : int(timeout.count()));
    uint64_t v;
    while (::read(event_fd_, &v, sizeof v) > 0) {
    }
}

namespace {
// Set while this thread runs a monitor job: nested run_on_vcpu calls run at once.
thread_local bool tl_in_job = false;

struct InJob {
    bool saved = tl_in_job;
    InJob() { tl_in_job = true; }
    ~InJob() { tl_in_job = saved; }
};
}  // namespace

void RunControl::set_vcpu_service(bool serving) {
    std::unique_lock lock(jobs_mu_);
    serving_ = serving;
    vcpu_thread_ = std::this_thread::get_id();
    if (!serving) run_jobs_locked(lock);
}

void RunControl::run_jobs_locked(std::unique_lock<std::mutex>& lock) {
    while (!jobs_.empty()) {
        Job* job = jobs_.front();
        jobs_.pop_front();
        lock.unlock();
        {
            std::lock_guard machine(machine_mu_);
            InJob in_job;
            (*job->fn)();
        }
        lock.lock();
        job->done = true;
        jobs_cv_.notify_all();
    }
}

void RunControl::service() {
    for (;;) {
        {
            std::unique_lock lock(jobs_mu_);
            run_jobs_locked(lock);
        }
        if (!paused_.load() || should_stop()) return;
        wait(std::chrono::milliseconds(100));
    }
}

void RunControl::run_on_vcpu(const std::function<void()>& fn) {
    if (tl_in_job) {
        fn();
        return;
    }
    std::unique_lock lock(jobs_mu_);
    if (!serving_ || std::this_thread::get_id() == vcpu_thread_) {
        lock.unlock();
        std::lock_guard machine(machine_mu_);
        InJob in_job;
        fn();
        return;
    }
    Job job{&fn};
    jobs_.push_back(&job);
    lock.unlock();
    notify();
    lock.lock();
    jobs_cv_.wait(lock, [&] { return job.done; });
}

void RunControl::pause() {
    paused_.store(true);
    notify();
}

void RunControl::resume() {
    paused_.store(false);
    notify();
}

}  // namespace corvid
