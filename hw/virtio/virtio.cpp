// Split virtqueues (virtio 1.0 section 2.4) and the transport-independent device state.
#include "hw/virtio/virtio.h"

#include <cstring>

#include <fmt/format.h>

#include "base/log.h"

namespace corvid {

namespace {
struct Desc {
    uint64_t addr;
    uint32_t len;
    uint16_t flags;
    uint16_t next;
};
static_assert(sizeof(Desc) == 16);

Status read16(VirtioTransport& t, uint64_t addr, uint16_t* v) { return t.dma_read(addr, v, 2); }
}  // namespace

void Virtqueue::reset() {
    size = max_size;
    enabled = false;
    desc = avail = used = 0;
    last_avail = used_idx = 0;
}

Result<int> Virtqueue::pop(VirtioTransport& t, VirtqElement* elem) {
    if (!enabled || size == 0) return 0;
    uint16_t avail_idx;
    if (auto st = read16(t, avail + 2, &avail_idx); !st) return make_error("cannot read avail->idx");
    const uint16_t pending = static_cast<uint16_t>(avail_idx - last_avail);
    if (pending == 0) return 0;
    if (pending > size) return make_error(fmt::format("avail index {} is {} ahead of {} (queue size {})", avail_idx, pending, last_avail, size));
    uint16_t head;
    if (auto st = read16(t, avail + 4 + 2ull * (last_avail % size), &head); !st) return make_error("cannot read avail ring");
    if (head >= size) return make_error(fmt::format("head descriptor {} out of range (queue size {})", head, size));

    elem->head = head;
    elem->out.clear();
    elem->in.clear();
    elem->out_bytes = elem->in_bytes = 0;
    uint16_t i = head;
    // A chain visits each descriptor at most once: more than `size` links is a loop.
    for (unsigned n = 0;; n++) {
        if (n >= size) return make_error("descriptor chain loops");
        Desc d;
        if (auto st = t.dma_read(desc + 16ull * i, &d, sizeof d); !st) return make_error("cannot read descriptor");
        if (d.flags & kDescIndirect) return make_error("indirect descriptor without VIRTIO_F_INDIRECT_DESC");
        if (d.flags & kDescWrite) {
            elem->in.push_back({d.addr, d.len});
            elem->in_bytes += d.len;
        } else {
            if (!elem->in.empty()) return make_error("readable descriptor after a writable one");
            elem->out.push_back({d.addr, d.len});
            elem->out_bytes += d.len;
        }
        if (elem->in_bytes + elem->out_bytes > 0xffffffffull) return make_error("descriptor chain longer than 4 GiB");
        if (!(d.flags & kDescNext)) break;
        if (d.next >= size) return make_error(fmt::format("next descriptor {} out of range (queue size {})", d.next, size));
        i = d.next;
    }
    last_avail++;
    return 1;
}

Status Virtqueue::push(VirtioTransport& t, const VirtqElement& elem, uint32_t written, unsigned index) {
    const uint32_t entry[2] = {elem.head, written};
    if (auto st = t.dma_write(used + 4 + 8ull * (used_idx % size), entry, sizeof entry); !st) return st;
    used_idx++;
    if (auto st = t.dma_write(used + 2, &used_idx, 2); !st) return st;
    uint16_t flags = 0;
    (void)read16(t, avail, &flags);
    if (!(flags & kAvailNoInterrupt)) t.notify_queue(index);
    return {};
}

Result<uint64_t> Virtqueue::read_out(VirtioTransport& t, const VirtqElement& e, uint8_t* dst, uint64_t max) {
    uint64_t done = 0;
    for (const auto& s : e.out) {
        if (done >= max) break;
        const uint64_t n = std::min<uint64_t>(s.len, max - done);
        if (auto st = t.dma_read(s.addr, dst + done, n); !st) return make_error(st.error());
        done += n;
    }
    return done;
}

Status Virtqueue::write_in(VirtioTransport& t, const VirtqElement& e, const uint8_t* src, uint64_t len) {
    if (len > e.in_bytes) return make_error("buffer too small");
    uint64_t done = 0;
    for (const auto& s : e.in) {
        if (done >= len) break;
        const uint64_t n = std::min<uint64_t>(s.len, len - done);
        if (auto st = t.dma_write(s.addr, src + done, n); !st) return st;
        done += n;
    }
    return {};
}

VirtioDevice::VirtioDevice(uint16_t device_id, unsigned num_queues, uint16_t queue_max)
    : device_id_(device_id), queues_(num_queues) {
    for (auto& q : queues_) {
        q.max_size = queue_max;
        q.reset();
    }
    for (unsigned i = 0; i < num_queues; i++) queues_[i].notify_off = static_cast<uint16_t>(i);
}

void VirtioDevice::write_status(uint8_t status) {
    if (status == 0) {
        reset();
        return;
    }
    if ((status & kVirtioFeaturesOk) && !(status_ & kVirtioFeaturesOk)) {
        // The driver must accept VERSION_1 (no legacy interface here) and only offered bits.
        if (!(guest_features_ & kVirtioFVersion1)) {
            log::logf(log::kGuestErrors, "{}: FEATURES_OK without VIRTIO_F_VERSION_1 refused", type_name_);
            status &= static_cast<uint8_t>(~kVirtioFeaturesOk);
        }
    }
    const bool was_ok = driver_ok();
    // NEEDS_RESET is the device's to set; the driver cannot clear it except by reset.
    status_ = static_cast<uint8_t>((status & ~kVirtioNeedsReset) | (status_ & kVirtioNeedsReset));
    if (!was_ok && driver_ok()) driver_ready();
}

void VirtioDevice::notify(unsigned i) {
    if (i >= queues_.size()) {
        log::logf(log::kGuestErrors, "{}: notify of queue {} (device has {})", type_name_, i, queues_.size());
        return;
    }
    if (!driver_ok() || !transport_) return;
    handle_queue(i);
}

void VirtioDevice::reset() {
    status_ = 0;
    guest_features_ = 0;
    for (auto& q : queues_) q.reset();
    device_reset();
}

void VirtioDevice::needs_reset(const std::string& why) {
    log::logf(log::kGuestErrors, "{}: {}: device needs reset", type_name_, why);
    if (status_ & kVirtioNeedsReset) return;
    status_ |= kVirtioNeedsReset;
    generation_++;
    if (transport_) transport_->notify_config();
}

}  // namespace corvid
