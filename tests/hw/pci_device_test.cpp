// PciDevice base: BAR sizing and decoding, INTx routing (PIIX3 / ICH9 rules), capability
// list, bus-master-gated DMA, reset.
#include <gtest/gtest.h>

#include "hw/net/e1000.h"
#include "hw/pci/pci_devices.h"
#include "hw/virtio/virtio_net.h"
#include "hw/virtio/virtio_pci.h"
#include "log_capture.h"
#include "pci_test_env.h"

namespace corvid {
namespace {

using testing::PciEnv;

struct E1000Env : PciEnv {
    std::unique_ptr<E1000> dev;
    E1000Env(uint8_t devfn = 0x18) {
        NicConfig nic;
        nic.mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
        dev = std::make_unique<E1000>(nic, host);
        dev->set_devfn(devfn);
    }
};

TEST(PciDevice, BarSizingReturnsSizeMaskAndTypeBits) {
    E1000Env e;
    e.dev->config_write(0x10, 0xffffffff, 4);
    EXPECT_EQ(e.dev->config_read(0x10, 4), 0xfffe0000u);  // 128 KiB memory BAR
    e.dev->config_write(0x14, 0xffffffff, 4);
    EXPECT_EQ(e.dev->config_read(0x14, 4), 0xffffffc1u);  // 64-byte I/O BAR
    EXPECT_EQ(e.dev->config_read(0x18, 4), 0u);           // unimplemented BAR reads 0
}

TEST(PciDevice, MemoryBarDecodesOnlyWhenEnabledAndFollowsMoves) {
    E1000Env e;
    e.dev->config_write(0x10, 0xfebc0000, 4);
    uint64_t v = 0;
    EXPECT_EQ(e.mem.read(0xfebc0008, 4, &v), MemResult::kUnmapped);
    e.dev->config_write(kPciCommand, PciDevice::kCmdMemory, 2);
    ASSERT_EQ(e.mem.read(0xfebc0008, 4, &v), MemResult::kOk);
    EXPECT_EQ(v, 0x83u);  // STATUS: link up, full duplex, 1000 Mb/s
    EXPECT_EQ(e.dev->bar_address(0), 0xfebc0000u);
    e.dev->config_write(0x10, 0xfeb00000, 4);
    EXPECT_EQ(e.mem.read(0xfebc0008, 4, &v), MemResult::kUnmapped);
    EXPECT_EQ(e.mem.read(0xfeb00008, 4, &v), MemResult::kOk);
    e.dev->config_write(kPciCommand, 0, 2);
    EXPECT_EQ(e.mem.read(0xfeb00008, 4, &v), MemResult::kUnmapped);
    EXPECT_FALSE(e.dev->bar_mapped(0));
}

TEST(PciDevice, IoBarAndOverlapIsRefusedAndLogged) {
    E1000Env e;
    e.dev->config_write(0x14, 0xc000, 4);
    e.dev->config_write(0x10, 0x100000, 4);  // over RAM
    testing::LogCapture log;
    e.dev->config_write(kPciCommand, PciDevice::kCmdMemory | PciDevice::kCmdIo, 2);
    EXPECT_TRUE(e.dev->bar_mapped(1));
    EXPECT_FALSE(e.dev->bar_mapped(0));
    EXPECT_TRUE(log.contains("e1000: BAR0 at 0x100000 not mapped"));
    // IOADDR/IODATA reach the register file.
    ASSERT_EQ(e.io.write(0xc000, 4, E1000::kStatus), MemResult::kOk);
    uint64_t v = 0;
    ASSERT_EQ(e.io.read(0xc004, 4, &v), MemResult::kOk);
    EXPECT_EQ(v, 0x83u);
    // RAM is intact.
    EXPECT_EQ(e.rd32(0x100000), 0u);
}

TEST(PciDevice, SixtyFourBitBarAboveFourGig) {
    PciEnv env;
    ASSERT_TRUE(env.mem.add_ram("high", 1ull << 32, 1 << 20).ok());
    VirtioPci dev("virtio-rng-pci", std::make_unique<VirtioRng>(), 0x00ff00, env.host);
    dev.config_write(0x20, 0xffffffff, 4);
    dev.config_write(0x24, 0xffffffff, 4);
    EXPECT_EQ(dev.config_read(0x20, 4), 0xffffc00cu);  // 16 KiB, 64-bit, prefetchable
    EXPECT_EQ(dev.config_read(0x24, 4), 0xffffffffu);
    dev.config_write(0x20, 0x0, 4);
    dev.config_write(0x24, 0x8, 4);
    dev.config_write(kPciCommand, PciDevice::kCmdMemory, 2);
    EXPECT_EQ(dev.bar_address(4), 0x8'0000'0000ull);
    uint64_t v = 0;
    ASSERT_EQ(env.mem.read(0x8'0000'0000ull + VirtioPci::kNumQueues, 2, &v), MemResult::kOk);
    EXPECT_EQ(v, 1u);
}

TEST(PciDevice, IntxFollowsPiix3RoutingAndCommandDisable) {
    E1000Env e(0x18);  // slot 3: INTA -> PIRQ (0 + 3 - 1) & 3 = C -> IRQ 11
    EXPECT_EQ(e.router.pirq_of(0x18, 0), 2u);
    EXPECT_EQ(e.dev->config_read(kPciInterruptPin, 1), 1u);
    e.dev->mmio_write(E1000::kIms, E1000::kIcrTxdw);
    e.dev->mmio_write(E1000::kIcs, E1000::kIcrTxdw);
    EXPECT_TRUE(e.irq(11));
    EXPECT_TRUE(e.dev->config_read(kPciStatus, 2) & PciDevice::kStatusIntx);
    e.dev->config_write(kPciCommand, PciDevice::kCmdIntxDisable, 2);
    EXPECT_FALSE(e.irq(11));
    EXPECT_TRUE(e.dev->config_read(kPciStatus, 2) & PciDevice::kStatusIntx);  // still pending
    e.dev->config_write(kPciCommand, 0, 2);
    EXPECT_TRUE(e.irq(11));
    (void)e.dev->mmio_read(E1000::kIcr);  // read-to-clear
    EXPECT_FALSE(e.irq(11));
}

TEST(PciDevice, SharedLineStaysHighWhileAnyDeviceAsserts) {
    PciEnv env;
    NicConfig nic;
    E1000 a(nic, env.host), b(nic, env.host);
    a.set_devfn(0x18);  // PIRQC
    b.set_devfn(0x20);  // slot 4: PIRQD -> also IRQ 11
    for (E1000* d : {&a, &b}) {
        d->mmio_write(E1000::kIms, 1);
        d->mmio_write(E1000::kIcs, 1);
    }
    EXPECT_TRUE(env.irq(11));
    (void)a.mmio_read(E1000::kIcr);
    EXPECT_TRUE(env.irq(11));
    (void)b.mmio_read(E1000::kIcr);
    EXPECT_FALSE(env.irq(11));
}

TEST(PciDevice, ReservedAndDisabledRoutesAreNotDriven) {
    E1000Env e(0x18);
    e.bus.write(0, 0x08, 0x62, 0x02, 1);  // PIRQC -> IRQ 2 (cascade): reserved
    EXPECT_EQ(e.router.irq_of_pirq(2), -1);
    e.bus.write(0, 0x08, 0x62, 0x80, 1);
    EXPECT_EQ(e.router.irq_of_pirq(2), -1);
    e.dev->mmio_write(E1000::kIms, 1);
    e.dev->mmio_write(E1000::kIcs, 1);
    for (int i = 0; i < 16; i++) EXPECT_FALSE(e.irq(i)) << i;
    e.bus.write(0, 0x08, 0x62, 0x05, 1);
    e.router.refresh();
    EXPECT_TRUE(e.irq(5));
}

TEST(PciDevice, Ich9RoutingUsesPirqEToH) {
    PciBus bus;
    ASSERT_TRUE(bus.add(0xf8, make_ich9_lpc()).ok());
    PciIntxRouter r(bus, PirqChipset::kIch9, nullptr);
    EXPECT_EQ(r.pirq_of(0x10, 0), 6u);  // slot 2 INTA -> (2 + 0) % 4 + 4 = G
    EXPECT_EQ(r.pirq_of(0x18, 1), 4u);  // slot 3 INTB -> E
    bus.write(0, 0xf8, 0x6a, 10, 1);
    EXPECT_EQ(r.irq_of_pirq(6), 10);
}

TEST(PciDevice, VirtioCapabilityChain) {
    PciEnv env;
    VirtioPci dev("virtio-rng-pci", std::make_unique<VirtioRng>(), 0x00ff00, env.host);
    EXPECT_TRUE(dev.config_read(kPciStatus, 2) & PciDevice::kStatusCapList);
    unsigned at = dev.config_read(PciDevice::kPciCapabilityPointer, 1);
    std::vector<unsigned> types;
    for (int guard = 0; at && guard < 48; guard++) {
        EXPECT_EQ(dev.config_read(at, 1), 0x09u);
        EXPECT_EQ(dev.config_read(at + 4, 1), 4u);  // BAR4
        types.push_back(dev.config_read(at + 3, 1));
        at = dev.config_read(at + 1, 1);
    }
    EXPECT_EQ(types, (std::vector<unsigned>{1, 3, 4, 2}));
    EXPECT_EQ(dev.config_read(0x00, 4), 0x10441af4u);
}

TEST(PciDevice, DmaNeedsBusMasterAndRam) {
    E1000Env e;
    uint8_t buf[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    testing::LogCapture log;
    EXPECT_FALSE(e.dev->dma_write(0x1000, buf, 8).ok());
    EXPECT_TRUE(log.contains("bus mastering disabled"));
    e.dev->config_write(kPciCommand, PciDevice::kCmdBusMaster, 2);
    EXPECT_TRUE(e.dev->dma_write(0x1000, buf, 8).ok());
    EXPECT_EQ(e.rd32(0x1000), 0x04030201u);
    EXPECT_FALSE(e.dev->dma_write(0xfffc0000, buf, 8).ok());  // ROM
    EXPECT_FALSE(e.dev->dma_write(PciEnv::kRam - 4, buf, 8).ok());  // runs off RAM
    EXPECT_FALSE(e.dev->dma_read(~0ull - 2, buf, 8).ok());  // wraps
}

TEST(PciDevice, ResetUnmapsAndRestoresConfig) {
    E1000Env e;
    e.dev->config_write(0x10, 0xfebc0000, 4);
    e.dev->config_write(kPciCommand, PciDevice::kCmdMemory | PciDevice::kCmdBusMaster, 2);
    ASSERT_TRUE(e.dev->bar_mapped(0));
    e.dev->reset();
    EXPECT_FALSE(e.dev->bar_mapped(0));
    EXPECT_EQ(e.dev->config_read(0x10, 4), 0u);
    EXPECT_EQ(e.dev->config_read(kPciCommand, 2), 0u);
    EXPECT_EQ(e.dev->config_read(0x00, 4), 0x100e8086u);
    uint64_t v;
    EXPECT_EQ(e.mem.read(0xfebc0008, 4, &v), MemResult::kUnmapped);
}

}  // namespace
}  // namespace corvid

// What a board does for -device: plug through the builder table, then the guest finds the
// device with the config mechanism and programs it.
namespace corvid {
namespace {

TEST(PciDevice, PlugThroughBuilderTableAndEnumerate) {
    testing::PciEnv env;
    TypeRegistry types;
    register_root_types(types);
    register_pci_device_types(types);
    const TypeInfo* e1000 = types.find("e1000");
    const TypeInfo* vnet = types.find("virtio-net");
    ASSERT_TRUE(e1000 && vnet && has_pci_builder(*e1000) && has_pci_builder(*vnet));
    auto a = plug_pci_device(env.bus, *e1000, *OptionList::parse("driver=e1000,mac=52:54:00:00:00:aa"), env.host);
    ASSERT_TRUE(a.ok()) << a.error();
    auto b = plug_pci_device(env.bus, *vnet, *OptionList::parse("driver=virtio-net,addr=5"), env.host);
    ASSERT_TRUE(b.ok()) << b.error();
    EXPECT_EQ((*a)->devfn(), 0x10);  // first free slot from 2
    EXPECT_EQ((*b)->devfn(), 0x28);
    auto clash = plug_pci_device(env.bus, *vnet, *OptionList::parse("driver=virtio-net,addr=5"), env.host);
    EXPECT_FALSE(clash.ok());
    PciConfigIo cfg(env.bus, nullptr, false);
    std::vector<uint32_t> ids;
    for (unsigned slot = 0; slot < 32; slot++) {
        cfg.write(0, 0x8000'0000u | slot << 11, 4);
        const uint32_t id = static_cast<uint32_t>(cfg.read(4, 4));
        if (id != 0xffffffffu) ids.push_back(id);
    }
    EXPECT_EQ(ids, (std::vector<uint32_t>{0x70008086u, 0x100e8086u, 0x10411af4u}));
    const TypeInfo* esb = types.find("i6300esb");
    ASSERT_NE(esb, nullptr);
    EXPECT_EQ(esb->security, Security::kUndeclared);
    EXPECT_EQ(types.find("rtl8139")->security, Security::kInsecure);
}

}  // namespace
}  // namespace corvid
