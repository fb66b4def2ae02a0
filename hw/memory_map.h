// A board's guest-physical address space: RAM/ROM regions backed by host memory and MMIO
// regions backed by devices, with fast lookup, bounds-checked copy helpers and an mtree dump.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "base/memory_bus.h"
#include "base/result.h"

namespace corvid {

// The register interface of a memory-mapped (or port-mapped) device. Offsets are relative to
// the region base; values are little-endian and zero-extended to 64 bits.
class MmioOps {
public:
    virtual ~MmioOps() = default;
    virtual uint64_t read(uint64_t offset, unsigned size) = 0;
    virtual void write(uint64_t offset, uint64_t value, unsigned size) = 0;
};

// Valid access sizes of an MMIO region, as a bit mask.
enum AccessSize : uint8_t {
    kAccess1 = 1u << 0,
    kAccess2 = 1u << 1,
    kAccess4 = 1u << 2,
    kAccess8 = 1u << 3,
    kAccessAny = kAccess1 | kAccess2 | kAccess4 | kAccess8,
};

// The bit of AccessSize for an access of `size` bytes (0 for unsupported sizes).
constexpr uint8_t access_size_bit(unsigned size) {
    return size == 1 ? kAccess1 : size == 2 ? kAccess2 : size == 4 ? kAccess4 : size == 8 ? kAccess8 : 0;
}

enum class RegionKind : uint8_t { kRam, kRom, kMmio };

// A read-only view of one mapped region (for KVM memory slots, mtree, loaders).
struct RegionInfo {
    std::string name;
    RegionKind kind;
    uint64_t base;
    uint64_t size;
    uint8_t* host;  // RAM/ROM backing, nullptr for MMIO
};

class AddressSpace : public MemoryBus {
public:
    static constexpr uint64_t kPageSize = 4096;

    // `limit` is the size of the address space: 2^64 for memory (0 means the full range),
    // 0x10000 for the x86 I/O port space.
    explicit AddressSpace(std::string name, uint64_t limit = 0);
    ~AddressSpace() override;
    AddressSpace(const AddressSpace&) = delete;
    AddressSpace& operator=(const AddressSpace&) = delete;

    // RAM and ROM: page-aligned base and size, zero-filled host memory owned by the region.
    Status add_ram(std::string name, uint64_t base, uint64_t size);
    Status add_rom(std::string name, uint64_t base, uint64_t size);
    // RAM backed by host memory the caller owns (-machine memory-backend=ID): `host` must hold
    // `size` bytes and outlive the mapping.
    Status add_ram_backed(std::string name, uint64_t base, uint64_t size, uint8_t* host);
    // Inside [base, base+size), accesses that hit no region complete as on a PCI bus after a
    // master abort (reads all ones, writes dropped) instead of failing: what x86 boards'
    // PCI holes do, so that a guest touching an unplugged device's BAR keeps running.
    void add_open_bus(uint64_t base, uint64_t size);
    // A device window. `ops` is not owned and must outlive the address space (or the mapping).
    Status add_mmio(std::string name, uint64_t base, uint64_t size, MmioOps* ops, uint8_t valid_sizes = kAccessAny);
    // Unmaps the region that starts at `base` (device unplug, board reset of option ROMs).
    Status remove(uint64_t base);

    // --- MemoryBus (used by CPUs: softmmu slow path, KVM exits, qtest) ---
    uint8_t* ram_page(uint64_t paddr, bool* writable) override;
    MemResult read(uint64_t paddr, unsigned size, uint64_t* value) override;
    MemResult write(uint64_t paddr, unsigned size, uint64_t value) override;

    // --- Helpers for loaders and DMA-capable devices. Only RAM/ROM ranges are accepted
    // (ROM is writable here: this is how firmware gets into it); a range may span adjacent
    // regions but not holes or MMIO. ---
    Status write_bytes(uint64_t paddr, const void* data, uint64_t len);
    Status read_bytes(uint64_t paddr, void* data, uint64_t len) const;
    Status fill(uint64_t paddr, uint8_t value, uint64_t len);
    // True when [paddr, paddr+len) is entirely RAM or ROM.
    bool is_memory(uint64_t paddr, uint64_t len) const;
    // Host pointer for [paddr, paddr+len) if it lies inside one RAM/ROM region, else nullptr.
    uint8_t* host_ptr(uint64_t paddr, uint64_t len);

    // Regions sorted by base.
    std::vector<RegionInfo> regions() const;
    const std::string& name() const { return name_; }
    // A `info mtree`-style text dump.
    std::string mtree() const;

private:
    struct Region {
        std::string name;
        RegionKind kind;
        uint64_t base;
        uint64_t size;
        uint8_t* host = nullptr;  // mmap'ed, owned (RAM/ROM) unless !owns_host
        MmioOps* ops = nullptr;
        uint8_t valid_sizes = 0;
        uint64_t last() const { return base + (size - 1); }
        bool owns_host = true;
    };

    Status add(Region r);
    // Region containing paddr, or nullptr. Binary search over the sorted vector.
    const Region* find(uint64_t paddr) const;
    Region* find(uint64_t paddr) { return const_cast<Region*>(std::as_const(*this).find(paddr)); }
    // Walks [paddr, paddr+len) over RAM/ROM regions; fn(host, n) per piece. False on a gap.
    template <typename Fn>
    bool for_each_piece(uint64_t paddr, uint64_t len, Fn&& fn) const;
    MemResult read_split(uint64_t paddr, unsigned size, uint64_t* value);
    MemResult write_split(uint64_t paddr, unsigned size, uint64_t value);
    bool open_bus(uint64_t paddr) const;

    std::string name_;
    uint64_t limit_;  // 0: the full 64-bit range
    std::vector<Region> regions_;
    std::vector<std::pair<uint64_t, uint64_t>> open_bus_;  // {base, last}
};

}  // namespace corvid
