// Hot-unplug on the x86 boards (Machine::del_device): pc frees the slot, the BARs (which then
// read as the open bus) and the interrupt line and releases the netdev; q35's root bus and
// the ISA bus refuse as QEMU does. Also: RAM backed by caller-owned memory (memory-backend).
#include <gtest/gtest.h>

#include <sys/mman.h>

#include <cstring>

#include "base/run_control.h"
#include "hw/boards/boards.h"
#include "hw/machine.h"
#include "hw/memory_map.h"
#include "hw/net/net_backend.h"
#include "hw/pci/pci_devices.h"
#include "tests/hw/pci_test_env.h"
#include "tests/hw/pic_init.h"

namespace corvid {
namespace {

constexpr uint64_t kBar0 = 0xfebc0000;
constexpr unsigned kSlot2 = 0x10;  // 00:02.0, the first free slot on pc

class NullChar : public CharBackend {
public:
    void write(const uint8_t*, size_t) override {}
    void set_receiver(Receiver) override {}
};

// A board of the given type with the PCI device types registered.
struct X86 {
    TypeRegistry reg;
    RunControl rc;
    NullChar chr;
    std::unique_ptr<Machine> m;
    Status status;

    explicit X86(const char* name, MachineOptions o = {}) {
        register_root_types(reg);
        register_machine_types(reg, Arch::kX86_64);
        register_pci_device_types(reg);
        auto obj = reg.create(*reg.find(name), {});
        EXPECT_TRUE(obj.ok());
        m.reset(static_cast<Machine*>(obj->release()));
        o.serial0 = &chr;
        o.run_control = &rc;
        status = m->init(o);
    }
    Status add(const std::string& opts) {
        auto p = OptionList::parse(opts, "driver");
        if (!p) return make_error(p.error());
        const TypeInfo* t = reg.find(*p->get("driver"));
        if (!t) return make_error("no such type");
        return m->add_device(*t, *p);
    }
    void out(uint16_t port, uint64_t v, unsigned size = 1) { (void)m->io()->write(port, size, v); }
    uint64_t in(uint16_t port, unsigned size = 1) {
        uint64_t v = 0;
        (void)m->io()->read(port, size, &v);
        return v;
    }
    uint32_t cfg_read(unsigned devfn, unsigned reg, unsigned size = 4) {
        out(0xcf8, 0x8000'0000u | (devfn << 8) | (reg & 0xfc), 4);
        return static_cast<uint32_t>(in(static_cast<uint16_t>(0xcfc + (reg & 3)), size));
    }
    void cfg_write(unsigned devfn, unsigned reg, uint32_t v, unsigned size = 4) {
        out(0xcf8, 0x8000'0000u | (devfn << 8) | (reg & 0xfc), 4);
        out(static_cast<uint16_t>(0xcfc + (reg & 3)), v, size);
    }
    MemResult rd(uint64_t a, uint64_t* v, unsigned size = 4) { return m->memory().read(a, size, v); }
    // BAR0 at kBar0 with memory decoding and bus mastering on, as firmware would leave it.
    void map_bar0(unsigned devfn) {
        cfg_write(devfn, 0x10, static_cast<uint32_t>(kBar0));
        cfg_write(devfn, 0x04, 0x0006, 2);
    }
};

TEST(PciUnplug, PcFreesTheSlotAndTheBarReadsAllOnes) {
    X86 b("pc");
    ASSERT_TRUE(b.status.ok()) << b.status.error();
    ASSERT_TRUE(b.add("e1000,id=n1").ok());
    EXPECT_EQ(b.cfg_read(kSlot2, 0), 0x100e8086u);
    b.map_bar0(kSlot2);
    uint64_t v = 0;
    // e1000 IMS (0xd0) is readable and writable: the BAR decodes to the device.
    ASSERT_EQ(b.m->memory().write(kBar0 + 0xd0, 4, 0x4), MemResult::kOk);
    ASSERT_EQ(b.rd(kBar0 + 0xd0, &v), MemResult::kOk);
    EXPECT_EQ(v, 0x4u);

    ASSERT_TRUE(b.m->del_device("n1").ok());
    // The slot is empty: vendor id all ones, as a master abort on config space.
    EXPECT_EQ(b.cfg_read(kSlot2, 0, 2), 0xffffu);
    EXPECT_EQ(b.cfg_read(kSlot2, 0), 0xffffffffu);
    // The guest keeps running when it touches the old BAR: reads all ones, writes vanish.
    ASSERT_EQ(b.rd(kBar0 + 0xd0, &v), MemResult::kOk);
    EXPECT_EQ(v, 0xffffffffu);
    ASSERT_EQ(b.rd(kBar0, &v, 1), MemResult::kOk);
    EXPECT_EQ(v, 0xffu);
    EXPECT_EQ(b.m->memory().write(kBar0 + 0xd0, 4, 0x4), MemResult::kOk);
    // RAM and the BIOS ROM are unaffected by the open bus.
    EXPECT_NE(b.m->memory().ram_page(0x1000, nullptr), nullptr);
    // The id is gone from the board; the same id and slot can be plugged again.
    EXPECT_FALSE(b.m->del_device("n1").ok());
    ASSERT_TRUE(b.add("e1000,id=n1").ok());
    EXPECT_EQ(b.cfg_read(kSlot2, 0), 0x100e8086u);
    // A fresh device: its BAR is unmapped until programmed again, then decodes once more.
    b.map_bar0(kSlot2);
    ASSERT_EQ(b.rd(kBar0 + 0xd0, &v), MemResult::kOk);
    EXPECT_EQ(v, 0u);
}

TEST(PciUnplug, AddressOutsideThePciHoleStillFaults) {
    X86 b("pc");
    ASSERT_TRUE(b.status.ok());
    uint64_t v = 0;
    // Above 4 GiB nothing is mapped with the default RAM: no open bus there.
    EXPECT_EQ(b.rd(0x1'2000'0000ull, &v), MemResult::kUnmapped);
    X86 isa("isapc");
    ASSERT_TRUE(isa.status.ok());
    EXPECT_EQ(isa.rd(kBar0, &v), MemResult::kUnmapped);  // no PCI, no PCI hole
}

TEST(PciUnplug, UnplugDropsTheInterruptLine) {
    X86 b("pc");
    ASSERT_TRUE(b.status.ok());
    testing::init_pics([&](uint16_t port, uint8_t v) { b.out(port, v); });
    // IRQ 5 on the master, level triggered, so that INTR follows the line directly.
    b.out(0x21, static_cast<uint8_t>(~(1u << 5)));
    b.out(0xa1, 0xff);
    b.out(0x4d0, 0x20);
    ASSERT_TRUE(b.add("e1000,id=n1").ok());
    // Slot 2 INTA -> PIRQ (0 + 2 - 1) & 3 = PIRQB (PIIX3 0x61) -> IRQ 5.
    b.cfg_write(0x08, 0x61, 5, 1);
    b.map_bar0(kSlot2);
    X86InterruptSource* pic = b.m->x86_interrupts();
    EXPECT_FALSE(pic->intr_pending());
    ASSERT_EQ(b.m->memory().write(kBar0 + 0xd0, 4, 0x1), MemResult::kOk);  // IMS: TXDW
    ASSERT_EQ(b.m->memory().write(kBar0 + 0xc8, 4, 0x1), MemResult::kOk);  // ICS: raise it
    b.m->poll_devices();
    EXPECT_TRUE(pic->intr_pending());
    ASSERT_TRUE(b.m->del_device("n1").ok());
    b.m->poll_devices();
    EXPECT_FALSE(pic->intr_pending());
}

TEST(PciUnplug, NetdevIsReleasedForTheNextDevice) {
    const std::string id = "h3-unplug-net";
    ASSERT_TRUE(NetRegistry::global().add(id, std::make_unique<testing::CaptureBackend>()).ok());
    {
        X86 b("pc");
        ASSERT_TRUE(b.status.ok());
        ASSERT_TRUE(b.add("e1000,id=n1,netdev=" + id).ok());
        EXPECT_TRUE(NetRegistry::global().find(id)->attached());
        EXPECT_FALSE(b.add("rtl8139,id=n2,netdev=" + id).ok());  // one NIC per netdev
        ASSERT_TRUE(b.m->del_device("n1").ok());
        EXPECT_FALSE(NetRegistry::global().find(id)->attached());
        Status again = b.add("rtl8139,id=n2,netdev=" + id);
        EXPECT_TRUE(again.ok()) << again.error();
        EXPECT_TRUE(NetRegistry::global().find(id)->attached());
    }
    EXPECT_TRUE(NetRegistry::global().remove(id).ok());
}

TEST(PciUnplug, Q35RootBusAndIsaBusRefuseAsQemu) {
    X86 q("q35");
    ASSERT_TRUE(q.status.ok());
    ASSERT_TRUE(q.add("e1000,id=n1,addr=2").ok());
    ASSERT_TRUE(q.add("isa-debug-exit,id=dbg").ok());
    Status st = q.m->del_device("n1");
    ASSERT_FALSE(st.ok());
    EXPECT_EQ(st.error(), "Bus 'pcie.0' does not support hotplugging");
    EXPECT_EQ(q.cfg_read(kSlot2, 0), 0x100e8086u);  // still there
    Status isa = q.m->del_device("dbg");
    ASSERT_FALSE(isa.ok());
    EXPECT_EQ(isa.error(), "Bus 'isa.0' does not support hotplugging");

    X86 pc("pc");
    ASSERT_TRUE(pc.status.ok());
    ASSERT_TRUE(pc.add("isa-debug-exit,id=dbg").ok());
    EXPECT_EQ(pc.m->del_device("dbg").error(), "Bus 'isa.0' does not support hotplugging");
    // An id the board never saw (the Vm layer answers DeviceNotFound before asking).
    EXPECT_FALSE(pc.m->del_device("ghost").ok());
}

// Page-aligned memory the test owns, standing in for a memory-backend-ram object.
struct Backing {
    uint64_t size;
    uint8_t* p;
    explicit Backing(uint64_t s)
        : size(s), p(static_cast<uint8_t*>(mmap(nullptr, s, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0))) {}
    ~Backing() { munmap(p, size); }
};

TEST(MemoryBackend, PcRamIsTheBackendsMemory) {
    Backing mem(4u << 20);
    ASSERT_NE(mem.p, MAP_FAILED);
    MachineOptions o;
    o.ram_size = mem.size;
    o.ram_host = mem.p;
    {
        X86 b("pc", o);
        ASSERT_TRUE(b.status.ok()) << b.status.error();
        ASSERT_EQ(b.m->memory().write(0x20'0000, 4, 0xdeadbeef), MemResult::kOk);
        uint32_t seen;
        std::memcpy(&seen, mem.p + 0x20'0000, 4);
        EXPECT_EQ(seen, 0xdeadbeefu);
        mem.p[0x30'0000] = 0x5a;
        uint64_t v = 0;
        ASSERT_EQ(b.rd(0x30'0000, &v, 1), MemResult::kOk);
        EXPECT_EQ(v, 0x5au);
        // RAM ends with the backend: the next page is the PCI hole.
        EXPECT_EQ(b.m->memory().ram_page(mem.size, nullptr), nullptr);
        EXPECT_EQ(b.m->memory().ram_page(mem.size - 0x1000, nullptr), mem.p + mem.size - 0x1000);
    }
    // The board did not free the backend's memory: still writable after the machine is gone.
    mem.p[0] = 1;
    EXPECT_EQ(mem.p[0x20'0000], 0xef);
}

TEST(MemoryBackend, RamAbove4GIsTheBackendsTail) {
    AddressSpace as("memory");
    Backing mem(2u << 20);
    ASSERT_TRUE(as.add_ram_backed("low", 0, 1u << 20, mem.p).ok());
    ASSERT_TRUE(as.add_ram_backed("high", 1ull << 32, 1u << 20, mem.p + (1u << 20)).ok());
    ASSERT_EQ(as.write((1ull << 32) + 8, 1, 0x77), MemResult::kOk);
    EXPECT_EQ(mem.p[(1u << 20) + 8], 0x77);
    EXPECT_FALSE(as.add_ram_backed("odd", 0x10'0000'0000ull, 0x800, mem.p).ok());  // not page aligned
    EXPECT_FALSE(as.add_ram_backed("none", 0x10'0000'0000ull, 0x1000, nullptr).ok());
    EXPECT_TRUE(as.remove(0).ok());  // unmapping does not free the caller's memory
    mem.p[0] = 3;
    EXPECT_EQ(mem.p[0], 3);
}

}  // namespace
}  // namespace corvid
