// The guest-physical address space: region bookkeeping, lookup, access dispatch and the mtree dump.
#include "hw/memory_map.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "base/log.h"

namespace corvid {
namespace {

const char* kind_name(RegionKind k) {
    switch (k) {
        case RegionKind::kRam: return "ram";
        case RegionKind::kRom: return "rom";
        case RegionKind::kMmio: return "i/o";
    }
    return "?";
}

std::string range_text(uint64_t base, uint64_t size) {
    return fmt::format("[0x{:x}-0x{:x}]", base, base + (size - 1));
}

}  // namespace

AddressSpace::AddressSpace(std::string name, uint64_t limit) : name_(std::move(name)), limit_(limit) {}

AddressSpace::~AddressSpace() {
    for (auto& r : regions_) {
        if (r.host && r.owns_host) munmap(r.host, r.size);
    }
}

Status AddressSpace::add(Region r) {
    if (r.size == 0) return make_error(fmt::format("cannot map '{}' at 0x{:x}: size is zero", r.name, r.base));
    if (r.base + (r.size - 1) < r.base) {
        return make_error(fmt::format("cannot map '{}': 0x{:x} + 0x{:x} wraps around the address space", r.name,
                                      r.base, r.size));
    }
    if (limit_ != 0 && (r.base >= limit_ || r.size > limit_ - r.base)) {
        return make_error(fmt::format("cannot map '{}' at {}: outside address space '{}' (size 0x{:x})", r.name,
                                      range_text(r.base, r.size), name_, limit_));
    }
    auto it = std::lower_bound(regions_.begin(), regions_.end(), r.base,
                               [](const Region& a, uint64_t b) { return a.base < b; });
    // Only the neighbours can overlap in a sorted, non-overlapping list.
    const Region* clash = nullptr;
    if (it != regions_.end() && it->base <= r.last()) clash = &*it;
    if (!clash && it != regions_.begin() && std::prev(it)->last() >= r.base) clash = &*std::prev(it);
    if (clash) {
        return make_error(fmt::format("cannot map '{}' at {}: overlaps '{}' at {} in '{}'", r.name,
                                      range_text(r.base, r.size), clash->name, range_text(clash->base, clash->size),
                                      name_));
    }
    regions_.insert(it, std::move(r));
    return {};
}

static Result<uint8_t*> map_host(const std::string& name, uint64_t base, uint64_t size) {
    if (base % AddressSpace::kPageSize != 0 || size % AddressSpace::kPageSize != 0) {
        return make_error(fmt::format("cannot map '{}' at 0x{:x} size 0x{:x}: RAM/ROM must be page aligned", name,
                                      base, size));
    }
    if (size == 0) return make_error(fmt::format("cannot map '{}' at 0x{:x}: size is zero", name, base));
    void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) {
        return make_error(fmt::format("cannot allocate 0x{:x} bytes of host memory for '{}'", size, name));
    }
    return static_cast<uint8_t*>(p);
}

Status AddressSpace::add_ram(std::string name, uint64_t base, uint64_t size) {
    auto host = map_host(name, base, size);
    if (!host) return Error{host.error()};
    Status s = add(Region{std::move(name), RegionKind::kRam, base, size, *host});
    if (!s) munmap(*host, size);
    return s;
}

Status AddressSpace::add_rom(std::string name, uint64_t base, uint64_t size) {
    auto host = map_host(name, base, size);
    if (!host) return Error{host.error()};
    Status s = add(Region{std::move(name), RegionKind::kRom, base, size, *host});
    if (!s) munmap(*host, size);
    return s;
}

Status AddressSpace::add_ram_backed(std::string name, uint64_t base, uint64_t size, uint8_t* host) {
    if (base % kPageSize != 0 || size % kPageSize != 0) {
        return make_error(fmt::format("cannot map '{}' at 0x{:x} size 0x{:x}: RAM/ROM must be page aligned", name,
                                      base, size));
    }
    if (!host) return make_error(fmt::format("cannot map '{}': no host memory", name));
    Region r{std::move(name), RegionKind::kRam, base, size, host};
    r.owns_host = false;
    return add(std::move(r));
}

void AddressSpace::add_open_bus(uint64_t base, uint64_t size) {
    if (size == 0) return;
    open_bus_.emplace_back(base, base + (size - 1));
}

bool AddressSpace::open_bus(uint64_t paddr) const {
    for (const auto& [b, l] : open_bus_) {
        if (paddr >= b && paddr <= l) return true;
    }
    return false;
}

Status AddressSpace::add_mmio(std::string name, uint64_t base, uint64_t size, MmioOps* ops, uint8_t valid_sizes) {
    if (!ops) return make_error(fmt::format("cannot map '{}': no device behind the region", name));
    if ((valid_sizes & kAccessAny) == 0) {
        return make_error(fmt::format("cannot map '{}': no valid access size", name));
    }
    Region r{std::move(name), RegionKind::kMmio, base, size};
    r.ops = ops;
    r.valid_sizes = valid_sizes & kAccessAny;
    return add(std::move(r));
}

Status AddressSpace::remove(uint64_t base) {
    auto it = std::find_if(regions_.begin(), regions_.end(), [&](const Region& r) { return r.base == base; });
    if (it == regions_.end()) {
        return make_error(fmt::format("no region starts at 0x{:x} in '{}'", base, name_));
    }
    if (it->host && it->owns_host) munmap(it->host, it->size);
    regions_.erase(it);
    return {};
}

const AddressSpace::Region* AddressSpace::find(uint64_t paddr) const {
    auto it = std::upper_bound(regions_.begin(), regions_.end(), paddr,
                               [](uint64_t a, const Region& r) { return a < r.base; });
    if (it == regions_.begin()) return nullptr;
    --it;
    return paddr <= it->last() ? &*it : nullptr;
}

uint8_t* AddressSpace::ram_page(uint64_t paddr, bool* writable) {
    Region* r = find(paddr);
    if (!r || !r->host) return nullptr;
    // RAM/ROM are page aligned, so the whole page belongs to r.
    if (writable) *writable = r->kind == RegionKind::kRam;
    return r->host + ((paddr & ~(kPageSize - 1)) - r->base);
}

MemResult AddressSpace::read(uint64_t paddr, unsigned size, uint64_t* value) {
    *value = 0;
    const uint8_t bit = access_size_bit(size);
    if (bit == 0) {
        log::logf(log::kGuestErrors, "{}: invalid read of size {} at 0x{:x}", name_, size, paddr);
        return MemResult::kDeviceError;
    }
    Region* r = find(paddr);
    if (!r) {
        log::logf(log::kGuestErrors, "{}: invalid read at addr 0x{:x}, size {}: unassigned", name_, paddr, size);
        if (open_bus(paddr)) {
            *value = size == 8 ? ~0ull : (uint64_t{1} << (size * 8)) - 1;
            return MemResult::kOk;
        }
        return MemResult::kUnmapped;
    }
    if (r->last() - paddr < size - 1) return read_split(paddr, size, value);
    const uint64_t off = paddr - r->base;
    if (r->host) {
        std::memcpy(value, r->host + off, size);  // little-endian host
        return MemResult::kOk;
    }
    if (!(r->valid_sizes & bit)) {
        log::logf(log::kGuestErrors, "{}: invalid read at addr 0x{:x}, size {}, region '{}': size not supported",
                  name_, paddr, size, r->name);
        return MemResult::kDeviceError;
    }
    *value = r->ops->read(off, size);
    if (size < 8) *value &= (uint64_t{1} << (size * 8)) - 1;
    return MemResult::kOk;
}

MemResult AddressSpace::write(uint64_t paddr, unsigned size, uint64_t value) {
    const uint8_t bit = access_size_bit(size);
    if (bit == 0) {
        log::logf(log::kGuestErrors, "{}: invalid write of size {} at 0x{:x}", name_, size, paddr);
        return MemResult::kDeviceError;
    }
    Region* r = find(paddr);
    if (!r) {
        log::logf(log::kGuestErrors, "{}: invalid write at addr 0x{:x}, size {}, value 0x{:x}: unassigned", name_,
                  paddr, size, value);
        return open_bus(paddr) ? MemResult::kOk : MemResult::kUnmapped;
    }
    if (r->last() - paddr < size - 1) return write_split(paddr, size, value);
    const uint64_t off = paddr - r->base;
    if (size < 8) value &= (uint64_t{1} << (size * 8)) - 1;
    switch (r->kind) {
        case RegionKind::kRam: std::memcpy(r->host + off, &value, size); return MemResult::kOk;
        case RegionKind::kRom:
            // Like a ROM device in QEMU: the write is dropped, the guest keeps running.
            log::logf(log::kGuestErrors, "{}: write to ROM '{}' at 0x{:x} ignored", name_, r->name, paddr);
            return MemResult::kOk;
        case RegionKind::kMmio: break;
    }
    if (!(r->valid_sizes & bit)) {
        log::logf(log::kGuestErrors, "{}: invalid write at addr 0x{:x}, size {}, region '{}': size not supported",
                  name_, paddr, size, r->name);
        return MemResult::kDeviceError;
    }
    r->ops->write(off, value, size);
    return MemResult::kOk;
}

// An access that straddles a region boundary: byte by byte, so that each byte goes to the
// region that owns it (RAM/ROM only; a device never sees a partial access).
MemResult AddressSpace::read_split(uint64_t paddr, unsigned size, uint64_t* value) {
    uint64_t v = 0;
    for (unsigned i = 0; i < size; i++) {
        const Region* r = find(paddr + i);
        if (!r || !r->host || paddr + i < paddr) {
            log::logf(log::kGuestErrors, "{}: invalid read at addr 0x{:x}, size {}: crosses into {}", name_, paddr,
                      size, r ? fmt::format("'{}'", r->name) : std::string("unassigned space"));
            *value = 0;
            return r ? MemResult::kDeviceError : MemResult::kUnmapped;
        }
        v |= uint64_t{r->host[paddr + i - r->base]} << (8 * i);
    }
    *value = v;
    return MemResult::kOk;
}

MemResult AddressSpace::write_split(uint64_t paddr, unsigned size, uint64_t value) {
    // Check the whole range first so that a failing access has no partial effect.
    for (unsigned i = 0; i < size; i++) {
        const Region* r = find(paddr + i);
        if (!r || !r->host || paddr + i < paddr) {
            log::logf(log::kGuestErrors, "{}: invalid write at addr 0x{:x}, size {}: crosses into {}", name_, paddr,
                      size, r ? fmt::format("'{}'", r->name) : std::string("unassigned space"));
            return r ? MemResult::kDeviceError : MemResult::kUnmapped;
        }
    }
    for (unsigned i = 0; i < size; i++) {
        Region* r = find(paddr + i);
        if (r->kind == RegionKind::kRam) r->host[paddr + i - r->base] = static_cast<uint8_t>(value >> (8 * i));
    }
    return MemResult::kOk;
}

template <typename Fn>
bool AddressSpace::for_each_piece(uint64_t paddr, uint64_t len, Fn&& fn) const {
    if (len == 0) return true;
    if (paddr + (len - 1) < paddr) return false;
    while (len > 0) {
        const Region* r = find(paddr);
        if (!r || !r->host) return false;
        const uint64_t off = paddr - r->base;
        const uint64_t n = std::min(len, r->size - off);
        fn(r->host + off, n);
        len -= n;
        paddr += n;
    }
    return true;
}

bool AddressSpace::is_memory(uint64_t paddr, uint64_t len) const {
    return for_each_piece(paddr, len, [](uint8_t*, uint64_t) {});
}

Status AddressSpace::write_bytes(uint64_t paddr, const void* data, uint64_t len) {
    if (!is_memory(paddr, len)) {
        return make_error(fmt::format("guest range {} is not RAM or ROM", range_text(paddr, len ? len : 1)));
    }
    const uint8_t* src = static_cast<const uint8_t*>(data);
    for_each_piece(paddr, len, [&](uint8_t* host, uint64_t n) {
        std::memcpy(host, src, n);
        src += n;
    });
    return {};
}

Status AddressSpace::read_bytes(uint64_t paddr, void* data, uint64_t len) const {
    if (!is_memory(paddr, len)) {
        return make_error(fmt::format("guest range {} is not RAM or ROM", range_text(paddr, len ? len : 1)));
    }
    uint8_t* dst = static_cast<uint8_t*>(data);
    for_each_piece(paddr, len, [&](uint8_t* host, uint64_t n) {
        std::memcpy(dst, host, n);
        dst += n;
    });
    return {};
}

Status AddressSpace::fill(uint64_t paddr, uint8_t value, uint64_t len) {
    if (!is_memory(paddr, len)) {
        return make_error(fmt::format("guest range {} is not RAM or ROM", range_text(paddr, len ? len : 1)));
    }
    for_each_piece(paddr, len, [&](uint8_t* host, uint64_t n) { std::memset(host, value, n); });
    return {};
}

uint8_t* AddressSpace::host_ptr(uint64_t paddr, uint64_t len) {
    Region* r = find(paddr);
    if (!r || !r->host) return nullptr;
    const uint64_t off = paddr - r->base;
    if (len > r->size - off) return nullptr;
    return r->host + off;
}

std::vector<RegionInfo> AddressSpace::regions() const {
    std::vector<RegionInfo> out;
    out.reserve(regions_.size());
    for (const auto& r : regions_) out.push_back(RegionInfo{r.name, r.kind, r.base, r.size, r.host});
    return out;
}

std::string AddressSpace::mtree() const {
    const uint64_t end = limit_ == 0 ? ~uint64_t{0} : limit_ - 1;
    std::string out = fmt::format("address-space: {}\n", name_);
    out += fmt::format("  {:016x}-{:016x} (prio 0, i/o): {}\n", uint64_t{0}, end, name_);
    for (const auto& r : regions_) {
        out += fmt::format("    {:016x}-{:016x} (prio 0, {}): {}\n", r.base, r.last(), kind_name(r.kind), r.name);
    }
    return out;
}

}  // namespace corvid
