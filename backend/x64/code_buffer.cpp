// Code region for the x86-64 JIT: a memfd mapped RX and RW (W^X), or one RWX mapping when
// memfd or a second shared mapping is not available (e.g. a restrictive sandbox).
#include "backend/x64/code_buffer.h"

#include <sys/mman.h>
#include <unistd.h>

#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#define CORVID_HAVE_VALGRIND 1
#endif

namespace corvid::x64 {

namespace {

// Both views of one memfd, or false (nothing left mapped or open).
bool map_dual(size_t bytes, uint8_t** rx, uint8_t** rw) {
    const int fd = memfd_create("corvid-jit", MFD_CLOEXEC);
    if (fd < 0) return false;
    bool ok = ftruncate(fd, off_t(bytes)) == 0;
    void* x = MAP_FAILED;
    void* w = MAP_FAILED;
    if (ok) x = mmap(nullptr, bytes, PROT_READ | PROT_EXEC, MAP_SHARED, fd, 0);
    if (x != MAP_FAILED) w = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);  // the mappings keep the memory
    if (w == MAP_FAILED) {
        if (x != MAP_FAILED) munmap(x, bytes);
        return false;
    }
    *rx = static_cast<uint8_t*>(x);
    *rw = static_cast<uint8_t*>(w);
    return true;
}

}  // namespace

CodeBuffer::CodeBuffer(size_t bytes, bool force_rwx) {
    // One region below 2 GiB in size keeps every rel32 between blocks in range.
    if (!force_rwx && map_dual(bytes, &base_, &write_base_)) {
        write_delta_ = write_base_ - base_;
        size_ = bytes;
        return;
    }
    void* p = mmap(nullptr, bytes, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p != MAP_FAILED) {
        base_ = write_base_ = static_cast<uint8_t*>(p);
        size_ = bytes;
    }
}

CodeBuffer::~CodeBuffer() {
    if (!base_) return;
    munmap(base_, size_);
    if (write_base_ != base_) munmap(write_base_, size_);
}

void CodeBuffer::written(const uint8_t* p, size_t bytes) {
#ifdef CORVID_HAVE_VALGRIND
    // Valgrind checks only anonymous mappings for modified code by default, and the memfd
    // views are file mappings: say so explicitly (a few no-op instructions natively).
    VALGRIND_DISCARD_TRANSLATIONS(p, bytes);
#else
    (void)p, (void)bytes;
#endif
}

uint8_t* CodeBuffer::alloc(size_t bytes, size_t align) {
    size_t start = (used_ + align - 1) & ~(align - 1);
    if (!base_ || start > size_ || bytes > size_ - start) return nullptr;
    used_ = start + bytes;
    return base_ + start;
}

}  // namespace corvid::x64
