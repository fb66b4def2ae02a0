// Netdevs: socket (TCP framing, UDP, loopback only), hubport, filter-dump pcap, -nic split,
// the policy check on every creation.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <fstream>
#include <thread>

#include <gtest/gtest.h>

#include "hw/net/net_backend.h"
#include "hw/pci/pci_devices.h"
#include "policy/policy.h"

namespace corvid {
namespace {

struct Env {
    TypeRegistry types;
    Policy policy{PolicyLevel::kRequireSecure};
    NetRegistry net;
    Env() {
        register_root_types(types);
        register_pci_device_types(types);
    }
    Status add(const std::string& text) { return net_add_netdev(*OptionList::parse(text, "type"), types, policy, net); }
};

// A loopback TCP listener on an ephemeral port.
struct Listener {
    int fd = -1;
    uint16_t port = 0;
    Listener() {
        fd = ::socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_EQ(::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
        EXPECT_EQ(::listen(fd, 1), 0);
        socklen_t len = sizeof a;
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    ~Listener() { ::close(fd); }
};

bool wait_for(const std::function<bool()>& cond) {
    for (int i = 0; i < 400; i++) {
        if (cond()) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    return false;
}

TEST(NetBackend, SocketConnectUsesLengthPrefixedFrames) {
    Env e;
    Listener l;
    ASSERT_TRUE(e.add(fmt::format("socket,id=n0,connect=127.0.0.1:{}", l.port)).ok());
    const int peer = ::accept(l.fd, nullptr, nullptr);
    ASSERT_GE(peer, 0);
    NetBackend* b = e.net.find("n0");
    ASSERT_NE(b, nullptr);
    std::atomic<int> wakes{0};
    ASSERT_TRUE(b->attach([&] { wakes++; }));
    // Peer to guest.
    const uint8_t msg[] = {0, 0, 0, 5, 'h', 'e', 'l', 'l', 'o'};
    ASSERT_EQ(::send(peer, msg, sizeof msg, 0), static_cast<ssize_t>(sizeof msg));
    ASSERT_TRUE(wait_for([&] { return b->queued() == 1; }));
    EXPECT_GE(wakes.load(), 1);
    std::string got;
    EXPECT_TRUE(b->deliver_one([&](const uint8_t* d, size_t n) {
        got.assign(reinterpret_cast<const char*>(d), n);
        return true;
    }));
    EXPECT_EQ(got, "hello");
    // Guest to peer.
    const uint8_t frame[3] = {1, 2, 3};
    b->send(frame, 3);
    uint8_t in[7] = {};
    ASSERT_EQ(::recv(peer, in, 7, MSG_WAITALL), 7);
    EXPECT_EQ(std::memcmp(in, "\0\0\0\3\1\2\3", 7), 0);
    // A hostile length ends the connection instead of allocating.
    const uint8_t huge[] = {0x7f, 0xff, 0xff, 0xff};
    (void)::send(peer, huge, 4, 0);
    uint8_t c;
    EXPECT_TRUE(wait_for([&] { return ::recv(peer, &c, 1, MSG_DONTWAIT) == 0; }));
    EXPECT_EQ(b->queued(), 0u);
    b->detach();
    ::close(peer);
}

TEST(NetBackend, SocketRejectsNonLoopbackAndBadOptions) {
    Env e;
    Status st = e.add("socket,id=n1,connect=10.0.0.1:1234");
    ASSERT_FALSE(st.ok());
    EXPECT_NE(st.error().find("only loopback"), std::string::npos);
    EXPECT_FALSE(e.add("socket,id=n1,listen=0.0.0.0:1234").ok());
    EXPECT_FALSE(e.add("socket,id=n1,mcast=230.0.0.1:1234").ok());
    EXPECT_FALSE(e.add("socket,id=n1,udp=127.0.0.1:1").ok());  // no localaddr
    EXPECT_FALSE(e.add("socket,id=n1").ok());
    EXPECT_FALSE(e.add("bogus,id=n1").ok());
    EXPECT_EQ(e.net.find("n1"), nullptr);
}

TEST(NetBackend, UdpDatagrams) {
    Env e;
    const int peer = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(::bind(peer, reinterpret_cast<sockaddr*>(&a), sizeof a), 0);
    socklen_t len = sizeof a;
    ::getsockname(peer, reinterpret_cast<sockaddr*>(&a), &len);
    ASSERT_TRUE(e.add(fmt::format("socket,id=u0,udp=127.0.0.1:{},localaddr=127.0.0.1:0", ntohs(a.sin_port))).ok());
    NetBackend* b = e.net.find("u0");
    ASSERT_TRUE(b->attach([] {}));
    const uint8_t f[4] = {9, 8, 7, 6};
    b->send(f, 4);
    uint8_t in[16];
    sockaddr_in from{};
    socklen_t fl = sizeof from;
    ASSERT_EQ(::recvfrom(peer, in, sizeof in, 0, reinterpret_cast<sockaddr*>(&from), &fl), 4);
    EXPECT_EQ(in[3], 6);
    ASSERT_EQ(::sendto(peer, "abc", 3, 0, reinterpret_cast<sockaddr*>(&from), fl), 3);
    EXPECT_TRUE(wait_for([&] { return b->queued() == 1; }));
    b->detach();
    ::close(peer);
}

TEST(NetBackend, HubForwardsToOtherPortsOnly) {
    Env e;
    ASSERT_TRUE(e.add("hubport,id=h0,hubid=1").ok());
    ASSERT_TRUE(e.add("hubport,id=h1,hubid=1").ok());
    ASSERT_TRUE(e.add("hubport,id=h2,hubid=2").ok());
    for (const char* id : {"h0", "h1", "h2"}) ASSERT_TRUE(e.net.find(id)->attach([] {}));
    const uint8_t f[2] = {1, 2};
    e.net.find("h0")->send(f, 2);
    EXPECT_EQ(e.net.find("h0")->queued(), 0u);
    EXPECT_EQ(e.net.find("h1")->queued(), 1u);
    EXPECT_EQ(e.net.find("h2")->queued(), 0u);
    EXPECT_FALSE(e.add("hubport,id=h0,hubid=1").ok());  // duplicate id
    EXPECT_FALSE(e.add("hubport,id=h3,hubid=x").ok());
    for (const char* id : {"h0", "h1", "h2"}) e.net.find(id)->detach();
}

TEST(NetBackend, QueueIsBoundedWithoutNic) {
    Env e;
    ASSERT_TRUE(e.add("hubport,id=a,hubid=0").ok());
    ASSERT_TRUE(e.add("hubport,id=b,hubid=0").ok());
    const uint8_t f[2] = {1, 2};
    e.net.find("a")->send(f, 2);
    EXPECT_EQ(e.net.find("b")->queued(), 0u);  // nobody attached: dropped
    ASSERT_TRUE(e.net.find("b")->attach([] {}));
    for (int i = 0; i < 1000; i++) e.net.find("a")->send(f, 2);
    EXPECT_EQ(e.net.find("b")->queued(), kNetMaxQueued);
    e.net.find("b")->detach();
}

TEST(NetBackend, FilterDumpWritesPcapAndIsInsecure) {
    TypeRegistry types;
    register_root_types(types);
    register_pci_device_types(types);
    Policy accept(PolicyLevel::kAccept);
    NetRegistry& net = NetRegistry::global();
    ASSERT_TRUE(net_add_netdev(*OptionList::parse("hubport,id=fd0,hubid=77", "type"), types, accept, net).ok());
    ASSERT_TRUE(net_add_netdev(*OptionList::parse("hubport,id=fd1,hubid=77", "type"), types, accept, net).ok());
    const TypeInfo* t = types.find("filter-dump");
    ASSERT_NE(t, nullptr);
    Policy strict(PolicyLevel::kRequireSecure);
    EXPECT_FALSE(strict.check(*t).ok());
    const std::string path = ::testing::TempDir() + "h10_dump.pcap";
    {
        auto obj = types.create(*t, *OptionList::parse("id=f,netdev=fd0,file=" + path));
        ASSERT_TRUE(obj.ok()) << obj.error();
        ASSERT_TRUE(net.find("fd1")->attach([] {}));
        ASSERT_TRUE(net.find("fd0")->attach([] {}));
        const uint8_t f[20] = {0xde, 0xad};
        net.find("fd0")->send(f, 20);  // tx on fd0
        net.find("fd1")->send(f, 10);  // rx on fd0 once delivered
        EXPECT_TRUE(net.find("fd0")->deliver_one([](const uint8_t*, size_t) { return true; }));
        net.find("fd0")->detach();
        net.find("fd1")->detach();
    }
    std::ifstream in(path, std::ios::binary);
    std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(in)), {});
    ASSERT_EQ(bytes.size(), 24u + 16 + 20 + 16 + 10);
    uint32_t magic, linktype, caplen;
    std::memcpy(&magic, bytes.data(), 4);
    std::memcpy(&linktype, bytes.data() + 20, 4);
    std::memcpy(&caplen, bytes.data() + 24 + 8, 4);
    EXPECT_EQ(magic, 0xa1b2c3d4u);
    EXPECT_EQ(linktype, 1u);
    EXPECT_EQ(caplen, 20u);
    EXPECT_EQ(bytes[24 + 16], 0xde);
    EXPECT_TRUE(net.remove("fd0").ok());
    EXPECT_TRUE(net.remove("fd1").ok());
    std::remove(path.c_str());
}

TEST(NetBackend, PolicyRunsOnNetdevsAndDevices) {
    Env e;
    for (const char* name : {"virtio-net", "virtio-net-pci", "e1000", "virtio-rng-pci", "netdev-socket", "netdev-hubport"}) {
        const TypeInfo* t = e.types.find(name);
        ASSERT_NE(t, nullptr) << name;
        EXPECT_TRUE(e.policy.check(*t).ok()) << name;
    }
    EXPECT_EQ(e.types.find("virtio-net"), e.types.find("virtio-net-pci"));
}

TEST(NetBackend, DeviceFactoriesValidateProperties) {
    Env e;
    const TypeInfo* t = e.types.find("e1000");
    EXPECT_TRUE(e.types.create(*t, *OptionList::parse("driver=e1000,mac=52:54:00:00:00:01")).ok());
    auto bad = e.types.create(*t, *OptionList::parse("driver=e1000,mac=zz"));
    ASSERT_FALSE(bad.ok());
    EXPECT_EQ(bad.error(), "Property 'mac' doesn't take value 'zz'");
    auto nonet = e.types.create(*t, *OptionList::parse("driver=e1000,netdev=nope"));
    ASSERT_FALSE(nonet.ok());
    EXPECT_EQ(nonet.error(), "Property 'e1000.netdev' can't find value 'nope'");
    EXPECT_FALSE(e.types.create(*t, *OptionList::parse("driver=e1000,speed=10")).ok());
    EXPECT_EQ(*pci_device_addr(*OptionList::parse("addr=0x5")), 0x28);
    EXPECT_EQ(*pci_device_addr(*OptionList::parse("addr=1f.3")), 0xfb);
    EXPECT_FALSE(pci_device_addr(*OptionList::parse("addr=20")).ok());
}

TEST(NetBackend, NicShorthandSplits) {
    auto s = net_split_nic(*OptionList::parse("hubport,hubid=3,model=e1000,mac=52:54:00:00:00:09"), "e1000");
    ASSERT_TRUE(s.ok());
    EXPECT_EQ(*s->netdev.get("type"), "hubport");
    EXPECT_EQ(*s->netdev.get("hubid"), "3");
    EXPECT_EQ(*s->device.get("driver"), "e1000");
    EXPECT_EQ(*s->device.get("netdev"), *s->netdev.get("id"));
    EXPECT_EQ(*s->device.get("mac"), "52:54:00:00:00:09");
    EXPECT_FALSE(net_split_nic(*OptionList::parse("model=e1000"), "e1000").ok());
}

}  // namespace
}  // namespace corvid
