// virtio-pci transport and virtio-net / virtio-rng: feature negotiation, split rings,
// malformed rings (NEEDS_RESET), ISR/INTx.
#include <gtest/gtest.h>

#include "hw/virtio/virtio_net.h"
#include "hw/virtio/virtio_pci.h"
#include "log_capture.h"
#include "pci_test_env.h"

namespace corvid {
namespace {

using testing::CaptureBackend;
using testing::PciEnv;

// A minimal driver: queue q at 0x10000 * (q + 1) (desc, then avail at +0x1000, used at +0x2000).
struct Driver : PciEnv {
    std::unique_ptr<VirtioPci> pci;
    uint16_t avail_idx[2] = {0, 0};
    static uint64_t desc(unsigned q) { return 0x10000ull * (q + 1); }
    static uint64_t avail(unsigned q) { return desc(q) + 0x1000; }
    static uint64_t used(unsigned q) { return desc(q) + 0x2000; }

    explicit Driver(std::unique_ptr<VirtioDevice> dev) {
        pci = std::make_unique<VirtioPci>("virtio", std::move(dev), 0x020000, host);
        pci->set_devfn(0x18);
        pci->config_write(kPciCommand, PciDevice::kCmdBusMaster, 2);
    }
    void w(unsigned off, uint64_t v, unsigned size) { pci->bar_write(off, v, size); }
    uint64_t r(unsigned off, unsigned size) { return pci->bar_read(off, size); }
    uint8_t status() { return static_cast<uint8_t>(r(VirtioPci::kDeviceStatus, 1)); }

    bool negotiate(uint64_t features) {
        w(VirtioPci::kDeviceStatus, 0, 1);
        w(VirtioPci::kDeviceStatus, kVirtioAcknowledge | kVirtioDriver, 1);
        for (uint32_t sel = 0; sel < 2; sel++) {
            w(VirtioPci::kGfSelect, sel, 4);
            w(VirtioPci::kGf, features >> (32 * sel), 4);
        }
        w(VirtioPci::kDeviceStatus, kVirtioAcknowledge | kVirtioDriver | kVirtioFeaturesOk, 1);
        return status() & kVirtioFeaturesOk;
    }
    void setup_queue(unsigned q, uint16_t size) {
        w(VirtioPci::kQueueSelect, q, 2);
        w(VirtioPci::kQueueSize, size, 2);
        w(VirtioPci::kQueueDesc, desc(q), 8);
        w(VirtioPci::kQueueAvail, avail(q), 4);  // as two halves
        w(VirtioPci::kQueueAvail + 4, 0, 4);
        w(VirtioPci::kQueueUsed, used(q), 8);
        w(VirtioPci::kQueueEnable, 1, 2);
    }
    void start() { w(VirtioPci::kDeviceStatus, kVirtioAcknowledge | kVirtioDriver | kVirtioFeaturesOk | kVirtioDriverOk, 1); }
    void set_desc(unsigned q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next) {
        put<uint64_t>(desc(q) + 16 * i, addr);
        put<uint32_t>(desc(q) + 16 * i + 8, len);
        put<uint16_t>(desc(q) + 16 * i + 12, flags);
        put<uint16_t>(desc(q) + 16 * i + 14, next);
    }
    void offer(unsigned q, uint16_t head, uint16_t qsize) {
        put<uint16_t>(avail(q) + 4 + 2 * (avail_idx[q] % qsize), head);
        avail_idx[q]++;
        put<uint16_t>(avail(q) + 2, avail_idx[q]);
    }
    void kick(unsigned q) { w(VirtioPci::kNotifyOffset + 4 * q, q, 2); }
    uint16_t used_idx(unsigned q) { return get<uint16_t>(used(q) + 2); }
};

// The backend must exist before the Driver base builds the device that attaches to it.
struct BackendHolder {
    CaptureBackend backend;
};

struct NetDriver : BackendHolder, Driver {
    VirtioNet* net;  // set by make() while the Driver base is built: no initializer here
    NetDriver() : Driver(make()) {}
    std::unique_ptr<VirtioDevice> make() {
        NicConfig c;
        c.mac = {0x52, 0x54, 0, 0xab, 0xcd, 0xef};
        c.backend = &backend;
        auto d = std::make_unique<VirtioNet>(c, nullptr);
        net = d.get();
        return d;
    }
};

TEST(NetVirtio, FeaturesNeedVersion1) {
    NetDriver d;
    EXPECT_EQ(d.r(VirtioPci::kNumQueues, 2), 2u);
    d.w(VirtioPci::kDfSelect, 1, 4);
    EXPECT_EQ(d.r(VirtioPci::kDf, 4), 1u);  // VERSION_1
    d.w(VirtioPci::kDfSelect, 0, 4);
    EXPECT_EQ(d.r(VirtioPci::kDf, 4), static_cast<uint32_t>(VirtioNet::kFMac | VirtioNet::kFStatus));
    testing::LogCapture log;
    EXPECT_FALSE(d.negotiate(VirtioNet::kFMac));
    EXPECT_TRUE(log.contains("without VIRTIO_F_VERSION_1"));
    // Unoffered bits are masked off.
    EXPECT_TRUE(d.negotiate(kVirtioFVersion1 | VirtioNet::kFMac | (1ull << 22)));
    EXPECT_EQ(d.net->guest_features(), kVirtioFVersion1 | VirtioNet::kFMac);
    EXPECT_EQ(d.r(VirtioPci::kDeviceOffset + 5, 1), 0xefu);
    EXPECT_EQ(d.r(VirtioPci::kDeviceOffset + 6, 2), 1u);  // link up
}

TEST(NetVirtio, TransmitStripsHeaderAndInterrupts) {
    NetDriver d;
    ASSERT_TRUE(d.negotiate(kVirtioFVersion1 | VirtioNet::kFMac));
    d.setup_queue(1, 16);
    d.start();
    std::vector<uint8_t> hdr(12, 0), frame(64, 0x77);
    d.wr(0x80000, hdr.data(), hdr.size());
    d.wr(0x81000, frame.data(), frame.size());
    d.set_desc(1, 3, 0x80000, 12, Virtqueue::kDescNext, 5);
    d.set_desc(1, 5, 0x81000, 64, 0, 0);
    d.offer(1, 3, 16);
    d.kick(1);
    ASSERT_EQ(d.backend.sent.size(), 1u);
    EXPECT_EQ(d.backend.sent[0], frame);
    EXPECT_EQ(d.used_idx(1), 1u);
    EXPECT_EQ(d.get<uint32_t>(Driver::used(1) + 4), 3u);  // head id
    EXPECT_TRUE(d.irq(11));
    EXPECT_EQ(d.r(VirtioPci::kIsrOffset, 1), 1u);
    EXPECT_FALSE(d.irq(11));
    EXPECT_EQ(d.r(VirtioPci::kIsrOffset, 1), 0u);
}

TEST(NetVirtio, ReceiveWritesHeaderAndFrame) {
    NetDriver d;
    ASSERT_TRUE(d.negotiate(kVirtioFVersion1));
    d.setup_queue(0, 16);
    d.start();
    uint8_t f[80];
    for (unsigned i = 0; i < sizeof f; i++) f[i] = static_cast<uint8_t>(i + 1);
    d.backend.enqueue(f, sizeof f);
    d.net->port().flush();
    EXPECT_EQ(d.backend.queued(), 1u);  // no buffer yet
    d.set_desc(0, 0, 0x90000, 2048, Virtqueue::kDescWrite, 0);
    d.offer(0, 0, 16);
    d.kick(0);
    EXPECT_EQ(d.backend.queued(), 0u);
    EXPECT_EQ(d.used_idx(0), 1u);
    EXPECT_EQ(d.get<uint32_t>(Driver::used(0) + 8), 12u + sizeof f);
    EXPECT_EQ(d.get<uint16_t>(0x90000 + 10), 1u);  // num_buffers
    EXPECT_EQ(d.get<uint8_t>(0x90000 + 12), 1u);
    EXPECT_EQ(d.get<uint8_t>(0x90000 + 12 + 79), 80u);
}

TEST(NetVirtio, MalformedRingsNeedReset) {
    for (int kind = 0; kind < 4; kind++) {
        NetDriver d;
        ASSERT_TRUE(d.negotiate(kVirtioFVersion1));
        d.setup_queue(1, 16);
        d.start();
        testing::LogCapture log;
        if (kind == 0) {
            d.put<uint16_t>(Driver::avail(1) + 2, 100);  // 100 entries in a 16-entry ring
        } else if (kind == 1) {
            d.set_desc(1, 0, 0x80000, 12, Virtqueue::kDescNext, 1);
            d.set_desc(1, 1, 0x80000, 12, Virtqueue::kDescNext, 0);  // loop
            d.offer(1, 0, 16);
        } else if (kind == 2) {
            d.set_desc(1, 0, 0x80000, 12, Virtqueue::kDescNext, 40);  // next out of range
            d.offer(1, 0, 16);
        } else {
            d.set_desc(1, 0, 0x80000, 12, Virtqueue::kDescIndirect, 0);
            d.offer(1, 0, 16);
        }
        d.kick(1);
        EXPECT_TRUE(d.status() & kVirtioNeedsReset) << kind;
        EXPECT_TRUE(d.backend.sent.empty());
        EXPECT_EQ(d.r(VirtioPci::kIsrOffset, 1), 2u);  // config change
        EXPECT_TRUE(log.contains("device needs reset"));
        d.w(VirtioPci::kDeviceStatus, 0, 1);
        EXPECT_EQ(d.status(), 0u);
    }
}

TEST(NetVirtio, EnabledQueueIsFrozenAndBadSizesRejected) {
    NetDriver d;
    testing::LogCapture log;
    d.w(VirtioPci::kQueueSelect, 0, 2);
    d.w(VirtioPci::kQueueSize, 100, 2);  // not a power of two
    EXPECT_EQ(d.r(VirtioPci::kQueueSize, 2), 256u);
    d.w(VirtioPci::kQueueSize, 512, 2);  // above the maximum
    EXPECT_EQ(d.r(VirtioPci::kQueueSize, 2), 256u);
    d.setup_queue(0, 32);
    d.w(VirtioPci::kQueueDesc, 0x5000, 8);
    EXPECT_EQ(d.r(VirtioPci::kQueueDesc, 8), Driver::desc(0));
    d.w(VirtioPci::kQueueSelect, 7, 2);  // no such queue
    EXPECT_EQ(d.r(VirtioPci::kQueueSize, 2), 0u);
    d.w(VirtioPci::kQueueDesc, 0x5000, 8);
    EXPECT_TRUE(log.contains("nonexistent queue 7"));
}

TEST(NetVirtio, RngFillsBuffersCappedPerRequest) {
    Driver d(std::make_unique<VirtioRng>());
    ASSERT_TRUE(d.negotiate(kVirtioFVersion1));
    d.setup_queue(0, 8);
    d.start();
    d.set_desc(0, 0, 0xa0000, 64, Virtqueue::kDescWrite, 0);
    d.set_desc(0, 1, 0xb0000, 1 << 20, Virtqueue::kDescWrite, 0);
    d.offer(0, 0, 8);
    d.offer(0, 1, 8);
    d.kick(0);
    EXPECT_EQ(d.used_idx(0), 2u);
    EXPECT_EQ(d.get<uint32_t>(Driver::used(0) + 8), 64u);
    EXPECT_EQ(d.get<uint32_t>(Driver::used(0) + 16), VirtioRng::kMaxChunk);
    uint64_t a = d.get<uint64_t>(0xa0000), b = d.get<uint64_t>(0xa0008);
    EXPECT_FALSE(a == 0 && b == 0);
}

}  // namespace
}  // namespace corvid
