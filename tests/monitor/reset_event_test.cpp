// QMP RESET and SHUTDOWN events for resets the guest asks for (PIIX 0xcf9, port 0x92, the
// i8042's 0xfe pulse, a triple fault, PSCI SYSTEM_RESET/SYSTEM_OFF), system_reset, and
// -no-reboot turning a guest reset into SHUTDOWN "guest-reset", as QEMU reports them.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>

#include "hw/loader/elf_loader.h"
#include "tests/hw/elf_builder.h"
#include "tests/monitor/monitor_harness.h"

namespace corvid::testing {
namespace {

const std::string kX86 = "corvid-system-x86_64";

// The emulator on x86 with a QMP server socket and, optionally, a qtest connection to us.
struct EventVm : QmpVm {
    EventVm(std::vector<std::string> args, bool with_qtest) : QmpVm(kX86, std::move(args), with_qtest) {}
};

void expect_reset(const Json& e, bool guest, const std::string& reason) {
    ASSERT_TRUE(e.is_object()) << "no RESET event";
    EXPECT_EQ(e["event"], "RESET");
    EXPECT_EQ(e["data"]["guest"], guest);
    EXPECT_EQ(e["data"]["reason"], reason);
    EXPECT_TRUE(e["timestamp"]["seconds"].is_number_integer());
}

TEST(ResetEvent, GuestResetPortsUnderQtest) {
    EventVm vm({"-machine", "pc"}, true);
    ASSERT_TRUE(vm.negotiated) << vm.child->err();
    ASSERT_TRUE(vm.qtest.ok()) << vm.child->err();
    // PIIX reset control register: SRST + RST_CPU.
    EXPECT_EQ(vm.qt("outb 0xcf9 0x6"), "OK");
    expect_reset(vm.qmp->event("RESET"), true, "guest-reset");
    // Port 0x92 fast reset (bit 0 rising) and the keyboard controller's pulse.
    EXPECT_EQ(vm.qt("outb 0x92 0x1"), "OK");
    expect_reset(vm.qmp->event("RESET"), true, "guest-reset");
    EXPECT_EQ(vm.qt("outb 0x64 0xfe"), "OK");
    expect_reset(vm.qmp->event("RESET"), true, "guest-reset");
    // A host reset says so; the machine keeps running.
    EXPECT_TRUE(vm.qmp->cmd(R"({"execute": "system_reset"})").contains("return"));
    expect_reset(vm.qmp->event("RESET"), false, "host-qmp-system-reset");
    EXPECT_EQ(vm.qmp->cmd(R"({"execute": "query-status"})")["return"]["status"], "running");
    // Exactly one event per reset: nothing else is pending.
    EXPECT_TRUE(vm.qmp->event("RESET", 300ms).is_null());
    EXPECT_TRUE(vm.qmp->cmd(R"({"execute": "quit"})").contains("return"));
    Json down = vm.qmp->event("SHUTDOWN");
    ASSERT_TRUE(down.is_object());
    EXPECT_EQ(down["data"]["guest"], false);
    EXPECT_EQ(down["data"]["reason"], "host-qmp-quit");
    EXPECT_EQ(vm.child->wait(), 0);
}

TEST(ResetEvent, NoRebootTurnsAGuestResetIntoShutdown) {
    EventVm vm({"-machine", "q35", "-no-reboot"}, true);
    ASSERT_TRUE(vm.negotiated) << vm.child->err();
    ASSERT_TRUE(vm.qtest.ok()) << vm.child->err();
    vm.qtest.send("outb 0xcf9 0x6\n");
    Json down = vm.qmp->event("SHUTDOWN");
    ASSERT_TRUE(down.is_object()) << vm.child->err();
    EXPECT_EQ(down["data"]["guest"], true);
    EXPECT_EQ(down["data"]["reason"], "guest-reset");
    EXPECT_EQ(vm.child->wait(), 0) << vm.child->err();
}

// A PVH kernel (code at 1 MiB) for the tcg accelerator.
std::string write_kernel(const std::string& name, const std::vector<uint8_t>& code) {
    ElfBuilder<true> b;
    b.machine = EM_X86_64;
    b.entry = 0x100000;
    SegSpec s;
    s.paddr = 0x100000;
    s.data = code;
    s.flags = PF_R | PF_W | PF_X;
    b.segs.push_back(s);
    SegSpec n;
    n.type = PT_NOTE;
    n.data = make_note("Xen", kXenElfNotePhys32Entry, le_bytes(0x100000, 4));
    n.flags = PF_R;
    b.segs.push_back(n);
    std::vector<uint8_t> img = b.build();
    std::string path = temp_dir() + "/" + name + ".elf";
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(img.data()), std::streamsize(img.size()));
    return path;
}

// mov dx, 0xcf9; mov al, 6; out dx, al; hlt
const std::vector<uint8_t> kCf9Reset = {0x66, 0xba, 0xf9, 0x0c, 0xb0, 0x06, 0xee, 0xf4};
// lidt [0x100010] (a zero-limit IDT), then int3: nothing can be delivered -> triple fault.
const std::vector<uint8_t> kTripleFault = {0x0f, 0x01, 0x1d, 0x10, 0x00, 0x10, 0x00, 0xcc, 0xf4, 0xf4, 0xf4,
                                           0xf4, 0xf4, 0xf4, 0xf4, 0xf4, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00};

TEST(ResetEvent, GuestCodeResetsUnderTcg) {
    // The guest resets again after each reset (its kernel is reloaded): several events.
    EventVm vm({"-machine", "pc", "-accel", "tcg", "-S", "-kernel", write_kernel("cf9", kCf9Reset)}, false);
    ASSERT_TRUE(vm.negotiated) << vm.child->err();
    EXPECT_TRUE(vm.qmp->cmd(R"({"execute": "cont"})").contains("return"));  // -S: no event is missed
    expect_reset(vm.qmp->event("RESET"), true, "guest-reset");
    expect_reset(vm.qmp->event("RESET"), true, "guest-reset");
    EXPECT_TRUE(vm.qmp->cmd(R"({"execute": "quit"})").contains("return"));
    EXPECT_EQ(vm.child->wait(), 0);
}

TEST(ResetEvent, TripleFaultUnderTcgWithNoReboot) {
    EventVm vm({"-machine", "pc", "-accel", "tcg", "-no-reboot", "-S", "-kernel", write_kernel("tf", kTripleFault)},
               false);
    ASSERT_TRUE(vm.negotiated) << vm.child->err();
    EXPECT_TRUE(vm.qmp->cmd(R"({"execute": "cont"})").contains("return"));
    Json down = vm.qmp->event("SHUTDOWN");
    ASSERT_TRUE(down.is_object()) << vm.child->err();
    EXPECT_EQ(down["data"]["guest"], true);
    EXPECT_EQ(down["data"]["reason"], "guest-reset");
    EXPECT_EQ(vm.child->wait(), 0) << vm.child->err();
}

// An AArch64 kernel for virt: `words` at the start of RAM.
std::string write_a64_kernel(const std::string& name, const std::vector<uint32_t>& words) {
    ElfBuilder<true> b;
    b.machine = EM_AARCH64;
    b.entry = 0x40000000;
    SegSpec s;
    s.paddr = 0x40000000;
    for (uint32_t w : words) {
        for (int i = 0; i < 4; ++i) s.data.push_back(static_cast<uint8_t>(w >> (8 * i)));
    }
    b.segs.push_back(s);
    std::vector<uint8_t> img = b.build();
    std::string path = temp_dir() + "/" + name + ".elf";
    std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char*>(img.data()), std::streamsize(img.size()));
    return path;
}

// movz x0, #fn; movk x0, #0x8400, lsl #16; hvc #0; b .
std::vector<uint32_t> psci_call(uint32_t fn) {
    return {0xd2800000u | (fn << 5), 0xf2b08000u, 0xd4000002u, 0x14000000u};
}

struct A64EventVm {
    std::string dir = temp_dir();
    std::unique_ptr<Child> child;
    std::unique_ptr<QmpClient> qmp;
    bool negotiated = false;

    explicit A64EventVm(std::vector<std::string> args) {
        args.insert(args.end(), {"-qmp", "unix:" + dir + "/qmp.sock,server=on,wait=off", "-display", "none", "-S"});
        child = std::make_unique<Child>(argv_of("corvid-system-aarch64", args), dir);
        qmp = std::make_unique<QmpClient>(LineSocket::connect_unix(dir + "/qmp.sock"));
        negotiated = qmp->negotiate() && qmp->cmd(R"({"execute": "cont"})").contains("return");
    }
};

TEST(ResetEvent, PsciSystemResetAndSystemOff) {
    {
        A64EventVm vm({"-M", "virt", "-kernel", write_a64_kernel("psci_reset", psci_call(9))});
        ASSERT_TRUE(vm.negotiated) << vm.child->err();
        expect_reset(vm.qmp->event("RESET"), true, "guest-reset");
        expect_reset(vm.qmp->event("RESET"), true, "guest-reset");  // the reloaded kernel resets again
        EXPECT_TRUE(vm.qmp->cmd(R"({"execute": "quit"})").contains("return"));
        EXPECT_EQ(vm.child->wait(), 0);
    }
    {
        A64EventVm vm({"-M", "virt", "-kernel", write_a64_kernel("psci_off", psci_call(8))});
        ASSERT_TRUE(vm.negotiated) << vm.child->err();
        Json down = vm.qmp->event("SHUTDOWN");
        ASSERT_TRUE(down.is_object()) << vm.child->err();
        EXPECT_EQ(down["data"]["guest"], true);
        EXPECT_EQ(down["data"]["reason"], "guest-shutdown");
        EXPECT_EQ(vm.child->wait(), 0);
    }
    {
        A64EventVm vm({"-M", "virt", "-no-reboot", "-kernel", write_a64_kernel("psci_noreboot", psci_call(9))});
        ASSERT_TRUE(vm.negotiated) << vm.child->err();
        Json down = vm.qmp->event("SHUTDOWN");
        ASSERT_TRUE(down.is_object()) << vm.child->err();
        EXPECT_EQ(down["data"]["guest"], true);
        EXPECT_EQ(down["data"]["reason"], "guest-reset");
        EXPECT_TRUE(vm.qmp->event("RESET", 200ms).is_null());
        EXPECT_EQ(vm.child->wait(), 0);
    }
}

}  // namespace
}  // namespace corvid::testing
