// qtest end to end: the emulator connects to our socket (as with QEMU's libqtest) and we
// drive the PL011 on virt and the 16550 on pc through QEMU's line protocol.
#include "system/qtest/qtest.h"

#include <gtest/gtest.h>

#include "tests/monitor/monitor_harness.h"
#include "tests/monitor/test_types.h"

namespace corvid::testing {
namespace {

const std::string kA64 = "corvid-system-aarch64";
const std::string kX86 = "corvid-system-x86_64";
constexpr uint64_t kUart = 0x09000000;

struct QtestVm {
    std::string dir = temp_dir();
    std::unique_ptr<Listener> listener;
    std::unique_ptr<Child> child;
    LineSocket qtest;
    LineSocket serial;

    QtestVm(const std::string& bin, std::vector<std::string> args) {
        listener = std::make_unique<Listener>(dir + "/qtest.sock");
        args.insert(args.end(),
                    {"-qtest", "unix:" + dir + "/qtest.sock", "-serial", "unix:" + dir + "/serial.sock,server=on,wait=on"});
        child = std::make_unique<Child>(argv_of(bin, args), dir);
        // wait=on: the emulator accepts our serial connection before it goes on (so no output
        // is dropped for want of a peer), then connects to the qtest socket.
        serial = LineSocket::connect_unix(dir + "/serial.sock");
        qtest = listener->accept();
    }
    std::string cmd(const std::string& line) {
        qtest.send(line + "\n");
        std::string reply;
        if (!qtest.read_line(&reply)) return "<timeout>";
        return reply;
    }
};

std::string hex64(uint64_t v) {
    return fmt::format("OK 0x{:016x}", v);
}

TEST(Qtest, Pl011TransmitReceiveAndIds) {
    QtestVm vm(kA64, {"-M", "virt"});
    ASSERT_TRUE(vm.qtest.ok()) << vm.child->err();
    ASSERT_TRUE(vm.serial.ok()) << vm.child->err();
    // PrimeCell IDs.
    const uint8_t ids[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};
    for (unsigned i = 0; i < 8; ++i)
        EXPECT_EQ(vm.cmd(fmt::format("readl 0x{:x}", kUart + 0xfe0 + 4 * i)), hex64(ids[i]));
    // Enable UART, TX, RX; transmit two bytes.
    EXPECT_EQ(vm.cmd(fmt::format("writel 0x{:x} 0x301", kUart + 0x30)), "OK");
    EXPECT_EQ(vm.cmd(fmt::format("writeb 0x{:x} 0x48", kUart)), "OK");
    EXPECT_EQ(vm.cmd(fmt::format("writeb 0x{:x} 0x69", kUart)), "OK");
    EXPECT_EQ(vm.serial.read_available(), "Hi");
    // FR: TX FIFO empty, RX FIFO empty.
    EXPECT_EQ(vm.cmd(fmt::format("readl 0x{:x}", kUart + 0x18)), hex64(0x90));
    // Unmask RX interrupt, send a byte in from the outside.
    EXPECT_EQ(vm.cmd(fmt::format("writel 0x{:x} 0x10", kUart + 0x38)), "OK");
    vm.serial.send("z");
    std::string fr;
    for (int i = 0; i < 200; ++i) {
        fr = vm.cmd(fmt::format("readl 0x{:x}", kUart + 0x18));
        if (fr != hex64(0x90)) break;
        std::this_thread::sleep_for(5ms);
    }
    EXPECT_EQ(fr, hex64(0xc0));  // RXFE cleared; FIFO off: one byte fills it (RXFF)
    EXPECT_EQ(vm.cmd(fmt::format("readl 0x{:x}", kUart + 0x40)), hex64(0x10));  // MIS: RX
    EXPECT_EQ(vm.cmd(fmt::format("readb 0x{:x}", kUart)), hex64('z'));
    EXPECT_EQ(vm.cmd(fmt::format("readl 0x{:x}", kUart + 0x18)), hex64(0x90));
    EXPECT_EQ(vm.cmd(fmt::format("readl 0x{:x}", kUart + 0x40)), hex64(0));
}

TEST(Qtest, MemoryCommandsClockAndErrors) {
    QtestVm vm(kA64, {"-M", "virt"});
    ASSERT_TRUE(vm.qtest.ok()) << vm.child->err();
    EXPECT_EQ(vm.cmd("write 0x40000000 4 0xdeadbeef"), "OK");
    EXPECT_EQ(vm.cmd("read 0x40000000 4"), "OK 0xdeadbeef");
    EXPECT_EQ(vm.cmd("readl 0x40000000"), hex64(0xefbeadde));
    EXPECT_EQ(vm.cmd("writeq 0x40000008 0x0102030405060708"), "OK");
    EXPECT_EQ(vm.cmd("readq 0x40000008"), hex64(0x0102030405060708));
    EXPECT_EQ(vm.cmd("readw 0x4000000a"), hex64(0x0506));
    EXPECT_EQ(vm.cmd("memset 0x40000000 3 0x5a"), "OK");
    EXPECT_EQ(vm.cmd("read 0x40000000 5"), "OK 0x5a5a5aef00");
    EXPECT_EQ(vm.cmd("readb 0x0"), hex64(0));  // unassigned reads as 0
    EXPECT_EQ(vm.cmd("endianness"), "OK little");
    EXPECT_EQ(vm.cmd("clock_step 1000"), "OK 1000");
    EXPECT_EQ(vm.cmd("clock_step 500"), "OK 1500");
    EXPECT_EQ(vm.cmd("clock_set 10000"), "OK 10000");
    EXPECT_EQ(vm.cmd("frobnicate 1"), "FAIL Unknown command 'frobnicate'");
    EXPECT_EQ(vm.cmd("readl"), "FAIL Invalid argument");
    EXPECT_EQ(vm.cmd("writel 0x40000000 zz"), "FAIL Invalid argument");
    EXPECT_EQ(vm.cmd("irq_intercept_in /nowhere"), "FAIL Unknown device");
    EXPECT_EQ(vm.cmd("irq_intercept_out /machine"), "FAIL No intercepts installed");
    // The session survives everything above.
    EXPECT_EQ(vm.cmd("readl 0x40000000"), hex64(0xef5a5a5a));
}

TEST(Qtest, Uart16550OnPc) {
    QtestVm vm(kX86, {"-machine", "pc"});
    ASSERT_TRUE(vm.qtest.ok()) << vm.child->err();
    ASSERT_TRUE(vm.serial.ok());
    EXPECT_EQ(vm.cmd("inb 0x3fd"), "OK 0x0060");  // LSR: THR empty, transmitter empty
    EXPECT_EQ(vm.cmd("outb 0x3f8 0x51"), "OK");
    EXPECT_EQ(vm.serial.read_available(), "Q");
    vm.serial.send("k");
    std::string lsr;
    for (int i = 0; i < 200; ++i) {
        lsr = vm.cmd("inb 0x3fd");
        if (lsr != "OK 0x0060") break;
        std::this_thread::sleep_for(5ms);
    }
    EXPECT_EQ(lsr, "OK 0x0061");  // data ready
    EXPECT_EQ(vm.cmd("inb 0x3f8"), "OK 0x006b");
    // The pc board has a virtual clock: qtest puts it in manual mode and steps it exactly.
    std::string first = vm.cmd("clock_step 0");
    ASSERT_EQ(first.rfind("OK ", 0), 0u) << first;
    int64_t t0 = std::stoll(first.substr(3));
    std::this_thread::sleep_for(20ms);  // host time passing does not move it
    EXPECT_EQ(vm.cmd("clock_step 250"), fmt::format("OK {}", t0 + 250));
    EXPECT_EQ(vm.cmd(fmt::format("clock_set {}", t0 + 1000)), fmt::format("OK {}", t0 + 1000));
}

TEST(Qtest, ColdPluggedDebugExitEndsTheRun) {
    // -device goes through Machine::add_device: the port really exists.
    QtestVm vm(kX86, {"-machine", "pc", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"});
    ASSERT_TRUE(vm.qtest.ok()) << vm.child->err();
    vm.qtest.send("outb 0xf4 0x1\n");
    EXPECT_EQ(vm.child->wait(), 3);  // (1 << 1) | 1
}

TEST(Qtest, IrqEventsFromASession) {
    // Without a board nothing can be intercepted, so no events are formatted (the boards'
    // lines are tested in qtest_irq_test.cpp).
    TestVm t;
    QtestSession s(*t.vm);
    EXPECT_EQ(s.irq_event(3, true), "");
    EXPECT_EQ(s.execute("irq_intercept_in /machine"), "FAIL No intercepts installed\n");
    EXPECT_EQ(s.irq_event(3, true), "");
}

}  // namespace
}  // namespace corvid::testing
