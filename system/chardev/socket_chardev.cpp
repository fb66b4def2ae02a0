// Stream chardevs: unix and tcp sockets (client or server, one peer at a time; a server keeps
// listening after its peer leaves, as QEMU's does) and named pipes. One poll thread each.
#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <thread>

#include "system/chardev/chardev_internal.h"

namespace corvid::chardev_detail {
namespace {

std::string errno_text() {
    return strerror(errno);
}

// The poll loop shared by sockets and pipes: a listening fd (optional), the connected input
// and output fds, and a self-pipe that stops the thread.
class StreamChardev : public Chardev {
public:
    StreamChardev() {
        if (pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) wake_[0] = wake_[1] = -1;
    }
    ~StreamChardev() override { close_backend(); }

    void write(const uint8_t* data, size_t size) override {
        std::lock_guard lock(io_mu_);
        if (out_fd_ >= 0) write_all(out_fd_, data, size);
    }
    bool connected() const override {
        std::lock_guard lock(io_mu_);
        return in_fd_ >= 0;
    }
    void close_backend() override {
        if (wake_[1] >= 0) {
            char c = 0;
            ssize_t r = ::write(wake_[1], &c, 1);
            (void)r;
        }
        if (thread_.joinable()) thread_.join();
        std::lock_guard lock(io_mu_);
        drop_peer_locked();
        if (listen_fd_ >= 0) close(listen_fd_);
        listen_fd_ = -1;
        if (!unlink_path_.empty()) unlink(unlink_path_.c_str());
        unlink_path_.clear();
        for (int& fd : wake_) {
            if (fd >= 0) close(fd);
            fd = -1;
        }
    }

protected:
    void start() override {
        thread_ = std::thread([this] { loop(); });
    }

    void set_peer(int in_fd, int out_fd) {
        std::lock_guard lock(io_mu_);
        in_fd_ = in_fd;
        out_fd_ = out_fd;
    }
    void drop_peer_locked() {
        if (in_fd_ >= 0) close(in_fd_);
        if (out_fd_ >= 0 && out_fd_ != in_fd_) close(out_fd_);
        in_fd_ = out_fd_ = -1;
    }

    int listen_fd_ = -1;
    std::string unlink_path_;

private:
    void loop() {
        if (connected()) deliver_opened();
        for (;;) {
            struct pollfd p[2];
            int n = 0;
            p[n++] = {wake_[0], POLLIN, 0};
            int in;
            {
                std::lock_guard lock(io_mu_);
                in = in_fd_;
            }
            if (in >= 0) {
                p[n++] = {in, POLLIN, 0};
            } else if (listen_fd_ >= 0) {
                p[n++] = {listen_fd_, POLLIN, 0};
            } else {
                return;  // a client whose server went away: nothing more to do
            }
            int r = poll(p, nfds_t(n), -1);
            if (r < 0) {
                if (errno == EINTR) continue;
                return;
            }
            if (p[0].revents) return;
            if (!p[1].revents) continue;
            if (in < 0) {
                int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
                if (fd < 0) continue;
                set_peer(fd, fd);
                deliver_opened();
                continue;
            }
            uint8_t buf[4096];
            ssize_t got = ::read(in, buf, sizeof buf);
            if (got < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (got <= 0) {
                {
                    std::lock_guard lock(io_mu_);
                    drop_peer_locked();
                }
                deliver_closed();
                continue;
            }
            deliver(buf, size_t(got));
        }
    }

    mutable std::mutex io_mu_;
    int in_fd_ = -1, out_fd_ = -1;
    int wake_[2] = {-1, -1};
    std::thread thread_;
};

class SocketChardev : public StreamChardev {
public:
    SocketChardev(std::string name, bool server) : name_(std::move(name)), server_(server) {}
    std::string filename() const override { return name_ + (server_ ? ",server=on" : ""); }

    Status listen_unix(const std::string& path, bool wait);
    Status listen_tcp(const std::string& host, const std::string& port, bool wait);
    Status connect_unix(const std::string& path);
    Status connect_tcp(const std::string& host, const std::string& port);

private:
    Status wait_first(bool wait);
    std::string name_;
    bool server_;
};

Status SocketChardev::wait_first(bool wait) {
    if (!wait) return {};
    fmt::print(stderr, "corvid: waiting for connection on: disconnected:{},server=on\n", name_);
    for (;;) {
        struct pollfd p = {listen_fd_, POLLIN, 0};
        int r = poll(&p, 1, -1);
        if (r < 0 && errno == EINTR) continue;
        int fd = accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (fd >= 0) {
            set_peer(fd, fd);
            return {};
        }
        if (errno != EINTR && errno != EAGAIN) return make_error(fmt::format("accept failed: {}", errno_text()));
    }
}

Status SocketChardev::listen_unix(const std::string& path, bool wait) {
    struct sockaddr_un a = {};
    if (path.size() >= sizeof a.sun_path) return make_error(fmt::format("UNIX socket path '{}' is too long", path));
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path, path.c_str(), path.size() + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) return make_error(fmt::format("Failed to create socket: {}", errno_text()));
    unlink(path.c_str());
    if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || listen(fd, 1) != 0) {
        std::string e = errno_text();
        close(fd);
        return make_error(fmt::format("Failed to bind socket to {}: {}", path, e));
    }
    listen_fd_ = fd;
    unlink_path_ = path;
    return wait_first(wait);
}

// Resolves host:port; servers may only bind loopback addresses (see docs/security.md).
Result<addrinfo*> resolve(const std::string& host, const std::string& port, bool server) {
    struct addrinfo hints = {};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    struct addrinfo* res = nullptr;
    std::string h = host.empty() ? "127.0.0.1" : host;
    int r = getaddrinfo(h.c_str(), port.c_str(), &hints, &res);
    if (r != 0 || !res)
        return make_error(fmt::format("address resolution failed for {}:{}: {}", h, port, gai_strerror(r)));
    if (server) {
        bool loopback = false;
        if (res->ai_family == AF_INET) {
            auto* in = reinterpret_cast<sockaddr_in*>(res->ai_addr);
            loopback = (ntohl(in->sin_addr.s_addr) >> 24) == 127;
        } else if (res->ai_family == AF_INET6) {
            auto* in6 = reinterpret_cast<sockaddr_in6*>(res->ai_addr);
            loopback = IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr);
        }
        if (!loopback) {
            freeaddrinfo(res);
            return make_error(fmt::format("tcp server sockets listen on loopback addresses only, not '{}'", h));
        }
    }
    return res;
}

Status SocketChardev::listen_tcp(const std::string& host, const std::string& port, bool wait) {
    auto res = resolve(host, port, true);
    if (!res) return make_error(res.error());
    addrinfo* ai = *res;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    int one = 1;
    if (fd >= 0) setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 1) != 0) {
        std::string e = errno_text();
        if (fd >= 0) close(fd);
        freeaddrinfo(ai);
        return make_error(fmt::format("Failed to bind socket to {}:{}: {}", host, port, e));
    }
    freeaddrinfo(ai);
    listen_fd_ = fd;
    return wait_first(wait);
}

Status SocketChardev::connect_unix(const std::string& path) {
    struct sockaddr_un a = {};
    if (path.size() >= sizeof a.sun_path) return make_error(fmt::format("UNIX socket path '{}' is too long", path));
    a.sun_family = AF_UNIX;
    memcpy(a.sun_path, path.c_str(), path.size() + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return make_error(fmt::format("Failed to create socket: {}", errno_text()));
    if (connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        std::string e = errno_text();
        close(fd);
        return make_error(fmt::format("Failed to connect to '{}': {}", path, e));
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    set_peer(fd, fd);
    return {};
}

Status SocketChardev::connect_tcp(const std::string& host, const std::string& port) {
    auto res = resolve(host, port, false);
    if (!res) return make_error(res.error());
    addrinfo* ai = *res;
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        std::string e = errno_text();
        if (fd >= 0) close(fd);
        freeaddrinfo(ai);
        return make_error(fmt::format("Failed to connect to '{}:{}': {}", host, port, e));
    }
    freeaddrinfo(ai);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    set_peer(fd, fd);
    return {};
}

class PipeChardev : public StreamChardev {
public:
    explicit PipeChardev(std::string path) : path_(std::move(path)) {}
    std::string filename() const override { return "pipe:" + path_; }
    Status open_pipes() {
        std::string in = path_ + ".in", out = path_ + ".out";
        int fin = ::open(in.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
        int fout = ::open(out.c_str(), O_RDWR | O_CLOEXEC);
        if (fin < 0 || fout < 0) {
            if (fin >= 0) close(fin);
            if (fout >= 0) close(fout);
            fin = fout = ::open(path_.c_str(), O_RDWR | O_CLOEXEC | O_NONBLOCK);
            if (fin < 0) return make_error(fmt::format("Could not open '{}': {}", path_, errno_text()));
        }
        set_peer(fin, fout);
        return {};
    }

private:
    std::string path_;
};

}  // namespace

Result<std::unique_ptr<Chardev>> make_socket_chardev(const TypeInfo& type, const OptionList& opts, RunControl&) {
    if (auto st = check_keys(type, opts,
                             {"path", "host", "port", "server", "wait", "nowait", "telnet", "ipv4", "ipv6", "nodelay",
                              "reconnect", "mux", "logfile", "to"});
        !st) {
        return make_error(st.error());
    }
    auto flag = [&](const char* key, bool dflt) -> Result<bool> {
        auto v = opts.get(key);
        if (!v) return dflt;
        return parse_bool_property(key, *v);
    };
    auto server = flag("server", false);
    if (!server) return make_error(server.error());
    auto wait = flag("wait", true);
    if (!wait) return make_error(wait.error());
    bool w = *wait && !opts.has("nowait");
    auto path = opts.get("path");
    auto host = opts.get("host");
    auto port = opts.get("port");
    if (path && (host || port)) return make_error("chardev: socket: 'path' and 'host' are mutually exclusive");
    if (!path && !port) return make_error("chardev: socket: no host given");
    std::string name = path ? "unix:" + *path : fmt::format("tcp:{}:{}", host.value_or(""), *port);
    auto c = std::make_unique<SocketChardev>(name, *server);
    Status st;
    if (path) {
        st = *server ? c->listen_unix(*path, w) : c->connect_unix(*path);
    } else {
        st = *server ? c->listen_tcp(host.value_or(""), *port, w) : c->connect_tcp(host.value_or(""), *port);
    }
    if (!st) return make_error(st.error());
    return std::unique_ptr<Chardev>(std::move(c));
}

Result<std::unique_ptr<Chardev>> make_pipe_chardev(const TypeInfo& type, const OptionList& opts) {
    if (auto st = check_keys(type, opts, {"path", "mux", "logfile"}); !st) return make_error(st.error());
    std::string path = opts.get("path").value_or("");
    if (path.empty()) return make_error("chardev: pipe: no filename given");
    auto c = std::make_unique<PipeChardev>(path);
    if (auto st = c->open_pipes(); !st) return make_error(st.error());
    return std::unique_ptr<Chardev>(std::move(c));
}

}  // namespace corvid::chardev_detail
