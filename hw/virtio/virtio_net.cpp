// virtio-net and virtio-rng: the device halves of the virtqueues.
#include "hw/virtio/virtio_net.h"

#include <sys/random.h>

#include <cstring>
#include <vector>

#include "base/log.h"

namespace corvid {

VirtioNet::VirtioNet(const NicConfig& nic, VirtualClock* clock)
    : VirtioDevice(kDeviceId, 2, kQueueSize), mac_(nic.mac),
      port_(nic.backend, clock, [this](const uint8_t* d, size_t n) { return receive(d, n); }) {
    type_name_ = "virtio-net";
    host_features_ = kFMac | kFStatus;
}

uint8_t VirtioNet::config_byte(unsigned offset) const {
    if (offset < 6) return mac_[offset];
    if (offset == 6) return 1;  // VIRTIO_NET_S_LINK_UP
    return 0;
}

void VirtioNet::handle_queue(unsigned i) {
    if (i == 0) {
        port_.flush();  // new receive buffers
    } else if (i == 1) {
        transmit_all();
    }
}

void VirtioNet::transmit_all() {
    Virtqueue* q = queue(1);
    std::vector<uint8_t> buf(kHeaderSize + kNetMaxFrame);
    // At most one ring's worth per kick: a guest refilling the ring as fast as we drain it
    // cannot keep the device loop running forever.
    for (unsigned n = 0; n < q->size; n++) {
        VirtqElement e;
        auto r = q->pop(*transport_, &e);
        if (!r) {
            needs_reset(r.error());
            return;
        }
        if (*r == 0) return;
        if (e.out_bytes > buf.size() || e.out_bytes <= kHeaderSize) {
            log::logf(log::kGuestErrors, "virtio-net: tx chain of {} bytes dropped", e.out_bytes);
            dropped++;
        } else {
            auto got = Virtqueue::read_out(*transport_, e, buf.data(), buf.size());
            if (got && *got > kHeaderSize) {
                port_.send(buf.data() + kHeaderSize, *got - kHeaderSize);
                tx_frames++;
            }
        }
        if (auto st = q->push(*transport_, e, 0, 1); !st) {
            needs_reset("cannot write the used ring");
            return;
        }
    }
}

bool VirtioNet::receive(const uint8_t* data, size_t len) {
    Virtqueue* q = queue(0);
    if (!driver_ok() || !transport_ || !q->enabled) return false;
    VirtqElement e;
    auto r = q->pop(*transport_, &e);
    if (!r) {
        needs_reset(r.error());
        return false;
    }
    if (*r == 0) return false;  // no buffer: keep the frame queued
    std::vector<uint8_t> pkt(kHeaderSize + len, 0);
    pkt[10] = 1;  // num_buffers
    std::memcpy(pkt.data() + kHeaderSize, data, len);
    uint32_t written = 0;
    if (Virtqueue::write_in(*transport_, e, pkt.data(), pkt.size())) {
        written = static_cast<uint32_t>(pkt.size());
        rx_frames++;
    } else {
        // Without MRG_RXBUF each buffer must hold a whole frame: drop, return the buffer.
        log::logf(log::kGuestErrors, "virtio-net: rx buffer of {} bytes too small for a {} byte frame", e.in_bytes, len);
        dropped++;
    }
    if (auto st = q->push(*transport_, e, written, 0); !st) needs_reset("cannot write the used ring");
    return true;
}

void VirtioRng::handle_queue(unsigned i) {
    Virtqueue* q = queue(i);
    if (!q) return;
    std::vector<uint8_t> buf(kMaxChunk);
    for (unsigned n = 0; n < q->size; n++) {
        VirtqElement e;
        auto r = q->pop(*transport_, &e);
        if (!r) {
            needs_reset(r.error());
            return;
        }
        if (*r == 0) return;
        const size_t want = static_cast<size_t>(std::min<uint64_t>(e.in_bytes, kMaxChunk));
        size_t got = 0;
        while (got < want) {
            const ssize_t k = getrandom(buf.data() + got, want - got, 0);
            if (k <= 0) break;
            got += static_cast<size_t>(k);
        }
        uint32_t written = 0;
        if (got && Virtqueue::write_in(*transport_, e, buf.data(), got)) written = static_cast<uint32_t>(got);
        bytes_served += written;
        if (auto st = q->push(*transport_, e, written, i); !st) {
            needs_reset("cannot write the used ring");
            return;
        }
    }
}

}  // namespace corvid
