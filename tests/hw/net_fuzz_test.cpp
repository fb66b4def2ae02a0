// Seeded random register / config / DMA / frame fuzzing of the PCI NICs and virtio devices:
// >= 100,000 operations per device; the assertions are invariants that must hold after any
// access sequence (and the CI's ASan build checks memory safety).
#include <gtest/gtest.h>

#include <random>

#include "hw/net/e1000.h"
#include "hw/virtio/virtio_net.h"
#include "hw/virtio/virtio_pci.h"
#include "pci_test_env.h"

namespace corvid {
namespace {

using testing::CaptureBackend;
using testing::PciEnv;

constexpr int kOps = 100000;

struct Fuzzer {
    std::mt19937_64 rng;
    explicit Fuzzer(uint64_t seed) : rng(seed) {}
    uint64_t u(uint64_t n) { return n ? rng() % n : 0; }
    // Mostly small or in-RAM values, sometimes anything: random 64-bit values alone would
    // rarely get past the first validity check.
    uint64_t value() {
        switch (u(6)) {
            case 0: return rng();
            case 1: return u(16);
            case 2: return u(PciEnv::kRam + 0x100000);
            case 3: return 1ull << u(32);
            case 4: return u(0x2000) * 16;
            default: return static_cast<uint32_t>(rng());
        }
    }
    unsigned size() { return 1u << u(4); }
    void scribble(PciEnv& env, uint64_t base, uint64_t span) {
        uint8_t buf[64];
        for (auto& b : buf) b = static_cast<uint8_t>(u(4) == 0 ? rng() : u(3));
        const uint64_t at = base + u(span);
        (void)env.mem.write_bytes(at, buf, std::min<uint64_t>(sizeof buf, PciEnv::kRam - at));
    }
    std::vector<uint8_t> frame() {
        std::vector<uint8_t> f(u(4) == 0 ? u(kNetMaxFrame + 1) : u(1600));
        for (auto& b : f) b = static_cast<uint8_t>(rng());
        if (!f.empty() && u(2)) f[0] = 0xff;
        return f;
    }
};

void fuzz_config(Fuzzer& fz, PciDevice& dev) {
    const unsigned size = 1u << fz.u(3);
    const unsigned off = static_cast<unsigned>(fz.u(256)) & ~(size - 1);
    dev.config_write(off, static_cast<uint32_t>(fz.value()), size);
}

class E1000Fuzz : public ::testing::TestWithParam<uint64_t> {};

TEST_P(E1000Fuzz, RandomRegistersRingsAndFrames) {
    PciEnv env;
    CaptureBackend backend;
    NicConfig c;
    c.backend = &backend;
    E1000 dev(c, env.host);
    dev.set_devfn(0x18);
    Fuzzer fz(GetParam());
    unsigned rx_done = 0;
    static constexpr uint32_t kRegs[] = {E1000::kCtrl, E1000::kEecd, E1000::kEerd, E1000::kMdic, E1000::kIcr,
                                         E1000::kIcs, E1000::kIms, E1000::kImc, E1000::kRctl, E1000::kTctl,
                                         E1000::kRdbal, E1000::kRdbah, E1000::kRdlen, E1000::kRdh, E1000::kRdt,
                                         E1000::kTdbal, E1000::kTdbah, E1000::kTdlen, E1000::kTdh, E1000::kTdt,
                                         E1000::kMta, E1000::kRal0, E1000::kRah0};
    for (int i = 0; i < kOps; i++) {
        switch (fz.u(12)) {
            case 10:
                // A plausible driver setup, so that the ring engines run on fuzzed descriptors.
                dev.config_write(kPciCommand, PciDevice::kCmdBusMaster, 2);
                dev.mmio_write(E1000::kTdbal, 0x10000);
                dev.mmio_write(E1000::kTdlen, 128 * (1 + static_cast<uint32_t>(fz.u(4))));
                dev.mmio_write(E1000::kTdh, 0);
                dev.mmio_write(E1000::kTdt, 0);
                dev.mmio_write(E1000::kTctl, E1000::kTctlEn);
                dev.mmio_write(E1000::kRdbal, 0x20000);
                dev.mmio_write(E1000::kRdlen, 128 * (1 + static_cast<uint32_t>(fz.u(4))));
                dev.mmio_write(E1000::kRdh, 0);
                dev.mmio_write(E1000::kRdt, static_cast<uint32_t>(fz.u(8)));
                dev.mmio_write(E1000::kRctl, E1000::kRctlEn | (fz.u(2) ? uint32_t{E1000::kRctlUpe} : 0u) | static_cast<uint32_t>(fz.u(4)) << 16);
                dev.mmio_write(E1000::kIms, static_cast<uint32_t>(fz.rng()));
                break;
            case 11: {
                // A descriptor with a buffer in RAM, then the doorbell.
                const bool tx = fz.u(2);
                const uint32_t count = dev.reg(tx ? E1000::kTdlen : E1000::kRdlen) / 16;
                const uint32_t tail = dev.reg(tx ? E1000::kTdt : E1000::kRdt);
                const uint64_t ring = tx ? 0x10000 : 0x20000;
                const uint64_t d[2] = {0x100000 + fz.u(0x100000), fz.u(3) ? (fz.u(2048) | fz.u(256) << 24) : fz.rng()};
                (void)env.mem.write_bytes(ring + 16 * (count ? tail % count : 0), d, sizeof d);
                dev.mmio_write(tx ? E1000::kTdt : E1000::kRdt, count ? (tail + 1) % count : 0);
                break;
            }
            case 0: case 1: case 2:
                dev.mmio_write(kRegs[fz.u(std::size(kRegs))], static_cast<uint32_t>(fz.value()));
                break;
            case 3: dev.mmio_write(static_cast<uint32_t>(fz.u(E1000::kMmioSize)), static_cast<uint32_t>(fz.value())); break;
            case 4: (void)dev.mmio_read(static_cast<uint32_t>(fz.u(E1000::kMmioSize))); break;
            case 5: fuzz_config(fz, dev); break;
            case 6: dev.config_write(kPciCommand, static_cast<uint32_t>(fz.u(8)) | PciDevice::kCmdBusMaster, 2); break;
            case 7: case 8: fz.scribble(env, fz.u(4) ? fz.u(0x20000) * 16 : 0, fz.u(4) ? 0x1000 : PciEnv::kRam); break;
            default: {
                auto f = fz.frame();
                backend.enqueue(f.data(), f.size());
                const uint32_t before = dev.reg(E1000::kGprc);
                dev.port().flush();
                rx_done += dev.reg(E1000::kGprc) != before;
            }
        }
        const bool pending = (dev.reg(E1000::kIcr) & dev.reg(E1000::kIms)) != 0;
        ASSERT_EQ(dev.irq_level(), pending) << "op " << i;
        ASSERT_LE(backend.queued(), kNetMaxQueued);
    }
    for (const auto& f : backend.sent) EXPECT_LE(f.size(), kNetMaxFrame);
    // The structured ops must reach the ring engines, or the fuzzer tests nothing.
    EXPECT_GT(backend.sent.size(), 10u);
    EXPECT_GT(rx_done, 10u);
}

INSTANTIATE_TEST_SUITE_P(Seeds, E1000Fuzz, ::testing::Values(1, 2));

class VirtioFuzz : public ::testing::TestWithParam<uint64_t> {};

TEST_P(VirtioFuzz, RandomTransportRingsAndFrames) {
    PciEnv env;
    CaptureBackend backend;
    NicConfig c;
    c.backend = &backend;
    const bool rng_dev = GetParam() & 1;
    std::unique_ptr<VirtioDevice> model;
    if (rng_dev) {
        model = std::make_unique<VirtioRng>();
    } else {
        model = std::make_unique<VirtioNet>(c, nullptr);
    }
    VirtioDevice* vdev = model.get();
    VirtioPci dev("virtio", std::move(model), 0x020000, env.host);
    dev.set_devfn(0x20);
    dev.config_write(kPciCommand, PciDevice::kCmdBusMaster, 2);
    Fuzzer fz(GetParam());
    for (int i = 0; i < kOps; i++) {
        switch (fz.u(14)) {
            case 12: {
                // A valid driver bring-up of a random queue.
                dev.bar_write(VirtioPci::kDeviceStatus, 0, 1);
                dev.bar_write(VirtioPci::kGfSelect, 1, 4);
                dev.bar_write(VirtioPci::kGf, 1, 4);
                dev.bar_write(VirtioPci::kDeviceStatus, 0x0b, 1);
                for (unsigned q = 0; q < vdev->num_queues(); q++) {
                    dev.bar_write(VirtioPci::kQueueSelect, q, 2);
                    dev.bar_write(VirtioPci::kQueueSize, 1u << (1 + fz.u(6)), 2);
                    dev.bar_write(VirtioPci::kQueueDesc, 0x10000 + 0x4000 * q, 8);
                    dev.bar_write(VirtioPci::kQueueAvail, 0x11000 + 0x4000 * q, 8);
                    dev.bar_write(VirtioPci::kQueueUsed, 0x12000 + 0x4000 * q, 8);
                    dev.bar_write(VirtioPci::kQueueEnable, 1, 2);
                }
                dev.bar_write(VirtioPci::kDeviceStatus, 0x0f, 1);
                break;
            }
            case 13: {
                // A mostly well-formed chain, offered and kicked.
                const unsigned q = static_cast<unsigned>(fz.u(vdev->num_queues()));
                const Virtqueue* vq = vdev->queue(q);
                const uint64_t base = 0x10000 + 0x4000 * q;
                const uint16_t head = static_cast<uint16_t>(fz.u(vq->size + (fz.u(8) == 0)));
                const unsigned links = 1 + static_cast<unsigned>(fz.u(3));
                uint16_t i = head;
                for (unsigned l = 0; l < links; l++) {
                    const uint16_t next = static_cast<uint16_t>(fz.u(vq->size));
                    const uint16_t flags = static_cast<uint16_t>((l + 1 < links ? 1 : 0) | ((q == 0 || l > 0) && fz.u(3) ? 2 : 0) |
                                                                 (fz.u(32) == 0 ? 4 : 0));
                    const uint64_t d[2] = {0x100000 + fz.u(0x100000), (fz.u(16) == 0 ? fz.rng() : 12 + fz.u(4000)) & 0xffffffffu};
                    uint64_t d2[2] = {d[0], d[1] | static_cast<uint64_t>(flags) << 32 | static_cast<uint64_t>(next) << 48};
                    (void)env.mem.write_bytes(base + 16ull * (i % vq->size), d2, sizeof d2);
                    i = next;
                }
                uint16_t idx = 0;
                (void)env.mem.read_bytes(base + 0x1002, &idx, 2);
                (void)env.mem.write_bytes(base + 0x1004 + 2ull * (idx % vq->size), &head, 2);
                idx = static_cast<uint16_t>(idx + 1 + (fz.u(16) == 0 ? fz.u(1000) : 0));
                (void)env.mem.write_bytes(base + 0x1002, &idx, 2);
                dev.bar_write(VirtioPci::kNotifyOffset + 4 * q, q, 2);
                break;
            }
            case 0: case 1: case 2: case 3: {
                const unsigned size = fz.size();
                const unsigned off = static_cast<unsigned>(fz.u(VirtioPci::kCommonSize + 8)) & ~(size - 1);
                dev.bar_write(off, fz.value(), size);
                break;
            }
            case 4:
                // The status sequence a driver uses, so that queues actually run.
                dev.bar_write(VirtioPci::kGfSelect, fz.u(3), 4);
                dev.bar_write(VirtioPci::kGf, fz.u(2) ? 1 : fz.value(), 4);
                dev.bar_write(VirtioPci::kDeviceStatus, fz.u(4) ? 0x0f : fz.u(256), 1);
                break;
            case 5: dev.bar_write(VirtioPci::kNotifyOffset + 4 * fz.u(4), fz.u(4), 2); break;
            case 6: (void)dev.bar_read(fz.u(VirtioPci::kBarSize), fz.size()); break;
            case 7: dev.bar_write(fz.u(VirtioPci::kBarSize), fz.value(), fz.size()); break;
            case 8: case 9: fz.scribble(env, fz.u(8) ? fz.u(0x2000) * 16 : 0, fz.u(4) ? 0x1000 : PciEnv::kRam); break;
            case 10: fuzz_config(fz, dev); dev.config_write(kPciCommand, PciDevice::kCmdBusMaster, 2); break;
            default:
                if (!rng_dev) {
                    auto f = fz.frame();
                    backend.enqueue(f.data(), f.size());
                    static_cast<VirtioNet*>(vdev)->port().flush();
                }
        }
        ASSERT_EQ(dev.irq_level(), dev.isr() != 0) << "op " << i;
        for (unsigned q = 0; q < vdev->num_queues(); q++) {
            const Virtqueue* vq = vdev->queue(q);
            ASSERT_TRUE(vq->size && vq->size <= vq->max_size && !(vq->size & (vq->size - 1)));
        }
    }
    for (const auto& f : backend.sent) EXPECT_LE(f.size(), kNetMaxFrame);
    if (rng_dev) {
        EXPECT_GT(static_cast<VirtioRng*>(vdev)->bytes_served, 0u);
    } else {
        auto* net = static_cast<VirtioNet*>(vdev);
        EXPECT_GT(net->tx_frames + net->rx_frames, 0u);
    }
}

INSTANTIATE_TEST_SUITE_P(Seeds, VirtioFuzz, ::testing::Values(2, 3, 4));

}  // namespace
}  // namespace corvid
