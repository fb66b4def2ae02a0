// Virtio 1.0 core shared by the PCI and MMIO transports: split virtqueues whose descriptor
// chains are validated and copied before use, feature/status handling, and the device API.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "base/result.h"

namespace corvid {

inline constexpr uint64_t kVirtioFVersion1 = 1ull << 32;
inline constexpr uint16_t kVirtioPciVendor = 0x1af4;

enum VirtioStatus : uint8_t {
    kVirtioAcknowledge = 1, kVirtioDriver = 2, kVirtioDriverOk = 4, kVirtioFeaturesOk = 8,
    kVirtioNeedsReset = 0x40, kVirtioFailed = 0x80,
};

// What a transport gives the device model: DMA into guest memory and interrupts.
class VirtioTransport {
public:
    virtual ~VirtioTransport() = default;
    virtual Status dma_read(uint64_t addr, void* data, uint64_t len) = 0;
    virtual Status dma_write(uint64_t addr, const void* data, uint64_t len) = 0;
    virtual void notify_queue(unsigned queue) = 0;  // used buffers were added
    virtual void notify_config() = 0;
};

// A chain popped from the available ring, copied out of guest memory: the device works on
// this copy only, so a guest rewriting its descriptors meanwhile changes nothing.
struct VirtqElement {
    struct Segment {
        uint64_t addr;
        uint32_t len;
    };
    uint16_t head = 0;
    std::vector<Segment> out;  // device-readable (driver to device)
    std::vector<Segment> in;   // device-writable
    uint64_t out_bytes = 0, in_bytes = 0;
};

class Virtqueue {
public:
    static constexpr uint16_t kDescNext = 1, kDescWrite = 2, kDescIndirect = 4;
    static constexpr uint16_t kAvailNoInterrupt = 1;

    uint16_t max_size = 256;
    uint16_t size = 256;
    bool enabled = false;
    uint64_t desc = 0, avail = 0, used = 0;
    uint16_t notify_off = 0;

    void reset();

    // Pops the next available chain into `elem`. Returns 1 when an element was popped, 0
    // when the ring is empty, and an error (the device must then enter NEEDS_RESET) for a
    // malformed ring: an avail index too far ahead, a descriptor index out of range, a loop,
    // an indirect descriptor (not negotiated), a readable descriptor after a writable one,
    // or a chain longer than 4 GiB.
    Result<int> pop(VirtioTransport& t, VirtqElement* elem);
    // Returns a chain to the used ring with `written` bytes; raises the interrupt unless
    // the driver suppressed it.
    Status push(VirtioTransport& t, const VirtqElement& elem, uint32_t written, unsigned index);

    // Copies the readable part of a chain into `dst` (at most `max` bytes); returns the count.
    static Result<uint64_t> read_out(VirtioTransport& t, const VirtqElement& e, uint8_t* dst, uint64_t max);
    // Scatters `len` bytes into the writable part; fails if it does not fit.
    static Status write_in(VirtioTransport& t, const VirtqElement& e, const uint8_t* src, uint64_t len);

    uint16_t last_avail = 0;  // next avail entry to consume
    uint16_t used_idx = 0;
};

// A virtio device model (net, rng): transport-independent.
class VirtioDevice {
public:
    VirtioDevice(uint16_t device_id, unsigned num_queues, uint16_t queue_max);
    virtual ~VirtioDevice() = default;

    uint16_t device_id() const { return device_id_; }
    const std::string& type_name() const { return type_name_; }
    void set_transport(VirtioTransport* t) { transport_ = t; }

    // Feature bits offered (always includes VERSION_1) and accepted.
    uint64_t host_features() const { return host_features_ | kVirtioFVersion1; }
    uint64_t guest_features() const { return guest_features_; }
    void set_guest_features(uint64_t f) { guest_features_ = f & host_features(); }

    uint8_t status() const { return status_; }
    // Applies a status write. Returns false when FEATURES_OK was refused (bad features).
    void write_status(uint8_t status);
    bool driver_ok() const { return (status_ & kVirtioDriverOk) && !(status_ & kVirtioNeedsReset); }

    unsigned num_queues() const { return static_cast<unsigned>(queues_.size()); }
    Virtqueue* queue(unsigned i) { return i < queues_.size() ? &queues_[i] : nullptr; }

    // Device-specific config space.
    virtual unsigned config_size() const = 0;
    virtual uint8_t config_byte(unsigned offset) const = 0;
    virtual void config_write_byte(unsigned offset, uint8_t value) { (void)offset, (void)value; }
    uint8_t config_generation() const { return generation_; }

    // The driver kicked queue `i` (ignored unless DRIVER_OK).
    void notify(unsigned i);
    void reset();

    // A malformed ring: log, set NEEDS_RESET and tell the driver (config interrupt).
    void needs_reset(const std::string& why);

protected:
    virtual void handle_queue(unsigned i) = 0;
    virtual void device_reset() {}
    // Called when DRIVER_OK is set (a NIC may have frames waiting).
    virtual void driver_ready() {}

    VirtioTransport* transport_ = nullptr;
    uint64_t host_features_ = 0;
    std::string type_name_ = "virtio";

private:
    uint16_t device_id_;
    uint64_t guest_features_ = 0;
    uint8_t status_ = 0;
    uint8_t generation_ = 0;
    std::vector<Virtqueue> queues_;
};

}  // namespace corvid
