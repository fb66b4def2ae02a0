// The JIT's one code region with a bump allocator, reset on flush: W^X where the host allows
// it (one memfd mapped twice, RX for execution and RW for emission and patching), else RWX.
#pragma once

#include <cstddef>
#include <cstdint>

namespace corvid::x64 {

class CodeBuffer {
public:
    // force_rwx: skip the double mapping (tests of the fallback).
    explicit CodeBuffer(size_t bytes, bool force_rwx = false);
    ~CodeBuffer();
    CodeBuffer(const CodeBuffer&) = delete;
    CodeBuffer& operator=(const CodeBuffer&) = delete;

    bool ok() const { return base_ != nullptr; }
    // Returns `bytes` of space aligned to `align` (a power of two), or nullptr when full. The
    // pointer is the executable address; write through writable().
    uint8_t* alloc(size_t bytes, size_t align);
    void reset(size_t used) { used_ = used; }
    uint8_t* base() const { return base_; }
    size_t used() const { return used_; }
    size_t capacity() const { return size_; }

    // The address through which the code at executable address `p` is written.
    uint8_t* writable(uint8_t* p) const { return p + write_delta_; }
    // True when the executable view is not writable (W^X); false for the RWX fallback.
    bool wx() const { return write_delta_ != 0; }
    // Call after writing [p, p + bytes) (executable addresses): tools that cache translated
    // host code (valgrind) do not see writes through the other view otherwise.
    static void written(const uint8_t* p, size_t bytes);

private:
    uint8_t* base_ = nullptr;       // executable view
    uint8_t* write_base_ = nullptr; // writable view (== base_ for RWX)
    ptrdiff_t write_delta_ = 0;
    size_t size_ = 0;
    size_t used_ = 0;
};

}  // namespace corvid::x64
