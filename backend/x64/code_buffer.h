// The JIT's one executable region: an RWX mapping with a bump allocator, reset on flush.
#pragma once

#include <cstddef>
#include <cstdint>

namespace corvid::x64 {

class CodeBuffer {
public:
    explicit CodeBuffer(size_t bytes);
    ~CodeBuffer();
    CodeBuffer(const CodeBuffer&) = delete;
    CodeBuffer& operator=(const CodeBuffer&) = delete;

    bool ok() const { return base_ != nullptr; }
    // Returns `bytes` of space aligned to `align` (a power of two), or nullptr when full.
    uint8_t* alloc(size_t bytes, size_t align);
    void reset(size_t used) { used_ = used; }
    uint8_t* base() const { return base_; }
    size_t used() const { return used_; }
    size_t capacity() const { return size_; }

private:
    uint8_t* base_ = nullptr;
    size_t size_ = 0;
    size_t used_ = 0;
};

}  // namespace corvid::x64
