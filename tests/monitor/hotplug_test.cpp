// device_del end to end (QMP, HMP and a guest's view through qtest) and -machine
// memory-backend=ID with the real binaries. Expected texts come from qemu-system-* 7.2.
#include <gtest/gtest.h>

#include <fmt/format.h>
#include <unistd.h>

#include <set>

#include "tests/monitor/monitor_harness.h"

namespace corvid::testing {
namespace {

const std::string kA64 = "corvid-system-aarch64";
const std::string kX86 = "corvid-system-x86_64";

// The shared QMP/qtest fixture plus the device_del and qom-list shorthands used here.
struct Emu : QmpVm {
    using QmpVm::QmpVm;
    Json del(const std::string& id) { return cmd(fmt::format(R"({{"execute": "device_del", "arguments": {{"id": "{}"}}}})", id)); }
    std::set<std::string> peripherals() {
        std::set<std::string> ids;
        Json r = cmd(R"({"execute": "qom-list", "arguments": {"path": "/machine/peripheral"}})")["return"];
        for (const auto& c : r) {
            if (c["name"] != "type") ids.insert(c["name"].get<std::string>());
        }
        return ids;
    }
    std::string hmp(const std::string& line) {
        Json r = cmd(Json{{"execute", "human-monitor-command"}, {"arguments", {{"command-line", line}}}}.dump());
        return r["return"].is_string() ? r["return"].get<std::string>() : r.dump();
    }
};

TEST(DeviceDel, PcRemovesColdAndHotPluggedPciDevices) {
    Emu vm(kX86, {"-machine", "pc", "-accel", "qtest", "-device", "e1000,id=n0"});
    ASSERT_TRUE(vm.negotiated) << vm.child->err();
    ASSERT_EQ(vm.cmd(R"({"execute": "device_add", "arguments": {"driver": "virtio-net-pci", "id": "v1"}})")["return"],
              Json::object());
    EXPECT_EQ(vm.peripherals(), (std::set<std::string>{"n0", "v1"}));

    EXPECT_EQ(vm.del("v1")["return"], Json::object());
    // QEMU's order: the proxy's virtio backend child (no id) first, then the device.
    Json backend = vm.qmp->event("DEVICE_DELETED");
    EXPECT_EQ(backend["data"], Json({{"path", "/machine/peripheral/v1/virtio-backend"}}));
    Json dev = vm.qmp->event("DEVICE_DELETED");
    EXPECT_EQ(dev["data"], Json({{"device", "v1"}, {"path", "/machine/peripheral/v1"}}));
    ASSERT_TRUE(dev["timestamp"].contains("seconds"));

    EXPECT_EQ(vm.del("n0")["return"], Json::object());
    Json n0 = vm.qmp->event("DEVICE_DELETED");
    EXPECT_EQ(n0["data"], Json({{"device", "n0"}, {"path", "/machine/peripheral/n0"}}));
    EXPECT_TRUE(vm.peripherals().empty());
    EXPECT_EQ(vm.hmp("info qtree").find("e1000"), std::string::npos);
    Json sec = vm.cmd(R"({"execute": "query-security"})");
    EXPECT_EQ(sec.dump().find("e1000"), std::string::npos) << sec;
    EXPECT_EQ(sec.dump().find("virtio-net-pci"), std::string::npos) << sec;

    // Gone for good, and the id is free again.
    Json again = vm.del("n0");
    EXPECT_EQ(again["error"]["class"], "DeviceNotFound");
    EXPECT_EQ(again["error"]["desc"], "Device 'n0' not found");
    EXPECT_EQ(vm.cmd(R"({"execute": "device_add", "arguments": {"driver": "e1000", "id": "n0"}})")["return"], Json::object());
    EXPECT_EQ(vm.peripherals(), (std::set<std::string>{"n0"}));
    EXPECT_NE(vm.hmp("info qtree").find("dev: e1000, id \"n0\""), std::string::npos);
    // HMP's device_del prints nothing on success.
    EXPECT_EQ(vm.hmp("device_del n0"), "");
    EXPECT_TRUE(vm.peripherals().empty());
    EXPECT_EQ(vm.hmp("device_del n0"), "Error: Device 'n0' not found\n");
}

TEST(DeviceDel, NetdevCanBeReusedAfterUnplug) {
    Emu vm(kX86, {"-machine", "pc", "-accel", "qtest", "-netdev", "hubport,id=h0,hubid=0", "-device",
                  "e1000,id=n0,netdev=h0"});
    ASSERT_TRUE(vm.negotiated) << vm.child->err();
    Json busy = vm.cmd(R"({"execute": "device_add", "arguments": {"driver": "rtl8139", "id": "n1", "netdev": "h0"}})");
    EXPECT_EQ(busy["error"]["class"], "GenericError") << busy;
    EXPECT_EQ(vm.del("n0")["return"], Json::object());
    Json reused = vm.cmd(R"({"execute": "device_add", "arguments": {"driver": "rtl8139", "id": "n1", "netdev": "h0"}})");
    EXPECT_EQ(reused["return"], Json::object()) << reused;
}

TEST(DeviceDel, NotHotpluggableBusesAnswerLikeQemu) {
    Emu q35(kX86, {"-machine", "q35", "-accel", "qtest", "-device", "e1000,id=n0", "-device",
                   "isa-debug-exit,iobase=0xf4,iosize=0x04,id=dbg"});
    ASSERT_TRUE(q35.negotiated) << q35.child->err();
    Json root = q35.del("n0");
    EXPECT_EQ(root["error"]["class"], "GenericError");
    EXPECT_EQ(root["error"]["desc"], "Bus 'pcie.0' does not support hotplugging");
    Json isa = q35.del("dbg");
    EXPECT_EQ(isa["error"]["desc"], "Bus 'isa.0' does not support hotplugging");
    Json ghost = q35.del("ghost");
    EXPECT_EQ(ghost["error"]["class"], "DeviceNotFound");
    EXPECT_EQ(ghost["error"]["desc"], "Device 'ghost' not found");
    EXPECT_EQ(q35.peripherals(), (std::set<std::string>{"n0", "dbg"}));  // nothing was removed
    EXPECT_EQ(q35.hmp("device_del n0"), "Error: Bus 'pcie.0' does not support hotplugging\n");

    // virt fills its virtio-mmio transports from the top: the first device sits on bus 31.
    Emu virt(kA64, {"-machine", "virt", "-accel", "qtest", "-device", "virtio-net-device,id=v0", "-device",
                    "virtio-rng-device,id=v1"});
    ASSERT_TRUE(virt.negotiated) << virt.child->err();
    EXPECT_EQ(virt.del("v0")["error"]["desc"], "Bus 'virtio-mmio-bus.31' does not support hotplugging");
    EXPECT_EQ(virt.del("v1")["error"]["desc"], "Bus 'virtio-mmio-bus.30' does not support hotplugging");
}

// device_add at run time goes only where QEMU 7.2 hot-plugs: pc's PCI root bus. q35's root
// complex, the ISA bus and virt's virtio-mmio transports refuse, naming the bus.
TEST(DeviceAdd, HotplugOnlyWhereQemuAllowsIt) {
    auto add = [](Emu& e, const std::string& driver) {
        return e.cmd(fmt::format(R"({{"execute": "device_add", "arguments": {{"driver": "{}", "id": "x"}}}})", driver));
    };
    Emu q35(kX86, {"-machine", "q35", "-accel", "qtest"});
    ASSERT_TRUE(q35.negotiated) << q35.child->err();
    EXPECT_EQ(add(q35, "e1000e")["error"]["desc"], "Bus 'pcie.0' does not support hotplugging");
    EXPECT_EQ(add(q35, "isa-debug-exit")["error"]["desc"], "Bus 'isa.0' does not support hotplugging");
    EXPECT_EQ(q35.peripherals(), std::set<std::string>{});

    Emu pc(kX86, {"-machine", "pc", "-accel", "qtest"});
    ASSERT_TRUE(pc.negotiated) << pc.child->err();
    EXPECT_EQ(add(pc, "isa-debug-exit")["error"]["desc"], "Bus 'isa.0' does not support hotplugging");
    EXPECT_EQ(add(pc, "e1000")["return"], Json::object());
    EXPECT_EQ(pc.peripherals(), std::set<std::string>{"x"});

    Emu virt(kA64, {"-machine", "virt", "-accel", "qtest", "-device", "virtio-rng-device"});
    ASSERT_TRUE(virt.negotiated) << virt.child->err();
    EXPECT_EQ(add(virt, "virtio-net-device")["error"]["desc"], "Bus 'virtio-mmio-bus.30' does not support hotplugging");
}

std::string hex64(uint64_t v) {
    return fmt::format("OK 0x{:016x}", v);
}

// What a guest sees: the BAR decodes while the device is there; afterwards the old BAR
// reads all ones (no fault) and the slot's config space reads as empty.
TEST(DeviceDel, GuestSeesAnEmptySlotAndOpenBusAfterUnplug) {
    Emu vm(kX86, {"-machine", "pc", "-device", "e1000,id=n0,addr=3"}, true);
    ASSERT_TRUE(vm.negotiated) << vm.child->err();
    ASSERT_TRUE(vm.qtest.ok());
    EXPECT_EQ(vm.qt("outl 0xcf8 0x80001800"), "OK");  // 00:03.0 vendor/device
    EXPECT_EQ(vm.qt("inl 0xcfc"), "OK 0x100e8086");
    EXPECT_EQ(vm.qt("outl 0xcf8 0x80001810"), "OK");  // BAR0
    EXPECT_EQ(vm.qt("outl 0xcfc 0xfebc0000"), "OK");
    EXPECT_EQ(vm.qt("outl 0xcf8 0x80001804"), "OK");  // command: memory + bus master
    EXPECT_EQ(vm.qt("outw 0xcfc 0x0006"), "OK");
    EXPECT_EQ(vm.qt("writel 0xfebc00d0 0x4"), "OK");  // IMS
    EXPECT_EQ(vm.qt("readl 0xfebc00d0"), hex64(0x4));

    EXPECT_EQ(vm.del("n0")["return"], Json::object());
    EXPECT_EQ(vm.qt("readl 0xfebc00d0"), hex64(0xffffffff));
    EXPECT_EQ(vm.qt("writel 0xfebc00d0 0x4"), "OK");
    EXPECT_EQ(vm.qt("readb 0xfebc0000"), hex64(0xff));
    EXPECT_EQ(vm.qt("outl 0xcf8 0x80001800"), "OK");
    EXPECT_EQ(vm.qt("inw 0xcfc"), "OK 0xffff");
    EXPECT_EQ(vm.qt("inl 0xcfc"), "OK 0xffffffff");
    // The slot takes a new device, whose BAR is unprogrammed again.
    EXPECT_EQ(vm.cmd(R"({"execute": "device_add", "arguments": {"driver": "e1000", "id": "n0", "addr": "3"}})")["return"],
              Json::object());
    EXPECT_EQ(vm.qt("inl 0xcfc"), "OK 0x100e8086");
    EXPECT_EQ(vm.qt("outl 0xcf8 0x80001810"), "OK");
    EXPECT_EQ(vm.qt("inl 0xcfc"), "OK 0x0000");  // QEMU's "OK 0x%04x"
}

TEST(MemoryBackend, IsTheGuestRamUnderQtest) {
    Emu vm(kX86, {"-machine", "pc,memory-backend=mem", "-object", "memory-backend-ram,id=mem,size=256M"}, true);
    ASSERT_TRUE(vm.negotiated) << vm.child->err();
    ASSERT_TRUE(vm.qtest.ok());
    // RAM is the backend's 256 MiB (the default would be 128 MiB): its last word is memory...
    EXPECT_EQ(vm.qt("writel 0x0ffffffc 0x12345678"), "OK");
    EXPECT_EQ(vm.qt("readl 0x0ffffffc"), hex64(0x12345678));
    EXPECT_EQ(vm.qt("writeq 0x08000000 0x1122334455667788"), "OK");
    EXPECT_EQ(vm.qt("readq 0x08000000"), hex64(0x1122334455667788));
    // ...and the next one is the start of the PCI hole (open bus).
    EXPECT_EQ(vm.qt("writel 0x10000000 0x12345678"), "OK");
    EXPECT_EQ(vm.qt("readl 0x10000000"), hex64(0xffffffff));
    EXPECT_EQ(vm.hmp("xp /1wx 0x0ffffffc"), "000000000ffffffc: 0x12345678\n");

    Json in_use = vm.cmd(R"({"execute": "object-del", "arguments": {"id": "mem"}})");
    EXPECT_EQ(in_use["error"]["class"], "GenericError");
    EXPECT_EQ(in_use["error"]["desc"], "object 'mem' is in use, can not be deleted");
    EXPECT_EQ(vm.hmp("object_del mem"), "Error: object 'mem' is in use, can not be deleted\n");
    // A backend no machine uses can go.
    EXPECT_EQ(vm.cmd(R"({"execute": "object-add", "arguments": {"qom-type": "memory-backend-ram", "id": "m2", "size": 1048576}})")["return"],
              Json::object());
    EXPECT_EQ(vm.cmd(R"({"execute": "object-del", "arguments": {"id": "m2"}})")["return"], Json::object());
}

TEST(MemoryBackend, StartupErrorsAsQemu) {
    ProcessResult mismatch = run_process(argv_of(kX86, {"-machine", "pc,memory-backend=mem", "-object",
                                                        "memory-backend-ram,id=mem,size=128M", "-m", "256",
                                                        "-display", "none", "-accel", "qtest"}));
    EXPECT_EQ(mismatch.exit_status, 1);
    EXPECT_EQ(mismatch.err, "corvid-system-x86_64: Machine memory size does not match the size of the memory backend\n");
    ProcessResult not_ram = run_process(argv_of(
        kX86, {"-machine", "pc,memory-backend=mem", "-object", "rng-random,id=mem", "-display", "none", "-accel", "qtest"}));
    EXPECT_EQ(not_ram.exit_status, 1);
    EXPECT_EQ(not_ram.err, "corvid-system-x86_64: Memory backend 'mem' not found\n");
}

// The bundled hello guest on pc with its RAM from a memory backend, as QEMU runs it.
class BackendGuest : public ::testing::TestWithParam<const char*> {};

TEST_P(BackendGuest, HelloRunsOnPc) {
    const std::string elf = std::string(CORVID_BINARY_DIR) + "/guests/x86/hello.elf";
    if (access(elf.c_str(), R_OK) != 0) GTEST_SKIP() << elf << " not built";
    ProcessResult r = run_process(
        argv_of(kX86, {"-machine", "pc,memory-backend=mem", "-object", "memory-backend-ram,id=mem,size=192M", "-display",
                       "none", "-serial", "stdio", "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04", "-kernel", elf,
                       "-accel", GetParam()}),
        "", std::chrono::seconds(60));
    EXPECT_EQ(r.exit_status, 1) << r.err;  // isa-debug-exit with 0
    std::string out;
    for (char c : r.out) {
        if (c != '\r') out += c;  // the serial on stdio writes "\r\n" line ends
    }
    EXPECT_EQ(out, "Hello from Corvid x86 guest!\npvh: magic ok, version ok\n") << r.err;
}

INSTANTIATE_TEST_SUITE_P(Tcg, BackendGuest, ::testing::Values("tcg", "tcg,backend=interp"),
                         [](const auto& info) { return std::string(info.index == 0 ? "jit" : "interp"); });

}  // namespace
}  // namespace corvid::testing
