// virtio-mmio transport: identification, version-2 queue setup, rng request end to end,
// interrupt status/ack, and a seeded register fuzz.
#include <gtest/gtest.h>

#include <random>

#include "hw/virtio/virtio_mmio.h"
#include "hw/virtio/virtio_net.h"
#include "pci_test_env.h"

namespace corvid {
namespace {

using testing::PciEnv;

struct Mmio : PciEnv {
    bool line = false;
    VirtioMmio dev{std::make_unique<VirtioRng>(), &mem, [this](bool l) { line = l; }};
    void w(uint64_t o, uint32_t v) { dev.write(o, v, 4); }
    uint32_t r(uint64_t o) { return static_cast<uint32_t>(dev.read(o, 4)); }
};

TEST(NetVirtioMmio, IdentifiesAsVersion2) {
    Mmio m;
    EXPECT_EQ(m.r(VirtioMmio::kMagic), 0x74726976u);
    EXPECT_EQ(m.r(VirtioMmio::kVersion), 2u);
    EXPECT_EQ(m.r(VirtioMmio::kDeviceId), 4u);
    m.w(VirtioMmio::kDeviceFeaturesSel, 1);
    EXPECT_EQ(m.r(VirtioMmio::kDeviceFeatures), 1u);  // VERSION_1
    EXPECT_EQ(m.dev.read(VirtioMmio::kMagic, 2), 0u);  // registers are 32-bit only
}

TEST(NetVirtioMmio, RngRequestAndInterruptAck) {
    Mmio m;
    m.w(VirtioMmio::kStatus, kVirtioAcknowledge | kVirtioDriver);
    m.w(VirtioMmio::kDriverFeaturesSel, 1);
    m.w(VirtioMmio::kDriverFeatures, 1);
    m.w(VirtioMmio::kStatus, kVirtioAcknowledge | kVirtioDriver | kVirtioFeaturesOk);
    ASSERT_TRUE(m.r(VirtioMmio::kStatus) & kVirtioFeaturesOk);
    m.w(VirtioMmio::kQueueSel, 0);
    EXPECT_EQ(m.r(VirtioMmio::kQueueNumMax), 64u);
    m.w(VirtioMmio::kQueueNum, 8);
    m.w(VirtioMmio::kQueueDescLow, 0x10000);
    m.w(VirtioMmio::kQueueDriverLow, 0x11000);
    m.w(VirtioMmio::kQueueDeviceLow, 0x12000);
    m.w(VirtioMmio::kQueueReady, 1);
    m.w(VirtioMmio::kStatus, 0x0f);
    m.put<uint64_t>(0x10000, 0x20000);
    m.put<uint32_t>(0x10008, 32);
    m.put<uint16_t>(0x1000c, Virtqueue::kDescWrite);
    m.put<uint16_t>(0x11004, 0);
    m.put<uint16_t>(0x11002, 1);
    m.w(VirtioMmio::kQueueNotify, 0);
    EXPECT_EQ(m.get<uint16_t>(0x12002), 1u);
    EXPECT_EQ(m.get<uint32_t>(0x12008), 32u);
    EXPECT_TRUE(m.line);
    EXPECT_EQ(m.r(VirtioMmio::kInterruptStatus), 1u);
    m.w(VirtioMmio::kInterruptAck, 1);
    EXPECT_FALSE(m.line);
    // A ready queue's addresses are frozen.
    m.w(VirtioMmio::kQueueDescLow, 0x50000);
    m.w(VirtioMmio::kQueueReady, 0);
    m.w(VirtioMmio::kStatus, 0);
    EXPECT_EQ(m.r(VirtioMmio::kStatus), 0u);
    EXPECT_EQ(m.r(VirtioMmio::kQueueReady), 0u);
}

TEST(NetVirtioMmio, SeededRegisterFuzz) {
    Mmio m;
    std::mt19937_64 rng(5);
    for (int i = 0; i < 100000; i++) {
        const uint64_t off = (rng() % 0x110) & ~3ull;
        const uint32_t v = rng() % 3 ? static_cast<uint32_t>(rng() % 0x20000) : static_cast<uint32_t>(rng());
        switch (rng() % 4) {
            case 0: case 1: m.w(off, v); break;
            case 2: (void)m.r(off); break;
            default: {
                uint8_t b[16];
                for (auto& x : b) x = static_cast<uint8_t>(rng() % 4 ? rng() % 4 : rng());
                m.wr(0x10000 + (rng() % 0x3000), b, sizeof b);
            }
        }
        ASSERT_EQ(m.line, m.dev.interrupt_status() != 0);
    }
}

}  // namespace
}  // namespace corvid
