// The interface between a board's memory map (hw/) and whatever executes guest accesses
// (the translator's softmmu, KVM exits, qtest): physical addresses only.
#pragma once

#include <cstdint>

namespace corvid {

enum class MemResult : uint8_t { kOk, kUnmapped, kDeviceError };

class MemoryBus {
public:
    virtual ~MemoryBus() = default;

    // RAM/ROM backing the guest-physical page holding paddr (4 KiB pages). Returns the host
    // pointer of the page start, or nullptr when the page is not plain memory (MMIO, hole).
    // *writable is false for ROM.
    virtual uint8_t* ram_page(uint64_t paddr, bool* writable) = 0;

    // Device (or any) access of 1, 2, 4 or 8 bytes, little-endian value.
    virtual MemResult read(uint64_t paddr, unsigned size, uint64_t* value) = 0;
    virtual MemResult write(uint64_t paddr, unsigned size, uint64_t value) = 0;
};

}  // namespace corvid
