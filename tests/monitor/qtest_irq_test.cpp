// qtest irq_intercept_in/out on the x86 boards: the i8259's ISA inputs reported as the
// asynchronous "IRQ raise N" / "IRQ lower N" lines, driven by the 16550, the PIT and the RTC,
// both in-process (a session on a real pc board) and end to end over the qtest socket.
#include <gtest/gtest.h>

#include "hw/boards/boards.h"
#include "hw/intc/i8259.h"
#include "system/qtest/qtest.h"
#include "tests/monitor/monitor_harness.h"
#include "tests/monitor/test_types.h"

namespace corvid::testing {
namespace {

const std::string kX86 = "corvid-system-x86_64";

// A real pc board in this process, with a session whose async messages we collect.
struct PcSession {
    TestVm t;
    RunControl board_rc;
    std::unique_ptr<Machine> machine;
    std::vector<std::string> events;
    std::unique_ptr<QtestSession> session;

    explicit PcSession(const char* type = "pc-machine") {
        register_machine_types(t.registry, Arch::kX86_64);
        const TypeInfo* mt = t.registry.find(type);
        EXPECT_NE(mt, nullptr);
        auto obj = t.registry.create(*mt, {});
        EXPECT_TRUE(obj.ok());
        machine.reset(static_cast<Machine*>(obj->release()));
        MachineOptions o;
        o.serial0 = &discard;
        o.run_control = &board_rc;
        EXPECT_TRUE(machine->init(o).ok());
        t.vm->set_machine(machine.get(), mt);
        session = std::make_unique<QtestSession>(*t.vm, [this](const std::string& e) { events.push_back(e); });
    }
    ~PcSession() {
        session.reset();  // gives the lines back before the board goes away
        t.vm->set_machine(nullptr, nullptr);
    }
    std::string take_events() {
        std::string all;
        for (const auto& e : events) all += e;
        events.clear();
        return all;
    }

    struct Discard : CharBackend {
        void write(const uint8_t*, size_t) override {}
        void set_receiver(Receiver) override {}
    } discard;
};

// ICW1-4 to the master PIC with every input unmasked, so that a delivered line asserts INTR.
bool program_master_pic(QtestSession& s) {
    for (const char* c : {"outb 0x20 0x11", "outb 0x21 0x20", "outb 0x21 0x04", "outb 0x21 0x01", "outb 0x21 0x00"}) {
        if (s.execute(c) != "OK\n") return false;
    }
    return true;
}

TEST(QtestIrq, InterceptRepliesFollowQemu) {
    PcSession pc;
    QtestSession& s = *pc.session;
    EXPECT_EQ(s.execute("irq_intercept_in /nowhere"), "FAIL Unknown device\n");
    // A path that exists but has no interrupt inputs.
    EXPECT_EQ(s.execute("irq_intercept_in /machine"), "FAIL No intercepts installed\n");
    EXPECT_EQ(s.execute("irq_intercept_in ioapic gpio"), "FAIL Interception of named in-GPIOs not yet supported\n");
    EXPECT_EQ(s.execute("irq_intercept_in"), "FAIL Invalid argument\n");
    EXPECT_EQ(s.execute("irq_intercept_in ioapic"), "OK\n");
    EXPECT_EQ(s.execute("irq_intercept_in ioapic"), "OK\n");  // the same device again
    EXPECT_EQ(s.execute("irq_intercept_out /machine/unattached/device[0]"), "FAIL IRQ intercept already enabled\n");
    EXPECT_EQ(pc.take_events(), "");  // nothing moved yet
}

TEST(QtestIrq, QomPathOfThePicIsAccepted) {
    // `info qom-tree` lists the i8259 pair as the first onboard device; full and partial
    // paths name it.
    for (const char* path : {"/machine/unattached/device[0]", "unattached/device[0]", "device[0]"}) {
        PcSession pc;
        EXPECT_EQ(pc.session->execute(std::string("irq_intercept_in ") + path), "OK\n") << path;
        EXPECT_EQ(pc.session->execute("outb 0x3f9 0x02"), "OK\n");
        EXPECT_EQ(pc.take_events(), "IRQ raise 4\n") << path;
    }
    PcSession pc;
    EXPECT_EQ(pc.session->execute("irq_intercept_in /machine/unattached/device[1]"),
              "FAIL No intercepts installed\n");                                          // the 16550
    EXPECT_EQ(pc.session->execute("irq_intercept_in vice[0]"), "FAIL Unknown device\n");  // not a whole component
}

TEST(QtestIrq, SerialThreInterruptRaisesAndLowersIrq4) {
    PcSession pc;
    QtestSession& s = *pc.session;
    ASSERT_EQ(s.execute("irq_intercept_in ioapic"), "OK\n");
    EXPECT_EQ(s.execute("outb 0x3fc 0x08"), "OK\n");  // MCR: OUT2
    EXPECT_EQ(pc.take_events(), "");
    EXPECT_EQ(s.execute("outb 0x3f9 0x02"), "OK\n");  // IER: THR empty
    EXPECT_EQ(pc.take_events(), "IRQ raise 4\n");
    EXPECT_EQ(s.execute("inb 0x3fa"), "OK 0x0002\n");  // IIR: THR empty; reading it clears that
    EXPECT_EQ(pc.take_events(), "IRQ lower 4\n");
    EXPECT_EQ(s.execute("outb 0x3f8 0x41"), "OK\n");  // transmit: THR empty again at once
    EXPECT_EQ(pc.take_events(), "IRQ raise 4\n");
    EXPECT_EQ(s.execute("outb 0x3f9 0x00"), "OK\n");
    EXPECT_EQ(pc.take_events(), "IRQ lower 4\n");
}

// As QEMU's qtest_irq_handler does, an intercepted input is reported and still reaches the
// PIC; releasing the intercept stops the reports only.
TEST(QtestIrq, InterceptedLinesAreReportedAndStillDelivered) {
    PcSession pc;
    QtestSession& s = *pc.session;
    auto* pic = dynamic_cast<I8259Pair*>(pc.machine->x86_interrupts());
    ASSERT_NE(pic, nullptr);
    ASSERT_TRUE(program_master_pic(s));
    ASSERT_EQ(s.execute("irq_intercept_in ioapic"), "OK\n");
    EXPECT_EQ(s.execute("outb 0x3f9 0x02"), "OK\n");
    EXPECT_EQ(pc.take_events(), "IRQ raise 4\n");
    EXPECT_TRUE(pic->intr_pending());
    EXPECT_EQ(pic->chip(0).irr & 0x10, 0x10);
    s.release_intercept();
    EXPECT_EQ(s.execute("outb 0x3f9 0x00"), "OK\n");  // THRE interrupt off: IRQ4 drops, unreported
    EXPECT_EQ(pc.take_events(), "");
}

TEST(QtestIrq, InterceptOutReportsIntr) {
    PcSession pc;
    QtestSession& s = *pc.session;
    ASSERT_EQ(s.execute("irq_intercept_out /machine/unattached/device[0]"), "OK\n");
    ASSERT_TRUE(program_master_pic(s));
    EXPECT_EQ(s.execute("outb 0x3f9 0x02"), "OK\n");
    EXPECT_EQ(pc.take_events(), "IRQ raise 0\n");               // INTR is the PIC's only output
    EXPECT_TRUE(pc.machine->x86_interrupts()->intr_pending());  // still delivered
    EXPECT_EQ(s.execute("outb 0x21 0xff"), "OK\n");             // mask everything: INTR drops
    EXPECT_EQ(pc.take_events(), "IRQ lower 0\n");
}

TEST(QtestIrq, PitChannel0PulsesIrq0WithClockStep) {
    PcSession pc;
    QtestSession& s = *pc.session;
    ASSERT_EQ(s.execute("irq_intercept_in ioapic"), "OK\n");
    // Channel 0, lo/hi byte, mode 2 (rate generator), count 1193: a period of ~1 ms.
    EXPECT_EQ(s.execute("outb 0x43 0x34"), "OK\n");
    EXPECT_EQ(s.execute("outb 0x40 0xa9"), "OK\n");
    EXPECT_EQ(s.execute("outb 0x40 0x04"), "OK\n");
    EXPECT_EQ(pc.take_events(), "");  // programming mode 2 raises nothing
    EXPECT_EQ(s.execute("clock_step 500000").substr(0, 3), "OK ");
    EXPECT_EQ(pc.take_events(), "");  // half a period
    // To the next deadline: the reload raises IRQ0; the next one lowers it a tick later.
    EXPECT_EQ(s.execute("clock_step").substr(0, 3), "OK ");
    EXPECT_EQ(pc.take_events(), "IRQ raise 0\n");
    EXPECT_EQ(s.execute("clock_step").substr(0, 3), "OK ");
    EXPECT_EQ(pc.take_events(), "IRQ lower 0\n");
    // A whole period later: one more pulse.
    EXPECT_EQ(s.execute("clock_step 1000000").substr(0, 3), "OK ");
    EXPECT_EQ(pc.take_events(), "IRQ raise 0\nIRQ lower 0\n");
}

TEST(QtestIrq, RtcPeriodicInterruptOnIrq8) {
    PcSession pc;
    QtestSession& s = *pc.session;
    ASSERT_EQ(s.execute("irq_intercept_in ioapic"), "OK\n");
    EXPECT_EQ(s.execute("outb 0x70 0x0a"), "OK\n");
    EXPECT_EQ(s.execute("outb 0x71 0x26"), "OK\n");  // 1024 Hz
    EXPECT_EQ(s.execute("outb 0x70 0x0b"), "OK\n");
    EXPECT_EQ(s.execute("outb 0x71 0x42"), "OK\n");  // PIE, 24 h
    EXPECT_EQ(pc.take_events(), "");
    EXPECT_EQ(s.execute("clock_step 100000").substr(0, 3), "OK ");  // < 976 us
    EXPECT_EQ(pc.take_events(), "");
    EXPECT_EQ(s.execute("clock_step 1000000").substr(0, 3), "OK ");
    EXPECT_EQ(pc.take_events(), "IRQ raise 8\n");
    EXPECT_EQ(s.execute("outb 0x70 0x0c"), "OK\n");
    EXPECT_EQ(s.execute("inb 0x71"), "OK 0x00c0\n");  // IRQF | PF; the read clears them
    EXPECT_EQ(pc.take_events(), "IRQ lower 8\n");
}

TEST(QtestIrq, SetIrqInDrivesAPicInput) {
    PcSession pc;
    QtestSession& s = *pc.session;
    auto* pic = dynamic_cast<I8259Pair*>(pc.machine->x86_interrupts());
    ASSERT_NE(pic, nullptr);
    ASSERT_TRUE(program_master_pic(s));
    EXPECT_EQ(s.execute("set_irq_in ioapic unnamed-gpio-in 5 1"), "OK\n");
    EXPECT_TRUE(pic->intr_pending());
    EXPECT_EQ(pic->chip(0).irr & 0x20, 0x20);
    // Intercepted: the test sees its own change, and the PIC too (as in QEMU).
    ASSERT_EQ(s.execute("irq_intercept_in ioapic"), "OK\n");
    EXPECT_EQ(s.execute("set_irq_in ioapic unnamed-gpio-in 6 1"), "OK\n");
    EXPECT_EQ(pc.take_events(), "IRQ raise 6\n");
    EXPECT_EQ(pic->chip(0).irr & 0x40, 0x40);
    EXPECT_EQ(s.execute("set_irq_in ioapic unnamed-gpio-in 16 1"), "FAIL Invalid argument\n");
    EXPECT_EQ(s.execute("set_irq_in ioapic named 1 1"), "FAIL Unknown GPIO list\n");
    EXPECT_EQ(s.execute("set_irq_in /nowhere unnamed-gpio-in 1 1"), "FAIL Unknown device\n");
    EXPECT_EQ(s.execute("set_irq_in ioapic unnamed-gpio-in 1"), "FAIL Invalid argument\n");
}

TEST(QtestIrq, MicrovmSerialIrqAndBoardsWithoutAPic) {
    {
        PcSession vm("microvm-machine");
        ASSERT_EQ(vm.session->execute("irq_intercept_in ioapic"), "OK\n");
        EXPECT_EQ(vm.session->execute("outb 0x3f9 0x02"), "OK\n");
        EXPECT_EQ(vm.take_events(), "IRQ raise 4\n");
    }
    PcSession none("none-machine");
    EXPECT_EQ(none.session->execute("irq_intercept_in ioapic"), "FAIL Unknown device\n");
}

// ---- end to end: the emulator connects to our qtest socket ----

struct IrqQtestVm : QmpVm {
    explicit IrqQtestVm(std::vector<std::string> args) : QmpVm(kX86, std::move(args), true) {}
    std::string take_irqs() {
        std::string all;
        for (const auto& e : irqs) all += e + ";";
        irqs.clear();
        return all;
    }
};

TEST(QtestIrq, EndToEndSerialPitAndRtcOnPc) {
    IrqQtestVm vm({"-machine", "pc"});
    ASSERT_TRUE(vm.qtest.ok()) << vm.child->err();
    EXPECT_EQ(vm.qt("irq_intercept_in ioapic"), "OK");
    EXPECT_EQ(vm.qt("outb 0x3fc 0x08"), "OK");
    EXPECT_EQ(vm.qt("outb 0x3f9 0x02"), "OK");
    EXPECT_EQ(vm.take_irqs(), "IRQ raise 4;");
    EXPECT_EQ(vm.qt("inb 0x3fa"), "OK 0x0002");
    EXPECT_EQ(vm.take_irqs(), "IRQ lower 4;");

    EXPECT_EQ(vm.qt("outb 0x43 0x34"), "OK");
    EXPECT_EQ(vm.qt("outb 0x40 0xa9"), "OK");
    EXPECT_EQ(vm.qt("outb 0x40 0x04"), "OK");
    EXPECT_EQ(vm.qt("clock_step 2500000").substr(0, 3), "OK ");  // 2.5 periods
    EXPECT_EQ(vm.take_irqs(), "IRQ raise 0;IRQ lower 0;IRQ raise 0;IRQ lower 0;");
    EXPECT_EQ(vm.qt("outb 0x43 0x30"), "OK");  // mode 0, no count: IRQ0 stays low
    EXPECT_EQ(vm.take_irqs(), "");

    EXPECT_EQ(vm.qt("outb 0x70 0x0b"), "OK");
    EXPECT_EQ(vm.qt("outb 0x71 0x42"), "OK");
    EXPECT_EQ(vm.qt("clock_step 1000000").substr(0, 3), "OK ");
    EXPECT_EQ(vm.take_irqs(), "IRQ raise 8;");
    EXPECT_EQ(vm.qt("outb 0x70 0x0c"), "OK");
    EXPECT_EQ(vm.qt("inb 0x71"), "OK 0x00c0");
    EXPECT_EQ(vm.take_irqs(), "IRQ lower 8;");
}

TEST(QtestIrq, EndToEndQ35ByQomPath) {
    IrqQtestVm vm({"-machine", "q35"});
    ASSERT_TRUE(vm.qtest.ok()) << vm.child->err();
    EXPECT_EQ(vm.qt("irq_intercept_in /machine/unattached/device[0]"), "OK");
    EXPECT_EQ(vm.qt("outb 0x3f9 0x02"), "OK");
    EXPECT_EQ(vm.take_irqs(), "IRQ raise 4;");
    // The clock is manual under qtest: nothing else arrives by itself.
    EXPECT_EQ(vm.qtest.read_available(200ms), "");
}

}  // namespace
}  // namespace corvid::testing
