// User-creatable objects (-object / object-add): memory-backend-ram and rng-random.
#pragma once

#include <cstdint>
#include <string>

#include "object/type_registry.h"

namespace corvid {

// Anonymous RAM of a fixed size (for -machine memory-backend=ID).
class MemoryBackendRam : public Object {
public:
    MemoryBackendRam(uint8_t* host, uint64_t size) : host_(host), size_(size) {}
    ~MemoryBackendRam() override;
    uint8_t* host() const { return host_; }
    uint64_t size() const { return size_; }
    // Set once a board maps it as RAM: object-del must then refuse (QEMU's "is in use").
    bool mapped() const { return mapped_; }
    void set_mapped(bool m) { mapped_ = m; }

private:
    uint8_t* host_;
    uint64_t size_;
    bool mapped_ = false;
};

// An entropy source reading a host file (/dev/urandom by default).
class RngRandom : public Object {
public:
    RngRandom(int fd, std::string filename) : fd_(fd), filename_(std::move(filename)) {}
    ~RngRandom() override;
    const std::string& filename() const { return filename_; }
    // Reads up to `size` bytes of entropy; returns how many.
    size_t read(uint8_t* out, size_t size);

private:
    int fd_;
    std::string filename_;
};

// Registers memory-backend-ram and rng-random (both declared secure).
void register_object_types(TypeRegistry& registry);

}  // namespace corvid
