// e1000: EEPROM via EERD, legacy TX/RX rings through a capture backend, interrupts, filters.
#include <gtest/gtest.h>

#include "hw/net/e1000.h"
#include "log_capture.h"
#include "pci_test_env.h"

namespace corvid {
namespace {

using testing::CaptureBackend;
using testing::PciEnv;

struct Nic : PciEnv {
    CaptureBackend backend;
    std::unique_ptr<E1000> dev;
    static constexpr uint64_t kTxRing = 0x10000, kRxRing = 0x20000, kBufs = 0x100000;
    Nic() {
        NicConfig c;
        c.mac = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
        c.backend = &backend;
        dev = std::make_unique<E1000>(c, host);
        dev->set_devfn(0x18);
        dev->config_write(kPciCommand, PciDevice::kCmdBusMaster, 2);
    }
    void setup_tx(uint32_t count) {
        dev->mmio_write(E1000::kTdbal, kTxRing);
        dev->mmio_write(E1000::kTdbah, 0);
        dev->mmio_write(E1000::kTdlen, count * 16);
        dev->mmio_write(E1000::kTdh, 0);
        dev->mmio_write(E1000::kTdt, 0);
        dev->mmio_write(E1000::kTctl, E1000::kTctlEn);
    }
    void tx_desc(unsigned i, uint64_t addr, uint16_t len, uint8_t cmd) {
        put<uint64_t>(kTxRing + 16 * i, addr);
        put<uint32_t>(kTxRing + 16 * i + 8, len | static_cast<uint32_t>(cmd) << 24);
        put<uint32_t>(kTxRing + 16 * i + 12, 0);
    }
    void setup_rx(uint32_t count, uint32_t tail, uint32_t rctl) {
        for (uint32_t i = 0; i < count; i++) {
            put<uint64_t>(kRxRing + 16 * i, kBufs + 0x1000 * i);
            put<uint64_t>(kRxRing + 16 * i + 8, 0);
        }
        dev->mmio_write(E1000::kRdbal, kRxRing);
        dev->mmio_write(E1000::kRdlen, count * 16);
        dev->mmio_write(E1000::kRdh, 0);
        dev->mmio_write(E1000::kRdt, tail);
        dev->mmio_write(E1000::kRctl, rctl);
    }
};

TEST(NetE1000, EerdReadsMacAndChecksum) {
    Nic n;
    uint16_t words[64];
    uint16_t sum = 0;
    for (unsigned w = 0; w < 64; w++) {
        n.dev->mmio_write(E1000::kEerd, w << 8 | E1000::kEerdStart);
        const uint32_t v = n.dev->mmio_read(E1000::kEerd);
        ASSERT_TRUE(v & E1000::kEerdDone);
        words[w] = static_cast<uint16_t>(v >> 16);
        sum = static_cast<uint16_t>(sum + words[w]);
    }
    EXPECT_EQ(words[0], 0x5452);
    EXPECT_EQ(words[1], 0x1200);
    EXPECT_EQ(words[2], 0x5634);
    EXPECT_EQ(sum, 0xbaba);
    testing::LogCapture log;
    n.dev->mmio_write(E1000::kEerd, 0xff << 8 | E1000::kEerdStart);
    EXPECT_EQ(n.dev->mmio_read(E1000::kEerd) >> 16, 0u);
    EXPECT_TRUE(log.contains("EERD read of EEPROM word 0xff"));
}

TEST(NetE1000, TransmitsMultiDescriptorPacketAndInterrupts) {
    Nic n;
    n.setup_tx(8);
    std::vector<uint8_t> a(40, 0xaa), b(30, 0xbb);
    n.wr(0x30000, a.data(), a.size());
    n.wr(0x31000, b.data(), b.size());
    n.tx_desc(0, 0x30000, 40, 0);
    n.tx_desc(1, 0x31000, 30, E1000::kTxdCmdEop | E1000::kTxdCmdRs);
    n.dev->mmio_write(E1000::kIms, E1000::kIcrTxdw);
    n.dev->mmio_write(E1000::kTdt, 2);
    ASSERT_EQ(n.backend.sent.size(), 1u);
    EXPECT_EQ(n.backend.sent[0].size(), 70u);
    EXPECT_EQ(n.backend.sent[0][39], 0xaa);
    EXPECT_EQ(n.backend.sent[0][40], 0xbb);
    EXPECT_EQ(n.dev->reg(E1000::kTdh), 2u);
    EXPECT_EQ(n.get<uint8_t>(Nic::kTxRing + 16 + 12) & 1, 1);  // DD on the RS descriptor
    EXPECT_TRUE(n.irq(11));
    EXPECT_EQ(n.dev->mmio_read(E1000::kIcr) & E1000::kIcrTxdw, E1000::kIcrTxdw);
    EXPECT_FALSE(n.irq(11));
}

TEST(NetE1000, TxRingWithTailOutsideIsNotProcessed) {
    Nic n;
    n.setup_tx(8);
    testing::LogCapture log;
    n.dev->mmio_write(E1000::kTdt, 9);
    EXPECT_TRUE(n.backend.sent.empty());
    EXPECT_TRUE(log.contains("TX ring not processed"));
}

TEST(NetE1000, TransmitWithoutBusMasterSendsNothing) {
    Nic n;
    n.dev->config_write(kPciCommand, 0, 2);
    n.setup_tx(8);
    n.tx_desc(0, 0x30000, 60, E1000::kTxdCmdEop);
    n.dev->mmio_write(E1000::kTdt, 1);
    EXPECT_TRUE(n.backend.sent.empty());
}

TEST(NetE1000, ReceivesIntoRingAndWaitsForBuffers) {
    Nic n;
    ASSERT_TRUE(n.backend.attached());
    n.setup_rx(8, 1, E1000::kRctlEn | E1000::kRctlBam);
    n.dev->mmio_write(E1000::kIms, E1000::kIcrRxt0);
    std::vector<uint8_t> f(100);
    for (size_t i = 0; i < f.size(); i++) f[i] = static_cast<uint8_t>(i);
    std::memcpy(f.data(), "\x52\x54\x00\x12\x34\x56", 6);
    n.backend.enqueue(f.data(), f.size());
    n.backend.enqueue(f.data(), f.size());
    n.dev->port().flush();
    // One buffer (RDT = 1): the first frame lands, the second waits.
    EXPECT_EQ(n.get<uint16_t>(Nic::kRxRing + 8), 104);  // with the FCS
    EXPECT_EQ(n.get<uint8_t>(Nic::kRxRing + 12), E1000::kRxdStaDd | E1000::kRxdStaEop);
    EXPECT_EQ(n.get<uint8_t>(Nic::kBufs + 99), 99);
    EXPECT_EQ(n.backend.queued(), 1u);
    EXPECT_TRUE(n.irq(11));
    n.dev->mmio_write(E1000::kRdt, 3);
    EXPECT_EQ(n.backend.queued(), 0u);
    EXPECT_EQ(n.dev->reg(E1000::kRdh), 2u);
    EXPECT_EQ(n.get<uint8_t>(Nic::kBufs + 0x1000 + 50), 50);
}

TEST(NetE1000, FiltersUnicastAndPadsShortFrames) {
    Nic n;
    n.setup_rx(8, 3, E1000::kRctlEn);
    uint8_t other[20] = {0x52, 0x54, 0, 0, 0, 1};
    n.backend.enqueue(other, sizeof other);
    n.dev->port().flush();
    EXPECT_EQ(n.dev->reg(E1000::kRdh), 0u);  // dropped by the address filter
    EXPECT_EQ(n.backend.queued(), 0u);
    uint8_t mine[20] = {0x52, 0x54, 0, 0x12, 0x34, 0x56};
    n.backend.enqueue(mine, sizeof mine);
    n.dev->port().flush();
    EXPECT_EQ(n.dev->reg(E1000::kRdh), 1u);
    EXPECT_EQ(n.get<uint16_t>(Nic::kRxRing + 8), 64);  // padded to the minimum, plus FCS
    n.dev->mmio_write(E1000::kRctl, E1000::kRctlEn | E1000::kRctlSecrc);
    n.backend.enqueue(mine, sizeof mine);
    n.dev->port().flush();
    EXPECT_EQ(n.get<uint16_t>(Nic::kRxRing + 16 + 8), 60);  // FCS stripped
}

TEST(NetE1000, LargeFrameSpansDescriptors) {
    Nic n;
    n.setup_rx(8, 7, E1000::kRctlEn | E1000::kRctlUpe | (3u << 16));  // 256-byte buffers
    std::vector<uint8_t> f(600, 0x5a);
    n.backend.enqueue(f.data(), f.size());
    n.dev->port().flush();
    EXPECT_EQ(n.dev->reg(E1000::kRdh), 3u);
    EXPECT_EQ(n.get<uint8_t>(Nic::kRxRing + 12), E1000::kRxdStaDd);
    EXPECT_EQ(n.get<uint8_t>(Nic::kRxRing + 32 + 12), E1000::kRxdStaDd | E1000::kRxdStaEop);
    EXPECT_EQ(n.get<uint16_t>(Nic::kRxRing + 32 + 8), 604 - 512);
}

TEST(NetE1000, CtrlResetRestoresRegisters) {
    Nic n;
    n.dev->mmio_write(E1000::kIms, 0xff);
    n.dev->mmio_write(E1000::kRctl, E1000::kRctlEn);
    n.dev->mmio_write(E1000::kCtrl, E1000::kCtrlRst);
    EXPECT_EQ(n.dev->reg(E1000::kIms), 0u);
    EXPECT_EQ(n.dev->reg(E1000::kRctl), 0u);
    EXPECT_EQ(n.dev->reg(E1000::kRah0), 0x80005634u);
}

}  // namespace
}  // namespace corvid
