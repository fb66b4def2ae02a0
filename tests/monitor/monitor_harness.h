// Test helpers for the monitor layer: a child emulator process with captured output, unix
// socket clients and listeners with timeouts, and a QMP client that separates events.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <deque>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/subprocess.h"

namespace corvid::testing {

using Json = nlohmann::ordered_json;
using namespace std::chrono_literals;

// A fresh directory for sockets and files.
inline std::string temp_dir() {
    char tmpl[] = "/tmp/corvid-mon-XXXXXX";
    const char* d = mkdtemp(tmpl);
    return d ? d : "/tmp";
}

// A running emulator; stdout/stderr go to files, stdin is a pipe we may write to.
class Child {
public:
    Child(const std::vector<std::string>& argv, const std::string& dir) {
        out_path_ = dir + "/stdout.txt";
        err_path_ = dir + "/stderr.txt";
        int in[2];
        if (pipe2(in, O_CLOEXEC) != 0) return;
        pid_ = fork();
        if (pid_ == 0) {
            dup2(in[0], 0);
            int o = open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            int e = open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            dup2(o, 1);
            dup2(e, 2);
            std::vector<char*> args;
            for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
            args.push_back(nullptr);
            execv(args[0], args.data());
            _exit(127);
        }
        close(in[0]);
        stdin_ = in[1];
    }
    ~Child() {
        if (stdin_ >= 0) close(stdin_);
        if (pid_ > 0 && !exited_) {
            kill(pid_, SIGKILL);
            waitpid(pid_, nullptr, 0);
        }
    }
    void write_stdin(const std::string& s) {
        if (stdin_ >= 0) (void)!::write(stdin_, s.data(), s.size());
    }
    void close_stdin() {
        if (stdin_ >= 0) close(stdin_);
        stdin_ = -1;
    }
    // Waits for the exit; -1 on timeout, -2 when killed by a signal.
    int wait(std::chrono::milliseconds timeout = 10s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int st;
            pid_t r = waitpid(pid_, &st, WNOHANG);
            if (r == pid_) {
                exited_ = true;
                return WIFEXITED(st) ? WEXITSTATUS(st) : -2;
            }
            std::this_thread::sleep_for(10ms);
        }
        return -1;
    }
    bool running() {
        int st;
        return !exited_ && waitpid(pid_, &st, WNOHANG) == 0;
    }
    void signal(int sig) { kill(pid_, sig); }
    std::string out() const { return slurp(out_path_); }
    std::string err() const { return slurp(err_path_); }

private:
    static std::string slurp(const std::string& p) {
        std::ifstream f(p);
        std::stringstream ss;
        ss << f.rdbuf();
        return ss.str();
    }
    pid_t pid_ = -1;
    int stdin_ = -1;
    bool exited_ = false;
    std::string out_path_, err_path_;
};

// A connected stream socket with line reads.
class LineSocket {
public:
    explicit LineSocket(int fd = -1) : fd_(fd) {}
    LineSocket(LineSocket&& o) noexcept : fd_(o.fd_), buf_(std::move(o.buf_)) { o.fd_ = -1; }
    LineSocket& operator=(LineSocket&& o) noexcept {
        if (this != &o) {
            if (fd_ >= 0) close(fd_);
            fd_ = o.fd_;
            buf_ = std::move(o.buf_);
            o.fd_ = -1;
        }
        return *this;
    }
    ~LineSocket() {
        if (fd_ >= 0) close(fd_);
    }
    bool ok() const { return fd_ >= 0; }

    // Connects to a unix socket, retrying until the server is up.
    static LineSocket connect_unix(const std::string& path, std::chrono::milliseconds timeout = 5s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            struct sockaddr_un a = {};
            a.sun_family = AF_UNIX;
            strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
            if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return LineSocket(fd);
            close(fd);
            std::this_thread::sleep_for(20ms);
        }
        return LineSocket();
    }
    static LineSocket connect_tcp(int port, std::chrono::milliseconds timeout = 5s);

    void send(const std::string& s) {
        size_t off = 0;
        while (off < s.size()) {
            ssize_t n = ::write(fd_, s.data() + off, s.size() - off);
            if (n <= 0) return;
            off += size_t(n);
        }
    }
    // One line without "\r\n"; nullopt-like empty + false on timeout or EOF.
    bool read_line(std::string* line, std::chrono::milliseconds timeout = 5s) {
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            size_t nl = buf_.find('\n');
            if (nl != std::string::npos) {
                *line = buf_.substr(0, nl);
                if (!line->empty() && line->back() == '\r') line->pop_back();
                buf_.erase(0, nl + 1);
                return true;
            }
            auto left =
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
            if (left.count() <= 0) return false;
            struct pollfd p = {fd_, POLLIN, 0};
            if (poll(&p, 1, int(left.count())) <= 0) continue;
            char tmp[4096];
            ssize_t n = ::read(fd_, tmp, sizeof tmp);
            if (n <= 0) return false;
            buf_.append(tmp, size_t(n));
        }
    }
    // Everything that arrives within `quiet` of silence (for prompts without newline).
    std::string read_available(std::chrono::milliseconds quiet = 300ms) {
        std::string out;
        std::swap(out, buf_);
        for (;;) {
            struct pollfd p = {fd_, POLLIN, 0};
            if (poll(&p, 1, int(quiet.count())) <= 0) return out;
            char tmp[4096];
            ssize_t n = ::read(fd_, tmp, sizeof tmp);
            if (n <= 0) return out;
            out.append(tmp, size_t(n));
        }
    }
    bool eof(std::chrono::milliseconds timeout = 5s) {
        struct pollfd p = {fd_, POLLIN, 0};
        if (poll(&p, 1, int(timeout.count())) <= 0) return false;
        char c;
        return ::read(fd_, &c, 1) == 0;
    }

private:
    int fd_;
    std::string buf_;
};

inline LineSocket LineSocket::connect_tcp(int port, std::chrono::milliseconds timeout) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_in a = {};
        a.sin_family = AF_INET;
        a.sin_port = htons(uint16_t(port));
        a.sin_addr.s_addr = htonl(0x7f000001);
        if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) return LineSocket(fd);
        close(fd);
        std::this_thread::sleep_for(20ms);
    }
    return LineSocket();
}

// A listening unix socket (the qtest side: the emulator connects to it).
class Listener {
public:
    explicit Listener(const std::string& path) {
        fd_ = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        struct sockaddr_un a = {};
        a.sun_family = AF_UNIX;
        strncpy(a.sun_path, path.c_str(), sizeof a.sun_path - 1);
        unlink(path.c_str());
        if (bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd_, 4) != 0) {
            close(fd_);
            fd_ = -1;
        }
    }
    ~Listener() {
        if (fd_ >= 0) close(fd_);
    }
    LineSocket accept(std::chrono::milliseconds timeout = 5s) {
        struct pollfd p = {fd_, POLLIN, 0};
        if (fd_ < 0 || poll(&p, 1, int(timeout.count())) <= 0) return LineSocket();
        return LineSocket(::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC));
    }

private:
    int fd_ = -1;
};

// A free loopback TCP port (bound and released; a small race is acceptable in tests).
inline int free_tcp_port() {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7f000001);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    int port = ntohs(a.sin_port);
    close(fd);
    return port;
}

// QMP over a LineSocket: replies and events apart.
class QmpClient {
public:
    explicit QmpClient(LineSocket s) : s_(std::move(s)) {}
    bool ok() const { return s_.ok(); }
    LineSocket& socket() { return s_; }

    // The next JSON line (events included); null on timeout.
    Json next(std::chrono::milliseconds timeout = 5s) {
        std::string line;
        if (!s_.read_line(&line, timeout)) return nullptr;
        return Json::parse(line, nullptr, false);
    }
    // The next reply (return/error), queuing events on the way.
    Json reply(std::chrono::milliseconds timeout = 5s) {
        for (;;) {
            Json j = next(timeout);
            if (j.is_null() || !j.is_object() || !j.contains("event")) return j;
            events_.push_back(j);
        }
    }
    Json cmd(const std::string& text) {
        s_.send(text + "\n");
        return reply();
    }
    Json cmd_json(const Json& request) { return cmd(request.dump()); }
    // An event by name: queued ones first, then waits.
    Json event(const std::string& name, std::chrono::milliseconds timeout = 5s) {
        for (auto it = events_.begin(); it != events_.end(); ++it) {
            if ((*it)["event"] == name) {
                Json e = *it;
                events_.erase(it);
                return e;
            }
        }
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            Json j = next(
                std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()));
            if (j.is_null()) break;
            if (j.is_object() && j.value("event", "") == name) return j;
            if (j.is_object() && j.contains("event")) events_.push_back(j);
        }
        return nullptr;
    }
    // Greeting + qmp_capabilities.
    bool negotiate() {
        Json g = next();
        if (!g.is_object() || !g.contains("QMP")) return false;
        Json r = cmd(R"({"execute": "qmp_capabilities"})");
        return r.is_object() && r.contains("return");
    }

private:
    LineSocket s_;
    std::deque<Json> events_;
};

inline std::vector<std::string> argv_of(const std::string& bin, std::vector<std::string> args) {
    std::vector<std::string> v{binary(bin)};
    for (auto& a : args) v.push_back(std::move(a));
    return v;
}

// An emulator child with a QMP server socket (negotiated) and, with `with_qtest`, the qtest
// connection it makes to us at start-up (`-qtest unix:PATH`).
struct QmpVm {
    std::string dir = temp_dir();
    std::unique_ptr<Listener> qtest_listener;
    std::unique_ptr<Child> child;
    std::unique_ptr<QmpClient> qmp;
    LineSocket qtest;
    bool negotiated = false;
    std::vector<std::string> irqs;  // asynchronous qtest "IRQ ..." lines seen so far

    QmpVm(const std::string& bin, std::vector<std::string> args, bool with_qtest = false) {
        if (with_qtest) {
            qtest_listener = std::make_unique<Listener>(dir + "/qtest.sock");
            args.insert(args.end(), {"-qtest", "unix:" + dir + "/qtest.sock"});
        }
        args.insert(args.end(), {"-qmp", "unix:" + dir + "/qmp.sock,server=on,wait=off", "-display", "none"});
        child = std::make_unique<Child>(argv_of(bin, args), dir);
        if (with_qtest) qtest = qtest_listener->accept();
        qmp = std::make_unique<QmpClient>(LineSocket::connect_unix(dir + "/qmp.sock"));
        negotiated = qmp->negotiate();
    }
    Json cmd(const std::string& text) { return qmp->cmd(text); }
    // A qtest command's reply; asynchronous IRQ lines before it are collected, as libqtest does.
    std::string qt(const std::string& line) {
        qtest.send(line + "\n");
        for (std::string reply; qtest.read_line(&reply);) {
            if (reply.rfind("IRQ ", 0) != 0) return reply;
            irqs.push_back(reply);
        }
        return "<timeout>";
    }
};

}  // namespace corvid::testing
