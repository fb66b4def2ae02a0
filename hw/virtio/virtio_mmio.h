// The virtio-mmio transport (version 2, virtio 1.0 section 4.2) for the AArch64 virt board:
// one 0x200-byte window per device (QEMU's slots at 0x0a000000 + 0x200 * n), one SPI each.
#pragma once

#include <functional>
#include <memory>

#include "hw/memory_map.h"
#include "hw/virtio/virtio.h"
#include "object/type_registry.h"

namespace corvid {

class VirtioMmio : public MmioOps, public VirtioTransport {
public:
    static constexpr uint64_t kSlotBase = 0x0a00'0000;
    static constexpr uint64_t kSlotSize = 0x200;
    static constexpr unsigned kNumSlots = 32;
    enum : uint64_t {
        kMagic = 0x000, kVersion = 0x004, kDeviceId = 0x008, kVendorId = 0x00c, kDeviceFeatures = 0x010,
        kDeviceFeaturesSel = 0x014, kDriverFeatures = 0x020, kDriverFeaturesSel = 0x024, kQueueSel = 0x030,
        kQueueNumMax = 0x034, kQueueNum = 0x038, kQueueReady = 0x044, kQueueNotify = 0x050,
        kInterruptStatus = 0x060, kInterruptAck = 0x064, kStatus = 0x070, kQueueDescLow = 0x080,
        kQueueDescHigh = 0x084, kQueueDriverLow = 0x090, kQueueDriverHigh = 0x094, kQueueDeviceLow = 0x0a0,
        kQueueDeviceHigh = 0x0a4, kConfigGeneration = 0x0fc, kConfig = 0x100,
    };

    // `memory` is where DMA goes (no bus-master bit on MMIO: always allowed, still bounds
    // checked and RAM-only); `irq` drives the device's interrupt line.
    VirtioMmio(std::unique_ptr<VirtioDevice> dev, AddressSpace* memory, std::function<void(bool)> irq);

    uint64_t read(uint64_t offset, unsigned size) override;
    void write(uint64_t offset, uint64_t value, unsigned size) override;
    void reset();

    Status dma_read(uint64_t addr, void* data, uint64_t len) override;
    Status dma_write(uint64_t addr, const void* data, uint64_t len) override;
    void notify_queue(unsigned queue) override;
    void notify_config() override;

    VirtioDevice& device() { return *dev_; }
    uint32_t interrupt_status() const { return isr_; }

private:
    void update_irq();

    std::unique_ptr<VirtioDevice> dev_;
    AddressSpace* memory_;
    std::function<void(bool)> irq_;
    uint32_t dfsel_ = 0, gfsel_ = 0, queue_sel_ = 0, isr_ = 0;
    bool level_ = false;
};

// Builds virtio-net-device / virtio-rng-device for a virt board slot (the board maps the
// result at kSlotBase + n * kSlotSize and wires its SPI). `clock` may be null.
class VirtualClock;
Result<std::unique_ptr<VirtioMmio>> create_virtio_mmio_device(const TypeInfo& type, const OptionList& props,
                                                                AddressSpace* memory, VirtualClock* clock,
                                                                std::function<void(bool)> irq);
// Registers virtio-net-device and virtio-rng-device (parent "virtio-mmio-device").
void register_virtio_mmio_types(TypeRegistry& registry);

}  // namespace corvid
