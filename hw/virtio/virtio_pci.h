// The modern (virtio 1.0, non-transitional) PCI transport: common/ISR/device/notify
// structures in a 64-bit memory BAR (BAR4) described by vendor capabilities; INTx only.
#pragma once

#include <memory>

#include "hw/pci/pci_device.h"
#include "hw/virtio/virtio.h"

namespace corvid {

class VirtioPci : public PciDevice, public VirtioTransport {
public:
    static constexpr unsigned kBar = 4;
    static constexpr uint64_t kBarSize = 0x4000;
    static constexpr uint64_t kCommonOffset = 0x0000, kIsrOffset = 0x1000, kDeviceOffset = 0x2000,
                              kNotifyOffset = 0x3000;
    static constexpr uint32_t kNotifyMultiplier = 4;
    enum CapType : uint8_t { kCapCommon = 1, kCapNotify = 2, kCapIsr = 3, kCapDevice = 4 };
    // Common configuration registers (virtio 1.0 4.1.4.3).
    enum : unsigned {
        kDfSelect = 0x00, kDf = 0x04, kGfSelect = 0x08, kGf = 0x0c, kMsixConfig = 0x10, kNumQueues = 0x12,
        kDeviceStatus = 0x14, kConfigGeneration = 0x15, kQueueSelect = 0x16, kQueueSize = 0x18,
        kQueueMsixVector = 0x1a, kQueueEnable = 0x1c, kQueueNotifyOff = 0x1e, kQueueDesc = 0x20,
        kQueueAvail = 0x28, kQueueUsed = 0x30, kCommonSize = 0x38,
    };

    // `class_code` as in PciId. The device id is 0x1040 + the virtio device id.
    VirtioPci(std::string name, std::unique_ptr<VirtioDevice> dev, uint32_t class_code, const PciDeviceHost& host);
    ~VirtioPci() override;

    void reset() override;
    VirtioDevice& device() { return *dev_; }

    // VirtioTransport.
    Status dma_read(uint64_t addr, void* data, uint64_t len) override { return PciDevice::dma_read(addr, data, len); }
    Status dma_write(uint64_t addr, const void* data, uint64_t len) override { return PciDevice::dma_write(addr, data, len); }
    void notify_queue(unsigned queue) override;
    void notify_config() override;

    uint8_t isr() const { return isr_; }

    // The BAR's register file (public for tests that drive it without a board).
    uint64_t bar_read(uint64_t offset, unsigned size);
    void bar_write(uint64_t offset, uint64_t value, unsigned size);

private:
    struct BarOps : MmioOps {
        VirtioPci* self;
        explicit BarOps(VirtioPci* s) : self(s) {}
        uint64_t read(uint64_t offset, unsigned size) override { return self->bar_read(offset, size); }
        void write(uint64_t offset, uint64_t value, unsigned size) override { self->bar_write(offset, value, size); }
    };

    void add_virtio_cap(CapType type, uint64_t offset, uint32_t length, unsigned extra = 0);
    uint64_t common_read(unsigned offset, unsigned size);
    void common_write(unsigned offset, uint64_t value, unsigned size);

    std::unique_ptr<VirtioDevice> dev_;
    BarOps ops_{this};
    uint32_t dfselect_ = 0, gfselect_ = 0;
    uint16_t queue_select_ = 0;
    uint8_t isr_ = 0;
};

}  // namespace corvid
