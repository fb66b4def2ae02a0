// RunControl: eventfd-based wake-ups and termination signal handling.
#include "base/run_control.h"

#include <poll.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

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

void RunControl::request_shutdown(int status) {
    status_.store(status);
    shutdown_.store(true);
    notify();
}

void RunControl::request_reset() {
    reset_.store(true);
    notify();
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
    if (event_fd_ < 0) return;
    struct pollfd p = {event_fd_, POLLIN, 0};
    int r;
    do {
        r = poll(&p, 1, timeout.count() < 0 ? -1 : int(timeout.count()));
    } while (r < 0 && errno == EINTR && !should_stop());
    uint64_t v;
    while (::read(event_fd_, &v, sizeof v) > 0) {
    }
}

}  // namespace corvid
