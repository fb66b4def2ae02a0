// The byte-stream interface between a device's serial port and a character backend
// (stdio, null, file, socket...; implementations live in system/).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>

namespace corvid {

class CharBackend {
public:
    virtual ~CharBackend() = default;

    // Device -> outside world. Never blocks the vCPU for long; may drop on error.
    virtual void write(const uint8_t* data, size_t size) = 0;

    // Outside world -> device. The device registers a receiver; the backend delivers input
    // only from the thread that runs the device models (the vCPU / main loop thread) when the
    // owner calls poll_input(). can_receive tells how many bytes the device can take now.
    struct Receiver {
        std::function<size_t()> can_receive;
        std::function<void(const uint8_t*, size_t)> receive;
    };
    virtual void set_receiver(Receiver receiver) = 0;
    virtual void poll_input() {}
};

}  // namespace corvid
