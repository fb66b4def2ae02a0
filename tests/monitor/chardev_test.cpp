// Chardevs: legacy spec parsing, option errors and policy at -chardev, -serial chardev:ID,
// file output, socket client errors, and the JSON stream splitter.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <condition_variable>
#include <mutex>

#include "system/monitor/json_stream.h"
#include "system/vl.h"
#include "tests/monitor/monitor_harness.h"

namespace corvid::testing {
namespace {

const std::string kA64 = "corvid-system-aarch64";
const std::string kX86 = "corvid-system-x86_64";

TEST(Chardev, EveryBackendAndObjectTypeIsRegisteredAndSecure) {
    // Guards against a name clash with another layer's types (netdev "socket", ...).
    for (Arch arch : {Arch::kAArch64, Arch::kX86_64}) {
        TypeRegistry r;
        register_all_types(r, arch);
        for (const char* n : {"chardev-stdio", "chardev-null", "chardev-file", "chardev-socket", "chardev-pipe",
                              "memory-backend-ram", "rng-random"}) {
            const TypeInfo* t = r.find(n);
            ASSERT_NE(t, nullptr) << n << " on " << arch_name(arch);
            EXPECT_EQ(t->name, n);
            EXPECT_EQ(t->security, Security::kSecure) << n;
        }
    }
}

TEST(Chardev, LegacySpecs) {
    auto u = parse_legacy_chardev("unix:/tmp/s,server,nowait");
    ASSERT_TRUE(u.ok());
    EXPECT_EQ(u->get("backend"), "socket");
    EXPECT_EQ(u->get("path"), "/tmp/s");
    EXPECT_TRUE(u->has("server"));
    EXPECT_TRUE(u->has("nowait"));
    auto t = parse_legacy_chardev("tcp:127.0.0.1:4444,server=on,wait=off");
    ASSERT_TRUE(t.ok());
    EXPECT_EQ(t->get("host"), "127.0.0.1");
    EXPECT_EQ(t->get("port"), "4444");
    EXPECT_EQ(t->get("wait"), "off");
    EXPECT_EQ(parse_legacy_chardev("chardev:foo")->get("chardev"), "foo");
    EXPECT_EQ(parse_legacy_chardev("file:/tmp/out")->get("path"), "/tmp/out");
    EXPECT_EQ(parse_legacy_chardev("stdio")->get("backend"), "stdio");
    EXPECT_EQ(parse_legacy_chardev("carrier-pigeon").error(), "'carrier-pigeon' is not a valid char driver");
}

struct Reject {
    const char* name;
    std::string bin;
    std::vector<std::string> args;
    std::string err;
};
class ChardevRejects : public ::testing::TestWithParam<Reject> {};

TEST_P(ChardevRejects, ExactMessage) {
    const Reject& c = GetParam();
    ProcessResult r = run_process(argv_of(c.bin, c.args), {}, std::chrono::seconds(10));
    EXPECT_EQ(r.exit_status, 1);
    EXPECT_EQ(r.err, c.err + "\n");
}

const Reject kRejects[] = {
    {"unknown_backend",
     kA64,
     {"-chardev", "carrier,id=x"},
     "corvid-system-aarch64: -chardev carrier,id=x: 'carrier' is not a valid char driver"},
    {"missing_id", kA64, {"-chardev", "null"}, "corvid-system-aarch64: -chardev null: Parameter 'id' is missing"},
    {"duplicate_id",
     kA64,
     {"-chardev", "null,id=a", "-chardev", "null,id=a"},
     "corvid-system-aarch64: -chardev null,id=a: Duplicate ID 'a' for chardev"},
    {"bad_param",
     kA64,
     {"-chardev", "null,id=a,colour=red"},
     "corvid-system-aarch64: -chardev null,id=a,colour=red: Invalid parameter 'colour'"},
    {"client_refused",
     kA64,
     {"-chardev", "socket,id=a,path=/nonexistent/dir/s.sock"},
     "corvid-system-aarch64: -chardev socket,id=a,path=/nonexistent/dir/s.sock: Failed to connect to "
     "'/nonexistent/dir/s.sock': No such file or directory"},
    {"tcp_server_not_loopback",
     kA64,
     {"-chardev", "socket,id=a,host=0.0.0.0,port=5555,server=on,wait=off"},
     "corvid-system-aarch64: -chardev socket,id=a,host=0.0.0.0,port=5555,server=on,wait=off: tcp server sockets "
     "listen on loopback addresses only, not '0.0.0.0'"},
    {"unknown_serial_chardev",
     kA64,
     {"-serial", "chardev:nope"},
     "corvid-system-aarch64: -serial chardev:nope: chardev 'nope' not found"},
    {"stdio_twice",
     kA64,
     {"-serial", "stdio", "-monitor", "stdio"},
     "corvid-system-aarch64: -monitor stdio: cannot use stdio by multiple character devices"},
    {"busy_chardev",
     kA64,
     {"-chardev", "null,id=n", "-serial", "chardev:n", "-mon", "chardev=n"},
     "corvid-system-aarch64: -mon chardev=n: chardev 'n' is busy"},
    {"bad_mon_mode",
     kA64,
     {"-chardev", "null,id=n", "-mon", "chardev=n,mode=telepathy"},
     "corvid-system-aarch64: -mon chardev=n,mode=telepathy: Parameter 'mode' does not accept value 'telepathy'"},
    {"netdev_unsupported",
     kX86,
     {"-netdev", "user,id=n"},
     "corvid-system-x86_64: -netdev user,id=n: Parameter 'type' does not accept value 'user'"},
    {"netdev_not_loopback",
     kX86,
     {"-netdev", "socket,id=n,connect=192.0.2.1:80"},
     "corvid-system-x86_64: -netdev socket,id=n,connect=192.0.2.1:80: netdev socket: connect='192.0.2.1:80': only "
     "loopback addresses (127.0.0.0/8) are allowed"},
    {"object_unknown",
     kX86,
     {"-object", "frob,id=x"},
     "corvid-system-x86_64: -object frob,id=x: invalid object type: frob"},
    {"object_bad_size",
     kX86,
     {"-object", "memory-backend-ram,id=m"},
     "corvid-system-x86_64: -object memory-backend-ram,id=m: can't create backend with size 0"},
    {"memory_backend_missing",
     kX86,
     {"-machine", "pc,memory-backend=nope"},
     "corvid-system-x86_64: Memory backend 'nope' not found"},
    {"memory_backend_size_mismatch",
     kX86,
     {"-object", "memory-backend-ram,id=m,size=64M", "-machine", "pc,memory-backend=m", "-m", "128M"},
     // The installed qemu-system-x86_64 7.2's wording.
     "corvid-system-x86_64: Machine memory size does not match the size of the memory backend"},
};

INSTANTIATE_TEST_SUITE_P(Monitor, ChardevRejects, ::testing::ValuesIn(kRejects),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(Chardev, SerialToFileThroughAChardev) {
    // The guest is not needed: qtest writes the UART data register.
    std::string dir = temp_dir();
    Listener qtest(dir + "/q.sock");
    Child child(argv_of(kA64, {"-M", "virt", "-chardev", "file,id=out,path=" + dir + "/serial.txt", "-serial",
                               "chardev:out", "-qtest", "unix:" + dir + "/q.sock"}),
                dir);
    LineSocket q = qtest.accept();
    ASSERT_TRUE(q.ok()) << child.err();
    std::string reply;
    q.send("writel 0x09000030 0x301\nwriteb 0x09000000 0x6f\nwriteb 0x09000000 0x6b\n");
    for (int i = 0; i < 3; ++i) ASSERT_TRUE(q.read_line(&reply));
    std::ifstream f(dir + "/serial.txt");
    std::string text((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    EXPECT_EQ(text, "ok");
}

TEST(Chardev, ServerWaitBlocksUntilAClientConnects) {
    std::string dir = temp_dir();
    Child child(
        argv_of(kA64, {"-M", "virt", "-accel", "qtest", "-chardev",
                       "socket,id=m,path=" + dir + "/m.sock,server=on,wait=on", "-mon", "chardev=m,mode=control"}),
        dir);
    QmpClient c(LineSocket::connect_unix(dir + "/m.sock"));
    ASSERT_TRUE(c.negotiate()) << child.err();
    EXPECT_NE(child.err().find("waiting for connection on: disconnected:unix:" + dir + "/m.sock,server=on"),
              std::string::npos)
        << child.err();
}

TEST(JsonStream, SplitsValuesAcrossChunksAndRecovers) {
    JsonStreamer s;
    std::vector<std::string> got;
    auto sink = [&](Result<Json> v) { got.push_back(v ? qmp_to_text(*v) : "ERR " + v.error()); };
    std::string in = R"({"a": "}{\"", "b": [1, {"c": 2}]} [3]"x" 12 )";
    for (char c : in) s.feed(reinterpret_cast<const uint8_t*>(&c), 1, sink);
    ASSERT_EQ(got.size(), 4u);
    EXPECT_EQ(got[0], R"({"a": "}{\"", "b": [1, {"c": 2}]})");
    EXPECT_EQ(got[1], "[3]");
    EXPECT_EQ(got[2], "\"x\"");
    EXPECT_EQ(got[3], "12");
    got.clear();
    std::string bad = "} nul {\"ok\": true}";
    s.feed(reinterpret_cast<const uint8_t*>(bad.data()), bad.size(), sink);
    ASSERT_EQ(got.size(), 3u);
    EXPECT_EQ(got[0].rfind("ERR JSON parse error, ", 0), 0u);
    EXPECT_EQ(got[1].rfind("ERR JSON parse error, ", 0), 0u);
    EXPECT_EQ(got[2], R"({"ok": true})");
}

TEST(JsonStream, PrintsLikeQemuAndReplacesInvalidUtf8) {
    Json j{{"return", Json::object()}, {"id", Json::array({1, "a"})}};
    EXPECT_EQ(qmp_to_text(j), R"({"return": {}, "id": [1, "a"]})");
    Json bad = std::string("a\xff");
    EXPECT_EQ(qmp_to_text(bad), "\"a\xEF\xBF\xBD\"");
}

}  // namespace
}  // namespace corvid::testing

namespace corvid::testing {
namespace {

// In-process: a socket client chardev and a pipe chardev moving bytes both ways through the
// frontend callbacks (the I/O thread) and write().
TEST(ChardevIo, SocketClientBothWays) {
    std::string dir = temp_dir();
    Listener l(dir + "/peer.sock");
    TypeRegistry r;
    register_root_types(r);
    register_chardev_types(r);
    RunControl rc;
    auto c = create_chardev_object(*r.find("chardev-socket"), *OptionList::parse("path=" + dir + "/peer.sock"), rc);
    ASSERT_TRUE(c.ok()) << c.error();
    LineSocket peer = l.accept();
    ASSERT_TRUE(peer.ok());
    std::mutex mu;
    std::condition_variable cv;
    std::string got;
    bool opened = false, closed = false;
    Chardev::Frontend fe;
    fe.opened = [&] {
        std::lock_guard lock(mu);
        opened = true;
        cv.notify_all();
    };
    fe.received = [&](const uint8_t* d, size_t n) {
        std::lock_guard lock(mu);
        got.append(reinterpret_cast<const char*>(d), n);
        cv.notify_all();
    };
    fe.closed = [&] {
        std::lock_guard lock(mu);
        closed = true;
        cv.notify_all();
    };
    ASSERT_TRUE((*c)->attach(fe).ok());
    EXPECT_FALSE((*c)->attach(Chardev::Frontend{}).ok());  // one frontend only
    peer.send("ping\n");
    {
        std::unique_lock lock(mu);
        ASSERT_TRUE(cv.wait_for(lock, 5s, [&] { return opened && got == "ping\n"; }));
    }
    const uint8_t pong[] = {'p', 'o', 'n', 'g', '\n'};
    (*c)->write(pong, sizeof pong);
    std::string line;
    ASSERT_TRUE(peer.read_line(&line));
    EXPECT_EQ(line, "pong");
    EXPECT_EQ((*c)->filename(), "unix:" + dir + "/peer.sock");
    peer = LineSocket();  // hang up
    std::unique_lock lock(mu);
    EXPECT_TRUE(cv.wait_for(lock, 5s, [&] { return closed; }));
}

TEST(ChardevIo, PipeBothWays) {
    std::string dir = temp_dir();
    std::string base = dir + "/p";
    ASSERT_EQ(mkfifo((base + ".in").c_str(), 0600), 0);
    ASSERT_EQ(mkfifo((base + ".out").c_str(), 0600), 0);
    TypeRegistry r;
    register_root_types(r);
    register_chardev_types(r);
    RunControl rc;
    auto c = create_chardev_object(*r.find("chardev-pipe"), *OptionList::parse("path=" + base), rc);
    ASSERT_TRUE(c.ok()) << c.error();
    std::mutex mu;
    std::condition_variable cv;
    std::string got;
    Chardev::Frontend fe;
    fe.received = [&](const uint8_t* d, size_t n) {
        std::lock_guard lock(mu);
        got.append(reinterpret_cast<const char*>(d), n);
        cv.notify_all();
    };
    ASSERT_TRUE((*c)->attach(fe).ok());
    int in = open((base + ".in").c_str(), O_WRONLY);
    int out = open((base + ".out").c_str(), O_RDONLY | O_NONBLOCK);
    ASSERT_GE(in, 0);
    ASSERT_GE(out, 0);
    ASSERT_EQ(write(in, "abc", 3), 3);
    {
        std::unique_lock lock(mu);
        EXPECT_TRUE(cv.wait_for(lock, 5s, [&] { return got == "abc"; }));
    }
    const uint8_t xyz[] = {'x', 'y', 'z'};
    (*c)->write(xyz, 3);
    char buf[8] = {};
    struct pollfd p = {out, POLLIN, 0};
    ASSERT_EQ(poll(&p, 1, 5000), 1);
    EXPECT_EQ(read(out, buf, sizeof buf), 3);
    EXPECT_EQ(std::string(buf, 3), "xyz");
    close(in);
    close(out);
}

}  // namespace
}  // namespace corvid::testing
