// rtl8139: TSD/TSAD transmit, the RX ring with CAPR/CBR (wrap and no-wrap), ISR/IMR, filters,
// and a seeded register/DMA fuzz.
#include <gtest/gtest.h>

#include <random>

#include "hw/net/rtl8139.h"
#include "log_capture.h"
#include "pci_test_env.h"

namespace corvid {
namespace {

using testing::CaptureBackend;
using testing::PciEnv;

struct Rtl : PciEnv {
    CaptureBackend backend;
    std::unique_ptr<Rtl8139> dev;
    static constexpr uint64_t kRing = 0x40000;
    Rtl() {
        NicConfig c;
        c.mac = {0x52, 0x54, 0, 0x11, 0x22, 0x33};
        c.backend = &backend;
        dev = std::make_unique<Rtl8139>(c, host);
        dev->set_devfn(0x18);
        dev->config_write(kPciCommand, PciDevice::kCmdBusMaster, 2);
    }
    void w(unsigned o, uint64_t v, unsigned s) { dev->reg_write(o, v, s); }
    uint64_t r(unsigned o, unsigned s) { return dev->reg_read(o, s); }
};

TEST(NetRtl8139, MacAndLink) {
    Rtl n;
    EXPECT_EQ(n.r(Rtl8139::kIdr0, 4), 0x11005452u);
    EXPECT_EQ(n.r(Rtl8139::kIdr0 + 4, 2), 0x3322u);
    EXPECT_TRUE(n.r(Rtl8139::kBmsr, 2) & 0x4);
    EXPECT_EQ(n.r(Rtl8139::kCr, 1) & Rtl8139::kCrBufe, Rtl8139::kCrBufe);
}

TEST(NetRtl8139, TransmitSlotSetsTokAndInterrupts) {
    Rtl n;
    std::vector<uint8_t> f(100, 0x3c);
    n.wr(0x30000, f.data(), f.size());
    n.w(Rtl8139::kCr, Rtl8139::kCrTe, 1);
    n.w(Rtl8139::kImr, Rtl8139::kIsrTok, 2);
    n.w(Rtl8139::kTsad0 + 8, 0x30000, 4);
    n.w(Rtl8139::kTsd0 + 8, 100, 4);
    ASSERT_EQ(n.backend.sent.size(), 1u);
    EXPECT_EQ(n.backend.sent[0], f);
    EXPECT_EQ(n.r(Rtl8139::kTsd0 + 8, 4) & (Rtl8139::kTsdOwn | Rtl8139::kTsdTok), Rtl8139::kTsdOwn | Rtl8139::kTsdTok);
    EXPECT_TRUE(n.irq(11));
    n.w(Rtl8139::kIsr, Rtl8139::kIsrTok, 2);
    EXPECT_FALSE(n.irq(11));
    testing::LogCapture log;
    n.w(Rtl8139::kTsd0, 5000 & 0x1fff, 4);  // larger than the 1792-byte maximum
    EXPECT_EQ(n.backend.sent.size(), 1u);
    EXPECT_TRUE(n.dev->isr() & Rtl8139::kIsrTer);
}

TEST(NetRtl8139, ReceiveRingWrapsAndCaprFreesSpace) {
    Rtl n;
    n.w(Rtl8139::kRbstart, Rtl::kRing, 4);
    n.w(Rtl8139::kRcr, Rtl8139::kRcrAb | Rtl8139::kRcrApm, 4);  // 8 KiB ring, wrap to start
    n.w(Rtl8139::kCr, Rtl8139::kCrRe, 1);
    n.w(Rtl8139::kImr, Rtl8139::kIsrRok, 2);
    std::vector<uint8_t> f(1000, 0x11);
    std::memcpy(f.data(), "\x52\x54\x00\x11\x22\x33", 6);
    // 1008 bytes per packet: the 9th does not fit until the driver consumes.
    for (int i = 0; i < 9; i++) n.backend.enqueue(f.data(), f.size());
    n.dev->port().flush();
    EXPECT_EQ(n.r(Rtl8139::kCbr, 2), 8u * 1008);
    EXPECT_TRUE(n.dev->isr() & Rtl8139::kIsrRxovw);
    EXPECT_EQ(n.get<uint16_t>(Rtl::kRing), 0x4001u);  // ROK, physical address match
    EXPECT_EQ(n.get<uint16_t>(Rtl::kRing + 2), 1004u);
    EXPECT_TRUE(n.irq(11));
    EXPECT_EQ(n.r(Rtl8139::kCr, 1) & Rtl8139::kCrBufe, 0u);
    // Consume three packets; the next one wraps around the end of the ring.
    n.w(Rtl8139::kCapr, 3 * 1008 - 16, 2);
    n.backend.enqueue(f.data(), f.size());
    n.dev->port().flush();
    EXPECT_EQ(n.r(Rtl8139::kCbr, 2), (9u * 1008) % 8192);
    EXPECT_EQ(n.get<uint16_t>(Rtl::kRing + 8 * 1008), 0x4001u);
    EXPECT_EQ(n.get<uint8_t>(Rtl::kRing + 0), 0x11);  // wrapped bytes landed at the start
}

TEST(NetRtl8139, FiltersAndDisabledReceiver) {
    Rtl n;
    n.w(Rtl8139::kRbstart, Rtl::kRing, 4);
    uint8_t bc[64];
    std::memset(bc, 0xff, sizeof bc);
    n.backend.enqueue(bc, sizeof bc);
    n.dev->port().flush();
    EXPECT_EQ(n.backend.queued(), 1u);  // RE off: waits
    n.w(Rtl8139::kRcr, Rtl8139::kRcrApm, 4);
    n.w(Rtl8139::kCr, Rtl8139::kCrRe, 1);
    EXPECT_EQ(n.backend.queued(), 0u);  // consumed, but broadcasts are not accepted
    EXPECT_EQ(n.r(Rtl8139::kCbr, 2), 0u);
}

TEST(NetRtl8139, SeededRegisterAndDmaFuzz) {
    Rtl n;
    std::mt19937_64 rng(11);
    for (int i = 0; i < 100000; i++) {
        const unsigned size = 1u << (rng() % 3);
        switch (rng() % 8) {
            case 0: case 1: n.w(static_cast<unsigned>(rng() % 0x100) & ~(size - 1), rng() % 3 ? rng() % 0x2000 : rng(), size); break;
            case 2: (void)n.r(static_cast<unsigned>(rng() % 0x100), size); break;
            case 3: n.w(Rtl8139::kRbstart, rng() % 2 ? Rtl::kRing : rng(), 4); break;
            case 4: n.w(Rtl8139::kCapr, rng(), 2); break;
            case 5: n.w(Rtl8139::kTsd0 + 4 * (rng() % 4), rng() % 0x800, 4); break;
            case 6: n.dev->config_write(kPciCommand, static_cast<uint32_t>(rng() % 8), 2); break;
            default: {
                std::vector<uint8_t> f(rng() % 4 ? rng() % 1600 : rng() % (kNetMaxFrame + 1));
                for (auto& b : f) b = static_cast<uint8_t>(rng());
                n.backend.enqueue(f.data(), f.size());
                n.dev->port().flush();
            }
        }
        ASSERT_EQ(n.dev->irq_level(), (n.dev->isr() & n.r(Rtl8139::kImr, 2)) != 0);
        ASSERT_LT(n.r(Rtl8139::kCbr, 2), n.dev->rx_buffer_len());
    }
    for (const auto& f : n.backend.sent) EXPECT_LE(f.size(), Rtl8139::kMaxTxSize);
}

}  // namespace
}  // namespace corvid
