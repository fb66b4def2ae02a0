// RWX code region for the x86-64 JIT.
#include "backend/x64/code_buffer.h"

#include <sys/mman.h>

namespace corvid::x64 {

CodeBuffer::CodeBuffer(size_t bytes) {
    // One mapping below 2 GiB in size keeps every rel32 between blocks in range.
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        base_ = static_cast<uint8_t*>(p);
        size_ = bytes;
    }
}

CodeBuffer::~CodeBuffer() {
    if (base_) munmap(base_, size_);
}

uint8_t* CodeBuffer::alloc(size_t bytes, size_t align) {
    size_t start = (used_ + align - 1) & ~(align - 1);
    if (!base_ || start > size_ || bytes > size_ - start) return nullptr;
    used_ = start + bytes;
    return base_ + start;
}

}  // namespace corvid::x64
