// End to end: the real binaries under -accel qtest, driven over the qtest unix socket with
// command sequences the in-process fuzzer generated, while a UDP peer on -netdev socket sends
// random frames. Every reply must be a well-formed qtest reply and the process must survive.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <random>
#include <thread>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "tests/monitor/monitor_harness.h"
#include "tests/qtest_fuzz/fuzzer.h"

namespace corvid::fuzz {
namespace {

using corvid::testing::Child;
using corvid::testing::Listener;
using corvid::testing::LineSocket;

constexpr uint64_t kReplayCommands = 3000;

// A loopback UDP port that was free a moment ago (bound and released).
int free_udp_port() {
    const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(0x7f000001);
    int port = 0;
    if (fd >= 0 && bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0) {
        socklen_t len = sizeof a;
        getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
        port = ntohs(a.sin_port);
    }
    if (fd >= 0) close(fd);
    return port;
}

// A UDP socket on loopback playing the far end of -netdev socket,udp=: random frames in,
// whatever the NIC sends is read and counted.
class UdpPeer {
public:
    UdpPeer() {
        fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in a{};
        a.sin_family = AF_INET;
        a.sin_addr.s_addr = htonl(0x7f000001);
        if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
        socklen_t len = sizeof a;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&a), &len);
        port_ = ntohs(a.sin_port);
        emulator_port_ = free_udp_port();
        thread_ = std::thread([this] { run(); });
    }
    ~UdpPeer() {
        stop_ = true;
        if (thread_.joinable()) thread_.join();
        if (fd_ >= 0) close(fd_);
    }
    int port() const { return port_; }
    int emulator_port() const { return emulator_port_; }
    uint64_t received() const { return received_; }
    uint64_t sent() const { return sent_; }

private:
    void run() {
        std::mt19937_64 rng(7);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_addr.s_addr = htonl(0x7f000001);
        to.sin_port = htons(static_cast<uint16_t>(emulator_port_));
        uint8_t buf[2048];
        while (!stop_) {
            const size_t len = 14 + rng() % 1500;
            for (size_t i = 0; i < len; i++) buf[i] = static_cast<uint8_t>(rng());
            if (rng() % 2) std::fill(buf, buf + 6, 0xff);
            if (::sendto(fd_, buf, len, MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&to), sizeof to) > 0) sent_++;
            while (::recv(fd_, buf, sizeof buf, MSG_DONTWAIT) > 0) received_++;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }

    int fd_ = -1;
    int port_ = 0, emulator_port_ = 0;
    std::atomic<bool> stop_{false};
    std::atomic<uint64_t> received_{0}, sent_{0};
    std::thread thread_;
};

// Replays one target's generated commands against the real binary.
void replay(const Target& t, uint64_t seed) {
    std::vector<std::string> lines;
    const RunResult in_process = run_target(t, kReplayCommands, seed, &lines, false);
    ASSERT_EQ(in_process.failure, "") << t.name;

    UdpPeer peer;
    const std::string dir = corvid::testing::temp_dir();
    Listener listener(dir + "/qtest.sock");
    std::vector<std::string> args = {t.arch == Arch::kAArch64 ? "corvid-system-aarch64" : "corvid-system-x86_64",
                                     "-M", t.machine, "-m", "64M", "-accel", "qtest", "-qtest",
                                     "unix:" + dir + "/qtest.sock", "-serial", "null"};
    for (const DeviceSpec& d : t.devices) {
        std::string dev = d.options;
        if (d.nic) {
            args.insert(args.end(), {"-netdev", fmt::format("socket,id=n0,udp=127.0.0.1:{},localaddr=127.0.0.1:{}",
                                                            peer.port(), peer.emulator_port())});
            dev += ",netdev=n0";
        }
        args.insert(args.end(), {"-device", dev});
    }
    std::vector<std::string> argv = corvid::testing::argv_of(args[0], std::vector<std::string>(args.begin() + 1, args.end()));
    Child child(argv, dir);
    LineSocket qtest = listener.accept();
    ASSERT_TRUE(qtest.ok()) << t.name << ": " << child.err();

    uint64_t ok = 0, fail = 0;
    for (const std::string& line : lines) {
        qtest.send(line + "\n");
        std::string reply;
        // Asynchronous IRQ events may come in between; the reply is the next other line.
        do {
            ASSERT_TRUE(qtest.read_line(&reply, std::chrono::seconds(20)))
                << t.name << ": no reply to '" << line << "'; stderr: " << child.err();
        } while (reply.rfind("IRQ ", 0) == 0);
        ASSERT_TRUE(well_formed_reply(reply + "\n")) << t.name << ": '" << line << "' -> '" << reply << "'";
        (reply.rfind("OK", 0) == 0 ? ok : fail)++;
    }
    qtest.send("endianness\n");
    std::string last;
    ASSERT_TRUE(qtest.read_line(&last)) << t.name;
    EXPECT_EQ(last, "OK little");
    EXPECT_TRUE(child.running()) << t.name << ": " << child.err();
    EXPECT_GT(ok, fail) << t.name;
    fmt::print("[ qtest-e2e  ] {} commands={} ok={} fail={} frames-in={} frames-out={}\n", t.name, lines.size(), ok, fail,
               peer.sent(), peer.received());
}

void replay_board(const std::string& machine) {
    for (size_t i = 0; i < targets().size(); i++) {
        const Target& t = targets()[i];
        if (t.machine != machine) continue;
        SCOPED_TRACE(t.name);
        replay(t, env_seed(0xe2e0 + i));
        if (::testing::Test::HasFatalFailure()) return;
    }
}

TEST(QtestFuzzE2e, PcOverTheSocket) { replay_board("pc"); }
TEST(QtestFuzzE2e, Q35OverTheSocket) { replay_board("q35"); }
TEST(QtestFuzzE2e, VirtOverTheSocket) { replay_board("virt"); }

}  // namespace
}  // namespace corvid::fuzz
