// -netdev socket (TCP listen/connect with QEMU's length-prefixed framing, UDP datagrams;
// loopback only), -netdev hubport, -object filter-dump (pcap), their types and -nic.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <cstdio>
#include <cstring>
#include <thread>

#include <fmt/format.h>

#include "hw/net/net_backend.h"
#include "policy/policy.h"

namespace corvid {

namespace {

constexpr const char* kTypeNetdevSocket = "netdev-socket";
constexpr const char* kTypeNetdevHubport = "netdev-hubport";
constexpr const char* kTypeFilterDump = "filter-dump";

// "host:port" with a loopback host (empty means loopback too: we never listen on the network).
Result<sockaddr_in> parse_loopback(const std::string& what, const std::string& text) {
    const size_t colon = text.rfind(':');
    if (colon == std::string::npos) return make_error(fmt::format("netdev socket: {}='{}' is not host:port", what, text));
    std::string host = text.substr(0, colon);
    const std::string port_text = text.substr(colon + 1);
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (port_text.empty() || ec != std::errc() || p != port_text.data() + port_text.size() || port > 65535) {
        return make_error(fmt::format("netdev socket: {}='{}' has a bad port", what, text));
    }
    if (host.empty() || host == "localhost") host = "127.0.0.1";
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host.c_str(), &a.sin_addr) != 1) {
        return make_error(fmt::format("netdev socket: {}='{}': host must be a numeric IPv4 address", what, text));
    }
    if ((ntohl(a.sin_addr.s_addr) >> 24) != 127) {
        return make_error(fmt::format("netdev socket: {}='{}': only loopback addresses (127.0.0.0/8) are allowed", what, text));
    }
    return a;
}

bool write_all(int fd, const uint8_t* data, size_t len) {
    while (len) {
        const ssize_t n = ::send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) return false;
        data += n;
        len -= static_cast<size_t>(n);
    }
    return true;
}

// A reader thread per backend turns socket input into queued frames; transmit writes
// directly from the vCPU thread (blocking TCP writes are acceptable for a loopback peer).
class SocketBackend : public NetBackend {
public:
    enum class Mode { kListen, kConnect, kUdp };

    SocketBackend() : NetBackend("socket") {}
    ~SocketBackend() override {
        stop_ = true;
        if (wake_pipe_[1] >= 0) (void)!::write(wake_pipe_[1], "x", 1);
        if (thread_.joinable()) thread_.join();
        for (int fd : {conn_.load(), listen_fd_, wake_pipe_[0], wake_pipe_[1]}) {
            if (fd >= 0) ::close(fd);
        }
    }

    Status open(const OptionList& o) {
        auto listen = o.get("listen"), connect = o.get("connect"), udp = o.get("udp"), local = o.get("localaddr");
        if (o.get("mcast") || o.get("fd")) return make_error("netdev socket: only listen=, connect= and udp= are supported");
        const int modes = !!listen + !!connect + !!udp;
        if (modes != 1) return make_error("netdev socket: exactly one of listen=, connect= and udp= is required");
        if (::pipe2(wake_pipe_, O_CLOEXEC) != 0) return make_error("netdev socket: pipe failed");
        if (listen) {
            auto a = parse_loopback("listen", *listen);
            if (!a) return make_error(a.error());
            listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            int one = 1;
            (void)setsockopt(listen_fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
            if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&*a), sizeof *a) != 0 ||
                ::listen(listen_fd_, 1) != 0) {
                return make_error(fmt::format("netdev socket: cannot listen on {}: {}", *listen, std::strerror(errno)));
            }
            mode_ = Mode::kListen;
        } else if (connect) {
            auto a = parse_loopback("connect", *connect);
            if (!a) return make_error(a.error());
            const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
            if (fd < 0 || ::connect(fd, reinterpret_cast<sockaddr*>(&*a), sizeof *a) != 0) {
                const std::string err = std::strerror(errno);
                if (fd >= 0) ::close(fd);
                return make_error(fmt::format("netdev socket: cannot connect to {}: {}", *connect, err));
            }
            conn_ = fd;
            mode_ = Mode::kConnect;
        } else {
            if (!local) return make_error("netdev socket: udp= needs localaddr=");
            auto peer = parse_loopback("udp", *udp);
            if (!peer) return make_error(peer.error());
            auto me = parse_loopback("localaddr", *local);
            if (!me) return make_error(me.error());
            udp_peer_ = *peer;
            const int fd = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&*me), sizeof *me) != 0) {
                const std::string err = std::strerror(errno);
                if (fd >= 0) ::close(fd);
                return make_error(fmt::format("netdev socket: cannot bind {}: {}", *local, err));
            }
            conn_ = fd;
            mode_ = Mode::kUdp;
        }
        thread_ = std::thread([this] { reader(); });
        return {};
    }

protected:
    void transmit(const uint8_t* data, size_t len) override {
        const int fd = conn_.load();
        if (fd < 0) return;  // no peer yet: the frame is lost, as on a cable with nothing attached
        if (mode_ == Mode::kUdp) {
            (void)::sendto(fd, data, len, MSG_NOSIGNAL, reinterpret_cast<const sockaddr*>(&udp_peer_), sizeof udp_peer_);
            return;
        }
        uint8_t hdr[4];
        const uint32_t be = htonl(static_cast<uint32_t>(len));
        std::memcpy(hdr, &be, 4);
        std::lock_guard<std::mutex> lock(write_mu_);
        if (!write_all(fd, hdr, 4) || !write_all(fd, data, len)) {
            (void)::shutdown(fd, SHUT_RDWR);  // the reader notices and drops the connection
        }
    }

private:
    // Waits for readability of `fd` or the stop pipe. False on stop.
    bool wait_readable(int fd) {
        pollfd p[2] = {{fd, POLLIN, 0}, {wake_pipe_[0], POLLIN, 0}};
        while (!stop_) {
            const int n = ::poll(p, 2, -1);
            if (n < 0 && errno == EINTR) continue;
            if (n < 0 || (p[1].revents & POLLIN)) return false;
            if (p[0].revents) return true;
        }
        return false;
    }

    // Reads exactly `len` bytes; false on EOF, error or stop.
    bool read_exact(int fd, uint8_t* buf, size_t len) {
        while (len) {
            if (!wait_readable(fd)) return false;
            const ssize_t n = ::recv(fd, buf, len, 0);
            if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
            if (n <= 0) return false;
            buf += n;
            len -= static_cast<size_t>(n);
        }
        return true;
    }

    void reader() {
        std::vector<uint8_t> buf(kNetMaxFrame);
        while (!stop_) {
            if (mode_ == Mode::kListen && conn_.load() < 0) {
                if (!wait_readable(listen_fd_)) return;
                const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
                if (fd >= 0) conn_ = fd;
                continue;
            }
            const int fd = conn_.load();
            if (fd < 0) return;
            if (mode_ == Mode::kUdp) {
                if (!wait_readable(fd)) return;
                const ssize_t n = ::recv(fd, buf.data(), buf.size(), 0);
                if (n > 0) enqueue(buf.data(), static_cast<size_t>(n));
                continue;
            }
            uint8_t hdr[4];
            uint32_t len = 0;
            bool ok = read_exact(fd, hdr, 4);
            if (ok) {
                std::memcpy(&len, hdr, 4);
                len = ntohl(len);
                // The peer is untrusted too: a length beyond any frame ends the connection
                // instead of sizing a host allocation.
                ok = len > 0 && len <= kNetMaxFrame && read_exact(fd, buf.data(), len);
            }
            if (!ok) {
                if (stop_) return;
                drop_connection();
                if (mode_ == Mode::kConnect) return;  // QEMU does not reconnect either
                continue;
            }
            enqueue(buf.data(), len);
        }
    }

    void drop_connection() {
        std::lock_guard<std::mutex> lock(write_mu_);
        const int fd = conn_.exchange(-1);
        if (fd >= 0) ::close(fd);
    }

    Mode mode_ = Mode::kListen;
    int listen_fd_ = -1;
    std::atomic<int> conn_{-1};
    int wake_pipe_[2] = {-1, -1};
    sockaddr_in udp_peer_{};
    std::atomic<bool> stop_{false};
    std::mutex write_mu_;
    std::thread thread_;
};

class HubportBackend : public NetBackend {
public:
    HubportBackend(NetRegistry& net, int hub) : NetBackend("hubport"), net_(net), hub_(hub) { net_.join_hub(hub_, this); }
    ~HubportBackend() override { net_.leave_hub(hub_, this); }

protected:
    void transmit(const uint8_t* data, size_t len) override { net_.hub_forward(hub_, this, data, len); }

private:
    NetRegistry& net_;
    int hub_;
};

// pcap (microsecond timestamps, LINKTYPE_ETHERNET), as QEMU's filter-dump writes it.
class FilterDump : public Object, public NetTap {
public:
    ~FilterDump() override {
        if (!netdev_.empty()) NetRegistry::global().remove_tap(netdev_, this);
        if (file_) std::fclose(file_);
    }

    Status open(const OptionList& o) {
        auto netdev = o.get("netdev"), file = o.get("file");
        if (!netdev || netdev->empty()) return make_error("Parameter 'netdev' is missing");
        if (!file || file->empty()) return make_error("Parameter 'file' is missing");
        for (const auto& [k, v] : o.items) {
            if (k == "netdev" || k == "file" || k == "id" || k == "qom-type" || k == "maxlen" || k == "queue") continue;
            return make_error(fmt::format("Property 'filter-dump.{}' not found", k));
        }
        if (auto m = o.get("maxlen")) {
            unsigned v = 0;
            auto [p, ec] = std::from_chars(m->data(), m->data() + m->size(), v);
            if (ec != std::errc() || p != m->data() + m->size() || v == 0) return make_error("filter-dump: bad maxlen");
            snaplen_ = std::min<unsigned>(v, kNetMaxFrame);
        }
        file_ = std::fopen(file->c_str(), "wb");
        if (!file_) return make_error(fmt::format("filter-dump: cannot open '{}': {}", *file, std::strerror(errno)));
        const uint32_t hdr[6] = {0xa1b2c3d4u, 0x00040002u, 0, 0, snaplen_, 1};  // v2.4, LINKTYPE_ETHERNET
        std::fwrite(hdr, sizeof hdr, 1, file_);
        std::fflush(file_);
        netdev_ = *netdev;
        NetRegistry::global().add_tap(netdev_, this);
        return {};
    }

    void frame(NetDirection, const uint8_t* data, size_t len) override {
        std::lock_guard<std::mutex> lock(mu_);
        if (!file_) return;
        timeval tv{};
        gettimeofday(&tv, nullptr);
        const uint32_t caplen = static_cast<uint32_t>(std::min<size_t>(len, snaplen_));
        const uint32_t rec[4] = {static_cast<uint32_t>(tv.tv_sec), static_cast<uint32_t>(tv.tv_usec), caplen,
                                 static_cast<uint32_t>(len)};
        std::fwrite(rec, sizeof rec, 1, file_);
        std::fwrite(data, 1, caplen, file_);
        std::fflush(file_);
    }

private:
    std::mutex mu_;
    std::FILE* file_ = nullptr;
    std::string netdev_;
    uint32_t snaplen_ = 65535;
};

void add_type(TypeRegistry& r, const char* name, const char* short_name, const char* parent, const char* desc,
              Security sec, Factory f) {
    if (r.find(name)) return;
    TypeInfo t;
    t.name = name;
    if (short_name) t.short_name = short_name;
    t.parent = parent;
    t.description = desc;
    t.security = sec;
    t.factory = std::move(f);
    (void)r.add(std::move(t));
}

Result<int> parse_hubid(const OptionList& o) {
    auto h = o.get("hubid");
    if (!h) return make_error("Parameter 'hubid' is missing");
    int v = 0;
    auto [p, ec] = std::from_chars(h->data(), h->data() + h->size(), v);
    if (h->empty() || ec != std::errc() || p != h->data() + h->size() || v < 0) {
        return make_error(fmt::format("Parameter 'hubid' expects int32, not '{}'", *h));
    }
    return v;
}

}  // namespace

void register_net_backend_types(TypeRegistry& r) {
    add_type(r, kTypeNetdevSocket, "socket", kTypeNetdev,
             "frames over a loopback TCP (listen=/connect=) or UDP (udp=,localaddr=) socket",
             // The peer is treated as hostile (bounded framing, no host allocation it sizes) and
             // only loopback addresses are accepted.
             Security::kSecure, [](const TypeInfo&, const OptionList& o) -> Result<std::unique_ptr<Object>> {
                 auto b = std::make_unique<SocketBackend>();
                 if (auto st = b->open(o); !st) return make_error(st.error());
                 return std::unique_ptr<Object>(std::move(b));
             });
    add_type(r, kTypeNetdevHubport, "hubport", kTypeNetdev, "a port of a virtual hub (hubid=)", Security::kSecure,
             [](const TypeInfo&, const OptionList& o) -> Result<std::unique_ptr<Object>> {
                 if (o.get("netdev")) return make_error("netdev hubport: netdev= is not supported");
                 auto hub = parse_hubid(o);
                 if (!hub) return make_error(hub.error());
                 return std::unique_ptr<Object>(std::make_unique<HubportBackend>(NetRegistry::global(), *hub));
             });
    add_type(r, kTypeFilterDump, nullptr, kTypeObject, "write a netdev's frames to a pcap file (netdev=, file=)",
             // The guest decides how much is written to a host file: unbounded disk use.
             Security::kInsecure, [](const TypeInfo&, const OptionList& o) -> Result<std::unique_ptr<Object>> {
                 auto f = std::make_unique<FilterDump>();
                 if (auto st = f->open(o); !st) return make_error(st.error());
                 return std::unique_ptr<Object>(std::move(f));
             });
}

Status net_add_netdev(const OptionList& opts, TypeRegistry& types, Policy& policy, NetRegistry& net) {
    std::string kind = opts.get("type").value_or("");
    // A leading bare word is the type when the caller parsed without an implied key.
    if (kind.empty() && !opts.items.empty() && opts.items[0].second.empty()) kind = opts.items[0].first;
    if (kind.empty()) return make_error("Parameter 'type' is missing");
    const std::string id = opts.get("id").value_or("");
    if (id.empty()) return make_error("Parameter 'id' is missing");
    const TypeInfo* t = types.find(std::string("netdev-") + kind);
    if (!t || !types.is_a(*t, kTypeNetdev)) {
        return make_error(fmt::format("Parameter 'type' does not accept value '{}'", kind));
    }
    if (net.find(id)) return make_error(fmt::format("Duplicate ID '{}' for netdev", id));
    if (auto st = policy.check(*t); !st) return st;
    // Hubports join the hub of `net`; the type's factory uses the global one, so build
    // hubports here for a non-global table (tests).
    std::unique_ptr<Object> obj;
    if (kind == "hubport" && &net != &NetRegistry::global()) {
        auto hub = parse_hubid(opts);
        if (!hub) return make_error(hub.error());
        obj = std::make_unique<HubportBackend>(net, *hub);
    } else {
        auto o = types.create(*t, opts);
        if (!o) return make_error(o.error());
        obj = std::move(*o);
    }
    std::unique_ptr<NetBackend> backend(static_cast<NetBackend*>(obj.release()));
    return net.add(id, std::move(backend));
}

Result<NicShorthand> net_split_nic(const OptionList& opts, std::string_view default_model) {
    static std::atomic<unsigned> counter{0};
    NicShorthand s;
    std::string model(default_model);
    std::string kind;
    for (size_t i = 0; i < opts.items.size(); i++) {
        const auto& [k, v] = opts.items[i];
        if (k == "type" || (i == 0 && v.empty())) {
            kind = k == "type" ? v : k;
        } else if (k == "model") {
            model = v;
        } else if (k == "mac") {
            s.device.items.push_back({"mac", v});
        } else if (k != "id") {
            s.netdev.items.push_back({k, v});
        }
    }
    if (kind.empty() || kind == "none") return make_error("-nic: a backend type (e.g. socket, hubport) is required");
    const std::string id = fmt::format("__nic{}", counter.fetch_add(1));
    s.netdev.items.insert(s.netdev.items.begin(), {{"type", kind}, {"id", id}});
    s.device.items.insert(s.device.items.begin(), {{"driver", model}, {"netdev", id}});
    return s;
}

}  // namespace corvid
