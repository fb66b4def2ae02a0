// x86 PVH boot: the e820-style memory map, hvm_start_info (v1) with its memmap and command
// line in low RAM, and loading an ELF kernel through its XEN_ELFNOTE_PHYS32_ENTRY note.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "hw/memory_map.h"

namespace corvid {

enum class E820Type : uint32_t { kRam = 1, kReserved = 2, kAcpi = 3, kNvs = 4, kUnusable = 5 };

struct E820Entry {
    uint64_t addr;
    uint64_t size;
    E820Type type;
};

// Where the boot information goes. Low RAM below the traditional 0x7c00 boot sector, which
// nothing else on our boards uses: QEMU's PVH option ROM builds the same structures in
// option-ROM memory; any address in RAM that the kernel does not overlap works, since a PVH
// kernel copies what it needs before touching low memory. The command line sits where
// QEMU's Linux loader puts it (0x20000).
inline constexpr uint32_t kPvhStartInfoAddr = 0x6000;
inline constexpr uint32_t kPvhMemmapAddr = 0x6040;  // right after the 56-byte start info
inline constexpr uint32_t kPvhMemmapMaxEntries = (0x7000 - kPvhMemmapAddr) / 24;
inline constexpr uint32_t kPvhModlistAddr = 0x7000;  // up to kPvhMaxModules entries
inline constexpr uint32_t kPvhMaxModules = 4;
inline constexpr uint32_t kPvhCmdlineAddr = 0x20000;
inline constexpr uint32_t kPvhCmdlineMax = 0x10000;  // including the terminating NUL

inline constexpr uint32_t kHvmStartMagic = 0x336ec578;

// hvm_start_info as laid out in guest memory (xen/include/public/arch-x86/hvm/start_info.h).
struct HvmStartInfo {
    uint32_t magic;
    uint32_t version;
    uint32_t flags;
    uint32_t nr_modules;
    uint64_t modlist_paddr;
    uint64_t cmdline_paddr;
    uint64_t rsdp_paddr;
    uint64_t memmap_paddr;
    uint32_t memmap_entries;
    uint32_t reserved;
};
static_assert(sizeof(HvmStartInfo) == 56);

struct HvmMemmapEntry {
    uint64_t addr;
    uint64_t size;
    uint32_t type;
    uint32_t reserved;
};
static_assert(sizeof(HvmMemmapEntry) == 24);

// The memory map a PC-like board reports: low RAM up to the EBDA, the BIOS area reserved,
// RAM from 1 MiB to `below_4g`, `reserved` holes (ECAM, BIOS ROM...), RAM above 4 GiB.
std::vector<E820Entry> x86_e820_map(uint64_t below_4g, uint64_t above_4g, const std::vector<E820Entry>& reserved);

struct HvmModlistEntry {
    uint64_t paddr;
    uint64_t size;
    uint64_t cmdline_paddr;
    uint64_t reserved;
};
static_assert(sizeof(HvmModlistEntry) == 32);

// A module already in guest memory (the -initrd image).
struct PvhModule {
    uint64_t paddr;
    uint64_t size;
};

// Writes hvm_start_info, the memmap, the command line (empty: cmdline_paddr 0) and the module
// list. Returns the start info's guest-physical address (what EBX holds at entry).
Result<uint32_t> write_pvh_start_info(AddressSpace& as, const std::vector<E820Entry>& map, const std::string& cmdline,
                                      const std::vector<PvhModule>& modules = {});

// A validated PVH kernel image, kept in memory so that a system reset can reload it.
struct PvhKernel {
    std::vector<uint8_t> data;
    uint32_t entry = 0;
    uint64_t high = 0;  // one past the highest loaded byte
};

// Reads an initrd file (whole, for placement by the board).
Result<std::vector<uint8_t>> read_initrd(const std::string& path);

// Reads and validates `path` (EM_X86_64 or EM_386 ELF with the PVH note, segments in RAM)
// without loading it. Errors read "could not load kernel '<path>': <problem>".
Result<PvhKernel> read_pvh_kernel(const std::string& path, const AddressSpace& as);
// Copies the image's segments into memory (again, on reset).
Status load_pvh_kernel(AddressSpace& as, const PvhKernel& kernel, const std::string& path);

}  // namespace corvid
