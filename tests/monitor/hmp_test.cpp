// HMP: over stdio with the real binary (prompt, device_add accepted and rejected with exact
// messages, info security, quit) and in-process against a real virt board (x/xp formats).
#include "system/monitor/hmp.h"

#include <gtest/gtest.h>

#include "hw/machine.h"
#include "system/vl.h"
#include "tests/monitor/monitor_harness.h"

namespace corvid::testing {
namespace {

const std::string kX86 = "corvid-system-x86_64";

// Runs the binary with `-monitor stdio`, feeds `input`, returns stdout with "\r\n" -> "\n".
std::string hmp_session(std::vector<std::string> args, const std::string& input, int* status) {
    args.push_back("-monitor");
    args.push_back("stdio");
    ProcessResult r = run_process(argv_of(kX86, args), input, std::chrono::seconds(10));
    *status = r.timed_out ? -1 : r.exit_status;
    std::string out;
    for (size_t i = 0; i < r.out.size(); ++i) {
        if (r.out[i] == '\r' && i + 1 < r.out.size() && r.out[i + 1] == '\n') continue;
        out += r.out[i];
    }
    return out;
}

TEST(HmpStdio, RejectedDeviceAddPrintsTheExactError) {
    int status;
    std::string out =
        hmp_session({"-machine", "pc,prohibit-insecure=on", "-accel", "qtest"},
                    "device_add isa-debug-exit,iobase=0xf4\ndevice_add flux-capacitor\ninfo status\nquit\n", &status);
    EXPECT_EQ(status, 0);
    EXPECT_EQ(out,
              "Corvid 0.1.0 monitor - type 'help' for more information\n"
              "(qemu) Error: Type 'isa-debug-exit' is declared as insecure\n"
              "(qemu) Error: 'flux-capacitor' is not a valid device model name\n"
              "(qemu) VM status: running\n"
              "(qemu) ");
}

TEST(HmpStdio, AcceptedDeviceAddShowsInQtreeAndSecurity) {
    int status;
    std::string out = hmp_session({"-machine", "pc", "-accel", "qtest"},
                                  "device_add rtl8139,id=nic\ninfo qtree\ninfo security\n"
                                  "device_add isa-debug-exit,iobase=0xf4,iosize=0x4,id=dbg\n"
                                  "device_del nic\ndevice_del nope\ninfo qtree\nquit\n",
                                  &status);
    EXPECT_EQ(status, 0);
    EXPECT_NE(out.find("(qemu) (qemu) bus: main-system-bus\n"), std::string::npos) << out;  // accepted: no output
    const size_t dev = out.find("  dev: rtl8139, id \"nic\"\n");
    EXPECT_NE(dev, std::string::npos) << out;
    EXPECT_NE(out.find("Security level: accept\n"), std::string::npos);
    EXPECT_NE(out.find("  device       rtl8139 (id nic)                 insecure\n"), std::string::npos) << out;
    EXPECT_NE(out.find("Verdict: outside the security boundary (an object is declared insecure)\n"), std::string::npos);
    // The ISA bus takes no hot-plugged device (QEMU 7.2's text); pc's PCI bus gives the NIC up.
    EXPECT_NE(out.find("Error: Bus 'isa.0' does not support hotplugging\n"), std::string::npos) << out;
    EXPECT_NE(out.find("Error: Device 'nope' not found\n"), std::string::npos);
    EXPECT_EQ(out.find("rtl8139", out.find("Error: Device 'nope' not found\n")), std::string::npos) << out;
}

TEST(HmpStdio, HotPluggedNicAppearsInConfigSpace) {
    // device_add through HMP really reaches the board: the guest's config space shows the NIC.
    std::string dir = temp_dir();
    Listener qtest(dir + "/qtest.sock");
    Child child(argv_of(kX86, {"-machine", "pc", "-accel", "qtest", "-qtest", "unix:" + dir + "/qtest.sock", "-monitor",
                               "stdio"}),
                dir);
    LineSocket q = qtest.accept();
    ASSERT_TRUE(q.ok()) << child.err();
    child.write_stdin("device_add rtl8139,addr=5\n");
    // Wait for the prompt after the command (the command ran).
    for (int i = 0; i < 100 && child.out().find("(qemu) (qemu) ") == std::string::npos; ++i) {
        std::this_thread::sleep_for(20ms);
    }
    std::string reply;
    q.send("outl 0xcf8 0x80002800\n");
    ASSERT_TRUE(q.read_line(&reply));
    EXPECT_EQ(reply, "OK");
    q.send("inl 0xcfc\n");
    ASSERT_TRUE(q.read_line(&reply));
    EXPECT_EQ(reply, "OK 0x813910ec");  // 10ec:8139 in slot 5
    child.write_stdin("quit\n");
    EXPECT_EQ(child.wait(), 0);
}

TEST(HmpStdio, StopContAndSecurityVerdictInside) {
    std::string why;
    if (!kvm_available(&why)) GTEST_SKIP() << "SKIPPED (needs /dev/kvm): " << why;
    int status;
    // -S: only the policy and the report matter here, not the KVM vCPU.
    std::string out = hmp_session({"-machine", "pc,require-secure=on", "-accel", "kvm", "-S"},
                                  "device_add isa-debug-exit\ninfo security\nquit\n", &status);
    EXPECT_EQ(status, 0);
    EXPECT_NE(out.find("(qemu) Error: Type 'isa-debug-exit' is not declared as secure\n"), std::string::npos) << out;
    EXPECT_NE(out.find("Verdict: inside the security boundary (every object is declared secure)\n"), std::string::npos);
}

TEST(HmpStdio, StatusFollowsStopAndCont) {
    int status;
    std::string out =
        hmp_session({"-machine", "pc", "-accel", "qtest", "-S"},
                    "info status\ncont\ninfo status\nstop\ninfo status\nhelp\ninfo version\nbogus\nquit\n", &status);
    EXPECT_EQ(status, 0);
    EXPECT_NE(out.find("(qemu) VM status: paused (prelaunch)\n(qemu) (qemu) VM status: running\n(qemu) (qemu) VM "
                       "status: paused\n"),
              std::string::npos)
        << out;
    EXPECT_NE(out.find("device_add driver[,prop=value][,...]"), std::string::npos);
    EXPECT_NE(out.find("(qemu) 0.1.0\n"), std::string::npos);
    EXPECT_NE(out.find("(qemu) unknown command: 'bogus'\n"), std::string::npos);
}

TEST(HmpSocket, UnixServerMonitor) {
    std::string dir = temp_dir();
    Child child(
        argv_of(kX86, {"-machine", "pc", "-accel", "qtest", "-object", "memory-backend-ram,id=ram0,size=64M",
                       "-machine", "memory-backend=ram0", "-monitor", "unix:" + dir + "/hmp.sock,server,nowait"}),
        dir);
    LineSocket s = LineSocket::connect_unix(dir + "/hmp.sock");
    ASSERT_TRUE(s.ok()) << child.err();
    EXPECT_EQ(s.read_available(), "Corvid 0.1.0 monitor - type 'help' for more information\n(qemu) ");
    s.send("info version\r\n");
    EXPECT_EQ(s.read_available(), "0.1.0\r\n(qemu) ");
    s.send("info qom-tree\n");
    std::string tree = s.read_available();
    EXPECT_NE(tree.find("  /objects (container)\r\n    /ram0 (memory-backend-ram)\r\n"), std::string::npos) << tree;
    s.send("object_add rng-random,id=r1,filename=/dev/urandom\nobject_del r1\nobject_del r1\n");
    EXPECT_EQ(s.read_available(), "(qemu) (qemu) Error: object 'r1' not found\r\n(qemu) ");
    s.send("quit\n");
    EXPECT_EQ(child.wait(), 0);
}

// In-process: a real virt board, memory written directly, dumps compared with QEMU's format.
struct VirtBoard {
    TypeRegistry registry;
    Policy policy;
    RunControl rc;
    std::unique_ptr<Machine> machine;
    std::unique_ptr<Vm> vm;
    std::unique_ptr<CharBackend> null_serial;

    VirtBoard() {
        register_all_types(registry, Arch::kAArch64);
        auto obj = registry.create(*registry.find("virt"), OptionList{});
        machine.reset(static_cast<Machine*>(obj->release()));
        MachineOptions o;
        o.run_control = &rc;
        struct Null : CharBackend {
            void write(const uint8_t*, size_t) override {}
            void set_receiver(Receiver) override {}
        };
        null_serial = std::make_unique<Null>();
        o.serial0 = null_serial.get();
        EXPECT_TRUE(machine->init(o).ok());
        vm = std::make_unique<Vm>(registry, policy, rc);
        vm->set_machine(machine.get(), registry.find("virt"));
        const uint32_t words[] = {0x11223344, 0x55667788, 0x99aabbcc, 0xddeeff00, 0xffffffff, 2};
        for (unsigned i = 0; i < 6; ++i) (void)machine->memory().write(0x40000000 + 4 * i, 4, words[i]);
    }
};

TEST(HmpMemoryDump, QemuFormats) {
    VirtBoard b;
    Hmp hmp(*b.vm);
    EXPECT_EQ(hmp.execute("xp /4x 0x40000000"), "0000000040000000: 0x11223344 0x55667788 0x99aabbcc 0xddeeff00\n");
    EXPECT_EQ(hmp.execute("xp /8xb 0x40000000"), "0000000040000000: 0x44 0x33 0x22 0x11 0x88 0x77 0x66 0x55\n");
    EXPECT_EQ(hmp.execute("xp /2xg 0x40000000"), "0000000040000000: 0x5566778811223344 0xddeeff0099aabbcc\n");
    EXPECT_EQ(hmp.execute("xp /3xh 0x40000000"), "0000000040000000: 0x3344 0x1122 0x7788\n");
    EXPECT_EQ(hmp.execute("xp /6xw 0x40000000"),
              "0000000040000000: 0x11223344 0x55667788 0x99aabbcc 0xddeeff00\n"
              "0000000040000010: 0xffffffff 0x00000002\n");
    EXPECT_EQ(hmp.execute("xp /2dw 0x40000010"), "0000000040000010:         -1          2\n");
    EXPECT_EQ(hmp.execute("x /1uw 0x40000010"), "0000000040000010: 4294967295\n");
    // The last format is remembered, as in QEMU.
    EXPECT_EQ(hmp.execute("xp 0x40000014"), "0000000040000014:          2\n");
    EXPECT_EQ(hmp.execute("xp /1xw 0x1000"), "0000000000001000:\nError: Cannot access memory at address 0x1000\n");
    EXPECT_EQ(hmp.execute("xp /1q 0x40000000"), "Error: invalid char in format: 'q'\n");
}

TEST(HmpMemoryDump, InfoMtreeAndQomTree) {
    VirtBoard b;
    Hmp hmp(*b.vm);
    EXPECT_NE(hmp.execute("info mtree").find("pl011"), std::string::npos);
    std::string tree = hmp.execute("info qom-tree");
    EXPECT_NE(tree.find("  /machine (virt-machine)\n"), std::string::npos) << tree;
    // Onboard devices are /machine/unattached/device[N]; N depends on what the board builds first.
    size_t pl011 = tree.find("] (pl011)\n");
    ASSERT_NE(pl011, std::string::npos) << tree;
    EXPECT_EQ(tree.rfind("      /device[", pl011), tree.rfind('\n', pl011) + 1) << tree;
}

}  // namespace
}  // namespace corvid::testing
