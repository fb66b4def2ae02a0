// A NIC's end of a netdev: transmit, and receive in the vCPU thread (the backend's reader
// thread only queues frames and wakes the device through a timer).
#pragma once

#include <functional>

#include "hw/net/net_backend.h"
#include "hw/pci/pci_device.h"

namespace corvid {

class NicPort {
public:
    // `deliver` offers one frame to the device model: true when it took it (or dropped it
    // for good), false when it has no buffer and the frame should wait.
    using Deliver = std::function<bool(const uint8_t* data, size_t len)>;

    NicPort(NetBackend* backend, VirtualClock* clock, Deliver deliver);
    ~NicPort();
    NicPort(const NicPort&) = delete;
    NicPort& operator=(const NicPort&) = delete;

    bool connected() const { return backend_ != nullptr; }
    NetBackend* backend() const { return backend_; }
    void send(const uint8_t* data, size_t len);
    // Delivers queued frames while the device takes them (bounded by the queue limit).
    // Devices call this when the guest adds receive buffers.
    void flush();

private:
    NetBackend* backend_;
    Deliver deliver_;
    DeviceTimer timer_;
};

}  // namespace corvid
