// virtio-mmio version 2 register file over the shared virtio core.
#include "hw/virtio/virtio_mmio.h"

#include <fmt/format.h>

#include "base/log.h"
#include "hw/net/net_backend.h"
#include "hw/virtio/virtio_net.h"

namespace corvid {

namespace {
constexpr uint32_t kMagicValue = 0x74726976;  // "virt"
constexpr uint32_t kVendorQemu = 0x554d4551;  // "QEMU"
}  // namespace

VirtioMmio::VirtioMmio(std::unique_ptr<VirtioDevice> dev, AddressSpace* memory, std::function<void(bool)> irq)
    : dev_(std::move(dev)), memory_(memory), irq_(std::move(irq)) {
    dev_->set_transport(this);
}

void VirtioMmio::reset() {
    dev_->reset();
    dfsel_ = gfsel_ = queue_sel_ = isr_ = 0;
    update_irq();
}

void VirtioMmio::update_irq() {
    const bool level = isr_ != 0;
    if (level == level_) return;
    level_ = level;
    if (irq_) irq_(level);
}

Status VirtioMmio::dma_read(uint64_t addr, void* data, uint64_t len) {
    if (!memory_ || addr + len < addr) return make_error("bad DMA range");
    auto st = memory_->read_bytes(addr, data, len);
    if (!st) log::logf(log::kGuestErrors, "virtio-mmio: DMA read of {} bytes at 0x{:x}: {}", len, addr, st.error());
    return st;
}

Status VirtioMmio::dma_write(uint64_t addr, const void* data, uint64_t len) {
    if (!memory_ || addr + len < addr) return make_error("bad DMA range");
    // RAM only: write_bytes would also write ROM.
    for (uint64_t p = addr & ~(AddressSpace::kPageSize - 1); len && p <= addr + len - 1; p += AddressSpace::kPageSize) {
        bool writable = false;
        if (!memory_->ram_page(p, &writable) || !writable) {
            log::logf(log::kGuestErrors, "virtio-mmio: DMA write at 0x{:x} outside RAM", p);
            return make_error("DMA write outside RAM");
        }
        if (p + AddressSpace::kPageSize < p) break;
    }
    return memory_->write_bytes(addr, data, len);
}

void VirtioMmio::notify_queue(unsigned) {
    isr_ |= 1;
    update_irq();
}

void VirtioMmio::notify_config() {
    isr_ |= 2;
    update_irq();
}

uint64_t VirtioMmio::read(uint64_t offset, unsigned size) {
    if (offset >= kConfig) {
        const unsigned base = static_cast<unsigned>(offset - kConfig);
        uint64_t v = 0;
        for (unsigned i = 0; i < size; i++) {
            if (base + i < dev_->config_size()) v |= static_cast<uint64_t>(dev_->config_byte(base + i)) << (8 * i);
        }
        return v;
    }
    if (size != 4) {
        log::logf(log::kGuestErrors, "virtio-mmio: read of size {} at 0x{:x}", size, offset);
        return 0;
    }
    Virtqueue* q = dev_->queue(queue_sel_);
    const uint64_t hf = dev_->host_features();
    switch (offset) {
        case kMagic: return kMagicValue;
        case kVersion: return 2;
        case kDeviceId: return dev_->device_id();
        case kVendorId: return kVendorQemu;
        case kDeviceFeatures: return dfsel_ < 2 ? (hf >> (32 * dfsel_)) & 0xffffffffu : 0;
        case kQueueNumMax: return q ? q->max_size : 0;
        case kQueueReady: return q && q->enabled;
        case kInterruptStatus: return isr_;
        case kStatus: return dev_->status();
        case kConfigGeneration: return dev_->config_generation();
        default:
            log::logf(log::kGuestErrors, "virtio-mmio: read of write-only or unknown register 0x{:x}", offset);
            return 0;
    }
}

void VirtioMmio::write(uint64_t offset, uint64_t value, unsigned size) {
    if (offset >= kConfig) {
        const unsigned base = static_cast<unsigned>(offset - kConfig);
        for (unsigned i = 0; i < size; i++) {
            if (base + i < dev_->config_size()) dev_->config_write_byte(base + i, static_cast<uint8_t>(value >> (8 * i)));
        }
        return;
    }
    if (size != 4) {
        log::logf(log::kGuestErrors, "virtio-mmio: write of size {} at 0x{:x} ignored", size, offset);
        return;
    }
    const uint32_t v = static_cast<uint32_t>(value);
    Virtqueue* q = dev_->queue(queue_sel_);
    auto queue_field = [&](uint64_t* field, bool high) {
        if (!q) return;
        if (q->enabled) {
            log::logf(log::kGuestErrors, "virtio-mmio: write to ready queue {} ignored", queue_sel_);
            return;
        }
        const unsigned shift = high ? 32 : 0;
        *field = (*field & ~(0xffffffffull << shift)) | (static_cast<uint64_t>(v) << shift);
    };
    switch (offset) {
        case kDeviceFeaturesSel: dfsel_ = v; return;
        case kDriverFeaturesSel: gfsel_ = v; return;
        case kDriverFeatures:
            if (gfsel_ < 2 && !(dev_->status() & kVirtioFeaturesOk)) {
                const unsigned shift = 32 * gfsel_;
                dev_->set_guest_features((dev_->guest_features() & ~(0xffffffffull << shift)) | (static_cast<uint64_t>(v) << shift));
            }
            return;
        case kQueueSel: queue_sel_ = v; return;
        case kQueueNum:
            if (!q || q->enabled) return;
            if (v == 0 || v > q->max_size || (v & (v - 1))) {
                log::logf(log::kGuestErrors, "virtio-mmio: queue {} size {} invalid", queue_sel_, v);
                return;
            }
            q->size = static_cast<uint16_t>(v);
            return;
        case kQueueReady:
            if (q) q->enabled = v & 1;
            return;
        case kQueueNotify: dev_->notify(v); return;
        case kInterruptAck:
            isr_ &= ~v;
            update_irq();
            return;
        case kStatus:
            dev_->write_status(static_cast<uint8_t>(v));
            if (v == 0) reset();
            return;
        case kQueueDescLow: queue_field(q ? &q->desc : nullptr, false); return;
        case kQueueDescHigh: queue_field(q ? &q->desc : nullptr, true); return;
        case kQueueDriverLow: queue_field(q ? &q->avail : nullptr, false); return;
        case kQueueDriverHigh: queue_field(q ? &q->avail : nullptr, true); return;
        case kQueueDeviceLow: queue_field(q ? &q->used : nullptr, false); return;
        case kQueueDeviceHigh: queue_field(q ? &q->used : nullptr, true); return;
        default:
            log::logf(log::kGuestErrors, "virtio-mmio: write of 0x{:x} to read-only or unknown register 0x{:x}", v, offset);
    }
}

Result<std::unique_ptr<VirtioMmio>> create_virtio_mmio_device(const TypeInfo& type, const OptionList& props,
                                                                AddressSpace* memory, VirtualClock* clock,
                                                                std::function<void(bool)> irq) {
    std::unique_ptr<VirtioDevice> dev;
    if (type.name == "virtio-net-device") {
        auto nic = parse_nic_options(type.name, props, NetRegistry::global());
        if (!nic) return make_error(nic.error());
        dev = std::make_unique<VirtioNet>(*nic, clock);
    } else if (type.name == "virtio-rng-device") {
        for (const auto& [k, v] : props.items) {
            if (k == "driver" || k == "id" || k.empty()) continue;
            return make_error(fmt::format("Property '{}.{}' not found", type.name, k));
        }
        dev = std::make_unique<VirtioRng>();
    } else {
        return make_error(fmt::format("'{}' is not a virtio-mmio device", type.name));
    }
    return std::make_unique<VirtioMmio>(std::move(dev), memory, std::move(irq));
}

namespace {
class ValidatedMmioDevice : public Object {};
}  // namespace

void register_virtio_mmio_types(TypeRegistry& r) {
    if (!r.find("virtio-mmio-device")) {
        TypeInfo base;
        base.name = "virtio-mmio-device";
        base.parent = kTypeDevice;
        base.description = "virtio device on the virtio-mmio transport";
        base.abstract = true;
        (void)r.add(std::move(base));
    }
    const char* kNames[2] = {"virtio-net-device", "virtio-rng-device"};
    const char* kDescs[2] = {"virtio network card (virtio-mmio)", "virtio entropy source (virtio-mmio)"};
    for (int i = 0; i < 2; i++) {
        if (r.find(kNames[i])) continue;
        TypeInfo t;
        t.name = kNames[i];
        t.parent = "virtio-mmio-device";
        t.description = kDescs[i];
        // The same validated virtqueue core as the PCI variants; DMA is RAM-only and checked.
        t.security = Security::kSecure;
        t.factory = [](const TypeInfo& type, const OptionList& props) -> Result<std::unique_ptr<Object>> {
            if (type.name == "virtio-net-device") {
                auto nic = parse_nic_options(type.name, props, NetRegistry::global(), {}, false);
                if (!nic) return make_error(nic.error());
            }
            return std::unique_ptr<Object>(std::make_unique<ValidatedMmioDevice>());
        };
        (void)r.add(std::move(t));
    }
}

}  // namespace corvid
