// The netdev core: frame queues towards NICs, taps, the netdev table and NIC option parsing.
#include "hw/net/net_backend.h"

#include <algorithm>
#include <atomic>

#include <fmt/format.h>

#include "base/log.h"

namespace corvid {

// ---- NetBackend ----

NetBackend::~NetBackend() = default;

void NetBackend::send(const uint8_t* data, size_t len) {
    if (len == 0 || len > kNetMaxFrame) return;
    std::vector<NetTap*> taps;
    {
        std::lock_guard<std::mutex> lock(mu_);
        taps = taps_;
    }
    for (NetTap* t : taps) t->frame(NetDirection::kTx, data, len);
    transmit(data, len);
}

bool NetBackend::attach(std::function<void()> wake) {
    std::lock_guard<std::mutex> lock(mu_);
    if (attached_) return false;
    attached_ = true;
    wake_ = std::move(wake);
    return true;
}

void NetBackend::detach() {
    std::lock_guard<std::mutex> lock(mu_);
    attached_ = false;
    wake_ = nullptr;
}

bool NetBackend::attached() const {
    std::lock_guard<std::mutex> lock(mu_);
    return attached_;
}

size_t NetBackend::queued() const {
    std::lock_guard<std::mutex> lock(mu_);
    return queue_.size();
}

void NetBackend::enqueue(const uint8_t* data, size_t len) {
    if (len == 0 || len > kNetMaxFrame) return;
    std::lock_guard<std::mutex> lock(mu_);
    // Without a NIC nobody would ever drain the queue: drop, as an unplugged cable does.
    if (!attached_ || queue_.size() >= kNetMaxQueued) return;
    queue_.emplace_back(data, data + len);
    // Called under the lock so that detach() (NIC destruction) cannot race with it.
    if (wake_) wake_();
}

bool NetBackend::deliver_one(const std::function<bool(const uint8_t*, size_t)>& deliver) {
    std::vector<uint8_t> frame;
    std::vector<NetTap*> taps;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (queue_.empty()) return false;
        frame = queue_.front();
        taps = taps_;
    }
    if (!deliver(frame.data(), frame.size())) return false;
    {
        std::lock_guard<std::mutex> lock(mu_);
        if (!queue_.empty()) queue_.pop_front();
    }
    for (NetTap* t : taps) t->frame(NetDirection::kRx, frame.data(), frame.size());
    return true;
}

void NetBackend::add_tap(NetTap* tap) {
    std::lock_guard<std::mutex> lock(mu_);
    if (std::find(taps_.begin(), taps_.end(), tap) == taps_.end()) taps_.push_back(tap);
}

void NetBackend::remove_tap(NetTap* tap) {
    std::lock_guard<std::mutex> lock(mu_);
    taps_.erase(std::remove(taps_.begin(), taps_.end(), tap), taps_.end());
}

// ---- NetRegistry ----

NetRegistry& NetRegistry::global() {
    static NetRegistry registry;
    return registry;
}

Status NetRegistry::add(const std::string& id, std::unique_ptr<NetBackend> backend) {
    std::lock_guard<std::mutex> lock(mu_);
    if (netdevs_.count(id)) return make_error(fmt::format("Duplicate ID '{}' for netdev", id));
    auto [first, last] = taps_.equal_range(id);
    for (auto it = first; it != last; ++it) backend->add_tap(it->second);
    backend->set_id(id);
    netdevs_[id] = std::move(backend);
    return {};
}

NetBackend* NetRegistry::find(const std::string& id) const {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = netdevs_.find(id);
    return it == netdevs_.end() ? nullptr : it->second.get();
}

Status NetRegistry::remove(const std::string& id) {
    std::unique_ptr<NetBackend> victim;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = netdevs_.find(id);
        if (it == netdevs_.end()) return make_error(fmt::format("netdev '{}' not found", id));
        if (it->second->attached()) return make_error(fmt::format("netdev '{}' is in use by a NIC", id));
        victim = std::move(it->second);
        netdevs_.erase(it);
    }
    return {};  // destroyed outside the lock: a hubport's destructor leaves its hub
}

std::vector<std::string> NetRegistry::ids() const {
    std::lock_guard<std::mutex> lock(mu_);
    std::vector<std::string> out;
    for (const auto& [id, b] : netdevs_) out.push_back(id);
    return out;
}

void NetRegistry::join_hub(int hub, NetBackend* port) {
    std::lock_guard<std::mutex> lock(mu_);
    hubs_[hub].push_back(port);
}

void NetRegistry::leave_hub(int hub, NetBackend* port) {
    std::lock_guard<std::mutex> lock(mu_);
    auto& v = hubs_[hub];
    v.erase(std::remove(v.begin(), v.end(), port), v.end());
}

void NetRegistry::hub_forward(int hub, const NetBackend* from, const uint8_t* data, size_t len) {
    std::vector<NetBackend*> ports;
    {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = hubs_.find(hub);
        if (it == hubs_.end()) return;
        ports = it->second;
    }
    for (NetBackend* p : ports) {
        if (p != from) p->enqueue(data, len);
    }
}

void NetRegistry::add_tap(const std::string& netdev, NetTap* tap) {
    std::lock_guard<std::mutex> lock(mu_);
    taps_.emplace(netdev, tap);
    auto it = netdevs_.find(netdev);
    if (it != netdevs_.end()) it->second->add_tap(tap);
}

void NetRegistry::remove_tap(const std::string& netdev, NetTap* tap) {
    std::lock_guard<std::mutex> lock(mu_);
    auto [first, last] = taps_.equal_range(netdev);
    for (auto it = first; it != last; ++it) {
        if (it->second == tap) {
            taps_.erase(it);
            break;
        }
    }
    auto it = netdevs_.find(netdev);
    if (it != netdevs_.end()) it->second->remove_tap(tap);
}

void NetRegistry::clear() {
    std::map<std::string, std::unique_ptr<NetBackend>> old;
    {
        std::lock_guard<std::mutex> lock(mu_);
        old.swap(netdevs_);
        taps_.clear();
    }
}

// ---- NIC helpers ----

Result<MacAddress> parse_mac(const std::string& text) {
    MacAddress mac{};
    auto bad = [&] { return make_error(fmt::format("Property 'mac' doesn't take value '{}'", text)); };
    if (text.size() != 17) return bad();
    for (size_t i = 0; i < 6; i++) {
        unsigned v = 0;
        for (size_t j = 0; j < 2; j++) {
            const char c = text[i * 3 + j];
            unsigned d;
            if (c >= '0' && c <= '9') d = static_cast<unsigned>(c - '0');
            else if (c >= 'a' && c <= 'f') d = static_cast<unsigned>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F') d = static_cast<unsigned>(c - 'A' + 10);
            else return bad();
            v = v * 16 + d;
        }
        if (i < 5 && text[i * 3 + 2] != ':') return bad();
        mac[i] = static_cast<uint8_t>(v);
    }
    return mac;
}

MacAddress next_default_mac() {
    static std::atomic<unsigned> index{0};
    const unsigned n = index.fetch_add(1);
    return MacAddress{0x52, 0x54, 0x00, 0x12, 0x34, static_cast<uint8_t>(0x56 + n)};
}

Result<NicConfig> parse_nic_options(const std::string& driver, const OptionList& props, NetRegistry& net,
                                    const std::vector<std::string>& extra, bool assign_default_mac) {
    NicConfig c;
    bool have_mac = false;
    for (const auto& [key, value] : props.items) {
        if (key == "driver" || key == "id" || key.empty() || key == "addr" || key == "bus") continue;
        if (key == "mac") {
            auto m = parse_mac(value);
            if (!m) return make_error(m.error());
            c.mac = *m;
            have_mac = true;
        } else if (key == "netdev") {
            c.backend = net.find(value);
            if (!c.backend) return make_error(fmt::format("Property '{}.netdev' can't find value '{}'", driver, value));
            if (c.backend->attached()) {
                return make_error(fmt::format("Property '{}.netdev' can't use value '{}', because it is already in use",
                                              driver, value));
            }
        } else if (key == "disable-legacy" && std::string_view(driver).rfind("virtio", 0) == 0) {
            // The virtio transport is modern-only: disable-legacy=on is what it already is.
            if (value != "on" && value != "true" && value != "yes") {
                return make_error(fmt::format("{}: legacy virtio is not supported (disable-legacy must be on)", driver));
            }
        } else if (std::find(extra.begin(), extra.end(), key) == extra.end()) {
            return make_error(fmt::format("Property '{}.{}' not found", driver, key));
        }
    }
    if (!have_mac && assign_default_mac) c.mac = next_default_mac();
    return c;
}

}  // namespace corvid
