// ELF loader for kernels and firmware: strict validation of untrusted images, then PT_LOAD
// segments copied into a board's RAM/ROM; also finds the x86 PVH entry note.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "hw/memory_map.h"

namespace corvid {

inline constexpr uint16_t kElfMachine386 = 3;
inline constexpr uint16_t kElfMachineX86_64 = 62;
inline constexpr uint16_t kElfMachineAarch64 = 183;

// XEN_ELFNOTE_PHYS32_ENTRY: 32-bit protected-mode entry point of a PVH kernel.
inline constexpr uint32_t kXenElfNotePhys32Entry = 18;

struct ElfLoadOptions {
    // Accepted e_machine values (one of them must match).
    std::vector<uint16_t> machines;
    // What the image is, for messages: "kernel", "firmware", "bios"...
    std::string what = "kernel";
    // Segments may land in ROM as well as RAM.
    bool allow_rom = true;
    // The entry point must lie inside a loaded segment (off for x86 kernels entered via PVH,
    // whose e_entry is a virtual address).
    bool require_entry_in_segment = true;
};

struct ElfSegment {
    uint64_t paddr;
    uint64_t filesz;
    uint64_t memsz;
    uint64_t offset;
    uint32_t flags;  // PF_X/PF_W/PF_R
};

struct ElfImage {
    bool is64 = false;
    uint16_t machine = 0;
    uint64_t entry = 0;                  // e_entry translated to physical when inside a segment
    bool entry_in_segment = false;
    std::optional<uint64_t> pvh_entry;   // XEN_ELFNOTE_PHYS32_ENTRY
    uint64_t low = 0;                    // lowest loaded physical address
    uint64_t high = 0;                   // one past the highest
    std::vector<ElfSegment> segments;    // PT_LOAD with memsz > 0, sorted by paddr
};

// Validates `data` without touching guest memory. `as` (may be null) is used to check that
// every segment lands in RAM/ROM. Errors are the bare problem ("program header 2 extends past
// end of file"); load_elf_file adds the "could not load kernel 'x':" prefix.
Result<ElfImage> parse_elf(std::span<const uint8_t> data, const ElfLoadOptions& opts, const AddressSpace* as);

// Validates, then copies the segments in and zero-fills their bss. Nothing is written unless
// the whole image is valid.
Result<ElfImage> load_elf(AddressSpace& as, std::span<const uint8_t> data, const ElfLoadOptions& opts);

// Reads `path` and loads it; errors read "could not load <what> '<path>': <problem>".
Result<ElfImage> load_elf_file(AddressSpace& as, const std::string& path, const ElfLoadOptions& opts);

}  // namespace corvid
