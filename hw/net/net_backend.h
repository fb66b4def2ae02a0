// Network backends (-netdev socket / hubport), the per-process table of netdevs by id, the
// pcap filter (-object filter-dump) and what NICs share: MAC parsing and frame delivery.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "base/options.h"
#include "base/result.h"
#include "object/type_registry.h"

namespace corvid {

class Policy;

// Largest frame a backend carries (QEMU's NET_BUFSIZE is 4096 + 65536; jumbo frames are not
// emulated by our NICs, so 64 KiB is plenty and bounds every host allocation).
inline constexpr size_t kNetMaxFrame = 65536;
// Frames queued towards a NIC that is not taking them; beyond this, new frames are dropped.
inline constexpr size_t kNetMaxQueued = 256;

enum class NetDirection : uint8_t { kRx, kTx };  // as the guest sees it

// Sees every frame that passes a netdev (filter-dump).
class NetTap {
public:
    virtual ~NetTap() = default;
    virtual void frame(NetDirection dir, const uint8_t* data, size_t len) = 0;
};

class NetBackend : public Object {
public:
    explicit NetBackend(std::string kind) : kind_(std::move(kind)) {}
    ~NetBackend() override;

    const std::string& kind() const { return kind_; }

    // --- NIC side (vCPU thread) ---
    // A frame the guest transmitted; empty or oversized frames are dropped.
    void send(const uint8_t* data, size_t len);
    // Connects a NIC: `wake` is called (from any thread) when frames become available.
    // One NIC per backend; false when another one is attached.
    bool attach(std::function<void()> wake);
    void detach();
    bool attached() const;
    // Offers the oldest queued frame to `deliver`; the frame is consumed when it returns true
    // (false: the NIC has no buffer, try again later). Returns whether a frame was consumed.
    bool deliver_one(const std::function<bool(const uint8_t*, size_t)>& deliver);
    size_t queued() const;

    void add_tap(NetTap* tap);
    void remove_tap(NetTap* tap);

    // Frames from the outside; any thread. Bounded: drops when the queue is full.
    void enqueue(const uint8_t* data, size_t len);

protected:
    // The backend's own transmit path (socket write, hub fan-out).
    virtual void transmit(const uint8_t* data, size_t len) = 0;

private:
    std::string kind_;
    mutable std::mutex mu_;
    std::deque<std::vector<uint8_t>> queue_;
    std::function<void()> wake_;
    bool attached_ = false;
    std::vector<NetTap*> taps_;
};

// Netdevs by id, the hubs, and filters waiting for their netdev. One per process (global());
// tests make their own.
class NetRegistry {
public:
    static NetRegistry& global();
    NetRegistry() = default;
    // Destroys the netdevs first: hubports leave their hub in their destructor.
    ~NetRegistry() { clear(); }
    NetRegistry(const NetRegistry&) = delete;
    NetRegistry& operator=(const NetRegistry&) = delete;

    Status add(const std::string& id, std::unique_ptr<NetBackend> backend);
    NetBackend* find(const std::string& id) const;
    // Removes (and destroys) a netdev; taps are detached first.
    Status remove(const std::string& id);
    std::vector<std::string> ids() const;

    // Hub membership (hubport backends).
    void join_hub(int hub, NetBackend* port);
    void leave_hub(int hub, NetBackend* port);
    // Sends to every other port of the hub.
    void hub_forward(int hub, const NetBackend* from, const uint8_t* data, size_t len);

    // A tap for a netdev that may not exist yet (-object before -netdev): attached on add().
    void add_tap(const std::string& netdev, NetTap* tap);
    void remove_tap(const std::string& netdev, NetTap* tap);

    void clear();

private:
    mutable std::mutex mu_;
    std::map<std::string, std::unique_ptr<NetBackend>> netdevs_;
    std::map<int, std::vector<NetBackend*>> hubs_;
    std::multimap<std::string, NetTap*> taps_;
};

// Registers netdev-socket ("socket"), netdev-hubport ("hubport") and filter-dump.
void register_net_backend_types(TypeRegistry& registry);

// -netdev TYPE,id=ID,...: looks the type up, runs the policy check, creates the backend and
// adds it to `net` (NetRegistry::global() for the real command line). THE function the
// command line and netdev_add call.
Status net_add_netdev(const OptionList& opts, TypeRegistry& types, Policy& policy, NetRegistry& net);

// -nic TYPE,...,model=M,mac=...: splits into the -netdev options (id generated) and the
// -device options (driver=M, netdev=ID, mac=) for the caller to pass on.
struct NicShorthand {
    OptionList netdev;
    OptionList device;
};
Result<NicShorthand> net_split_nic(const OptionList& opts, std::string_view default_model);

// --- NIC helpers ---
using MacAddress = std::array<uint8_t, 6>;
// "52:54:00:12:34:56"; error text as QEMU's property parser.
Result<MacAddress> parse_mac(const std::string& text);
// QEMU's default MACs: 52:54:00:12:34:56, then :57, ... per NIC created.
MacAddress next_default_mac();

// What every NIC accepts: mac=, netdev=; `extra` lists device-specific keys the caller
// handles. Looks the netdev up in `net`.
struct NicConfig {
    MacAddress mac{};
    NetBackend* backend = nullptr;  // null: not connected (frames are dropped)
};
Result<NicConfig> parse_nic_options(const std::string& driver, const OptionList& props, NetRegistry& net,
                                    const std::vector<std::string>& extra = {}, bool assign_default_mac = true);

}  // namespace corvid
