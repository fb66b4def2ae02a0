// stdio / null / file character backends. Input is read by a thread into a queue and handed
// to the device only from the vCPU thread (poll_input), so device models stay single-threaded.
#include "system/char_backends.h"

#include <fcntl.h>
#include <poll.h>
#include <termios.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/format.h>

namespace corvid {
namespace {

void write_all(int fd, const uint8_t* data, size_t size) {
    while (size > 0) {
        ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            return;  // the reader went away: drop output, as a serial line would
        }
        data += n;
        size -= size_t(n);
    }
}

class NullBackend : public CharBackend {
public:
    void write(const uint8_t*, size_t) override {}
    void set_receiver(Receiver) override {}
};

class FileBackend : public CharBackend {
public:
    explicit FileBackend(int fd) : fd_(fd) {}
    ~FileBackend() override { close(fd_); }
    void write(const uint8_t* data, size_t size) override { write_all(fd_, data, size); }
    void set_receiver(Receiver) override {}

private:
    int fd_;
};

struct termios g_saved_termios;
bool g_termios_saved = false;

void restore_termios() {
    if (g_termios_saved) tcsetattr(0, TCSANOW, &g_saved_termios);
}

class StdioBackend : public CharBackend {
public:
    explicit StdioBackend(RunControl& rc) : rc_(rc) {}
    ~StdioBackend() override {
        stop_.store(true);
        if (reader_.joinable()) reader_.detach();  // blocked in read(): the process is exiting
    }

    void write(const uint8_t* data, size_t size) override { write_all(1, data, size); }

    void set_receiver(Receiver r) override {
        {
            std::lock_guard lock(mu_);
            receiver_ = std::move(r);
        }
        if (!reader_.joinable()) reader_ = std::thread([this] { read_loop(); });
    }

    void poll_input() override {
        std::lock_guard lock(mu_);
        if (!receiver_.receive) return;
        while (!queue_.empty()) {
            size_t room = receiver_.can_receive ? receiver_.can_receive() : queue_.size();
            if (room == 0) break;
            uint8_t buf[64];
            size_t n = std::min({room, queue_.size(), sizeof buf});
            for (size_t i = 0; i < n; ++i) {
                buf[i] = queue_.front();
                queue_.pop_front();
            }
            receiver_.receive(buf, n);
        }
    }

private:
    void read_loop() {
        uint8_t buf[256];
        bool ctrl_a = false;
        while (!stop_.load()) {
            ssize_t n = ::read(0, buf, sizeof buf);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) return;  // EOF: no more input, as QEMU does
            std::lock_guard lock(mu_);
            for (ssize_t i = 0; i < n; ++i) {
                // Ctrl-A x quits, Ctrl-A Ctrl-A sends one Ctrl-A (QEMU's mux escape) on a terminal.
                if (raw_) {
                    if (ctrl_a) {
                        ctrl_a = false;
                        if (buf[i] == 'x') {
                            fmt::print(stderr, "corvid: Terminated\n");
                            rc_.request_shutdown(0);
                            return;
                        }
                        if (buf[i] != 1) continue;
                    } else if (buf[i] == 1) {
                        ctrl_a = true;
                        continue;
                    }
                }
                queue_.push_back(buf[i]);
            }
            rc_.notify();
        }
    }

    RunControl& rc_;
    std::mutex mu_;
    std::deque<uint8_t> queue_;
    Receiver receiver_;
    std::thread reader_;
    std::atomic<bool> stop_{false};
    bool raw_ = isatty(0);
};

}  // namespace

void stdio_set_raw(bool raw) {
    if (!isatty(0)) return;
    if (raw) {
        if (!g_termios_saved && tcgetattr(0, &g_saved_termios) == 0) {
            g_termios_saved = true;
            atexit(restore_termios);
        }
        struct termios t = g_saved_termios;
        t.c_lflag &= ~tcflag_t(ICANON | ECHO | ISIG | IEXTEN);
        t.c_iflag &= ~tcflag_t(ICRNL | IXON);
        t.c_cc[VMIN] = 1;
        t.c_cc[VTIME] = 0;
        tcsetattr(0, TCSANOW, &t);
    } else {
        restore_termios();
    }
}

Result<std::unique_ptr<CharBackend>> make_serial_backend(const std::string& spec, RunControl& rc) {
    if (spec == "stdio") {
        stdio_set_raw(true);
        return std::unique_ptr<CharBackend>(std::make_unique<StdioBackend>(rc));
    }
    if (spec == "null" || spec == "vc" || spec.rfind("vc:", 0) == 0) {
        return std::unique_ptr<CharBackend>(std::make_unique<NullBackend>());
    }
    if (spec == "none") return std::unique_ptr<CharBackend>();
    if (spec.rfind("file:", 0) == 0) {
        std::string path = spec.substr(5);
        int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
        if (fd < 0) return make_error(fmt::format("could not open '{}': {}", path, strerror(errno)));
        return std::unique_ptr<CharBackend>(std::make_unique<FileBackend>(fd));
    }
    return make_error(fmt::format("'{}' is not a valid char driver", spec));
}

}  // namespace corvid
