// Virtio PCI modern transport: capability layout, common configuration and INTx via ISR.
#include "hw/virtio/virtio_pci.h"

#include <optional>

namespace corvid {

namespace {
constexpr uint8_t kCapVendor = 0x09;
constexpr uint16_t kNoVector = 0xffff;
}  // namespace

VirtioPci::VirtioPci(std::string name, std::unique_ptr<VirtioDevice> dev, uint32_t class_code, const PciDeviceHost& host)
    : PciDevice(std::move(name), {kVirtioPciVendor, static_cast<uint16_t>(0x1040 + dev->device_id()), 1, class_code, 0}, host),
      dev_(std::move(dev)) {
    dev_->set_transport(this);
    set_reg(kPciSubsystemId, 2, 0x1100);
    add_bar(kBar, BarType::kMem64, kBarSize, &ops_, kAccessAny, true);
    add_virtio_cap(kCapCommon, kCommonOffset, kCommonSize);
    add_virtio_cap(kCapIsr, kIsrOffset, 1);
    add_virtio_cap(kCapDevice, kDeviceOffset, 0x1000);
    add_virtio_cap(kCapNotify, kNotifyOffset, kNotifyMultiplier * dev_->num_queues(), 4);
    finish_config();
}

VirtioPci::~VirtioPci() = default;

void VirtioPci::add_virtio_cap(CapType type, uint64_t offset, uint32_t length, unsigned extra) {
    const unsigned len = 16 + extra;
    const unsigned at = add_capability(kCapVendor, len);
    if (!at) return;
    set_reg(at + 2, 1, len);
    set_reg(at + 3, 1, type);
    set_reg(at + 4, 1, kBar);
    set_reg(at + 8, 4, static_cast<uint32_t>(offset));
    set_reg(at + 12, 4, length);
    if (type == kCapNotify) set_reg(at + 16, 4, kNotifyMultiplier);
}

void VirtioPci::reset() {
    PciDevice::reset();
    dev_->reset();
    dfselect_ = gfselect_ = 0;
    queue_select_ = 0;
    isr_ = 0;
}

void VirtioPci::notify_queue(unsigned) {
    isr_ |= 1;
    set_irq(true);
}

void VirtioPci::notify_config() {
    isr_ |= 2;
    set_irq(true);
}

uint64_t VirtioPci::bar_read(uint64_t offset, unsigned size) {
    if (offset >= kCommonOffset && offset < kCommonOffset + kCommonSize) return common_read(static_cast<unsigned>(offset), size);
    if (offset == kIsrOffset) {
        // Reading ISR acknowledges: the line drops.
        const uint8_t v = isr_;
        isr_ = 0;
        set_irq(false);
        return v;
    }
    if (offset >= kDeviceOffset && offset < kDeviceOffset + 0x1000) {
        const unsigned base = static_cast<unsigned>(offset - kDeviceOffset);
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            // Bytes beyond the device's config read as zero.
            if (base + i < dev_->config_size()) v |= static_cast<uint64_t>(dev_->config_byte(base + i)) << (8 * i);
        }
        return v;
    }
    if (offset >= kNotifyOffset && offset < kNotifyOffset + 0x1000) return 0;
    guest_error("read of size {} at BAR offset 0x{:x}", size, offset);
    return 0;
}

void VirtioPci::bar_write(uint64_t offset, uint64_t value, unsigned size) {
    if (offset >= kCommonOffset && offset < kCommonOffset + kCommonSize) {
        common_write(static_cast<unsigned>(offset), value, size);
        return;
    }
    if (offset >= kDeviceOffset && offset < kDeviceOffset + 0x1000) {
        const unsigned base = static_cast<unsigned>(offset - kDeviceOffset);
        for (unsigned i = 0; i < size; i++) {
            if (base + i < dev_->config_size()) dev_->config_write_byte(base + i, static_cast<uint8_t>(value >> (8 * i)));
        }
        return;
    }
    if (offset >= kNotifyOffset && offset < kNotifyOffset + 0x1000) {
        const uint64_t q = (offset - kNotifyOffset) / kNotifyMultiplier;
        dev_->notify(static_cast<unsigned>(q));  // the device checks the index
        return;
    }
    guest_error("write of size {} at BAR offset 0x{:x} ignored", size, offset);
}

uint64_t VirtioPci::common_read(unsigned offset, unsigned size) {
    Virtqueue* q = dev_->queue(queue_select_);
    // Registers are read at their natural size; the 64-bit addresses also as two halves.
    auto reg = [&](unsigned at, unsigned width, uint64_t v) -> std::optional<uint64_t> {
        if (offset == at && size == width) return v;
        if (width == 8 && size == 4 && (offset == at || offset == at + 4)) return (v >> (8 * (offset - at))) & 0xffffffffu;
        return std::nullopt;
    };
    const uint64_t hf = dev_->host_features(), gf = dev_->guest_features();
    const std::optional<uint64_t> r =
        offset < kQueueSelect
            ? (offset == kDfSelect  ? reg(kDfSelect, 4, dfselect_)
               : offset == kDf      ? reg(kDf, 4, dfselect_ < 2 ? (hf >> (32 * dfselect_)) & 0xffffffffu : 0)
               : offset == kGfSelect ? reg(kGfSelect, 4, gfselect_)
               : offset == kGf      ? reg(kGf, 4, gfselect_ < 2 ? (gf >> (32 * gfselect_)) & 0xffffffffu : 0)
               : offset == kMsixConfig ? reg(kMsixConfig, 2, kNoVector)
               : offset == kNumQueues ? reg(kNumQueues, 2, dev_->num_queues())
               : offset == kDeviceStatus ? reg(kDeviceStatus, 1, dev_->status())
               : reg(kConfigGeneration, 1, dev_->config_generation()))
        : offset == kQueueSelect ? reg(kQueueSelect, 2, queue_select_)
        : !q ? (size <= 8 ? std::optional<uint64_t>(0) : std::nullopt)  // no such queue: zeros
        : offset == kQueueSize ? reg(kQueueSize, 2, q->size)
        : offset == kQueueMsixVector ? reg(kQueueMsixVector, 2, kNoVector)
        : offset == kQueueEnable ? reg(kQueueEnable, 2, q->enabled)
        : offset == kQueueNotifyOff ? reg(kQueueNotifyOff, 2, q->notify_off)
        : offset < kQueueAvail ? reg(kQueueDesc, 8, q->desc)
        : offset < kQueueUsed ? reg(kQueueAvail, 8, q->avail)
                              : reg(kQueueUsed, 8, q->used);
    if (!r) {
        guest_error("common config read of size {} at 0x{:x}", size, offset);
        return 0;
    }
    return *r;
}

void VirtioPci::common_write(unsigned offset, uint64_t value, unsigned size) {
    auto is = [&](unsigned at, unsigned width) { return offset == at && size == width; };
    // A 64-bit address register written whole or as one of its halves.
    auto set64 = [&](unsigned at, uint64_t* field) {
        if (offset == at && size == 8) {
            *field = value;
        } else if (size == 4 && (offset == at || offset == at + 4)) {
            const unsigned shift = 8 * (offset - at);
            *field = (*field & ~(0xffffffffull << shift)) | ((value & 0xffffffffull) << shift);
        } else {
            return false;
        }
        return true;
    };
    Virtqueue* q = dev_->queue(queue_select_);
    const bool queue_reg = offset >= kQueueSize && offset != kQueueSelect;
    if (queue_reg && !q) {
        guest_error("common config write at 0x{:x} for nonexistent queue {}", offset, queue_select_);
        return;
    }
    // Queue configuration is frozen once the queue is enabled (virtio 1.0 4.1.4.3.2).
    if (q && q->enabled && (offset == kQueueSize || offset >= kQueueDesc)) {
        guest_error("write at 0x{:x} to enabled queue {} ignored", offset, queue_select_);
        return;
    }
    if (is(kDfSelect, 4)) {
        dfselect_ = static_cast<uint32_t>(value);
    } else if (is(kGfSelect, 4)) {
        gfselect_ = static_cast<uint32_t>(value);
    } else if (is(kGf, 4)) {
        if (gfselect_ < 2 && !(dev_->status() & kVirtioFeaturesOk)) {
            const unsigned shift = 32 * gfselect_;
            const uint64_t gf = (dev_->guest_features() & ~(0xffffffffull << shift)) | ((value & 0xffffffffull) << shift);
            dev_->set_guest_features(gf);
        }
    } else if (is(kMsixConfig, 2) || is(kQueueMsixVector, 2)) {
        // No MSI-X: the register keeps reading NO_VECTOR, which tells the driver so.
    } else if (is(kDeviceStatus, 1)) {
        const uint8_t v = static_cast<uint8_t>(value);
        dev_->write_status(v);
        if (v == 0) {
            isr_ = 0;
            set_irq(false);
        }
    } else if (is(kQueueSelect, 2)) {
        queue_select_ = static_cast<uint16_t>(value);
    } else if (is(kQueueSize, 2)) {
        const uint16_t n = static_cast<uint16_t>(value);
        if (n == 0 || n > q->max_size || (n & (n - 1))) {
            guest_error("queue {} size {} invalid (max {}, power of two)", queue_select_, n, q->max_size);
        } else {
            q->size = n;
        }
    } else if (is(kQueueEnable, 2)) {
        if (value == 1) {
            q->enabled = true;
        } else {
            guest_error("queue_enable write of {} ignored", value);
        }
    } else if (q && (set64(kQueueDesc, &q->desc) || set64(kQueueAvail, &q->avail) || set64(kQueueUsed, &q->used))) {
    } else {
        guest_error("common config write of size {} at 0x{:x} ignored", size, offset);
    }
}

}  // namespace corvid
