// virtio-net device model (rx queue 0, tx queue 1; MAC and link status in config space).
#pragma once

#include <memory>

#include "hw/net/nic_port.h"
#include "hw/virtio/virtio.h"

namespace corvid {

class VirtioNet : public VirtioDevice {
public:
    static constexpr uint16_t kDeviceId = 1;
    static constexpr uint64_t kFMac = 1ull << 5, kFStatus = 1ull << 16;
    static constexpr unsigned kHeaderSize = 12;  // virtio_net_hdr with num_buffers (VERSION_1)
    static constexpr uint16_t kQueueSize = 256;

    VirtioNet(const NicConfig& nic, VirtualClock* clock);

    unsigned config_size() const override { return 8; }
    uint8_t config_byte(unsigned offset) const override;

    // Offers one frame to the rx queue (NicPort's deliver).
    bool receive(const uint8_t* data, size_t len);
    NicPort& port() { return port_; }

    uint64_t tx_frames = 0, rx_frames = 0, dropped = 0;

protected:
    void handle_queue(unsigned i) override;
    void driver_ready() override { port_.flush(); }

private:
    void transmit_all();

    MacAddress mac_;
    NicPort port_;
};

class VirtioRng : public VirtioDevice {
public:
    static constexpr uint16_t kDeviceId = 4;
    // One request is served at most this much entropy: the guest's buffer size is not a
    // host allocation size.
    static constexpr uint32_t kMaxChunk = 4096;

    VirtioRng() : VirtioDevice(kDeviceId, 1, 64) { type_name_ = "virtio-rng"; }
    unsigned config_size() const override { return 0; }
    uint8_t config_byte(unsigned) const override { return 0; }
    uint64_t bytes_served = 0;

protected:
    void handle_queue(unsigned i) override;
};

}  // namespace corvid
