// Child-process runner for end-to-end tests.
#include "tests/support/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace corvid::testing {
namespace {

struct Child {
    pid_t pid = -1;
    int in = -1, out = -1, err = -1;
};

Child spawn(const std::vector<std::string>& argv) {
    int pin[2], pout[2], perr[2];
    if (pipe2(pin, O_CLOEXEC) || pipe2(pout, O_CLOEXEC) || pipe2(perr, O_CLOEXEC)) return {};
    pid_t pid = fork();
    if (pid == 0) {
        dup2(pin[0], 0);
        dup2(pout[1], 1);
        dup2(perr[1], 2);
        std::vector<char*> args;
        for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        execv(args[0], args.data());
        _exit(127);
    }
    close(pin[0]);
    close(pout[1]);
    close(perr[1]);
    return {pid, pin[1], pout[0], perr[0]};
}

// Pumps input/output until both outputs close or the deadline passes.
bool pump(Child& c, const std::string& input, ProcessResult& r, std::chrono::steady_clock::time_point deadline) {
    size_t written = 0;
    if (input.empty()) {
        close(c.in);
        c.in = -1;
    }
    while (c.out >= 0 || c.err >= 0) {
        struct pollfd fds[3];
        int n = 0;
        int idx_in = -1, idx_out = -1, idx_err = -1;
        if (c.in >= 0) { idx_in = n; fds[n++] = {c.in, POLLOUT, 0}; }
        if (c.out >= 0) { idx_out = n; fds[n++] = {c.out, POLLIN, 0}; }
        if (c.err >= 0) { idx_err = n; fds[n++] = {c.err, POLLIN, 0}; }
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) return false;
        int pr = poll(fds, nfds_t(n), int(left.count()));
        if (pr < 0 && errno != EINTR) return false;
        if (pr <= 0) continue;
        if (idx_in >= 0 && (fds[idx_in].revents & (POLLOUT | POLLERR | POLLHUP))) {
            ssize_t w = write(c.in, input.data() + written, input.size() - written);
            if (w > 0) written += size_t(w);
            if (w < 0 || written == input.size()) {
                close(c.in);
                c.in = -1;
            }
        }
        char buf[4096];
        struct Stream {
            int idx;
            int* fd;
            std::string* dst;
        };
        for (Stream st : {Stream{idx_out, &c.out, &r.out}, Stream{idx_err, &c.err, &r.err}}) {
            int idx = st.idx;
            int* fd = st.fd;
            std::string* dst = st.dst;
            if (idx >= 0 && (fds[idx].revents & (POLLIN | POLLHUP | POLLERR))) {
                ssize_t rd = read(*fd, buf, sizeof buf);
                if (rd > 0) {
                    dst->append(buf, size_t(rd));
                } else {
                    close(*fd);
                    *fd = -1;
                }
            }
        }
    }
    return true;
}

void reap(Child& c, ProcessResult& r, bool kill_first) {
    if (kill_first) kill(c.pid, SIGKILL);
    int status = 0;
    while (waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status)) r.exit_status = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) r.term_signal = WTERMSIG(status);
    for (int* fd : {&c.in, &c.out, &c.err}) {
        if (*fd >= 0) close(*fd);
        *fd = -1;
    }
}

}  // namespace

ProcessResult run_process(const std::vector<std::string>& argv, const std::string& input,
                          std::chrono::milliseconds timeout) {
    ProcessResult r;
    Child c = spawn(argv);
    if (c.pid < 0) return r;
    bool done = pump(c, input, r, std::chrono::steady_clock::now() + timeout);
    r.timed_out = !done;
    reap(c, r, !done);
    return r;
}

SignalResult run_until_signal(const std::vector<std::string>& argv, std::chrono::milliseconds alive_for, int sig) {
    SignalResult s;
    Child c = spawn(argv);
    if (c.pid < 0) return s;
    close(c.in);
    c.in = -1;
    // Collect output while waiting so the child never blocks on a full pipe.
    ProcessResult early;
    bool ended = pump(c, {}, early, std::chrono::steady_clock::now() + alive_for);
    int status = 0;
    s.still_running_before_signal = !ended && waitpid(c.pid, &status, WNOHANG) == 0;
    if (s.still_running_before_signal) kill(c.pid, sig);
    if (!ended) {
        bool done = pump(c, {}, early, std::chrono::steady_clock::now() + std::chrono::seconds(10));
        early.timed_out = !done;
        reap(c, early, !done);
    } else {
        reap(c, early, false);
    }
    s.result = early;
    return s;
}

std::string binary(const std::string& name) { return std::string(CORVID_BINARY_DIR) + "/" + name; }

bool kvm_available(std::string* why) {
    int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (fd < 0) {
        *why = std::string("/dev/kvm cannot be opened: ") + strerror(errno);
        return false;
    }
    close(fd);
    return true;
}

}  // namespace corvid::testing
