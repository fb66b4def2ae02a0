// The chardev multiplexer (mux=on, -serial mon:stdio, -nographic): focus, the Ctrl-A escapes,
// input held for late frontends, and the real binary with a pipe on stdin.
#include <gtest/gtest.h>

#include "system/chardev/mux_chardev.h"
#include "system/vl.h"
#include "tests/monitor/monitor_harness.h"
#include "tests/support/subprocess.h"

namespace corvid::testing {
namespace {

const std::string kX86 = "corvid-system-x86_64";

// A backend whose input the test injects and whose output it reads.
class FakeBase : public Chardev {
public:
    void write(const uint8_t* data, size_t size) override {
        std::lock_guard lock(mu);
        out.append(reinterpret_cast<const char*>(data), size);
    }
    std::string filename() const override { return "fake"; }
    void inject(const std::string& s) { deliver(reinterpret_cast<const uint8_t*>(s.data()), s.size()); }
    void eof() { deliver_closed(); }
    std::string take() {
        std::lock_guard lock(mu);
        return std::exchange(out, {});
    }
    bool started = false;

protected:
    void start() override {
        started = true;
        deliver_opened();
    }

private:
    std::mutex mu;
    std::string out;
};

// What a monitor frontend saw.
struct Recorder {
    std::vector<std::string> log;
    Chardev::Frontend frontend() {
        Chardev::Frontend fe;
        fe.opened = [this] { log.push_back("open"); };
        fe.received = [this](const uint8_t* d, size_t n) {
            log.push_back("in:" + std::string(reinterpret_cast<const char*>(d), n));
        };
        fe.closed = [this] { log.push_back("close"); };
        fe.focus = [this](bool in) { log.push_back(in ? "focus-in" : "focus-out"); };
        return fe;
    }
    std::string take() {
        std::string all;
        for (const auto& l : log) all += l + ";";
        log.clear();
        return all;
    }
};

struct MuxFixture {
    TypeInfo type;
    RunControl rc;
    FakeBase* base;
    std::unique_ptr<MuxChardev> mux;
    Chardev* mon_port;
    Chardev* serial_port;
    std::string serial_in;

    MuxFixture() {
        type.name = "chardev-fake";
        auto b = std::make_unique<FakeBase>();
        base = b.get();
        mux = std::make_unique<MuxChardev>(std::move(b), &rc);
        mux->set_type(&type);
        mux->set_id("serial0");
        mon_port = mux->add_port();
        serial_port = mux->add_port();
    }
    // The device side as a board drives it: receiver, then poll_input from "the vCPU".
    void attach_serial() {
        CharBackend::Receiver r;
        r.receive = [this](const uint8_t* d, size_t n) { serial_in.append(reinterpret_cast<const char*>(d), n); };
        serial_port->set_receiver(std::move(r));
    }
    std::string serial_take() {
        serial_port->poll_input();
        return std::exchange(serial_in, {});
    }
};

TEST(Mux, FocusStartsOnTheConsoleAndCtrlACSwitches) {
    MuxFixture f;
    Recorder mon;
    EXPECT_FALSE(f.base->started);  // nothing attached yet
    f.attach_serial();
    EXPECT_TRUE(f.base->started);
    ASSERT_TRUE(f.mon_port->attach(mon.frontend()).ok());
    EXPECT_EQ(f.mux->focus(), 1);  // the serial port, although the monitor's port is first
    EXPECT_EQ(mon.take(), "");     // no greeting while the console has the focus

    f.base->inject("ls\r");
    EXPECT_EQ(f.serial_take(), "ls\r");
    f.base->inject(
        "a\x01"
        "cinfo\r");  // C-a c in the middle of a write
    EXPECT_EQ(f.serial_take(), "a");
    EXPECT_EQ(f.mux->focus(), 0);
    EXPECT_EQ(mon.take(), "open;in:info\r;");
    f.base->inject(
        "\x01"
        "c");
    EXPECT_EQ(mon.take(), "focus-out;");
    f.base->inject("x");
    EXPECT_EQ(f.serial_take(), "x");
    f.base->inject(
        "\x01"
        "c");
    EXPECT_EQ(mon.take(), "focus-in;");  // greeted once; afterwards only the prompt again
    f.base->inject("\x01\x01");          // C-a C-a: one C-a to the focused frontend
    EXPECT_EQ(mon.take(), "in:\x01;");
    EXPECT_EQ(f.serial_take(), "");
}

TEST(Mux, HelpQuitAndUnknownEscapes) {
    MuxFixture f;
    f.attach_serial();
    f.base->inject("\x01h");
    EXPECT_EQ(f.base->take(), MuxChardev::help_text());
    EXPECT_NE(MuxChardev::help_text().find("C-a c"), std::string::npos);
    f.base->inject("\x01z");  // not an escape we model: swallowed
    EXPECT_EQ(f.serial_take(), "");
    EXPECT_FALSE(f.rc.shutdown_requested());
    f.base->inject("\x01xafter");
    EXPECT_EQ(f.base->take(), "corvid: Terminated\r\n");
    EXPECT_TRUE(f.rc.shutdown_requested());
    EXPECT_EQ(f.rc.shutdown_cause(), ShutdownCause::kHostQmpQuit);
    EXPECT_EQ(f.serial_take(), "");  // nothing after C-a x
}

TEST(Mux, OutputFromEveryPortReachesTheBackend) {
    MuxFixture f;
    Recorder mon;
    f.attach_serial();
    ASSERT_TRUE(f.mon_port->attach(mon.frontend()).ok());
    f.serial_port->write(reinterpret_cast<const uint8_t*>("guest "), 6);
    f.mon_port->write(reinterpret_cast<const uint8_t*>("monitor"), 7);
    EXPECT_EQ(f.base->take(), "guest monitor");
}

TEST(Mux, InputForALateFrontendIsKeptUntilItAttaches) {
    MuxFixture f;
    f.attach_serial();
    f.base->inject(
        "\x01"
        "cquit\n");  // the monitor is not attached yet
    Recorder mon;
    ASSERT_TRUE(f.mon_port->attach(mon.frontend()).ok());
    EXPECT_EQ(mon.take(), "open;in:quit\n;");
    f.base->eof();
    EXPECT_EQ(mon.take(), "close;");
}

TEST(Mux, AtMostFourPortsAndSpecs) {
    MuxFixture f;
    EXPECT_NE(f.mux->add_port(), nullptr);
    EXPECT_NE(f.mux->add_port(), nullptr);
    EXPECT_EQ(f.mux->add_port(), nullptr);
    auto m = parse_legacy_chardev("mon:stdio");
    ASSERT_TRUE(m.ok());
    EXPECT_EQ(m->get("backend"), "stdio");
    EXPECT_EQ(m->get("mux"), "on");
    EXPECT_EQ(m->get("mon"), "on");
    EXPECT_EQ(parse_legacy_chardev("mon:nonsense").error(), "'nonsense' is not a valid char driver");
    EXPECT_EQ(parse_legacy_chardev("mon:chardev:x").error(), "'mon:chardev:x' is not a valid char driver");
}

// ---- the binary, with a pipe on stdin ----

// Waits until the child's stdout contains `text`.
bool wait_for_output(Child& c, const std::string& text, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
        if (c.out().find(text) != std::string::npos) return true;
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

TEST(MuxE2E, NographicSharesStdioBetweenConsoleAndMonitor) {
    // The firmware's banner on the console, then C-a h, C-a c into the monitor, a command,
    // C-a c back to the console and again into the monitor (the prompt only), quit.
    std::string dir = temp_dir();
    Child c(argv_of(kX86, {"-M", "pc", "-nographic"}), dir);
    ASSERT_TRUE(wait_for_output(c, "Corvid firmware")) << c.out() << c.err();
    c.write_stdin(
        "\x01h\x01"
        "cinfo status\n");
    ASSERT_TRUE(wait_for_output(c, "VM status: running")) << c.out() << c.err();
    c.write_stdin(
        "\x01"
        "c\x01"
        "cquit\n");
    EXPECT_EQ(c.wait(), 0) << c.err();
    const std::string out = c.out();
    EXPECT_NE(out.find("C-a x    exit the emulator"), std::string::npos) << out;
    const size_t banner = out.find("monitor - type 'help' for more information");
    ASSERT_NE(banner, std::string::npos) << out;
    EXPECT_LT(out.find("C-a h    print this help"), banner);  // C-a h came first
    EXPECT_LT(out.find("Corvid firmware"), banner);
    EXPECT_NE(out.find("(qemu) VM status: running\r\n(qemu) \r\n(qemu) ", banner), std::string::npos) << out;
    EXPECT_EQ(out.find("monitor - type", banner + 1), std::string::npos);  // greeted once
}

TEST(MuxE2E, CtrlAXQuitsAndSerialMonStdioIsTheSame) {
    auto r = run_process({binary(kX86), "-M", "pc", "-serial", "mon:stdio", "-display", "none"}, "\x01x", 20s);
    ASSERT_FALSE(r.timed_out) << r.err;
    EXPECT_EQ(r.exit_status, 0) << r.err;
    EXPECT_NE(r.out.find("corvid: Terminated\r\n"), std::string::npos) << r.out;
    EXPECT_EQ(r.out.find("(qemu)"), std::string::npos) << r.out;  // the monitor never had the focus
}

TEST(MuxE2E, ChardevMuxOnSharedBySerialAndMon) {
    // The long form of mon:stdio.
    std::string dir = temp_dir();
    Child c(argv_of(kX86, {"-M", "pc", "-chardev", "stdio,id=c0,mux=on", "-serial", "chardev:c0", "-mon",
                           "chardev=c0,mode=readline", "-display", "none"}),
            dir);
    ASSERT_TRUE(wait_for_output(c, "Corvid firmware")) << c.out() << c.err();
    c.write_stdin(
        "\x01"
        "cinfo status\nquit\n");
    EXPECT_EQ(c.wait(), 0) << c.err();
    EXPECT_NE(c.out().find("VM status: running"), std::string::npos) << c.out();
}

TEST(MuxE2E, NographicWithItsOwnSerialPutsTheMonitorOnStdio) {
    auto r = run_process({binary(kX86), "-M", "pc", "-nographic", "-serial", "null"}, "info status\nquit\n", 20s);
    ASSERT_FALSE(r.timed_out) << r.err;
    EXPECT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(r.out.find("Corvid firmware"), std::string::npos) << r.out;  // the console is elsewhere
    EXPECT_NE(r.out.find("VM status: running"), std::string::npos) << r.out;
}

TEST(MuxE2E, TooManyUsersOfAMuxIsAnError) {
    auto r = run_process(
        {binary(kX86), "-M", "pc", "-chardev", "null,id=c0,mux=on", "-serial", "chardev:c0", "-mon", "chardev=c0",
         "-mon", "chardev=c0", "-mon", "chardev=c0", "-mon", "chardev=c0", "-display", "none"},
        "", 20s);
    EXPECT_EQ(r.exit_status, 1);
    EXPECT_NE(r.err.find("too many uses of multiplexed chardev 'c0' (maximum is 4)"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace corvid::testing
